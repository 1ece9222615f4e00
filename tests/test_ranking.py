"""grnbench.evaluate.ranking equals scikit-learn's AUROC and average precision to the bit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from grnbench.evaluate.ranking import auroc, average_precision


def _cases():
    rng = np.random.default_rng(0)
    for k in range(300):
        n = int(rng.integers(2, 400))
        y = (rng.random(n) < rng.uniform(0.02, 0.9)).astype(float)
        if y.min() == y.max():
            y[0] = 1 - y[0]
        kind = k % 5
        if kind == 0:
            s = rng.normal(size=n)
        elif kind == 1:
            s = rng.integers(0, 5, n).astype(float)  # heavy ties
        elif kind == 2:
            s = rng.random(n).astype(np.float32)  # the dtype our models return
        elif kind == 3:
            s = np.round(rng.normal(size=n) + 2 * y, 1)  # informative, some ties
        else:
            s = np.full(n, 0.5)  # all tied
        yield y, s


def test_equal_to_sklearn():
    for i, (y, s) in enumerate(_cases()):
        assert auroc(y, s) == roc_auc_score(y, s), (i, len(y), s.dtype)
        assert average_precision(y, s) == average_precision_score(y, s), (i, len(y), s.dtype)


def test_known_values_and_labels_as_booleans_or_ints():
    y, s = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    assert auroc(y, s) == 0.75
    assert average_precision(y.astype(bool), s) == pytest.approx(0.8333333333333333)
    assert auroc([1, 0], [0.2, 0.9]) == 0.0


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="one length"):
        auroc(np.array([0, 1, 1]), np.array([0.1, 0.2]))
