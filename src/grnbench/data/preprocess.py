"""BEELINE's gene selection, network restriction, data-set statistics and the GENELink folder.

Gene selection (:func:`select_genes`) follows BEELINE (Pratapa et al. 2020), read from its
public code (Murali-group/Beeline):

1. ``inputs/scRNAseq_preprocessing/*.Rmd`` make ``GeneOrdering.csv``: for every gene, a GAM
   with a loess term for pseudotime, ``gam(z ~ lo(t))`` (R package ``gam``, default span 0.5,
   degree 1), on the log-normalised expression ``z``; the p-value kept (column ``VGAMpValue``) is
   ``summary(fit)[4]`` = the *parametric* ANOVA table's ``Pr(>F)`` for ``lo(t)``; the column
   ``Variance`` is the gene's sample variance over all cells.
2. ``generateExpInputs.py`` keeps the genes with ``VGAMpValue < 0.01 / (number of genes in
   GeneOrdering.csv)`` (Bonferroni), takes every TF among them, and adds the ``N`` non-TF genes
   with the largest ``Variance`` among them ("TFs+500", "TFs+1000"). So a non-TF gene must pass
   the test too: variance alone does not select it.

What :func:`variance_test` computes, and why it is that F-test: in ``gam``'s parametric ANOVA
the smooth term contributes its linear part (1 df), and the residuals are those of the full
loess fit. With one smooth term the linear part of the fit is the least-squares line, so::

    SS_lin = (sum_i (t_i - tbar)(z_i - zbar))^2 / sum_i (t_i - tbar)^2
    RSS    = || z - S z ||^2,   rdf = n - trace(S)
    F      = SS_lin / (RSS / rdf),   p = P(F(1, rdf) > F)

with ``S`` the local-linear loess smoother matrix (tricube weights over the ``floor(span * n)``
nearest cells; it reproduces constants and straight lines exactly). ``S`` depends only on the
pseudotimes, so one matrix product smooths every gene at once. Differences from R: our loess is
evaluated exactly at every cell (R's loess interpolates on a kd-tree), and ``rdf`` counts the
loess trace as the model's degrees of freedom; p-values therefore match R's closely but not to the
last digit. When BEELINE's own ``GeneOrdering.csv`` is at hand, pass it (``gene_ordering=``) and
its p-values and variances are used unchanged.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
from scipy import stats

from grnbench.data.dataset import GRNData
from grnbench.errors import InputError
from grnbench.utils import write_csv

log = logging.getLogger(__name__)

#: BEELINE's loess span (R ``gam::lo`` default).
LOESS_SPAN = 0.5


# --- variance test ------------------------------------------------------------------------


def loess_smoother_matrix(t: np.ndarray, span: float = LOESS_SPAN, chunk: int = 1024) -> np.ndarray:
    """Local-linear loess smoother ``S`` (n x n) so that fitted values are ``S @ z``.

    Row ``i``: tricube weights ``w_ij = (1 - (|d_ij| / h_i)^3)^3`` for ``|d_ij| < h_i`` with
    ``d_ij = t_j - t_i`` and ``h_i`` the distance to the ``floor(span * n)``-th nearest cell;
    the local line evaluated at ``t_i`` gives
    ``S_ij = w_ij (M2 - M1 d_ij) / (M0 M2 - M1^2)`` with ``M_k = sum_j w_ij d_ij^k``.
    Where every neighbour ties with ``t_i`` (no slope can be fitted) the row is the local mean.
    """
    t = np.asarray(t, dtype=np.float64)
    n = len(t)
    q = min(max(int(np.floor(span * n)), 2), n)
    out = np.empty((n, n))
    for a in range(0, n, chunk):
        d = t[None, :] - t[a : a + chunk, None]
        ad_ = np.abs(d)
        h = np.partition(ad_, q - 1, axis=1)[:, q - 1 : q]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(h > 0, ad_ / h, np.where(ad_ == 0, 0.0, np.inf))
        w = np.where(u < 1, (1 - u**3) ** 3, 0.0)
        m0, m1, m2 = (
            w.sum(1, keepdims=True),
            (w * d).sum(1, keepdims=True),
            (w * d * d).sum(1, keepdims=True),
        )
        det = m0 * m2 - m1**2
        ok = det > 1e-12 * np.maximum(m0 * m2, 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            lin = w * (m2 - m1 * d) / det
        out[a : a + chunk] = np.where(ok, lin, w / m0)
    return out


def variance_test(
    expr: pd.DataFrame, pseudotime: pd.Series, span: float = LOESS_SPAN
) -> pd.DataFrame:
    """BEELINE's ``GeneOrdering.csv`` for ``expr`` (cells x genes, log-normalised).

    Returns a frame indexed by gene (expression order) with ``VGAMpValue`` (the F-test of the
    module docstring, on the cells that have a pseudotime) and ``Variance`` (sample variance,
    ddof 1, over all cells). Constant genes get p-value 1.
    """
    pt = pd.to_numeric(pseudotime, errors="coerce").reindex(expr.index)
    has = pt.notna().to_numpy()
    if has.sum() < 10:
        raise InputError(
            "pseudotime",
            f"only {int(has.sum())} of {len(expr)} cells have a pseudotime; need >= 10",
        )
    t = pt.to_numpy(float)[has]
    z = expr.to_numpy(np.float64)[has]
    n = len(t)
    S = loess_smoother_matrix(t, span)
    rss = ((z - S @ z) ** 2).sum(axis=0)
    rdf = n - float(np.trace(S))
    tc = t - t.mean()
    ss_lin = (tc @ (z - z.mean(axis=0))) ** 2 / max(float(tc @ tc), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = ss_lin / (rss / rdf)
    p = stats.f.sf(f, 1, rdf)
    p = np.where(np.isfinite(f), p, np.where(ss_lin > 0, 0.0, 1.0))
    var = expr.to_numpy(np.float64).var(axis=0, ddof=1)
    return pd.DataFrame({"VGAMpValue": p, "Variance": var}, index=expr.columns)


def select_genes(
    expr: pd.DataFrame,
    tfs,
    n_top: int,
    pvalue: float = 0.01,
    *,
    pseudotime: pd.Series | None = None,
    gene_ordering: pd.DataFrame | None = None,
) -> list[str]:
    """BEELINE's "TFs + N" gene set: significant TFs plus the ``n_top`` most-varying other genes.

    Args:
        expr: cells x genes, log-normalised.
        tfs: TF symbols (those absent from ``expr`` are ignored).
        n_top: number of non-TF genes to add (BEELINE's ``-n``: 500 or 1000).
        pvalue: significance level before Bonferroni correction (BEELINE's ``-p``); a gene
            passes when its p-value < ``pvalue / number of genes tested``. ``0`` (BEELINE's
            ``-p 0``) switches the test off: every TF, and the ``n_top`` most-varying genes.
        pseudotime: per cell (index = cell names); the test of :func:`variance_test` is run.
        gene_ordering: BEELINE's ``GeneOrdering.csv`` (index gene, first column p-value,
            second column variance); used instead of computing the test.

    Without ``pseudotime`` and ``gene_ordering`` no test is possible: a warning is logged and
    the selection is BEELINE's ``-p 0`` one (pass the pseudotime to get BEELINE's rule).

    Returns:
        The selected genes in expression (column) order.
    """
    if n_top < 0:
        raise InputError("select_genes", f"n_top must be >= 0, got {n_top}")
    genes = pd.Index(expr.columns.astype(str))
    if gene_ordering is not None:
        if gene_ordering.shape[1] < 2:
            raise InputError(
                "GeneOrdering",
                f"expected a p-value and a variance column, got {list(gene_ordering.columns)}",
            )
        order = gene_ordering.iloc[:, :2].copy()
        order.columns = ["VGAMpValue", "Variance"]
        order.index = order.index.astype(str)
        order = order[order.index.isin(genes)]
        missing = len(genes) - len(order)
        if missing:
            log.warning(
                "%d expression genes are not in the gene ordering; they cannot be selected", missing
            )
    elif pseudotime is not None and pvalue:
        order = variance_test(expr, pseudotime)
    else:
        if pvalue:
            log.warning(
                "select_genes: no pseudotime and no gene ordering, so no variance test; "
                "taking every TF and the %d most-varying genes (BEELINE's -p 0)",
                n_top,
            )
        var = expr.to_numpy(np.float64).var(axis=0, ddof=1)
        order = pd.DataFrame({"VGAMpValue": 0.0, "Variance": var}, index=genes)
        pvalue = 0

    if pvalue:
        cutoff = pvalue / len(order)  # Bonferroni over every gene tested, as generateExpInputs.py
        order = order[order["VGAMpValue"] < cutoff]
    tfset = set(map(str, tfs))
    is_tf = order.index.isin(list(tfset))
    chosen_tfs = set(order.index[is_tf])
    rest = order[~is_tf]
    # Largest variance first; ties keep expression order (stable sort on the gene's position).
    pos = genes.get_indexer(rest.index)
    rank = np.lexsort((pos, -rest["Variance"].to_numpy(float)))
    chosen = chosen_tfs | set(rest.index[rank[:n_top]])
    return [g for g in genes if g in chosen]


# --- network ------------------------------------------------------------------------------


def restrict_network(network: pd.DataFrame, genes) -> pd.DataFrame:
    """Edges with both ends in ``genes``, without self-loops and duplicated (Gene1, Gene2) pairs.

    Other columns (``Type``, ``Score``) are kept; the first occurrence of a pair wins. (BEELINE
    drops only fully identical rows; a pair is one edge whatever its score.)
    """
    if not {"Gene1", "Gene2"} <= set(network.columns):
        raise InputError("network", f"expected columns Gene1,Gene2, got {list(network.columns)}")
    gset = set(map(str, genes))
    g1, g2 = network["Gene1"].astype(str), network["Gene2"].astype(str)
    keep = g1.isin(gset) & g2.isin(gset) & (g1 != g2)
    out = network[keep].copy()
    out["Gene1"], out["Gene2"] = g1[keep], g2[keep]
    return out.drop_duplicates(["Gene1", "Gene2"], keep="first").reset_index(drop=True)


def restrict_to_tf_regulators(
    network: pd.DataFrame, tfs, *, source: object = "network", tfs_path: object = "the TF list"
) -> tuple[pd.DataFrame, int]:
    """Edges whose regulator (``Gene1``) is one of ``tfs``, and how many were dropped.

    Every method scores TF -> gene pairs only (and splits draw their pairs from the TFs), so an
    edge from a non-TF would be a test positive no method can score: it would count against
    every method, or, ranked last, inflate a random baseline's AUROC. A drop is logged (warning)
    naming ``source``; a network left with no edge is refused (:class:`InputError`).
    """
    tfset = set(map(str, tfs))
    keep = network["Gene1"].astype(str).isin(tfset).to_numpy()
    dropped = int((~keep).sum())
    if dropped:
        regs = pd.unique(network["Gene1"].astype(str).to_numpy()[~keep])
        log.warning(
            "%s: %d of %d edges have a regulator (Gene1) that is not a TF of %s (%d such regulators, e.g. %r); "
            "dropped, since methods score TF -> gene pairs only",
            source, dropped, len(network), tfs_path, len(regs), regs[0],
        )
    if len(network) and not keep.any():
        raise InputError(
            source,
            f"none of its {len(network)} edges has a TF of {tfs_path} as regulator (Gene1), e.g. "
            f"{network['Gene1'].iloc[0]!r}; expected edges TF -> target",
        )
    return network[keep].reset_index(drop=True), dropped


def dataset_stats(data: GRNData | ad.AnnData) -> dict:
    """Size and label density of a data set.

    Keys: ``cells``, ``genes``, ``tfs``, ``tfs_with_edges`` (TFs that are Gene1 of >= 1 edge),
    ``targets_with_edges`` (genes that are Gene2 of >= 1 edge), ``edges`` (distinct pairs, no
    self-loops), ``density`` = edges / (tfs_with_edges x targets_with_edges), GENELink's
    definition (hESC TFs+500: 4545 / (34 x 815) = 0.164), and ``density_beeline`` = edges /
    (tfs_with_edges x network genes - tfs_with_edges), what BEELINE's generateExpInputs.py prints.
    """
    if isinstance(data, ad.AnnData):
        data = GRNData(data)
    net = data.network
    net = net[net["Gene1"] != net["Gene2"]].drop_duplicates(["Gene1", "Gene2"])
    n_tf_e, n_tg_e = net["Gene1"].nunique(), net["Gene2"].nunique()
    n_nodes = len(set(net["Gene1"]) | set(net["Gene2"]))
    e = len(net)
    return {
        "cells": data.n_cells,
        "genes": data.n_genes,
        "tfs": int(data.tf_mask.sum()),
        "tfs_with_edges": int(n_tf_e),
        "targets_with_edges": int(n_tg_e),
        "edges": int(e),
        "density": e / (n_tf_e * n_tg_e) if e else 0.0,
        "density_beeline": e / (n_tf_e * n_nodes - n_tf_e) if e else 0.0,
    }


# --- GENELink folder ----------------------------------------------------------------------

GENELINK_FILES = ("BL--ExpressionData.csv", "BL--network.csv", "TF.csv", "Target.csv", "Label.csv")


def to_genelink_folder(data: GRNData, outdir: str | os.PathLike) -> dict[str, Path]:
    """Write ``data`` as a GENELink benchmark folder (each file atomically); return the paths.

    Format (as in zpliulab/GENELink ``Dataset/Benchmark Dataset/*/<cell>/TFs+500``):

    - ``BL--ExpressionData.csv``: genes x cells, first column the gene symbol (empty header).
    - ``BL--network.csv``: ``Gene1,Gene2`` (our data carry no edge score).
    - ``TF.csv``: ``,TF,index``: row number, TF symbol, the TF's row in the expression file;
      TFs in expression order.
    - ``Target.csv``: ``,Gene,index``: every gene, index = its row in the expression file.
    - ``Label.csv``: ``,TF,Target``: one row per edge (network order), both as expression rows.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {name: outdir / name for name in GENELINK_FILES}
    genes = data.genes
    expr = pd.DataFrame(data.expression().T, index=genes, columns=list(data.adata.obs_names))
    write_csv(expr, paths["BL--ExpressionData.csv"], index=True)
    net = data.network
    write_csv(net[["Gene1", "Gene2"]], paths["BL--network.csv"])
    tfs = data.tfs
    write_csv(pd.DataFrame({"TF": tfs, "index": data.gene_idx(tfs)}), paths["TF.csv"], index=True)
    write_csv(
        pd.DataFrame({"Gene": genes, "index": np.arange(len(genes))}),
        paths["Target.csv"],
        index=True,
    )
    label = pd.DataFrame(
        {
            "TF": data.gene_idx(net["Gene1"].to_numpy()),
            "Target": data.gene_idx(net["Gene2"].to_numpy()),
        }
    )
    write_csv(label, paths["Label.csv"], index=True)
    return paths
