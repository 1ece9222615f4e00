"""Mutual information (MI) baseline and the discrete-information helpers PIDC shares.

Estimator (minet's defaults for ARACNe in R, Meyer et al. 2008): every gene is discretised on
its own into ``n_bins = floor(sqrt(n_cells))`` equal-frequency bins, cells with equal values
always share a bin (so the zeros of a sparse gene form one bin and such a gene has fewer
occupied bins), and MI is the plug-in (maximum-likelihood) estimate in nats

    I(X;Y) = sum_{x,y} p(x,y) log( p(x,y) / (p(x) p(y)) ),        p = counts / n_cells   (1)

with the Miller-Madow bias correction ``I + (m_X + m_Y - m_XY - 1) / (2 n)`` (m = occupied
bins) as an option. ``discretiser`` may also be ``equal_width`` or ``bayesian_blocks`` (Scargle
et al. 2013, as PIDC uses). MI is symmetric, so a score carries no direction.

All pairwise joint tables come from one matrix product of one-hot bin indicators,
``J = onehot_X^T onehot_Y / n``, a block of which holds p(x, y) for one gene pair; sums over a
gene's bins are ``np.add.reduceat`` over its column block.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from grnbench.data.dataset import GRNData
from grnbench.errors import InputError
from grnbench.methods.base import UnsupervisedMethod
from grnbench.methods.registry import register

DISCRETISERS = ("equal_frequency", "equal_width", "bayesian_blocks")

#: Largest float64 block (rows x all bins) held at once in the pairwise kernels, in elements.
_BLOCK_ELEMENTS = 8_000_000


# --- discretisation ---------------------------------------------------------------------------
def _compact(codes: np.ndarray) -> np.ndarray:
    """Renumber bin codes 0..m-1 over the occupied bins only."""
    return np.unique(codes, return_inverse=True)[1].reshape(codes.shape)


def equal_frequency_codes(v: np.ndarray, n_bins: int) -> np.ndarray:
    """Bins at the 1/n_bins quantiles of ``v``; equal values share a bin (ties are never split)."""
    inner = np.quantile(v, np.linspace(0.0, 1.0, n_bins + 1)[1:-1])
    return _compact(np.searchsorted(np.unique(inner), v, side="right"))


def equal_width_codes(v: np.ndarray, n_bins: int) -> np.ndarray:
    """``n_bins`` bins of equal width between min(v) and max(v) (right edge inclusive)."""
    lo, hi = float(v.min()), float(v.max())
    if hi == lo:
        return np.zeros(len(v), dtype=np.int64)
    k = np.floor((v - lo) / (hi - lo) * n_bins).astype(np.int64)
    return _compact(np.minimum(k, n_bins - 1))


def bayesian_blocks_edges(v: np.ndarray, p0: float = 0.05) -> np.ndarray:
    """Bin edges by Bayesian blocks for event data (Scargle et al. 2013), as Discretizers.jl.

    The sorted distinct values are the events (weighted by multiplicity); cell edges are the
    midpoints between them. Dynamic programming over the last change point, with block fitness
    ``N_k log(N_k / T_k)`` (Scargle eq. 19; N_k events in a block of width T_k) and the
    change-point prior ``ncp = 4 - log(73.53 p0 K^-0.478)`` (eq. 21), where K is the number of
    events processed so far (NetworkInference.jl's discretiser uses K here, Scargle the total N).
    """
    u, counts = np.unique(np.asarray(v, dtype=np.float64), return_counts=True)
    n = len(u)
    if n == 1:
        return np.array([u[0], u[0]])
    edges = np.concatenate([[u[0]], 0.5 * (u[1:] + u[:-1]), [u[-1]]])
    to_end = u[-1] - edges  # distance from each cell edge to the last event
    best = np.zeros(n)
    last = np.zeros(n, dtype=np.int64)
    count_vec = np.zeros(n)
    for k in range(1, n + 1):
        width = to_end[:k] - to_end[k]
        count_vec[:k] += counts[k - 1]
        # Scargle eq. 19; a zero width (two values closer than float resolution) gives +inf
        # fitness, exactly as in the Julia reference
        with np.errstate(divide="ignore"):
            fit = count_vec[:k] * np.log(count_vec[:k] / width)
        fit -= 4.0 - math.log(73.53 * p0 * k**-0.478)  # Scargle eq. 21
        fit[1:] += best[: k - 1]
        i_max = int(np.argmax(fit))
        last[k - 1] = i_max
        best[k - 1] = fit[i_max]
    change_points = [n]
    while change_points[-1] != 0:
        change_points.append(int(last[change_points[-1] - 1]))
    return edges[change_points[::-1]]


def bayesian_blocks_codes(v: np.ndarray) -> np.ndarray:
    """Bin of each value for the Bayesian-blocks edges: [e_i, e_{i+1}), last bin closed."""
    edges = bayesian_blocks_edges(v)
    n_bins = max(len(edges) - 1, 1)
    k = np.searchsorted(edges, v, side="right") - 1
    return _compact(np.clip(k, 0, n_bins - 1))


def discretise(x: np.ndarray, method: str, n_bins: int | None = None) -> np.ndarray:
    """Per-gene bin codes (cells x genes, int64, 0..m_g-1) of a cells x genes matrix."""
    if method not in DISCRETISERS:
        raise InputError("discretiser", f"unknown discretiser {method!r}; known: {DISCRETISERS}")
    x = np.asarray(x, dtype=np.float64)
    if n_bins is None:
        n_bins = max(2, math.isqrt(x.shape[0]))
    out = np.empty(x.shape, dtype=np.int64)
    for g in range(x.shape[1]):
        v = x[:, g]
        if v.min() == v.max():  # a constant gene is one bin
            out[:, g] = 0
        elif method == "equal_frequency":
            out[:, g] = equal_frequency_codes(v, n_bins)
        elif method == "equal_width":
            out[:, g] = equal_width_codes(v, n_bins)
        else:
            out[:, g] = bayesian_blocks_codes(v)
    return out


# --- joint tables -----------------------------------------------------------------------------
@dataclass
class BinnedGenes:
    """One-hot layout of discretised genes: gene g owns columns ``offsets[g]:offsets[g+1]``."""

    onehot: np.ndarray  # cells x total_bins, float32 indicators
    offsets: np.ndarray  # n_genes + 1
    p: np.ndarray  # marginal probability of every bin, total_bins

    @classmethod
    def from_codes(cls, codes: np.ndarray) -> BinnedGenes:
        n_cells, n_genes = codes.shape
        n_bins = codes.max(axis=0) + 1
        offsets = np.concatenate([[0], np.cumsum(n_bins)]).astype(np.int64)
        onehot = np.zeros((n_cells, int(offsets[-1])), dtype=np.float32)
        onehot[np.arange(n_cells)[:, None], offsets[:-1][None, :] + codes] = 1.0
        return cls(onehot, offsets, onehot.sum(axis=0, dtype=np.float64) / n_cells)

    @property
    def n_genes(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_cells(self) -> int:
        return self.onehot.shape[0]

    def bin_owner(self) -> np.ndarray:
        """Gene index of every bin column."""
        return np.repeat(np.arange(self.n_genes), np.diff(self.offsets))


def gene_blocks(binned: BinnedGenes, genes: np.ndarray) -> Iterator[np.ndarray]:
    """Split ``genes`` into consecutive groups whose bins x all bins fit in one block."""
    per_row = binned.onehot.shape[1]
    start = 0
    while start < len(genes):
        stop, rows = start, 0
        while stop < len(genes):
            g = genes[stop]
            width = int(binned.offsets[g + 1] - binned.offsets[g])
            if stop > start and (rows + width) * per_row > _BLOCK_ELEMENTS:
                break
            rows += width
            stop += 1
        yield genes[start:stop]
        start = stop


def row_bins(binned: BinnedGenes, genes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin columns of ``genes`` (concatenated) and the start of each gene's rows in them."""
    starts, stops = binned.offsets[genes], binned.offsets[genes + 1]
    cols = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)])
    local = np.concatenate([[0], np.cumsum(stops - starts)[:-1]]).astype(np.int64)
    return cols, local


