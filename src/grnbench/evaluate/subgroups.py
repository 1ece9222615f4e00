"""Subgroups of a split's test pairs, scored as extra evaluation scopes.

Where a network has reciprocal edges (a -> b and b -> a), a model that embeds the training graph
without direction can score a held-out edge from its reverse. Scoring test pairs whose reverse
(Target, TF) is a training positive apart from the others shows where a model's score comes from:
a model that reads reverses is strong on the first group only.

Evaluation records each subgroup as scope ``test:<name>`` (:func:`subgroup_scopes`). Under a
split made with ``reciprocal="keep_together"`` the first group is empty by construction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Subgroup names; the scopes are ``SCOPE_PREFIX + name``.
REVERSE_IN_TRAIN = "reverse_in_train"
REVERSE_NOT_IN_TRAIN = "reverse_not_in_train"
SUBGROUPS = (REVERSE_IN_TRAIN, REVERSE_NOT_IN_TRAIN)
SCOPE_PREFIX = "test:"


def reverse_in_train(split: pd.DataFrame, pairs: pd.DataFrame | None = None) -> np.ndarray:
    """Boolean per row of ``pairs`` (default: the split's test rows, in order): is its reverse
    (Target, TF) a training positive of ``split``?"""
    if pairs is None:
        pairs = split[split["Part"] == "test"]
    tr = split[(split["Part"] == "train") & (split["Label"].astype(int) == 1)]
    pos = pd.MultiIndex.from_arrays([tr["TF"].astype(str), tr["Target"].astype(str)])
    rev = pd.MultiIndex.from_arrays([pairs["Target"].astype(str), pairs["TF"].astype(str)])
    return np.asarray(rev.isin(pos), dtype=bool)


def reverse_subgroups(split: pd.DataFrame) -> dict[str, np.ndarray]:
    """Masks over ``split[split.Part == "test"]`` (in that order): ``reverse_in_train`` (the
    reverse pair is a training positive) and ``reverse_not_in_train`` (all other test pairs)."""
    m = reverse_in_train(split)
    return {REVERSE_IN_TRAIN: m, REVERSE_NOT_IN_TRAIN: ~m}


def subgroup_scopes(split: pd.DataFrame) -> dict[str, np.ndarray]:
    """:func:`reverse_subgroups` keyed by scope name (``test:reverse_in_train`` ...)."""
    return {SCOPE_PREFIX + k: v for k, v in reverse_subgroups(split).items()}
