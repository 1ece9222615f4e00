"""GRN-Transformer's inputs: non-zero standardisation and the prior-network channels.

The maths is in :mod:`grnbench.methods.grn_transformer` (the method's docstring).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import rankdata


def standardise_nonzero(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-gene z-scores using the mean and sd of the gene's non-zero entries, clipped to +-20.

    Returns ``(z, nonzero)`` (cells x genes, float32). All-zero or constant genes get mean 0,
    sd 1 (the public code's fallbacks).
    """
    x = np.asarray(x, dtype=np.float64)
    nz = x != 0
    cnt = nz.sum(axis=0)
    safe = np.maximum(cnt, 1)
    mean = np.where(cnt > 0, (x * nz).sum(axis=0) / safe, 0.0)
    var = np.where(cnt > 1, (((x - mean) * nz) ** 2).sum(axis=0) / np.maximum(cnt - 1, 1), 1.0)
    sd = np.sqrt(var)
    sd[~np.isfinite(sd) | (sd == 0)] = 1.0
    z = np.clip((x - mean) / sd, -20, 20)
    return z.astype(np.float32), nz.astype(np.float32)


def _pearson(x: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=0)
    norm = np.sqrt((xc**2).sum(axis=0))
    norm[norm == 0] = np.inf
    z = xc / norm
    return z.T @ z


def prior_networks(x: np.ndarray, graph: torch.Tensor | None) -> np.ndarray:
    """``(genes, genes, M)`` prior channels of a cells x genes matrix (first note of
    :mod:`grnbench.methods.grn_transformer`).

    ``graph`` is an ``edge_index`` of training positives (its 0/1 adjacency is the last channel)
    or ``None`` for no network channel.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[1]
    pearson = _pearson(x)
    spearman = _pearson(rankdata(x, axis=0))
    cov = np.cov(x, rowvar=False).reshape(n, n)
    prec = np.linalg.inv(cov + 0.001 * np.eye(n))
    prec /= np.max(np.abs(prec))
    chans = [pearson, spearman, cov, prec]
    if graph is not None:
        adj = np.zeros((n, n))
        ei = graph.cpu().numpy()
        adj[ei[0], ei[1]] = 1.0
        chans.append(adj)
    out = np.stack(chans, axis=-1)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)

