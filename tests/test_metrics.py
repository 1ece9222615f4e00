"""Metrics against hand-computed small cases."""

import numpy as np
import pytest

from grnbench.errors import InputError
from grnbench.evaluate.metrics import (
    attach_scores,
    early_precision_ratio,
    per_tf_auroc,
    score_ranking,
)


def test_auroc_auprc_hand_computed():
    # ranking: P N P N  -> AUROC: pairs (pos>neg): p1>n1,n2 ; p2>n2 -> 3/4
    y = [1, 0, 1, 0]
    s = [0.9, 0.8, 0.7, 0.1]
    m = score_ranking(y, s)
    assert m["auroc"] == pytest.approx(0.75)
    # AP = mean precision at each positive: (1/1 + 2/3) / 2
    assert m["auprc"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["density"] == pytest.approx(0.5)
    assert m["auprc_ratio"] == pytest.approx(m["auprc"] / 0.5)
    # PR curve points (recall, precision): (0,1),(0.5,1),(0.5,0.5),(1,2/3),(1,0.5) -> trapezoid area
    # sklearn orders by decreasing threshold; area = 0.5*1 + 0.5*(0.5+2/3)/2
    assert m["auprc_trapz"] == pytest.approx(0.5 * 1 + 0.5 * (0.5 + 2 / 3) / 2)


def test_epr_with_ties_and_zero_weights():
    # k = 2 positives among 6 pairs, density 1/3. Top-2 threshold = 0.8; ties at 0.8 included:
    # predicted = {0.9, 0.8, 0.8} with 1 positive -> precision 1/3 -> EPR 1.0
    y = [0, 1, 0, 1, 0, 0]
    s = [0.9, 0.8, 0.8, 0.0, 0.0, 0.1]
    assert early_precision_ratio(y, s) == pytest.approx((1 / 3) / (2 / 6))
    # perfect ranking: precision 1 -> EPR = 1/density = 3
    assert early_precision_ratio([1, 1, 0, 0, 0, 0], [6, 5, 4, 3, 2, 1]) == pytest.approx(3.0)


def test_per_tf_auroc_ignores_single_class_tfs():
    tf = ["A", "A", "A", "B", "B", "C"]
    y = [1, 0, 0, 1, 0, 1]
    s = [0.9, 0.1, 0.2, 0.1, 0.5, 0.3]  # A: 1.0, B: 0.0, C: single class
    assert per_tf_auroc(tf, y, s) == pytest.approx(0.5)


def test_single_class_gives_nan():
    m = score_ranking([0, 0, 0], [0.1, 0.2, 0.3])
    assert np.isnan(m["auroc"]) and m["n_pos"] == 0


def test_bad_scores_raise():
    with pytest.raises(InputError, match="NaN or infinite"):
        score_ranking([0, 1], [0.1, float("nan")])
    with pytest.raises(InputError, match="differ in length"):
        score_ranking([0, 1, 1], [0.1, 0.2])


def test_attach_scores_missing_pairs_rank_last():
    import pandas as pd

    edges = pd.DataFrame({"Gene1": ["A", "A"], "Gene2": ["x", "y"], "EdgeWeight": [0.5, 0.2]})
    pairs = pd.DataFrame({"TF": ["A", "A", "B"], "Target": ["y", "x", "x"]})
    s, missing = attach_scores(pairs, edges)
    assert missing == 1
    assert list(s[:2]) == [0.2, 0.5] and s[2] < 0.2
