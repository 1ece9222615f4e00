"""GENIE3 (Huynh-Thu et al. 2010) and GRNBoost2 (Moerman et al. 2019) through arboreto.

Both fit one regression per target gene j on the regulators' expression,

    x_j = f_j(x_R \\ {j}) + noise,        w(r -> j) = importance of regulator r in f_j   (1)

GENIE3: f_j a random forest with arboreto's ``RF_KWARGS`` (1000 trees, sqrt(#regulators)
features per split), weight = the forest's impurity importance (sums to 1 per target).
GRNBoost2: stochastic gradient boosting with arboreto's ``SGBM_KWARGS`` (learning rate 0.01,
up to 5000 depth-3 trees, 10% of features per split, 90% subsamples) stopped early when the
mean out-of-bag improvement over the last 25 trees turns negative; weight = importance times
the number of trees fitted (arboreto's ``to_feature_importances``).

arboreto 0.1.6's entry points (``arboreto.algo.genie3/grnboost2``) build a dask graph that
current dask rejects ("Must supply at least one delayed object"). So, as pySCENIC does, we call
arboreto's own per-target functions (``arboreto.core.fit_model`` and
``to_feature_importances``, the body of ``infer_partial_network``) for every target ourselves,
in-process for ``threads = 1`` and over a joblib process pool otherwise. Every target uses the
same explicit seed (as arboreto does), so the result does not depend on ``threads`` or on how
targets are split among workers. (arboreto's GitHub master, 79f916b, fixes the dask failure;
``benchmarks/faithfulness/arboreto_vs_ours.py`` runs its ``arboreto.algo`` entry points against
this loop: the same bits on the same float32 input; on the float64 CSV GRNBoost2's mDC test AUROC
differs by 0.001.) Regulators are the dataset's TFs (``regulators = "tfs"``);
a target that is a TF is fitted without itself. ``regulators = "all"`` uses every gene as a
candidate regulator, BEELINE's setting, and returns the TF rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from arboreto.core import (
    EARLY_STOP_WINDOW_LENGTH,
    RF_KWARGS,
    SGBM_KWARGS,
    fit_model,
    to_feature_importances,
)

from grnbench.data.dataset import GRNData
from grnbench.errors import InputError
from grnbench.methods.base import UnsupervisedMethod
from grnbench.methods.registry import register


def fit_targets(
    regressor_type: str,
    regressor_kwargs: dict[str, Any],
    x: np.ndarray,
    regulators: np.ndarray,
    targets: np.ndarray,
    seed: int,
    early_stop_window_length: int = EARLY_STOP_WINDOW_LENGTH,
) -> np.ndarray:
    """Importances (len(regulators) x len(targets)) of eq. 1, one arboreto regression per target."""
    x_reg = x[:, regulators]
    out = np.zeros((len(regulators), len(targets)))
    for k, j in enumerate(targets):
        keep = regulators != j  # a TF target never regulates itself
        features = x_reg if keep.all() else x_reg[:, keep]
        model = fit_model(
            regressor_type, regressor_kwargs, features, x[:, j], early_stop_window_length, seed
        )
        out[keep, k] = to_feature_importances(regressor_type, regressor_kwargs, model)
    return out


def tree_importances(
    x: np.ndarray,
    regulators: np.ndarray,
    regressor_type: str,
    regressor_kwargs: dict[str, Any],
    *,
    seed: int,
    threads: int = 1,
    early_stop_window_length: int = EARLY_STOP_WINDOW_LENGTH,
    targets: np.ndarray | None = None,
) -> np.ndarray:
    """(len(regulators) x len(targets)) importance matrix; ``targets`` default: every gene of ``x``.

    ``threads > 1`` fits the targets over a loky process pool of ``threads`` workers. Each
    target's regression takes ``seed`` whatever worker runs it, so the matrix is the same bits
    for every ``threads``.
    """
    targets = np.arange(x.shape[1]) if targets is None else np.asarray(targets, dtype=np.int64)
    args = (regressor_type, regressor_kwargs, x, regulators)
    if threads <= 1 or len(targets) <= 1:
        return fit_targets(*args, targets, seed, early_stop_window_length)
    from joblib import Parallel, delayed

    # interleaved chunks balance cheap and expensive targets; 4 per worker smooths the tail
    n_chunks = min(len(targets), 4 * threads)
    pos = np.arange(len(targets))
    chunks = [pos[i::n_chunks] for i in range(n_chunks)]
    parts = Parallel(n_jobs=threads, backend="loky")(
        delayed(fit_targets)(*args, targets[c], seed, early_stop_window_length) for c in chunks
    )
    out = np.zeros((len(regulators), len(targets)))
    for c, part in zip(chunks, parts):
        out[:, c] = part
    return out


class _ArboretoMethod(UnsupervisedMethod):
    regressor_type: str

    def regressor_kwargs(self) -> dict[str, Any]:
        raise NotImplementedError

    def infer(self, data: GRNData, *, seed: int, threads: int = 1) -> np.ndarray:
        mode = self.params["regulators"]
        if mode not in ("tfs", "all"):
            raise InputError(f"methods.{self.name}.params.regulators", f"unknown {mode!r}")
        tf_idx = np.flatnonzero(data.tf_mask)
        regulators = tf_idx if mode == "tfs" else np.arange(data.n_genes)
        w = tree_importances(
            data.expression(),  # float32: what sklearn's trees use internally anyway
            regulators,
            self.regressor_type,
            self.regressor_kwargs(),
            seed=seed,
            threads=threads,
            early_stop_window_length=self.params.get(
                "early_stop_window_length", EARLY_STOP_WINDOW_LENGTH
            ),
        )
        return w if mode == "tfs" else w[tf_idx]


@register
class GENIE3(_ArboretoMethod):
    """Random-forest regression per target (eq. 1), arboreto's GENIE3 settings."""

    name = "genie3"
    display_name = "GENIE3"
    family = "unsupervised"
    order = 5
    color = "#2ca02c"
    cost = {"model": "genie3"}
    description = (
        "GENIE3: random forest per target gene (arboreto RF_KWARGS: 1000 trees, sqrt features)."
    )
    regressor_type = "RF"
    defaults = {
        "n_estimators": RF_KWARGS["n_estimators"],
        "max_features": RF_KWARGS["max_features"],
        "regulators": "tfs",
    }
    #: 30 trees: the default run on ~240 simulated genes (40 TFs, 300 cells) takes ~15 s on 1 core.
    presets = {"small": {"n_estimators": 30}}

    def regressor_kwargs(self) -> dict[str, Any]:
        return {
            **RF_KWARGS,
            "n_estimators": self.params["n_estimators"],
            "max_features": self.params["max_features"],
        }


@register
class GRNBoost2(_ArboretoMethod):
    """Stochastic gradient boosting per target with early stopping (eq. 1), arboreto's SGBM."""

    name = "grnboost2"
    display_name = "GRNBoost2"
    family = "unsupervised"
    order = 6
    color = "#98df8a"
    cost = {"model": "grnboost2"}
    description = (
        "GRNBoost2: gradient boosting per target gene with early stopping (arboreto SGBM_KWARGS)."
    )
    regressor_type = "GBM"
    defaults = {
        "learning_rate": SGBM_KWARGS["learning_rate"],
        "n_estimators": SGBM_KWARGS["n_estimators"],
        "max_features": SGBM_KWARGS["max_features"],
        "subsample": SGBM_KWARGS["subsample"],
        "early_stop_window_length": EARLY_STOP_WINDOW_LENGTH,
        "regulators": "tfs",
    }

    def regressor_kwargs(self) -> dict[str, Any]:
        keys = ("learning_rate", "n_estimators", "max_features", "subsample")
        return {**SGBM_KWARGS, **{k: self.params[k] for k in keys}}
