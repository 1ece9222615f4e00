"""How close are our GEO-built inputs to the published ones (GENELink folders, BEELINE-data)?

Per dataset, network and gene set, against GENELink's folder (``BL--ExpressionData.csv``,
``BL--network.csv``, ``TF.csv``, ``Target.csv``, i.e. BEELINE's TFs+500 / TFs+1000 inputs):

- gene set:  J(G_ours, G_theirs) = |G_ours & G_theirs| / |G_ours | G_theirs|   (Jaccard)
- TFs:       J(T_ours, T_theirs)
- network:   J(E_ours, E_theirs) over directed edges (Gene1, Gene2)
- expression: Pearson r over all (shared gene, shared cell) values, and the median over shared
  genes of the per-gene Pearson r across shared cells (only when GENELink's expression file is there)

and, before gene selection, our ``ExpressionData.csv`` / ``PseudoTime.csv`` against BEELINE's
(``BEELINE-data.zip``): the same gene and expression figures plus the Spearman correlation of
pseudotimes over shared cells.

Names are compared as written, and also after R's ``make.names`` (BEELINE read hHep through R,
which turned ``HLA-DRB5`` into ``HLA.DRB5``); the ``*_rnames`` columns use that mapping.
Cells are matched after replacing every character other than letters and digits by ``_``.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.data.dataset import read_h5ad
from grnbench.errors import InputError
from grnbench.utils import write_csv, write_json

COLUMNS = [
    "dataset", "network", "geneset", "reference", "n_genes_ours", "n_genes_theirs", "n_genes_shared",
    "jaccard_genes", "jaccard_genes_rnames", "n_tfs_ours", "n_tfs_theirs", "jaccard_tfs",
    "n_edges_ours", "n_edges_theirs", "n_edges_shared", "jaccard_edges", "n_cells_shared",
    "n_genes_expr_shared", "pearson_expression", "median_gene_pearson", "spearman_pseudotime", "note",
]


# --------------------------------------------------------------------------------------------------
# Set and value agreement
# --------------------------------------------------------------------------------------------------


def r_make_names(name: str) -> str:
    """R's ``make.names`` for one name: invalid characters -> '.', 'X' prefix if it must."""
    out = re.sub(r"[^A-Za-z0-9._]", ".", name)
    if not out or not (out[0].isalpha() or (out[0] == "." and not out[1:2].isdigit())):
        out = "X" + out
    return out


def cell_key(name: str) -> str:
    """Cell names as both sides may have written them (``H9.00hb4s_001`` == ``H9_00hb4s_001``)."""
    return re.sub(r"[^A-Za-z0-9]", "_", name)


def jaccard(a, b) -> float:
    """|A & B| / |A | B| (NaN when both are empty)."""
    a, b = set(a), set(b)
    union = a | b
    return len(a & b) / len(union) if union else math.nan


def gene_overlap(ours, theirs) -> dict:
    return {
        "n_genes_ours": len(set(ours)), "n_genes_theirs": len(set(theirs)),
        "n_genes_shared": len(set(ours) & set(theirs)), "jaccard_genes": jaccard(ours, theirs),
        "jaccard_genes_rnames": jaccard(map(r_make_names, ours), map(r_make_names, theirs)),
    }


