"""Normalisation (median-of-ratios size factors, log2) and the gene filter."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grnbench.data.geo.spec import NORMALISATIONS
from grnbench.errors import InputError


def median_ratio_size_factors(counts: pd.DataFrame, source="matrix") -> pd.Series:
    """Median-of-ratios size factors (DESeq / EBSeq ``MedianNorm``, used by BEELINE for hESC).

        g_j = exp(mean_i log x_ij)                     (geometric mean of gene j over cells)
        s_i = median_{j : g_j > 0} x_ij / g_j

    Genes with a zero in any cell have ``g_j = 0`` and are left out of the median.
    """
    x = counts.to_numpy(dtype=float)
    if (x < 0).any():
        raise InputError(source, "negative values cannot be counts; use normalise: none for log-scale data")
    positive = (x > 0).all(axis=0)
    if not positive.any():
        raise InputError(source, "median-of-ratios needs at least one gene with a positive value in every cell; "
                                 "none has one (too sparse for this normalisation)")
    xp = x[:, positive]
    geo = np.exp(np.log(xp).mean(axis=0))
    s = np.median(xp / geo, axis=1)
    return pd.Series(s, index=counts.index, name="size_factor")


def log2_median_ratio_normalise(counts: pd.DataFrame, source="matrix") -> tuple[pd.DataFrame, pd.Series]:
    """``log2(x_ij / s_i + 1)`` with median-of-ratios size factors ``s_i`` (BEELINE's hESC); also ``s``."""
    s = median_ratio_size_factors(counts, source)
    return np.log2(counts.div(s, axis=0) + 1.0), s


def normalise(values: pd.DataFrame, method: str, source="matrix") -> tuple[pd.DataFrame, pd.Series | None]:
    """``median_ratio``: :func:`log2_median_ratio_normalise`; ``none``: values already on a log scale."""
    if method == "none":
        return values, None
    if method == "median_ratio":
        return log2_median_ratio_normalise(values, source)
    raise InputError(source, f"normalise = {method!r}; expected one of {list(NORMALISATIONS)}")


def filter_genes(values: pd.DataFrame, *, min_value: float, min_cells: int = 1, min_cells_frac: float = 0.0,
                 exclude: str | None = None) -> pd.Index:
    """Genes with ``value >= min_value`` in at least ``max(min_cells, min_cells_frac * n_cells)`` cells.

    Applied to the values as read (counts for hESC, log2 FPKM for hHep), as BEELINE did.
    ``exclude`` drops gene names matching a regex (e.g. spike-ins ``^ERCC-``).
    """
    n_expr = (values.to_numpy() >= min_value).sum(axis=0)
    keep = (n_expr >= min_cells) & (n_expr >= min_cells_frac * values.shape[0])
    if exclude:
        keep &= ~np.asarray(values.columns.str.contains(exclude, regex=True), dtype=bool)
    return values.columns[keep]
