"""Cost models: each method's memory and runtime terms for :mod:`grnbench.guards`, torch-free.

A method class names its model in its ``cost`` attribute, a small declarative spec::

    cost = {"model": "deep", "per_pair_epoch_s": 45.5 / (20 * 16000), "measured_epochs": 20,
            "extra_mb": 250}

``model`` is a function of this module (or ``"package.module:function"`` for a plugin's own);
the other keys are its keyword arguments. The function takes the dataset's size (G genes, C
cells, T TFs) and the run's hyperparameters and returns ``(extra MB, seconds)``: memory beyond
the job's base, data and edges terms, and the seconds of the method itself (see
:mod:`grnbench.guards` for the sum and the safety factors). The spec is copied into
``index.json``, so planning estimates a job without importing the method's module.

The coefficients were measured with one thread on the project's 2-core development machine at
G = 200-400, C = 300-600 (peak RSS and seconds of ``infer`` / ``score_pairs``;
``benchmarks/bench_guards.py`` reruns the measurement next to the estimates).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping

from grnbench.errors import InputError

#: A split row in pandas (two name strings, label, part) + index tensors + output.
PAIR_BYTES = 300


def _p(params: Mapping, key: str, default: float) -> float:
    v = params.get(key, default)
    return float(v) if v is not None else float(default)


def _pairs(G, T):
    """Pairs a supervised method trains and scores: at most every TF x gene pair."""
    return float(G * T)


def trivial(G, C, T, p):
    """Label-only priors: training positive rates, one score per split pair."""
    return PAIR_BYTES * G * T / 1e6, 1e-6 * G * T


def random(G, C, T, p):
    """Uniform scores for the T x G pairs."""
    return 0.0, 1e-7 * G * T


def pcc(G, C, T, p):
    """Standardised expression, one T x C by C x G product."""
    return 8 * 2 * G * C / 1e6, 2e-9 * G * C * T


def mi(G, C, T, p):
    """One-hot bins (B = G sqrt(C) columns), joint tables in blocks of <= 8e6 float64 elements
    (~5 arrays live); work ~ C x (T sqrt C) x (G sqrt C) (1.6 s, +280 MB at G400/C600/T40)."""
    B = G * math.sqrt(C)
    return 40 * min(B * B, 8e6) / 1e6 + 4 * C * B / 1e6 + 8 * T * G / 1e6, 2.7e-10 * T * G * C * C


def ppcor(G, C, T, p):
    """Spearman ranks, G x G correlation, its inverse: ~6 G x G float64 copies."""
    return 44 + 8 * 6 * G * G / 1e6 + 8 * 2 * G * C / 1e6, 1e-9 * G**3 + 2e-9 * G * G * C


def pidc(G, C, T, p):
    """MI's blocks for all G genes, specific information (G sqrt(C) x G float64) and PUC over
    gene triplets (4.8 s, +256 MB at G400/C600)."""
    B = G * math.sqrt(C)
    mem = 40 * min(B * B, 8e6) / 1e6 + 2 * 8 * B * G / 1e6 + 4 * C * B / 1e6
    return mem, 1.2e-6 * G * G * math.sqrt(C) + 1e-9 * G**3


def scode(G, C, T, p):
    """z-dim ODE fits, 1000 iterations, 6 restarts: work ~ G^2 C (41 s at G400/C600)."""
    return 10 + 8 * 4 * G * C / 1e6, 4.3e-7 * G * G * C


def genie3(G, C, T, p):
    """Random forest per target: trees x C log C x sqrt(regulators); ~1.5 s a target at
    1000 trees, 383 cells, 60 TFs (benchmarks/bench_tree_based.py); one forest held at a time."""
    trees = _p(p, "n_estimators", 1000)
    per_target = (
        1.5 * (trees / 1000) * (C * math.log(max(C, 2))) / (383 * math.log(383)) * math.sqrt(T / 60)
    )
    return 0.16 * C * trees / 1000 + 8 * G * T / 1e6, G * per_target


def grnboost2(G, C, T, p):
    """Boosted stumps with early stopping, per target (14 s at G400/C600/T40)."""
    return 85 + 8 * C * T / 1e6, 1.46e-6 * G * C * T


def deep(G, C, T, p, *, per_pair_epoch_s: float, measured_epochs: float, extra_mb: float,
         bytes_per_pair: float = 0.0):
    """A supervised model trained by the shared loop: time ~ epochs x pairs (``per_pair_epoch_s``
    measured with ``measured_epochs``, the epochs of the setting measured); memory = torch
    training overhead (``extra_mb``) + per-pair features (``bytes_per_pair``)."""
    epochs = _p(p, "epochs", measured_epochs)
    mb = extra_mb + (PAIR_BYTES + bytes_per_pair) * _pairs(G, T) / 1e6 + 4 * 4 * G * C / 1e6
    return mb, per_pair_epoch_s * epochs * _pairs(G, T) + 1e-7 * G * C * T


def sctransnet(G, C, T, p):
    """Performer over G gene tokens per cell (masked-expression pretraining, then extraction):
    activations ~ batch x depth x G x (4 dim + heads (3 dim_head + features)) floats, kept for
    backward (x3); work ~ 3 x depth x G x (4 dim.heads.dim_head + 2 heads.dim_head.features +
    8 dim^2) flops per cell and epoch; then the GNN on pairs."""
    dim, depth = _p(p, "enc_dim", 200), _p(p, "enc_depth", 6)
    heads, dh, feats = _p(p, "enc_heads", 10), _p(p, "enc_dim_head", 64), _p(p, "enc_features", 266)
    batch = max(_p(p, "pretrain_batch", 8), _p(p, "extract_batch", 8))
    epochs = _p(p, "pretrain_epochs", 10) + _p(p, "finetune_epochs", 0) + 1  # +1: extraction pass
    act = batch * depth * G * (4 * dim + heads * (3 * dh + feats)) * 4 * 3 / 1e6
    flops = (
        3 * depth * G * (4 * dim * heads * dh + 2 * heads * dh * feats + 8 * dim * dim) * C * epochs
    )
    gnn_s = 2e-5 * _p(p, "epochs", 100) * _pairs(G, T)
    # ~3e9 flop/s effective on one loaded core (164 s at G400/C600/T40 with the small preset)
    return 400 + act + 4 * G * C * 4 / 1e6, flops / 3e9 + gnn_s


def grn_transformer(G, C, T, p):
    """Axial attention over cells x genes (batches of 32 cells): G x G attention maps per head and
    layer, then a forest on the maps; work ~ epochs x C x G^2 x embed."""
    layers, emb = _p(p, "layers", 4), _p(p, "embed_dim", 64)
    epochs, batch = _p(p, "epochs", 1500), _p(p, "batch_cells", 32)
    maps = 4 * layers * 4 * G * G * 3 / 1e6  # 4 heads, float32, kept for backward
    act = 4 * batch * G * emb * layers * 6 / 1e6
    # + the prior folds' forests and the MLP on pairs: 240 s at G400/C600/T40 with the small preset
    folds = _p(p, "prior_folds", 3)
    return (
        600 + maps + act,
        2e-9 * epochs * C * G * G * emb * layers / 32 + 0.015 * G * T * folds / 3,
    )


#: The models a ``cost`` spec may name without a module.
MODELS = {f.__name__: f for f in (trivial, random, pcc, mi, ppcor, pidc, scode, genie3, grnboost2, deep,
                                  sctransnet, grn_transformer)}

#: The cost of a method that declares none (a plugin): the generic supervised model.
GENERIC = {"model": "deep", "per_pair_epoch_s": 2e-5, "measured_epochs": 100, "extra_mb": 300}


def model(spec: Mapping):
    """The function a ``cost`` spec names: this module's ``spec["model"]`` or a
    ``"module:function"``; an unknown name raises :class:`InputError` naming it."""
    name = spec.get("model") if isinstance(spec, Mapping) else None
    if not isinstance(name, str) or not name:
        raise InputError("method cost", f"a cost spec needs a 'model' name, got {spec!r}")
    if ":" in name:
        mod, _, fn = name.partition(":")
        try:
            f = getattr(importlib.import_module(mod), fn)
        except (ImportError, AttributeError) as e:
            raise InputError("method cost", f"cost model {name!r} cannot be loaded ({e})") from e
    else:
        f = MODELS.get(name)
        if f is None:
            raise InputError("method cost", f"unknown cost model {name!r}; known: {sorted(MODELS)} "
                             "(or 'module:function' for a function of your own)")
    return f


def evaluate(spec: Mapping, G: int, C: int, T: int, params: Mapping) -> tuple[float, float]:
    """``(extra MB, seconds)`` of the cost ``spec`` at G genes, C cells, T TFs with ``params``."""
    kwargs = {k: v for k, v in spec.items() if k != "model"}
    return model(spec)(G, C, T, params, **kwargs)
