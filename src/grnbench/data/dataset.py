"""The one internal format: an AnnData (cells x genes) plus a ground-truth network.

Layout of a preprocessed ``.h5ad`` (opens unchanged in scanpy):

- ``X``: log-normalised expression, float32, cells x genes.
- ``obs``: one row per cell; ``pseudotime`` column when known (NaN where a cell has none).
- ``var``: one row per gene; ``is_tf`` (bool).
- ``uns["network"]``: the ground-truth edges restricted to the gene set, as
  ``{"Gene1": [...], "Gene2": [...]}`` (TF -> target, gene symbols).
- ``uns["provenance"]``: where the data came from (source, files, hashes, parameters).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from grnbench.errors import InputError
from grnbench.utils import atomic_path


@dataclass
class GRNData:
    """A dataset ready for GRN inference.

    Attributes:
        adata: cells x genes AnnData (see module docstring).
        name: a label such as ``"hESC/specific/tfs500"``.
    """

    adata: ad.AnnData
    name: str = "dataset"
    _gene_index: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if "is_tf" not in self.adata.var:
            raise InputError(self.name, "var has no 'is_tf' column")
        self._gene_index = {g: i for i, g in enumerate(self.adata.var_names)}

    # --- views --------------------------------------------------------------------------
    @property
    def genes(self) -> list[str]:
        return list(self.adata.var_names)

    @property
    def tfs(self) -> list[str]:
        return list(self.adata.var_names[self.adata.var["is_tf"].to_numpy(bool)])

    @property
    def tf_mask(self) -> np.ndarray:
        return self.adata.var["is_tf"].to_numpy(bool)

    @property
    def n_cells(self) -> int:
        return int(self.adata.n_obs)

    @property
    def n_genes(self) -> int:
        return int(self.adata.n_vars)

    def expression(self, dtype=np.float32) -> np.ndarray:
        """Dense cells x genes expression matrix."""
        x = self.adata.X
        if hasattr(x, "toarray"):
            x = x.toarray()
        return np.asarray(x, dtype=dtype)

    @property
    def pseudotime(self) -> np.ndarray | None:
        if "pseudotime" not in self.adata.obs:
            return None
        return self.adata.obs["pseudotime"].to_numpy(float)

    @property
    def network(self) -> pd.DataFrame:
        """Ground-truth edges (Gene1 = TF, Gene2 = target)."""
        net = self.adata.uns.get("network", {"Gene1": [], "Gene2": []})
        return pd.DataFrame(
            {"Gene1": np.asarray(net["Gene1"], dtype=str), "Gene2": np.asarray(net["Gene2"], dtype=str)}
        )

    def gene_idx(self, genes) -> np.ndarray:
        """Column indices of gene symbols; raises InputError naming the first unknown gene."""
        out = np.empty(len(genes), dtype=np.int64)
        for k, g in enumerate(genes):
            try:
                out[k] = self._gene_index[g]
            except KeyError:
                raise InputError(self.name, f"gene {g!r} is not in the dataset's gene set") from None
        return out


def make_adata(
    expression: pd.DataFrame,
    tfs,
    network: pd.DataFrame,
    *,
    pseudotime: pd.Series | None = None,
    provenance: dict | None = None,
) -> ad.AnnData:
    """Build the internal AnnData from a cells x genes expression frame, a TF list and edges."""
    genes = expression.columns.astype(str)
    adata = ad.AnnData(
        X=expression.to_numpy(dtype=np.float32),
        obs=pd.DataFrame(index=expression.index.astype(str)),
        var=pd.DataFrame(index=genes),
    )
    tfset = set(map(str, tfs))
    adata.var["is_tf"] = np.array([g in tfset for g in genes], dtype=bool)
    if pseudotime is not None:
        adata.obs["pseudotime"] = pseudotime.reindex(adata.obs_names).to_numpy(float)
    adata.uns["network"] = {
        "Gene1": network["Gene1"].astype(str).to_numpy(),
        "Gene2": network["Gene2"].astype(str).to_numpy(),
    }
    adata.uns["provenance"] = _stringify(provenance or {})
    return adata


def _stringify(d: dict) -> dict:
    """h5ad stores only simple types in uns; keep nested dicts, turn the rest into strings."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[str(k)] = _stringify(v)
        elif isinstance(v, (int, float, bool, str, np.integer, np.floating)):
            out[str(k)] = v
        else:
            out[str(k)] = str(v)
    return out


def write_h5ad(adata: ad.AnnData, path: str | os.PathLike) -> None:
    """Write atomically (temporary file, then rename)."""
    with atomic_path(path, suffix=".h5ad") as tmp:
        adata.write_h5ad(tmp)


def read_h5ad(path: str | os.PathLike, name: str | None = None) -> GRNData:
    """Read a preprocessed dataset written by :func:`write_h5ad`."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file does not exist")
    try:
        adata = ad.read_h5ad(path)
    except Exception as e:  # h5py/anndata raise many types
        raise InputError(path, f"not a readable .h5ad file ({type(e).__name__}: {e})") from e
    return GRNData(adata, name=name or adata.uns.get("provenance", {}).get("name", path.stem))
