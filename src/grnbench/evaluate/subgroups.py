"""Subgroups of a split's test pairs, scored as extra evaluation scopes.

Reciprocal edges. Where a network has reciprocal edges (a -> b and b -> a), a model that embeds
the training graph without direction can score a held-out edge from its reverse. Scoring test
pairs whose reverse (Target, TF) is a training positive apart from the others shows where a
model's score comes from: a model that reads reverses is strong on the first group only. Under a
split made with ``reciprocal="keep_together"`` the first group is empty by construction.

Unseen genes (``cross_dataset`` splits only), in the role a test pair gives them: its TF is
*seen* when it is the TF of a training or validation row of the split (the rows whose labels a
method gets), its target when it is the target of one. ``unseen_tf``: test pairs whose TF is not
seen as a TF; ``unseen_target``: whose target is not seen as a target; ``both_seen``: neither.
A pair with both unseen is in the first two groups. (A TF known only as some training pair's
target is unseen as a TF: nothing was learnt about what it regulates.)

Evaluation records each subgroup as scope ``test:<name>`` (:func:`subgroup_scopes`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Subgroup names; the scopes are ``SCOPE_PREFIX + name``.
REVERSE_IN_TRAIN = "reverse_in_train"
REVERSE_NOT_IN_TRAIN = "reverse_not_in_train"
SUBGROUPS = (REVERSE_IN_TRAIN, REVERSE_NOT_IN_TRAIN)
UNSEEN_TF = "unseen_tf"
UNSEEN_TARGET = "unseen_target"
BOTH_SEEN = "both_seen"
UNSEEN_SUBGROUPS = (UNSEEN_TF, UNSEEN_TARGET, BOTH_SEEN)
#: Split protocols whose test pairs are also grouped by unseen genes.
UNSEEN_PROTOCOLS = ("cross_dataset",)
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


def seen_genes(split: pd.DataFrame) -> tuple[set[str], set[str]]:
    """(TFs, targets) of the training and validation rows of ``split``."""
    tv = split[split["Part"] != "test"]
    return set(tv["TF"].astype(str)), set(tv["Target"].astype(str))


def unseen_subgroups(split: pd.DataFrame) -> dict[str, np.ndarray]:
    """Masks over ``split[split.Part == "test"]`` (in that order): ``unseen_tf``,
    ``unseen_target`` and ``both_seen`` (see the module docstring)."""
    tfs, targets = seen_genes(split)
    te = split[split["Part"] == "test"]
    tf_seen = te["TF"].astype(str).isin(tfs).to_numpy()
    tg_seen = te["Target"].astype(str).isin(targets).to_numpy()
    return {UNSEEN_TF: ~tf_seen, UNSEEN_TARGET: ~tg_seen, BOTH_SEEN: tf_seen & tg_seen}


def subgroup_counts(split: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Pairs and positives of each unseen-gene subgroup of the test pairs (for the split summary)."""
    lab = split.loc[split["Part"] == "test", "Label"].astype(int).to_numpy()
    return {k: {"pairs": int(m.sum()), "positives": int(lab[m].sum())} for k, m in unseen_subgroups(split).items()}


def subgroup_scopes(split: pd.DataFrame, protocol: str | None = None) -> dict[str, np.ndarray]:
    """The subgroups to score, keyed by scope name (``test:reverse_in_train`` ...).

    The two reverse-edge groups, when both hold pairs (one alone would repeat scope ``test``);
    for a ``protocol`` in :data:`UNSEEN_PROTOCOLS`, also each unseen-gene group that holds
    positives and negatives (an AUROC exists)."""
    rev = reverse_subgroups(split)
    out = {SCOPE_PREFIX + k: v for k, v in rev.items()} if all(m.any() for m in rev.values()) else {}
    if protocol in UNSEEN_PROTOCOLS:
        lab = split.loc[split["Part"] == "test", "Label"].astype(int).to_numpy()
        for k, m in unseen_subgroups(split).items():
            if lab[m].any() and not lab[m].all():
                out[SCOPE_PREFIX + k] = m
    return out
