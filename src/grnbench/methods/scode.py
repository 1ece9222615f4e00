"""SCODE: regulatory network from a linear ODE fitted along pseudotime (Matsumoto et al. 2017).

Model: expression follows dx/dt = A x; SCODE approximates the dynamics in a
z-dimensional space, x ~ W z(t) with dz/dt = B z, B diagonal, so z_i(t) = exp(b_i t). Given b,
W is the least-squares fit of the expression X (genes x cells) on Z (z x cells),

    Z_ic = exp(b_i t_c) + u_ic,   u ~ U(-0.001, 0.001)     (the reference adds this jitter)
    W = argmin ||X - W Z||^2,  RSS(b) = ||X - W Z||^2                                  (1)

and b is optimised by random search: each iteration redraws one b_i ~ U(-10, 2), keeps it
if RSS falls and restores it otherwise; the last iteration refits W at the best b. Then

    A = W B W^+        (W^+ the Moore-Penrose pseudo-inverse, MASS::ginv)            (2)

BEELINE runs the reference (SCODE.R with run_R.rb) with z = 10, 1000 iterations and 6
repeats, and averages the repeats' A (averageA.R). Pseudotime is rescaled to t / max(t).

Direction: dx_i/dt = sum_j A_ij x_j, so A_ij is the effect of gene j on gene i and the score of
TF -> gene is |A[gene, TF]| (``orientation = "ode"``). BEELINE's parser writes row -> column,
i.e. |A[TF, gene]|; ``orientation = "beeline"`` reproduces that.

Pseudotime: ``data.pseudotime`` (cells without one are left out, as BEELINE does per
trajectory); when the dataset has none, scanpy's diffusion pseudotime (50 PCs, 15 neighbours,
Gaussian kernel, root = the cell with the smallest first non-trivial diffusion component) is
computed and the choice recorded in ``labels["pseudotime"]``.

Several lineages (``obsm["pseudotime_lineages"]``, one column per column of BEELINE's
``PseudoTime.csv``): as BEELINE's ``BLRun/scodeRunner.py``, SCODE runs once per lineage on the
cells of that lineage (those with a value in its column; t / max(t) of that lineage), each
lineage's mean A gives |A| per edge, and an edge's score is its largest |A| over the lineages
(``outDF.groupby(['Gene1','Gene2'])['EdgeWeight'].transform('max')``). Lineage 1 uses the
job's seed, as a one-lineage run does; lineage k > 1 a seed drawn from (seed, k).
"""

from __future__ import annotations

import numpy as np

from grnbench.data.dataset import GRNData
from grnbench.errors import InputError
from grnbench.methods.base import UnsupervisedMethod
from grnbench.methods.registry import register

#: MASS::ginv's tolerance: singular values below sqrt(eps) times the largest are dropped.
_GINV_RTOL = float(np.sqrt(np.finfo(np.float64).eps))


def diffusion_pseudotime(
    x: np.ndarray, seed: int, n_pcs: int = 50, n_neighbors: int = 15
) -> np.ndarray:
    """scanpy DPT of the cells of ``x`` (cells x genes), rooted at argmin of diffusion comp. 1."""
    import anndata as ad
    import scanpy as sc

    a = ad.AnnData(np.asarray(x, dtype=np.float32))
    n_comps = max(1, min(n_pcs, min(x.shape) - 1))
    sc.pp.pca(a, n_comps=n_comps, svd_solver="arpack", random_state=seed)
    # Gaussian kernel of the original DPT (Haghverdi et al. 2016); also avoids UMAP's numba JIT
    k = min(n_neighbors, x.shape[0] - 1)
    sc.pp.neighbors(a, n_neighbors=k, method="gauss", random_state=seed)
    sc.tl.diffmap(a, random_state=seed)
    # column 0 of X_diffmap is the stationary (non-informative) component
    a.uns["iroot"] = int(np.argmin(a.obsm["X_diffmap"][:, 1]))
    sc.tl.dpt(a)
    return a.obs["dpt_pseudotime"].to_numpy(float)


def fit_linear(x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, float]:
    """W = argmin ||X - W Z||^2 (eq. 1, the reference's per-gene ``lm(X[i,] ~ t(Z) - 1)``)."""
    w = np.linalg.lstsq(z.T, x.T, rcond=None)[0].T
    resid = x - w @ z
    return w, float(np.einsum("ij,ij->", resid, resid))


