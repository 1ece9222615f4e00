"""Pseudotime: diffusion pseudotime rooted in the earliest time point, or the time labels."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def time_pseudotime(times: pd.Series) -> pd.Series:
    """Experimental time rescaled to [0, 1] (earliest time point 0, latest 1)."""
    t = times.astype(float)
    span = t.max() - t.min()
    return ((t - t.min()) / span if span > 0 else t * 0.0).rename("PseudoTime")


def _medoid(points: np.ndarray) -> int:
    """Index of the point with the smallest summed Euclidean distance to the others."""
    d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    return int(np.argmin(d.sum(axis=1)))


def diffusion_pseudotime(
    logexpr: pd.DataFrame, times: pd.Series, *, n_neighbors: int = 30, n_dcs: int = 10,
    metric: str = "cosine", seed: int = 0,
) -> tuple[pd.Series, dict]:
    """Diffusion pseudotime (scanpy ``tl.dpt``) rooted in the earliest time point.

    Graph: ``n_neighbors`` nearest neighbours in ``metric`` on the log expression, with the
    adaptive Gaussian kernel of Haghverdi et al. (``method="gauss"``, as destiny's diffusion map
    that BEELINE used); if that graph is disconnected, ``n_neighbors`` is doubled until it is
    connected (both values are recorded). Root: the medoid, in diffusion components 1..n_dcs, of the cells of the
    earliest time point (Slingshot likewise starts its curve at the start cluster's centre).
    DPT_i = distance in diffusion space from the root; cells unreachable from it get NaN.
    """
    import anndata as ad
    import scanpy as sc
    from scipy.sparse.csgraph import connected_components

    n = logexpr.shape[0]
    k = max(2, min(int(n_neighbors), n - 1))
    n_comps = max(2, min(int(n_dcs) + 1, n - 2))
    a = ad.AnnData(X=logexpr.to_numpy(dtype=np.float32))
    k_asked = k
    while True:  # a disconnected graph leaves cells unreachable from the root: widen it
        sc.pp.neighbors(a, n_neighbors=k, use_rep="X", metric=metric, method="gauss", knn=True, random_state=seed)
        n_comp = connected_components(a.obsp["connectivities"], directed=False)[0]
        if n_comp == 1 or k >= n - 1:
            break
        log.info("kNN graph with k=%d has %d components; retrying with k=%d", k, n_comp, min(2 * k, n - 1))
        k = min(2 * k, n - 1)
    sc.tl.diffmap(a, n_comps=n_comps, random_state=seed)
    dcs = a.obsm["X_diffmap"][:, 1:]  # component 0 is the trivial stationary one
    t = times.to_numpy(float)
    early = np.flatnonzero(t == np.nanmin(t))
    root = int(early[_medoid(dcs[early])])
    a.uns["iroot"] = root
    sc.tl.dpt(a, n_dcs=n_comps)
    pt = a.obs["dpt_pseudotime"].to_numpy(float)
    pt[~np.isfinite(pt)] = np.nan
    info = {"method": "dpt", "root_cell": str(logexpr.index[root]), "root_time": float(t[root]),
            "n_neighbors": k, "n_neighbors_asked": k_asked, "n_dcs": n_comps - 1, "metric": metric, "seed": seed,
            "n_unreachable": int(np.isnan(pt).sum()),
            "spearman_with_time": float(pd.Series(pt).corr(pd.Series(t), method="spearman"))}
    return pd.Series(pt, index=logexpr.index, name="PseudoTime"), info
