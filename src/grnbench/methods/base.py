"""The method contract.

A method turns a :class:`~grnbench.data.GRNData` (and, for supervised methods, the training and
validation pairs of a split) into scores for (TF, target) pairs. Two kinds:

- ``UnsupervisedMethod``: sees only expression (and pseudotime). Implement
  :meth:`UnsupervisedMethod.infer`, returning a dense ``(n_regulators, n_genes)`` score matrix
  with regulators = the dataset's TFs (``data.tfs``) and columns = ``data.genes``.
- ``SupervisedMethod``: implement :meth:`SupervisedMethod.fit` (train + validation pairs only,
  never test) and :meth:`SupervisedMethod.predict` (scores for any list of pairs).

Pairs are DataFrames with columns ``TF``, ``Target`` (gene symbols) and, for labelled pairs,
``Label`` (0/1). Scores are "higher = more likely a regulatory edge"; signed weights are ranked
by absolute value by the method itself before returning.

Register a class with :func:`grnbench.methods.registry.register`; its ``name`` is the key used
in the config and in ``results/.../{method}/``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from grnbench.data.dataset import GRNData


class Method(ABC):
    """Base class. Subclasses set ``name``, ``kind`` and ``description`` as class attributes."""

    name: ClassVar[str]
    kind: ClassVar[Literal["unsupervised", "supervised"]]
    description: ClassVar[str]
    #: Default hyperparameters; the config's ``methods.<name>.params`` overrides them.
    defaults: ClassVar[dict[str, Any]] = {}
    #: Named sets of overrides, e.g. ``{"small": {...}}`` for the fast default run; the config
    #: picks one with ``methods.<name>.preset``.
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    #: True for methods that run on ``device`` (torch models); the others run on the CPU, and
    #: ``run.json`` records ``cpu`` for them whatever the config's ``device`` says.
    uses_device: ClassVar[bool] = False

    def __init__(self, preset: str | None = None, **params: Any) -> None:
        from grnbench.methods.registry import merge_params

        self.params: dict[str, Any] = merge_params(self.name, self.defaults, self.presets, preset, params)
        self.device: str = self.params.get("device", "cpu")
        #: Free-form facts about how the result was produced (e.g. pretrained or not), stored
        #: with the metrics so every number carries its label.
        self.labels: dict[str, Any] = {}

    @abstractmethod
    def score_pairs(
        self, data: GRNData, split: pd.DataFrame, pairs: pd.DataFrame, *, seed: int, threads: int = 1
    ) -> np.ndarray:
        """Fit as needed on ``split`` (train/val rows) and return one score per row of ``pairs``."""


class UnsupervisedMethod(Method):
    kind = "unsupervised"

    @abstractmethod
    def infer(self, data: GRNData, *, seed: int, threads: int = 1) -> np.ndarray:
        """Return a ``(len(data.tfs), data.n_genes)`` matrix of edge scores (TF -> gene)."""

    def score_pairs(self, data, split, pairs, *, seed, threads=1):
        w = self.infer(data, seed=seed, threads=threads)
        return lookup_scores(data, w, pairs)


class SupervisedMethod(Method):
    kind = "supervised"

    @abstractmethod
    def fit(
        self,
        data: GRNData,
        train: pd.DataFrame,
        val: pd.DataFrame,
        *,
        seed: int,
        threads: int = 1,
    ) -> SupervisedMethod:
        """Train on ``train`` pairs; select models / stop early on ``val`` pairs only."""

    @abstractmethod
    def predict(self, data: GRNData, pairs: pd.DataFrame) -> np.ndarray:
        """One score per row of ``pairs`` (columns ``TF``, ``Target``)."""

    def score_pairs(self, data, split, pairs, *, seed, threads=1):
        train = split[split["Part"] == "train"].reset_index(drop=True)
        val = split[split["Part"] == "val"].reset_index(drop=True)
        self.fit(data, train, val, seed=seed, threads=threads)
        return self.predict(data, pairs)


def lookup_scores(data: GRNData, w: np.ndarray, pairs: pd.DataFrame) -> np.ndarray:
    """Scores of ``pairs`` from a (TFs x genes) matrix as returned by ``infer``."""
    tf_pos = {g: i for i, g in enumerate(data.tfs)}
    rows = np.array([tf_pos.get(t, -1) for t in pairs["TF"]], dtype=np.int64)
    if (rows < 0).any():
        bad = pairs["TF"].to_numpy()[rows < 0][0]
        from grnbench.errors import InputError

        raise InputError(data.name, f"pair regulator {bad!r} is not a TF of the dataset")
    cols = data.gene_idx(pairs["Target"].to_numpy())
    return np.asarray(w, dtype=np.float64)[rows, cols]