def edge_overlap(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict:
    eo = set(zip(ours["Gene1"].astype(str), ours["Gene2"].astype(str)))
    et = set(zip(theirs["Gene1"].astype(str), theirs["Gene2"].astype(str)))
    return {"n_edges_ours": len(eo), "n_edges_theirs": len(et), "n_edges_shared": len(eo & et),
            "jaccard_edges": jaccard(eo, et)}


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    """Rows = cell keys, columns = R names; duplicates after mapping are dropped (first kept)."""
    out = df.copy()
    out.index = [cell_key(c) for c in df.index]
    out.columns = [r_make_names(g) for g in df.columns]
    return out.loc[~out.index.duplicated(), ~out.columns.duplicated()]


def expression_agreement(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict:
    """Pearson r of shared (cell, gene) values; median per-gene r across shared cells.

    Both frames are cells x genes. Genes constant in either frame over the shared cells are
    left out of the per-gene median (r undefined).
    """
    a, b = _keyed(ours), _keyed(theirs)
    cells = a.index.intersection(b.index)
    genes = a.columns.intersection(b.columns)
    out = {"n_cells_shared": int(len(cells)), "n_genes_expr_shared": int(len(genes)),
           "pearson_expression": math.nan, "median_gene_pearson": math.nan}
    if len(cells) < 2 or len(genes) == 0:
        return out
    x = a.loc[cells, genes].to_numpy(float)
    y = b.loc[cells, genes].to_numpy(float)
    out["pearson_expression"] = float(np.corrcoef(x.ravel(), y.ravel())[0, 1])
    xc, yc = x - x.mean(0), y - y.mean(0)
    den = np.sqrt((xc**2).sum(0) * (yc**2).sum(0))
    ok = den > 0
    if ok.any():
        out["median_gene_pearson"] = float(np.median((xc * yc).sum(0)[ok] / den[ok]))
    return out


def pseudotime_agreement(ours: pd.Series, theirs: pd.Series) -> float:
    """Spearman correlation of two pseudotimes over shared cells (NaN-free)."""
    a = pd.Series(ours.to_numpy(float), index=[cell_key(c) for c in ours.index])
    b = pd.Series(theirs.to_numpy(float), index=[cell_key(c) for c in theirs.index])
    both = pd.concat([a[~a.index.duplicated()], b[~b.index.duplicated()]], axis=1, join="inner").dropna()
    return float(both.iloc[:, 0].corr(both.iloc[:, 1], method="spearman")) if len(both) > 2 else math.nan


# --------------------------------------------------------------------------------------------------
# Published files
# --------------------------------------------------------------------------------------------------


def _column(path, col: str) -> list[str]:
    """One named column of a CSV as written (:func:`grnbench.data.readers.read_table`)."""
    from grnbench.data.readers import read_table

    header, rows = read_table(path)
    if col not in header:
        raise InputError(path, f"expected a column {col!r}, got {header}")
    return [str(v) for v in rows[:, header.index(col)]]


def read_genelink_published(folder: str | os.PathLike) -> dict:
    """A GENELink folder's genes (``Target.csv``), TFs, network and, if present, expression (cells x genes)."""
    from grnbench.data.readers import read_expression, read_network, read_tfs

    folder = Path(folder)
    genes = _column(folder / "Target.csv", "Gene")
    tfs = read_tfs(folder / "TF.csv")
    net = read_network(folder / "BL--network.csv")
    expr_path = folder / "BL--ExpressionData.csv"
    expr = read_expression(expr_path) if expr_path.exists() else None
    return {"genes": genes, "tfs": tfs, "network": net, "expression": expr}


def read_beeline_expression(path: str | os.PathLike) -> pd.DataFrame:
    """BEELINE ExpressionData.csv (genes x cells) -> cells x genes, names as written."""
    from grnbench.data.readers import read_expression

    return read_expression(path)


def read_beeline_pseudotime(path: str | os.PathLike) -> pd.Series:
    """First non-missing pseudotime column per cell (R-style short header accepted)."""
    from grnbench.data.readers import read_pseudotime

    return read_pseudotime(path, short_header=True)


# --------------------------------------------------------------------------------------------------
# The two comparisons
# --------------------------------------------------------------------------------------------------


def compare_to_genelink(h5ad: str | os.PathLike, folder: str | os.PathLike, **ids) -> dict:
    """One row: our preprocessed ``data.h5ad`` against the GENELink folder of the same network/gene set."""
    data = read_h5ad(h5ad)
    pub = read_genelink_published(folder)
    row = {**ids, "reference": f"genelink:{folder}", **gene_overlap(data.genes, pub["genes"]),
           "n_tfs_ours": len(data.tfs), "n_tfs_theirs": len(set(pub["tfs"])),
           "jaccard_tfs": jaccard(data.tfs, pub["tfs"]), **edge_overlap(data.network, pub["network"])}
    if pub["expression"] is not None:
        ours = pd.DataFrame(data.expression(np.float64), index=data.adata.obs_names, columns=data.genes)
        row.update(expression_agreement(ours, pub["expression"]))
        row["note"] = ""
    else:
        row.update(n_cells_shared=0, n_genes_expr_shared=0, pearson_expression=math.nan, median_gene_pearson=math.nan,
                   note="no BL--ExpressionData.csv: expression not compared")
    return row


def compare_raw_to_beeline(expression_csv, pseudotime_csv, beeline_expression, beeline_pseudotime, *,
                           reference: str | None = None, **ids) -> dict:
    """One row: our full (pre-selection) BEELINE-format files against BEELINE-data's for the cell type."""
    ours = read_beeline_expression(expression_csv)
    theirs = read_beeline_expression(beeline_expression)
    row = {**ids, "network": "", "geneset": "all", "reference": reference or f"beeline_data:{beeline_expression}",
           **gene_overlap(ours.columns, theirs.columns), **expression_agreement(ours, theirs)}
    if beeline_pseudotime and pseudotime_csv:
        row["spearman_pseudotime"] = pseudotime_agreement(
            read_beeline_pseudotime(pseudotime_csv), read_beeline_pseudotime(beeline_pseudotime))
    row["note"] = "before gene selection; BEELINE pseudotime = Slingshot"
    return row


def compare_raw_to_beeline_zip(zip_path, cell: str, expression_csv, pseudotime_csv, scratch, **ids) -> dict:
    """:func:`compare_raw_to_beeline` against ``scRNA-Seq/<cell>/`` of BEELINE-data.zip (extracted safely)."""
    import tempfile

    from grnbench.data.archives import safe_extract_zip
    from grnbench.data.geo import find_member

    expr_m = find_member(zip_path, f"scRNA-Seq/{cell}/ExpressionData.csv")
    try:
        pt_m = find_member(zip_path, f"scRNA-Seq/{cell}/PseudoTime.csv")
    except InputError:
        pt_m = None
    Path(scratch).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".extract.", dir=scratch) as tmp:
        paths = safe_extract_zip(zip_path, tmp, members=[m for m in (expr_m, pt_m) if m])
        return compare_raw_to_beeline(expression_csv, pseudotime_csv, paths[0], paths[1] if pt_m else None,
                                      reference=f"beeline_data:{Path(zip_path).name}:{expr_m}", **ids)


def write_comparison(rows: list[dict], out_tsv, out_json=None) -> pd.DataFrame:
    """The rows as a TSV (fixed columns) and, optionally, JSON."""
    df = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in df:
            df[c] = np.nan if c != "note" else ""
    df = df[COLUMNS]
    write_csv(df, out_tsv, sep="\t", float_format="%.4f")
    if out_json:
        write_json({"rows": df.replace({np.nan: None}).to_dict(orient="records")}, out_json)
    return df
