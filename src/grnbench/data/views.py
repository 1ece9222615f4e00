"""What a method may see: the dataset and split with every held-out label removed.

The preprocessed ``.h5ad`` holds the whole ground truth (evaluation reads it from there). A method
never gets that file's network: :func:`method_view` gives it a copy of the dataset whose
``uns["network"]`` holds the *training positives* of its split (supervised methods) or nothing
(unsupervised methods), with no other ``uns`` entry and no file path in the provenance (a path
could lead back to the ground-truth file). :func:`method_split` gives the training and
validation rows of the split (with labels) and the test pairs without labels.

This is the contract of every method, registered class or Snakemake rule (rule methods read the
same view from ``inputs/`` files written by the ``method_inputs`` rule).
"""

from __future__ import annotations

import os

import anndata as ad
import numpy as np
import pandas as pd

from grnbench.data.dataset import GRNData

TRAIN_PARTS = ("train", "val")
#: What ``uns["provenance"]["network_view"]`` says, per method kind.
VIEW_NOTE = {
    "supervised": "training positives of the split only (validation and test labels removed)",
    "unsupervised": "empty (unsupervised methods see no labels)",
}


def training_network(split: pd.DataFrame) -> pd.DataFrame:
    """Training positives of a split as network edges (``Gene1`` TF -> ``Gene2`` target)."""
    tr = split[(split["Part"] == "train") & (split["Label"].astype(int) == 1)]
    return pd.DataFrame({"Gene1": tr["TF"].astype(str).to_numpy(), "Gene2": tr["Target"].astype(str).to_numpy()})


def _looks_like_path(v) -> bool:
    return isinstance(v, str) and (os.sep in v or v.endswith((".csv", ".tsv", ".h5ad", ".txt", ".gz", ".zip")))


def _clean_provenance(prov) -> dict:
    out = {}
    for k, v in dict(prov or {}).items():
        if isinstance(v, dict):
            out[k] = _clean_provenance(v)
        elif "network" in str(k).lower() or _looks_like_path(v):
            continue
        else:
            out[k] = v
    return out


def method_view(data: GRNData, split: pd.DataFrame | None, kind: str) -> GRNData:
    """A copy of ``data`` that holds no label a method of ``kind`` may not see (module docstring)."""
    if kind not in VIEW_NOTE:
        raise ValueError(f"kind must be 'supervised' or 'unsupervised', got {kind!r}")
    src = data.adata
    net = training_network(split) if kind == "supervised" else pd.DataFrame({"Gene1": [], "Gene2": []})
    x = src.X.copy() if hasattr(src.X, "copy") else np.array(src.X)
    obs = pd.DataFrame(index=src.obs_names.copy())
    if "pseudotime" in src.obs:
        obs["pseudotime"] = src.obs["pseudotime"].to_numpy(float)
    var = pd.DataFrame({"is_tf": src.var["is_tf"].to_numpy(bool)}, index=src.var_names.copy())
    adata = ad.AnnData(X=x, obs=obs, var=var)
    if "pseudotime_lineages" in src.obsm:  # every lineage of a multi-lineage PseudoTime.csv
        adata.obsm["pseudotime_lineages"] = src.obsm["pseudotime_lineages"].copy()
    adata.uns["network"] = {"Gene1": net["Gene1"].to_numpy(dtype=str), "Gene2": net["Gene2"].to_numpy(dtype=str)}
    prov = _clean_provenance(src.uns.get("provenance", {}))
    prov["network_view"] = VIEW_NOTE[kind]
    adata.uns["provenance"] = prov
    return GRNData(adata, name=data.name)


def method_split(split: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training + validation rows with labels, test pairs ``TF, Target`` without labels)."""
    seen = split[split["Part"].isin(TRAIN_PARTS)].reset_index(drop=True)[["TF", "Target", "Label", "Part"]]
    test = split[split["Part"] == "test"].reset_index(drop=True)[["TF", "Target"]]
    return seen.copy(), test.copy()
