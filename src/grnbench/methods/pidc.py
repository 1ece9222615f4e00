"""PIDC: partial information decomposition and context (Chan, Stumpf & Babtie 2017).

Reference implementation: NetworkInference.jl (``PIDCNetworkInference``) with its defaults,
which BEELINE runs: every gene discretised on its own by Bayesian blocks (Scargle et al. 2013;
see :func:`grnbench.methods.mutual_info.bayesian_blocks_edges`), maximum-likelihood
probabilities, all genes as both sources and targets.

For a target X and two sources Y, Z the Williams-Beer redundancy is

    R_X(Y, Z) = sum_x p(x) min( I(X=x; Y), I(X=x; Z) ),                              (1)
    I(X=x; Y) = sum_y p(y|x) log( p(x|y) / p(x) )          (specific information),   (2)

and the unique information of Y about X is U_X(Y|Z) = I(X;Y) - R_X(Y,Z). The proportional
unique contribution of the pair (X, Y) adds, over every third gene Z, both orientations:

    PUC(X,Y) = sum_{Z != X,Y} [ U_X(Y|Z) / I(X;Y) + U_Y(X|Z) / I(X;Y) ]                (3)

(a term with I(X;Y) = 0 counts 0). Context: a gamma distribution is fitted by maximum
likelihood to the PUC scores of each gene with all others, and

    w(X,Y) = F_X(PUC(X,Y)) + F_Y(PUC(X,Y))                                            (4)

with F_g the fitted CDF; where a fit is impossible (a score <= 0, e.g. next to a constant gene)
the reference falls back to CLR's context ``sqrt(z_X^2 + z_Y^2)`` (negative z as 0), so do we.

Exact in O(n^2 b log n) instead of O(n^3 b): for target X and state x, the sum over Z in (3)
needs only ``sum_Z min(a_Y, a_Z)`` for the vector a = I(X=x; .) over all genes, which one sort
and a cumulative sum give for every Y at once (sorted a: values below a_Y plus a_Y times the
count of the rest). So no triplet is dropped; the full gene set is used as third genes Z.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammainc, polygamma

from grnbench.data.dataset import GRNData
from grnbench.methods.base import UnsupervisedMethod
from grnbench.methods.mutual_info import BinnedGenes, discretise, gene_blocks, pointwise_information
from grnbench.methods.registry import register


def sum_of_pairwise_minima(a: np.ndarray) -> np.ndarray:
    """``out[r, j] = sum_k min(a[r, j], a[r, k])`` for every row r, in O(n log n) per row."""
    n = a.shape[1]
    order = np.argsort(a, axis=1, kind="stable")
    s = np.take_along_axis(a, order, axis=1)
    below = np.cumsum(s, axis=1) - s  # sum of the values sorted before position k
    at_sorted = below + s * (n - np.arange(n))[None, :]  # ties: min(v, v) = v either way
    out = np.empty_like(a)
    np.put_along_axis(out, order, at_sorted, axis=1)
    return out


def puc_scores(binned: BinnedGenes) -> tuple[np.ndarray, np.ndarray]:
    """Mutual information and the symmetric PUC matrix (eq. 3) of all genes."""
    n = binned.n_genes
    mi = np.zeros((n, n))
    redundancy_sum = np.zeros((n, n))  # sum over Z != X, Y of R_X(Y, Z), target X on rows
    for block in gene_blocks(binned, np.arange(n)):
        terms, _, cols, local = pointwise_information(binned, block)
        px = binned.p[cols]
        specific = terms / px[:, None]  # I(X=x; Y), eq. 2
        owner = np.repeat(block, np.diff(np.append(local, len(cols))))
        self_info = specific[np.arange(len(cols)), owner]  # I(X=x; X) = -log p(x)
        # sum over all Z of min(a_Y, a_Z), minus Z = Y and Z = X (eq. 1 summed over Z)
        minima = sum_of_pairwise_minima(specific)
        minima -= specific + np.minimum(specific, self_info[:, None])
        redundancy_sum[block] = np.add.reduceat(px[:, None] * minima, local, axis=0)
        mi[block] = np.add.reduceat(terms, local, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        directed = np.where(mi > 0, ((n - 2) * mi - redundancy_sum) / mi, 0.0)
    np.fill_diagonal(directed, 0.0)
    return mi, directed + directed.T


def fit_gamma(samples: np.ndarray, n_iter: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximum-likelihood gamma (shape, scale) per row of ``samples`` (Minka's Newton update).

    Returns ``(shape, scale, ok)``; ``ok`` is False where no MLE exists (a value <= 0 or all
    values equal), which is where the reference's fit throws.
    """
    ok = np.all(samples > 0, axis=1) & np.all(np.isfinite(samples), axis=1)
    safe = np.where(ok[:, None], samples, 1.0)
    mean = safe.mean(axis=1)
    s = np.log(mean) - np.log(safe).mean(axis=1)
    ok &= s > 1e-12
    s = np.where(ok, s, 1.0)
    a = (3.0 - s + np.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
    for _ in range(n_iter):
        step = (np.log(a) - digamma(a) - s) / (a**2 * (1.0 / a - polygamma(1, a)))
        a_new = 1.0 / (1.0 / a + step)
        converged = np.all(np.abs(a_new - a) <= 1e-12 * a)
        a = a_new
        if converged:
            break
    ok &= np.isfinite(a) & (a > 0)
    return a, mean / a, ok


def context_weights(puc: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Context-corrected confidence (eq. 4) of the pairs (rows[i], j); diagonal pairs get 0."""
    n = puc.shape[0]
    off = ~np.eye(n, dtype=bool)
    others = puc[off].reshape(n, n - 1)  # each gene's PUC with every other gene
    shape, scale, ok = fit_gamma(others)
    mean, var = others.mean(axis=1), others.var(axis=1, ddof=1)
    s = puc[rows]
    gamma_w = gammainc(shape[rows][:, None], s / scale[rows][:, None]) + gammainc(
        shape[None, :], s / scale[None, :]
    )

    def clr_term(m, v):
        z2 = np.where(v > 0, (s - m) ** 2 / np.where(v > 0, v, 1.0), 0.0)
        return np.where((v > 0) & (s >= m), z2, 0.0)

    clr_w = np.sqrt(clr_term(mean[rows][:, None], var[rows][:, None]) + clr_term(mean, var))
    w = np.where(ok[rows][:, None] & ok[None, :], gamma_w, clr_w)
    w[np.arange(len(rows)), rows] = 0.0
    return w


@register
class PIDC(UnsupervisedMethod):
    """PIDC over all genes (eqs. 1-4); rows of the result are the dataset's TFs."""

    name = "pidc"
    display_name = "PIDC"
    family = "unsupervised"
    order = 7
    color = "#17becf"
    cost = {"model": "pidc"}
    description = (
        "Partial information decomposition and context (Chan et al. 2017), Bayesian-block bins."
    )
    defaults = {
        "discretiser": "bayesian_blocks",
        "n_bins": 10,  # only for equal_width / equal_frequency (NetworkInference.jl default)
    }

    def infer(self, data: GRNData, *, seed: int, threads: int = 1) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        codes = discretise(data.expression(), self.params["discretiser"], self.params["n_bins"])
        binned = BinnedGenes.from_codes(codes)
        with threadpool_limits(limits=threads):
            _, puc = puc_scores(binned)
        return context_weights(puc, np.flatnonzero(data.tf_mask))
