"""GRN-Transformer's classifiers on the pair features: the paper's random forest with its
weak-label cleaning, or (``classifier="mlp"``) a small MLP for the shared training loop.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from grnbench.models.grn_transformer.features import PairFeatures


class FeatureMLP(nn.Module):
    """``classifier="mlp"``: pair features -> MLP -> logit, for the shared training loop."""

    def __init__(self, features: PairFeatures, hidden: int):
        super().__init__()
        self.features = features
        n_in = 2 * features.maps.shape[0]
        self.net = nn.Sequential(nn.LayerNorm(n_in), nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, tf: torch.Tensor, tg: torch.Tensor) -> torch.Tensor:
        return self.net(self.features(tf, tg)).squeeze(-1)


def clean_weak_labels(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Keep-mask of training pairs after the paper's confidence/consistency filter.

    ``scores`` is (n_forests, n_pairs) of in-sample forest scores. sd's use ddof=1 (pandas).
    """
    mean, sd = scores.mean(axis=0), scores.std(axis=0, ddof=1)
    keep = np.ones(len(y), dtype=bool)
    for label, sign in ((1, -1.0), (0, 1.0)):
        sel = y == label
        if sel.sum() < 2:
            continue
        m, s = mean[sel], sd[sel]
        conf_cut = m.mean() + sign * 2 * m.std(ddof=1)
        cons_cut = s.mean() + 2 * s.std(ddof=1)
        bad = (m < conf_cut) if label == 1 else (m > conf_cut)
        bad |= s > cons_cut
        keep[np.flatnonzero(sel)[bad]] = False
    return keep


def fit_forests(x: np.ndarray, y: np.ndarray, *, n_trees: int, n_cleaning: int, seed: int, threads: int):
    """Random forest with the paper's weak-label cleaning; returns (forest, keep-mask)."""
    from sklearn.ensemble import RandomForestClassifier

    def forest(s):
        return RandomForestClassifier(n_estimators=n_trees, random_state=s, n_jobs=threads).fit(x, y)

    keep = np.ones(len(y), dtype=bool)
    if n_cleaning >= 2 and len(np.unique(y)) == 2:
        scores = np.stack([forest(seed + i).predict_proba(x)[:, 1] for i in range(n_cleaning)])
        keep = clean_weak_labels(scores, y)
        if len(np.unique(y[keep])) < 2:  # never clean a class away entirely
            keep[:] = True
    return forest(seed).fit(x[keep], y[keep]), keep