def scode_run(
    x: np.ndarray,
    t: np.ndarray,
    rng: np.random.Generator,
    *,
    z: int,
    n_iter: int,
    min_b: float,
    max_b: float,
    jitter: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One SCODE optimisation (random search over b, eq. 1); returns (A, b, RSS), A by eq. 2."""
    new_b = rng.uniform(min_b, max_b, size=z)
    old_b = new_b.copy()
    rss = np.inf
    w = np.zeros((x.shape[0], z))
    for it in range(n_iter):
        target = int(rng.integers(z))
        new_b[target] = rng.uniform(min_b, max_b)
        if it == n_iter - 1:  # last pass: refit W at the best b found
            new_b[:] = old_b
        zt = np.exp(new_b[:, None] * t[None, :]) + rng.uniform(-jitter, jitter, size=(z, len(t)))
        w, tmp = fit_linear(x, zt)
        if tmp < rss:
            rss = tmp
            old_b[target] = new_b[target]
        else:
            new_b[target] = old_b[target]
    a = (w * new_b[None, :]) @ np.linalg.pinv(w, rtol=_GINV_RTOL)  # eq. 2
    return a, new_b.copy(), rss


def _one_repeat(x: np.ndarray, t: np.ndarray, seed_seq: np.random.SeedSequence, kw) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # same single-threaded BLAS in and out of the pool
        return scode_run(x, t, np.random.default_rng(seed_seq), **kw)[0]


def mean_of_repeats(
    x: np.ndarray, t: np.ndarray, seed: int, n_rep: int, threads: int = 1, **kw
) -> np.ndarray:
    """Mean A over ``n_rep`` independent runs (averageA.R), each seeded from ``seed``.

    Repeats run in a process pool when ``threads > 1``; every repeat owns its seed and the sum
    is taken in repeat order, so the result does not depend on ``threads``.
    """
    seeds = np.random.SeedSequence(seed).spawn(n_rep)
    if threads <= 1 or n_rep == 1:
        runs = [_one_repeat(x, t, s, kw) for s in seeds]
    else:
        from joblib import Parallel, delayed

        runs = Parallel(n_jobs=min(threads, n_rep), backend="loky")(
            delayed(_one_repeat)(x, t, s, kw) for s in seeds
        )
    total = np.zeros_like(runs[0])
    for a in runs:
        total += a
    return total / n_rep


@register
class SCODE(UnsupervisedMethod):
    """SCODE with BEELINE's settings; the mean A of ``n_rep`` seeded repeats scores the edges."""

    name = "scode"
    display_name = "SCODE"
    family = "unsupervised"
    order = 9
    color = "#9edae5"
    cost = {"model": "scode"}
    description = (
        "Linear ODE along pseudotime (Matsumoto et al. 2017), z=10, 1000 iterations, 6 repeats."
    )
    defaults = {
        "z": 10,
        "n_iter": 1000,
        "n_rep": 6,
        "min_b": -10.0,
        "max_b": 2.0,
        "jitter": 0.001,
        "orientation": "ode",  # "ode": |A[gene, TF]|; "beeline": |A[TF, gene]|
    }

    def pseudotime(self, data: GRNData, x: np.ndarray, seed: int) -> np.ndarray:
        """Pseudotime per cell (NaN = cell not used), recording where it came from."""
        pt = data.pseudotime
        if pt is not None and np.isfinite(pt).any():
            self.labels["pseudotime"] = "from data"
            return pt
        self.labels["pseudotime"] = "scanpy diffusion pseudotime (root: argmin DC1)"
        pt = diffusion_pseudotime(x, seed)
        return np.where(np.isfinite(pt), pt, np.nan)

    def lineages(self, data: GRNData, x: np.ndarray, seed: int) -> list[np.ndarray]:
        """Pseudotime per lineage (NaN = cell not on it): ``obsm["pseudotime_lineages"]``'s
        columns when the dataset has several, else the one of :meth:`pseudotime`."""
        lin = data.adata.obsm.get("pseudotime_lineages")
        if lin is not None and np.shape(lin)[1] > 1:
            arr = np.asarray(lin, dtype=float)
            cols = [arr[:, k] for k in range(arr.shape[1]) if np.isfinite(arr[:, k]).any()]
            if cols:
                self.labels["pseudotime"] = "from data"
                return cols
        return [self.pseudotime(data, x, seed)]

    def infer(self, data: GRNData, *, seed: int, threads: int = 1) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        p = self.params
        if p["orientation"] not in ("ode", "beeline"):
            raise InputError("methods.scode.params.orientation", f"unknown {p['orientation']!r}")
        cells_x = data.expression(np.float64)
        tf_idx = np.flatnonzero(data.tf_mask)
        kw = {k: p[k] for k in ("z", "n_iter", "min_b", "max_b", "jitter")}
        score = None
        with threadpool_limits(limits=threads):
            lineages = self.lineages(data, cells_x, seed)
            cells = []
            for k, pt in enumerate(lineages):
                keep = np.isfinite(pt)
                t = pt[keep]
                if t.max() <= 0:
                    raise InputError(
                        data.name, f"pseudotime{f' lineage {k + 1}' if len(lineages) > 1 else ''} has no "
                        "positive value; SCODE needs t / max(t)"
                    )
                t = t / t.max()
                x = cells_x[keep].T  # genes x cells
                cells.append(int(keep.sum()))
                lseed = seed if k == 0 else int(np.random.SeedSequence([seed, k]).generate_state(1)[0])
                mean_a = mean_of_repeats(x, t, lseed, p["n_rep"], threads, **kw)
                a_tf = mean_a[:, tf_idx].T if p["orientation"] == "ode" else mean_a[tf_idx, :]
                # BEELINE: per edge, the largest |A| over the lineages
                score = np.abs(a_tf) if score is None else np.maximum(score, np.abs(a_tf))
        self.labels["scode_cells"] = cells[0] if len(cells) == 1 else cells
        if len(cells) > 1:
            self.labels["scode_lineages"] = len(cells)
        score[np.arange(len(tf_idx)), tf_idx] = 0.0
        return score