def pointwise_information(
    binned: BinnedGenes, genes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per state x of each gene X in ``genes`` and every gene Y: sum_y p(x,y) log p(x,y)/(p(x)p(y)).

    Returns ``(terms, occupied, cols, local)``: ``terms`` is (bins of ``genes``) x n_genes; row
    x of gene X divided by p(x) is the specific information I(X=x; Y) (PIDC), and the sum of X's
    rows is I(X;Y) (eq. 1). ``occupied`` counts the non-empty joint cells (x, y) per row.
    """
    cols, local = row_bins(binned, genes)
    joint = (binned.onehot[:, cols].T @ binned.onehot).astype(np.float64) / binned.n_cells
    ratio = joint / (binned.p[cols][:, None] * binned.p[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(joint > 0, joint * np.log(np.where(joint > 0, ratio, 1.0)), 0.0)
    terms = np.add.reduceat(t, binned.offsets[:-1], axis=1)
    occupied = np.add.reduceat((joint > 0).astype(np.float64), binned.offsets[:-1], axis=1)
    return terms, occupied, cols, local


def mutual_information(
    binned: BinnedGenes, rows: np.ndarray, estimator: str = "maximum_likelihood"
) -> np.ndarray:
    """``len(rows) x n_genes`` MI matrix (nats), plug-in or Miller-Madow corrected (eq. 1)."""
    if estimator not in ("maximum_likelihood", "miller_madow"):
        raise InputError("estimator", f"unknown MI estimator {estimator!r}")
    out = np.empty((len(rows), binned.n_genes))
    occupied_bins = np.add.reduceat((binned.p > 0).astype(np.float64), binned.offsets[:-1])
    done = 0
    for block in gene_blocks(binned, np.asarray(rows)):
        terms, occupied, _, local = pointwise_information(binned, block)
        mi = np.add.reduceat(terms, local, axis=0)
        if estimator == "miller_madow":
            m_xy = np.add.reduceat(occupied, local, axis=0)
            m_x = occupied_bins[block][:, None]
            mi = mi + (m_x + occupied_bins[None, :] - m_xy - 1.0) / (2.0 * binned.n_cells)
        out[done : done + len(block)] = mi
        done += len(block)
    return out


@register
class MutualInformation(UnsupervisedMethod):
    """Plug-in MI of every TF with every gene on per-gene discretised expression (eq. 1)."""

    name = "mi"
    display_name = "MI"
    family = "unsupervised"
    order = 4
    color = "#6baed6"
    cost = {"model": "mi"}
    description = "Mutual information on equal-frequency bins (sqrt(n) bins, plug-in estimator)."
    defaults = {
        "discretiser": "equal_frequency",
        "n_bins": None,  # None = floor(sqrt(n_cells)) (minet's default)
        "estimator": "maximum_likelihood",
    }

    def infer(self, data: GRNData, *, seed: int, threads: int = 1) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        p = self.params
        codes = discretise(data.expression(), p["discretiser"], p["n_bins"])
        binned = BinnedGenes.from_codes(codes)
        tf_rows = np.flatnonzero(data.tf_mask)
        with threadpool_limits(limits=threads):
            return mutual_information(binned, tf_rows, p["estimator"])
