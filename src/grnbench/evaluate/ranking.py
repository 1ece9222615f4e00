"""AUROC and average precision of one ranking in NumPy alone, equal to scikit-learn's to the bit.

Training loops score the validation pairs after every epoch to pick their best epoch; importing
scikit-learn for that costs a job about 1 CPU-second (``sklearn.metrics`` pulls in SciPy's stats),
more than a small model's whole fit. These functions follow scikit-learn 1.x's own arithmetic step
for step (``confusion_matrix_at_thresholds`` with a stable descending sort, ``roc_curve`` with
``drop_intermediate=True``, ``auc``'s trapezoid rule, ``average_precision_score``'s step integral),
so the numbers, and with them every selected epoch, are the same; ``tests/test_ranking.py`` checks
equality with ``==`` against scikit-learn on random rankings with and without ties. The scored
metrics of the evaluate stage still come from scikit-learn itself (:mod:`grnbench.evaluate.metrics`).
"""

from __future__ import annotations

import numpy as np


def _curve(y, s) -> tuple[np.ndarray, np.ndarray]:
    """False and true positives at each distinct threshold, highest score first."""
    y = np.asarray(y)
    s = np.asarray(s)
    if y.ndim != 1 or s.shape != y.shape:
        raise ValueError(f"labels and scores must be 1-d of one length, got {y.shape} and {s.shape}")
    # a stable descending sort: ties keep their input order, as scikit-learn's
    order = len(s) - 1 - np.argsort(s[::-1], kind="stable")[::-1]
    s, y = s[order], (y[order] == 1).astype(np.float64)
    idx = np.r_[np.nonzero(np.diff(s))[0], len(y) - 1]
    tps = np.cumsum(y, dtype=np.float64)[idx]
    fps = 1 + idx.astype(np.float64) - tps
    return fps, tps


def auroc(y, s) -> float:
    """Area under the ROC curve (needs both classes), as ``sklearn.metrics.roc_auc_score``."""
    fps, tps = _curve(y, s)
    if len(fps) > 2:
        keep = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps, tps = fps[keep], tps[keep]
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    return float(np.add.reduce(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def average_precision(y, s) -> float:
    """Average precision (step integral of precision over recall), as scikit-learn's."""
    fps, tps = _curve(y, s)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    precision = np.r_[precision[::-1], 1.0]
    recall = np.r_[recall[::-1], 0.0]
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))
