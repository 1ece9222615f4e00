"""Resource guards: memory and runtime estimates from the input size, and a refusal before a
method starts when the input is beyond the configured limits.

Every estimate is a sum of terms in the dataset's size (G genes, C cells, T TFs):

    mem_mb      = SAFETY_MEM * (BASE_MB + data_mb(G, C) + edges_mb(G, T) + method_mem_mb(G, C, T))
    runtime_min = SAFETY_TIME * (STARTUP_S + method_s(G, C, T)) / 60

``BASE_MB`` is the peak RSS of a do-nothing ``infer`` job (Python, torch, scanpy imported);
``data_mb`` the dense float32 expression held ~3 times (AnnData, ``expression()``, a working
copy); ``edges_mb`` the ranked TF x gene prediction frame of an unsupervised method (~100 bytes
a row with its sort). The per-method terms follow each algorithm's complexity; their
coefficients were measured with one thread on the project's 2-core development machine at
G = 200-400, C = 300-600 (peak RSS and seconds of ``infer`` / ``score_pairs``;
``benchmarks/bench_guards.py`` reruns the measurement next to the estimates), and scale with
the hyperparameters that set the work (epochs, trees) relative to the measured setting. They are
estimates meant to stop hopeless jobs early and to size cluster requests, not predictions to
the second: the safety factors cover the rest.

Wiring (see ``check_size``): ``pipeline.run_method`` calls ``check_size`` before the method
starts; ``rules/infer.smk`` asks ``resources`` for ``mem_mb`` / ``runtime`` from the job's
``stats.json``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from grnbench.errors import InputError

BASE_MB = 600.0  # peak RSS of an infer job running the 'random' method (measured 508-571 MB)
STARTUP_S = 30.0  # process start, imports, reading the .h5ad
SAFETY_MEM = 1.5
SAFETY_TIME = 2.0
#: Limits applied when the config sets none: the 24 GiB machine of the paper's setting, two days.
DEFAULT_LIMITS = {"mem_mb": 24 * 1024, "runtime_min": 48 * 60, "max_genes": None, "max_cells": None}
LIMIT_KEYS = ("mem_mb", "runtime_min", "max_genes", "max_cells")

Cost = Callable[[int, int, int, Mapping], tuple[float, float]]  # (G, C, T, params) -> (extra MB, s)


def data_mb(n_genes: int, n_cells: int) -> float:
    return 3 * 4 * n_genes * n_cells / 1e6


def edges_mb(n_genes: int, n_tfs: int) -> float:
    return 100 * n_genes * n_tfs / 1e6


def _p(params: Mapping, key: str, default: float) -> float:
    v = params.get(key, default)
    return float(v) if v is not None else float(default)


# --- per-method terms (extra MB beyond base + data + edges, seconds of the method itself) ------
def _trivial(G, C, T, p):  # degree_prior: training positive rates, one score per split pair
    return PAIR_BYTES * G * T / 1e6, 1e-6 * G * T


def _random(G, C, T, p):  # uniform scores for the T x G pairs
    return 0.0, 1e-7 * G * T


def _pcc(G, C, T, p):  # standardised expression, one T x C by C x G product
    return 8 * 2 * G * C / 1e6, 2e-9 * G * C * T


def _mi(G, C, T, p):
    """One-hot bins (B = G sqrt(C) columns), joint tables in blocks of <= 8e6 float64 elements
    (~5 arrays live); work ~ C x (T sqrt C) x (G sqrt C) (1.6 s, +280 MB at G400/C600/T40)."""
    B = G * math.sqrt(C)
    return 40 * min(B * B, 8e6) / 1e6 + 4 * C * B / 1e6 + 8 * T * G / 1e6, 2.7e-10 * T * G * C * C


def _ppcor(G, C, T, p):  # Spearman ranks, G x G correlation, its inverse: ~6 G x G float64 copies
    return 44 + 8 * 6 * G * G / 1e6 + 8 * 2 * G * C / 1e6, 1e-9 * G**3 + 2e-9 * G * G * C


def _pidc(G, C, T, p):
    """MI's blocks for all G genes, specific information (G sqrt(C) x G float64) and PUC over
    gene triplets (4.8 s, +256 MB at G400/C600)."""
    B = G * math.sqrt(C)
    mem = 40 * min(B * B, 8e6) / 1e6 + 2 * 8 * B * G / 1e6 + 4 * C * B / 1e6
    return mem, 1.2e-6 * G * G * math.sqrt(C) + 1e-9 * G**3


def _scode(G, C, T, p):  # z-dim ODE fits, 1000 iterations, 6 restarts: work ~ G^2 C
    return 10 + 8 * 4 * G * C / 1e6, 4.3e-7 * G * G * C  # 41 s at G400/C600


def _genie3(G, C, T, p):
    """Random forest per target: trees x C log C x sqrt(regulators); ~1.5 s a target at
    1000 trees, 383 cells, 60 TFs (benchmarks/bench_tree_based.py); one forest held at a time."""
    trees = _p(p, "n_estimators", 1000)
    per_target = (
        1.5 * (trees / 1000) * (C * math.log(max(C, 2))) / (383 * math.log(383)) * math.sqrt(T / 60)
    )
    return 0.16 * C * trees / 1000 + 8 * G * T / 1e6, G * per_target


def _grnboost2(G, C, T, p):  # boosted stumps with early stopping, per target
    return 85 + 8 * C * T / 1e6, 1.46e-6 * G * C * T  # 14 s at G400/C600/T40


def _pairs(G, T):
    """Pairs a supervised method trains and scores: at most every TF x gene pair."""
    return float(G * T)


PAIR_BYTES = 300  # a split row in pandas (two name strings, label, part) + index tensors + output


def _deep(
    per_pair_epoch_s: float, measured_epochs: float, extra_mb: float, bytes_per_pair: float = 0.0
):
    """A supervised model trained by the shared loop: time ~ epochs x pairs (measured at G200/C300/T20
    with the 'small' preset's epochs); memory = torch training overhead + per-pair features."""

    def cost(G, C, T, p):
        epochs = _p(p, "epochs", measured_epochs)
        mb = extra_mb + (PAIR_BYTES + bytes_per_pair) * _pairs(G, T) / 1e6 + 4 * 4 * G * C / 1e6
        return mb, per_pair_epoch_s * epochs * _pairs(G, T) + 1e-7 * G * C * T

    return cost


def _sctransnet(G, C, T, p):
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


def _grn_transformer(G, C, T, p):
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


COSTS: dict[str, Cost] = {
    "random": _random,
    "degree_prior": _trivial,
    "label_prior": _trivial,
    "pcc": _pcc,
    "mi": _mi,
    "ppcor": _ppcor,
    "pidc": _pidc,
    "scode": _scode,
    "genie3": _genie3,
    "grnboost2": _grnboost2,
    # measured with the 'small' preset at G400/C600/T40 (16,000 pairs) on a loaded 2-core machine:
    # seconds / (epochs x pairs), the small preset's epochs, peak RSS above the bare process
    "genelink": _deep(45.5 / (20 * 16000), 20, 250),
    "gnnlink": _deep(6.94 / (100 * 16000), 100, 240),
    "gne": _deep(21.0 / (20 * 16000), 20, 250),
    "cnnc": _deep(93.8 / (8 * 16000), 8, 320, bytes_per_pair=32 * 32 * 4),
    "deepdrim": _deep(242.0 / (3 * 16000), 3, 380, bytes_per_pair=21 * 32 * 32 * 4),
    "grn_transformer": _grn_transformer,
    "sctransnet": _sctransnet,
    "sctransnet_no_attnpool": _sctransnet,
    "sctransnet_no_gnn": _sctransnet,
    "sctransnet_no_encoder": _deep(2e-5, 100, 300),
}
UNSUPERVISED = {"random", "pcc", "mi", "ppcor", "pidc", "scode", "genie3", "grnboost2"}


def method_params(method: str, preset: str | None = None, params: Mapping | None = None) -> dict:
    """The hyperparameters a run will use: class defaults, then the preset, then the config's
    (:func:`grnbench.methods.registry.merge_params`, from the light index: no method imported)."""
    from grnbench.methods.registry import info

    return info(method).params(preset, dict(params or {}))


def estimate(
    method: str,
    n_genes: int,
    n_cells: int,
    n_tfs: int | None = None,
    *,
    params: Mapping | None = None,
) -> dict[str, float]:
    """``{"mem_mb", "runtime_min"}`` for one job of ``method`` (see the module docstring).

    ``n_tfs`` defaults to 10% of the genes (BEELINE's gene sets); ``params`` are the run's
    hyperparameters (default: the method's paper defaults). A method without a cost model
    (a plugin) gets the generic supervised one.
    """
    G, C = int(n_genes), int(n_cells)
    T = int(n_tfs) if n_tfs is not None else max(1, round(0.1 * G))
    if G < 1 or C < 1 or T < 1:
        raise InputError("guards", f"sizes must be positive, got genes={G}, cells={C}, tfs={T}")
    cost = COSTS.get(method, _deep(2e-5, 100, 300))
    extra_mb, seconds = cost(G, C, T, dict(params or {}))
    mem = BASE_MB + data_mb(G, C) + extra_mb + (edges_mb(G, T) if method in UNSUPERVISED else 0.0)
    return {"mem_mb": SAFETY_MEM * mem, "runtime_min": SAFETY_TIME * (STARTUP_S + seconds) / 60}


def limits_for(method: str, config: Mapping | None) -> dict:
    """Limits from a workflow config: ``guards:`` for every method, ``methods.<m>.guard:`` on top."""
    config = config or {}
    out = dict(DEFAULT_LIMITS)
    out.update({k: v for k, v in (config.get("guards") or {}).items() if k in LIMIT_KEYS})
    m = (config.get("methods") or {}).get(method) or {}
    out.update({k: v for k, v in (m.get("guard") or {}).items() if k in LIMIT_KEYS})
    return out


def check_size(
    method: str,
    n_genes: int,
    n_cells: int,
    limits: Mapping | None = None,
    *,
    n_tfs: int | None = None,
    params: Mapping | None = None,
) -> dict[str, float]:
    """Refuse (InputError) a job whose size or estimate is beyond ``limits``; return the estimate.

    ``limits`` keys (any may be None = no limit): ``max_genes``, ``max_cells``, ``mem_mb``,
    ``runtime_min``; defaults :data:`DEFAULT_LIMITS`. The message gives the estimate and the
    config keys that raise the limit.
    """
    lim = {**DEFAULT_LIMITS, **(limits or {})}
    est = estimate(method, n_genes, n_cells, n_tfs, params=params)
    size = f"{n_genes} genes x {n_cells} cells" + (f", {n_tfs} TFs" if n_tfs is not None else "")
    where = f"config: methods.{method}.guard.{{key}} (this method) or guards.{{key}} (every method)"
    checks = [
        ("max_genes", n_genes, "genes"),
        ("max_cells", n_cells, "cells"),
        ("mem_mb", est["mem_mb"], "MB of memory (estimated)"),
        ("runtime_min", est["runtime_min"], "minutes (estimated)"),
    ]
    for key, value, unit in checks:
        if lim.get(key) is not None and value > lim[key]:
            raise InputError(
                where.format(key=key),
                f"{method} on {size} needs {value:,.0f} {unit}, over the limit {key}={lim[key]:,}; "
                f"estimate: {est['mem_mb']:,.0f} MB, {est['runtime_min']:,.0f} min. Raise {key} "
                f"(methods.{method}.guard.{key} or guards.{key}) to run it anyway, or use fewer genes/cells.",
            )
    return est


def read_stats(path: str | os.PathLike) -> dict:
    """A preprocess ``stats.json`` (genes, cells, tfs, ...)."""
    p = Path(path)
    try:
        s = json.loads(p.read_text())
        return {"genes": int(s["genes"]), "cells": int(s["cells"]), "tfs": int(s["tfs"])}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(p, f"not a readable stats.json with genes, cells, tfs ({e})") from e


def resources(
    method: str,
    stats: str | os.PathLike | Mapping,
    *,
    preset: str | None = None,
    params: Mapping | None = None,
    floor_mb: int = 1000,
) -> dict[str, int]:
    """Snakemake ``resources`` for an infer job: ``{"mem_mb": int, "runtime": int minutes}``.

    ``stats`` is the job's ``stats.json`` (path) or its dict. Never below ``floor_mb``.
    """
    s = stats if isinstance(stats, Mapping) else read_stats(stats)
    try:
        p = method_params(method, preset, params)
    except Exception:  # a rule method or plugin not importable here: paper defaults unknown
        p = dict(params or {})
    est = estimate(method, s["genes"], s["cells"], s.get("tfs"), params=p)
    return {
        "mem_mb": max(floor_mb, math.ceil(est["mem_mb"])),
        "runtime": max(1, math.ceil(est["runtime_min"])),
    }


def largest_genes(
    method: str,
    n_cells: int,
    mem_mb: float = 24 * 1024,
    *,
    tf_frac: float = 0.1,
    params: Mapping | None = None,
    upper: int = 10**6,
) -> int:
    """Largest gene count (TFs = ``tf_frac`` of genes) whose memory estimate fits ``mem_mb``."""

    def fits(g):
        return (
            estimate(method, g, n_cells, max(1, round(tf_frac * g)), params=params)["mem_mb"]
            <= mem_mb
        )

    if not fits(1):
        return 0
    lo, hi = 1, upper
    if fits(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo
