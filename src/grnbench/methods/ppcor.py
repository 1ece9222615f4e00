"""PPCOR: partial correlation of every gene pair given all other genes (Kim 2015, R ppcor 1.1).

BEELINE runs ``ppcor::pcor(t(expr), method = "spearman")`` on all genes and keeps an edge only
if its p-value is <= 0.01; significant pairs are ranked by |partial correlation|, the others get
weight 0. ppcor's estimate, for p genes measured in n cells:

    S = cov(ranks of x)                          (Spearman: Pearson on average ranks)
    P = S^{-1}, or the Moore-Penrose pseudo-inverse when det(S) < machine epsilon
    rho_ij = -P_ij / sqrt(P_ii P_jj)                                                  (1)
    t_ij = rho_ij sqrt((n - 2 - g) / (1 - rho_ij^2)),   g = p - 2 conditioning genes  (2)
    p-value = 2 P(T_{n-2-g} > |t_ij|)                                                 (3)

When n - 2 - g = n - p <= 0 (at least as many genes as cells) the t statistic and p-value are
undefined (NaN in R); BEELINE then drops every pair, so every score is 0 here too and the
method reports that in ``labels``. ``p_value_cutoff = None`` ranks all pairs by |rho|.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from grnbench.data.dataset import GRNData
from grnbench.errors import InputError
from grnbench.methods.base import UnsupervisedMethod
from grnbench.methods.registry import register

#: MASS::ginv's tolerance: singular values below sqrt(eps) times the largest are dropped.
_GINV_RTOL = float(np.sqrt(np.finfo(np.float64).eps))


def partial_correlation(x: np.ndarray, method: str = "spearman") -> tuple[np.ndarray, bool]:
    """Partial correlation matrix (eq. 1) of the columns of ``x`` (cells x genes).

    Returns ``(rho, used_pinv)``. Constant genes have zero variance and make S singular, which
    sends the computation down the pseudo-inverse path as in R.
    """
    if method == "spearman":
        x = stats.rankdata(x, axis=0)  # average ranks for ties, as R's cov(method="spearman")
    elif method != "pearson":
        raise InputError("methods.ppcor.params.method", f"unknown method {method!r}")
    s = np.cov(np.asarray(x, dtype=np.float64), rowvar=False)
    sign, logdet = np.linalg.slogdet(s)
    used_pinv = bool(sign <= 0 or logdet < np.log(np.finfo(np.float64).eps))
    if used_pinv:
        prec = np.linalg.pinv(s, rtol=_GINV_RTOL, hermitian=True)
    else:
        prec = np.linalg.inv(s)
    d = np.sqrt(np.abs(np.diag(prec)))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = -prec / np.outer(d, d)
    rho[~np.isfinite(rho)] = 0.0
    np.fill_diagonal(rho, 1.0)
    return rho, used_pinv


def partial_correlation_pvalues(rho: np.ndarray, n_cells: int) -> np.ndarray:
    """Two-sided p-values of ppcor's t test (eqs. 2-3); NaN where undefined."""
    p = rho.shape[0]
    dof = n_cells - 2 - (p - 2)
    if dof <= 0:
        return np.full_like(rho, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = rho * np.sqrt(dof / (1.0 - rho**2))
    pv = 2.0 * stats.t.sf(np.abs(t), dof)
    np.fill_diagonal(pv, 0.0)
    return pv


@register
class PPCOR(UnsupervisedMethod):
    """Spearman partial correlation; pairs with p > 0.01 score 0 (BEELINE's PPCOR)."""

    name = "ppcor"
    display_name = "PPCOR"
    family = "unsupervised"
    order = 8
    color = "#393b79"
    cost = {"model": "ppcor"}
    description = "Partial correlation (Spearman, all genes); |rho| where p <= 0.01, else 0."
    defaults = {"method": "spearman", "p_value_cutoff": 0.01}

    def infer(self, data: GRNData, *, seed: int, threads: int = 1) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=threads):
            rho, used_pinv = partial_correlation(data.expression(), self.params["method"])
        self.labels["ppcor_inverse"] = "pseudo-inverse" if used_pinv else "inverse"
        tf_rows = np.flatnonzero(data.tf_mask)
        score = np.abs(rho[tf_rows])
        cutoff = self.params["p_value_cutoff"]
        if cutoff is not None:
            pv = partial_correlation_pvalues(rho, data.n_cells)[tf_rows]
            if np.isnan(pv).all():
                msg = (
                    f"ppcor p-values undefined: {data.n_genes} genes >= {data.n_cells} cells "
                    "(n - p <= 0 degrees of freedom); every pair scores 0 as in BEELINE"
                )
                warnings.warn(msg, stacklevel=2)
                self.labels["ppcor_p_values"] = "undefined (n_genes >= n_cells): all scores 0"
            # NaN p-values fail the test, as BEELINE's `pValue <= cutoff` does
            score = np.where(pv <= cutoff, score, 0.0)
        score[np.arange(len(tf_rows)), tf_rows] = 0.0
        return score
