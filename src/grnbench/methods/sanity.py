"""Sanity baselines printed next to every method: ``random`` and the label-only ``degree_prior``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grnbench.data.dataset import GRNData
from grnbench.methods.base import SupervisedMethod, UnsupervisedMethod
from grnbench.methods.registry import register


@register
class RandomPredictor(UnsupervisedMethod):
    name = "random"
    description = "Uniform random scores (seeded); the floor every method must clear."

    def infer(self, data: GRNData, *, seed: int, threads: int = 1) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.random((len(data.tfs), data.n_genes))


@register
class DegreePrior(SupervisedMethod):
    """Score = training positive rate of the pair's TF + training positive rate of its target.

    It never looks at expression. A TF or target absent from training gets the overall
    training positive rate. On GENELink-protocol splits this matches published deep models;
    on ``tf_holdout`` and ``degree_matched`` splits it falls to about 0.5 AUROC.
    """

    name = "degree_prior"
    description = "Label-only prior: training positive rate of the TF plus that of the target."

    def fit(self, data, train: pd.DataFrame, val: pd.DataFrame, *, seed: int, threads: int = 1):
        lab = train["Label"].astype(float)
        self.global_rate_ = float(lab.mean()) if len(lab) else 0.0
        self.tf_rate_ = lab.groupby(train["TF"]).mean().to_dict()
        self.target_rate_ = lab.groupby(train["Target"]).mean().to_dict()
        return self

    def predict(self, data, pairs: pd.DataFrame) -> np.ndarray:
        g = self.global_rate_
        tf = pairs["TF"].map(self.tf_rate_).fillna(g).to_numpy(float)
        tg = pairs["Target"].map(self.target_rate_).fillna(g).to_numpy(float)
        return tf + tg
