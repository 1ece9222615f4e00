"""Readers for the field's file formats, with errors that name the file, row or gene.

- BEELINE: ``ExpressionData.csv`` (genes x cells, first column gene symbol), ``PseudoTime.csv``
  (first column cell, one column per lineage), ``refNetwork.csv`` / ``GroundTruthNetwork.csv``
  (``Gene1,Gene2[,Type]``), TF list (one column ``TF``, or GENELink's ``,TF,index``).
- GENELink folder: ``BL--ExpressionData.csv``, ``BL--network.csv``, ``TF.csv`` (``,TF,index``
  with index = row in the expression file), ``Target.csv`` (``,Gene,index``).

All readers return pandas objects or :class:`~grnbench.data.GRNData`; nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.data.dataset import GRNData, make_adata
from grnbench.errors import InputError


def _read_csv(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file does not exist")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty")
    try:
        return pd.read_csv(path, **kwargs)
    except UnicodeDecodeError as e:
        raise InputError(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    except pd.errors.EmptyDataError as e:
        raise InputError(path, "file has no rows or header") from e
    except pd.errors.ParserError as e:
        raise InputError(path, f"malformed CSV ({e})") from e


def _check_unique(values: pd.Index, path, what: str) -> None:
    dup = values[values.duplicated()]
    if len(dup):
        raise InputError(path, f"duplicated {what} {str(dup[0])!r} ({len(dup)} duplicates); {what}s must be unique")


def read_expression(path: str | os.PathLike) -> pd.DataFrame:
    """BEELINE / GENELink expression (genes x cells) -> cells x genes float frame.

    Raises InputError for an empty file, no cells, duplicated genes or cells, and any value that
    is not a finite number (naming the gene and cell).
    """
    df = _read_csv(path, index_col=0)
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise InputError(path, f"expected genes x cells with at least one of each, got {df.shape}")
    # pandas renames duplicated header names ("c1" -> "c1.1"); read the header as written
    header = _read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0, 1:]
    df.index = df.index.astype(str)
    df.columns = pd.Index(header.astype(str).to_numpy())
    _check_unique(df.index, path, "gene")
    _check_unique(df.columns, path, "cell")
    num = df.apply(pd.to_numeric, errors="coerce")
    bad = num.isna().to_numpy() | ~np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise InputError(
            path,
            f"value {df.iat[i, j]!r} is not a finite number ({int(bad.sum())} such values); "
            "expected numeric expression",
            where=f"gene {df.index[i]!r}, cell {df.columns[j]!r}, row {i + 2}",
        )
    return num.astype(np.float64).T


def read_pseudotime(path: str | os.PathLike) -> pd.Series:
    """BEELINE PseudoTime.csv -> Series indexed by cell (first non-missing lineage per cell)."""
    df = _read_csv(path, index_col=0)
    if df.shape[1] == 0:
        raise InputError(path, "expected a cell column and at least one pseudotime column")
    df.index = df.index.astype(str)
    _check_unique(df.index, path, "cell")
    num = df.apply(pd.to_numeric, errors="coerce")
    pt = num.bfill(axis=1).iloc[:, 0]
    return pt.rename("pseudotime")


def read_network(path: str | os.PathLike, genes=None) -> pd.DataFrame:
    """``Gene1,Gene2[,...]`` edges. With ``genes``, every gene must be one of them."""
    df = _read_csv(path)
    if not {"Gene1", "Gene2"} <= set(df.columns):
        raise InputError(path, f"expected columns Gene1,Gene2, got {list(df.columns)}")
    df = df.astype({"Gene1": str, "Gene2": str})
    if genes is not None:
        known = set(genes)
        for col in ("Gene1", "Gene2"):
            bad = ~df[col].isin(known)
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(
                    path, f"gene {df[col].iloc[row]!r} is not in the expression data ({int(bad.sum())} such edges)",
                    where=f"row {row + 2}, column {col}",
                )
    return df


def read_tfs(path: str | os.PathLike) -> list[str]:
    """A TF list: column ``TF`` (GENELink's ``,TF,index`` or BEELINE's human-tfs.csv) or the first column."""
    df = _read_csv(path)
    col = "TF" if "TF" in df.columns else df.columns[0]
    return df[col].astype(str).tolist()


def check_tfs(tfs, genes, path) -> list[str]:
    """TFs present in the gene set; raises when none is."""
    gset = set(genes)
    present = [t for t in dict.fromkeys(tfs) if t in gset]
    if not present:
        raise InputError(path, f"none of the {len(tfs)} TFs is in the gene set (e.g. {list(tfs)[:3]})")
    return present


def read_beeline(
    expression: str | os.PathLike,
    network: str | os.PathLike,
    tfs: str | os.PathLike,
    pseudotime: str | os.PathLike | None = None,
    *,
    name: str = "dataset",
    strict_network: bool = True,
) -> GRNData:
    """A BEELINE-format dataset as :class:`GRNData`.

    With ``strict_network`` every network gene must be in the expression file; otherwise edges
    outside the gene set are dropped (as when restricting a genome-wide network).
    """
    expr = read_expression(expression)
    genes = list(expr.columns)
    net = read_network(network, genes if strict_network else None)
    if not strict_network:
        gset = set(genes)
        net = net[net["Gene1"].isin(gset) & net["Gene2"].isin(gset)]
    tf_list = check_tfs(read_tfs(tfs), genes, tfs)
    pt = None
    if pseudotime is not None:
        pt = read_pseudotime(pseudotime)
        missing = set(expr.index) - set(pt.index)
        if missing:
            raise InputError(pseudotime, f"{len(missing)} cells of {expression} have no pseudotime, e.g. {sorted(missing)[0]!r}")
    prov = {"source": "beeline", "expression": str(expression), "network": str(network),
            "tfs": str(tfs), "pseudotime": str(pseudotime), "name": name}
    return GRNData(make_adata(expr, tf_list, net[["Gene1", "Gene2"]], pseudotime=pt, provenance=prov), name=name)


def read_genelink_folder(folder: str | os.PathLike, *, name: str | None = None) -> GRNData:
    """A GENELink benchmark folder (``BL--ExpressionData.csv``, ``BL--network.csv``, ``TF.csv``)."""
    folder = Path(folder)
    name = name or str(folder)
    expr = read_expression(folder / "BL--ExpressionData.csv")
    genes = list(expr.columns)
    net = read_network(folder / "BL--network.csv", genes)
    tf_path = folder / "TF.csv"
    tf_df = _read_csv(tf_path, index_col=0)
    if not {"TF", "index"} <= set(tf_df.columns):
        raise InputError(tf_path, f"expected columns ',TF,index', got {list(tf_df.columns)}")
    for row, (tf, idx) in enumerate(zip(tf_df["TF"].astype(str), tf_df["index"])):
        if not (0 <= int(idx) < len(genes)) or genes[int(idx)] != tf:
            raise InputError(
                tf_path, f"TF {tf!r} has index {idx} but that row of the expression file is "
                f"{genes[int(idx)] if 0 <= int(idx) < len(genes) else 'out of range'}",
                where=f"row {row + 2}",
            )
    tf_list = check_tfs(tf_df["TF"].astype(str).tolist(), genes, tf_path)
    prov = {"source": "genelink", "folder": str(folder), "name": name}
    return GRNData(make_adata(expr, tf_list, net[["Gene1", "Gene2"]], provenance=prov), name=name)
