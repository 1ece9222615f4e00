"""Correlation baselines."""

from __future__ import annotations

import numpy as np

from grnbench.data.dataset import GRNData
from grnbench.methods.base import UnsupervisedMethod
from grnbench.methods.registry import register


def pearson_tf_gene(x: np.ndarray, tf_mask: np.ndarray) -> np.ndarray:
    """Pearson correlation of every TF column with every gene column of ``x`` (cells x genes).

    Constant genes get correlation 0 rather than NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(axis=0)
    norm = np.sqrt((xc**2).sum(axis=0))
    norm[norm == 0] = np.inf
    z = xc / norm
    return z[:, tf_mask].T @ z


@register
class PearsonCorrelation(UnsupervisedMethod):
    name = "pcc"
    display_name = "PCC"
    family = "unsupervised"
    order = 3
    color = "#1f77b4"
    cost = {"model": "pcc"}
    description = "Pearson correlation of TF and target expression, ranked by absolute value."

    def infer(self, data: GRNData, *, seed: int, threads: int = 1) -> np.ndarray:
        return np.abs(pearson_tf_gene(data.expression(), data.tf_mask))
