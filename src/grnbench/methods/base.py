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

A class also owns the facts the tables, figures and resource guards show of it (``display_name``,
``family``, ``order``, ``color``, ``reference``, ``table1_variant``, ``cost``; see
:class:`Method`); the built-ins' are copied into ``index.json`` (``registry.write_index``) so
planning reads them without importing the method.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from grnbench.data.dataset import GRNData
from grnbench.methods.costs import GENERIC, model
from grnbench.methods.registry import PLUGIN_ORDER

#: Facts that belong to one method name: a subclass that sets its own ``name`` (another method)
#: gets the defaults for those it does not set itself, never its parent's (a plugin deriving from
#: ScTransNet is not called "scTransNet" nor coloured like it). ``kind``, ``cost``, ``defaults``,
#: ``presets`` and ``uses_device`` describe the computation and are inherited as usual.
OWN_FACTS = ("display_name", "family", "order", "color", "reference", "table1_variant")
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


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

    # --- how the method is shown (tables, figures, report) and costed (guards) ----------------
    #: The name readers know the method by (the paper's spelling), in every table and figure.
    #: Default (None): ``name``.
    display_name: ClassVar[str | None] = None
    #: The group it reads with: ``"reference"`` (random and the label-only priors),
    #: ``"unsupervised"``, ``"supervised"``, ``"sctransnet"`` (scTransNet and its ablations).
    #: Default (None): ``kind``.
    family: ClassVar[str | None] = None
    #: Sort key of the reading order in tables and figures (lower first; ties by name). The
    #: built-ins are 0 (random) .. 19 (the last scTransNet ablation); the default places a
    #: method after GRN-Transformer (15) and before the scTransNet family (16).
    order: ClassVar[float] = PLUGIN_ORDER
    #: Its colour in every figure, ``"#rrggbb"``; None = a stable colour from the name's hash.
    color: ClassVar[str | None] = None
    #: True for a reference predictor (random, the label-only priors): grey in figures, never
    #: a figure's "leading method".
    reference: ClassVar[bool] = False
    #: The column header of the paper's Table 1 (published numbers compared with ours), or None.
    table1_variant: ClassVar[str | None] = None
    #: Cost model for the resource guards: ``{"model": <function of grnbench.methods.costs, or
    #: "module:function">, **its keyword arguments}``; the function takes (genes, cells, TFs,
    #: params) and returns (extra MB, seconds). Default: the generic supervised model.
    cost: ClassVar[Mapping[str, Any]] = GENERIC

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return  # a mixin or an abstract family: its named subclasses resolve their facts
        for attr in OWN_FACTS:
            if attr not in cls.__dict__:
                setattr(cls, attr, getattr(Method, attr))
        if cls.display_name is None:
            cls.display_name = cls.name
        if cls.family is None:
            cls.family = getattr(cls, "kind", None)
        _check_facts(cls)

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


def _check_facts(cls: type[Method]) -> None:
    """A class's facts have the types the tables, figures and guards need (TypeError naming them)."""
    where = f"method class {cls.__module__}.{cls.__qualname__} (name {cls.name!r})"
    if not isinstance(cls.display_name, str) or not cls.display_name:
        raise TypeError(f"{where}: display_name must be a non-empty string, got {cls.display_name!r}")
    if not isinstance(cls.family, str) or not cls.family:
        raise TypeError(f"{where}: family must be a non-empty string, got {cls.family!r}")
    if isinstance(cls.order, bool) or not isinstance(cls.order, (int, float)) or not math.isfinite(cls.order):
        raise TypeError(f"{where}: order must be a finite number, got {cls.order!r}")
    if cls.color is not None and not (isinstance(cls.color, str) and _HEX.fullmatch(cls.color)):
        raise TypeError(f"{where}: color must be '#rrggbb' or None, got {cls.color!r}")
    if not isinstance(cls.reference, bool):
        raise TypeError(f"{where}: reference must be True or False, got {cls.reference!r}")
    if cls.table1_variant is not None and not isinstance(cls.table1_variant, str):
        raise TypeError(f"{where}: table1_variant must be a string or None, got {cls.table1_variant!r}")
    if not isinstance(cls.cost, Mapping):
        raise TypeError(f"{where}: cost must be a mapping {{'model': ..., **arguments}}, got {cls.cost!r}")
    name = cls.cost.get("model")
    if isinstance(name, str) and re.fullmatch(r"[\w.]+:\w+", name):
        return  # a plugin's own function, loaded when guards first need it
    try:
        model(cls.cost)
    except Exception as e:
        raise TypeError(f"{where}: cost {dict(cls.cost)!r}: {e}") from e


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
