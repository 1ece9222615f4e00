"""Resource guards: memory and runtime estimates from the input size, and a refusal before a
method starts when the input is beyond the configured limits.

Every estimate is a sum of terms in the dataset's size (G genes, C cells, T TFs):

    mem_mb      = SAFETY_MEM * (BASE_MB + data_mb(G, C) + edges_mb(G, T) + method_mem_mb(G, C, T))
    runtime_min = SAFETY_TIME * (STARTUP_S + method_s(G, C, T)) / 60

``BASE_MB`` is the peak RSS of a do-nothing ``infer`` job (Python, torch, scanpy imported);
``data_mb`` the dense float32 expression held ~3 times (AnnData, ``expression()``, a working
copy); ``edges_mb`` the ranked TF x gene prediction frame of an unsupervised method (~100 bytes
a row with its sort). The per-method terms follow each algorithm's complexity: each method class
declares its model (``cost``, a spec naming a function of :mod:`grnbench.methods.costs`, copied
into the light index so no method module is imported here); their coefficients were measured
with one thread on the project's 2-core development machine at G = 200-400, C = 300-600 (peak
RSS and seconds of ``infer`` / ``score_pairs``; ``benchmarks/bench_guards.py`` reruns the
measurement next to the estimates), and scale with the hyperparameters that set the work (epochs, trees) relative to the measured setting. They are
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
from collections.abc import Mapping
from pathlib import Path

from grnbench.errors import InputError
from grnbench.methods import costs
from grnbench.methods.registry import facts

BASE_MB = 600.0  # peak RSS of an infer job running the 'random' method (measured 508-571 MB)
STARTUP_S = 30.0  # process start, imports, reading the .h5ad
SAFETY_MEM = 1.5
SAFETY_TIME = 2.0
#: Limits applied when the config sets none: the 24 GiB machine of the paper's setting, two days.
DEFAULT_LIMITS = {"mem_mb": 24 * 1024, "runtime_min": 48 * 60, "max_genes": None, "max_cells": None}
LIMIT_KEYS = ("mem_mb", "runtime_min", "max_genes", "max_cells")

def data_mb(n_genes: int, n_cells: int) -> float:
    return 3 * 4 * n_genes * n_cells / 1e6


def edges_mb(n_genes: int, n_tfs: int) -> float:
    return 100 * n_genes * n_tfs / 1e6


def cost_models() -> dict[str, dict]:
    """Every known method (built-ins from the index, registered plugins) -> its cost spec."""
    from grnbench.methods.registry import planning_methods

    return {name: dict(m.cost) for name, m in planning_methods().items()}


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
    hyperparameters (default: the method's paper defaults). The cost model is the method
    class's ``cost``; a class that sets none (a plugin) or a name no class declares gets the
    generic supervised one (:data:`grnbench.methods.costs.GENERIC`).
    """
    G, C = int(n_genes), int(n_cells)
    T = int(n_tfs) if n_tfs is not None else max(1, round(0.1 * G))
    if G < 1 or C < 1 or T < 1:
        raise InputError("guards", f"sizes must be positive, got genes={G}, cells={C}, tfs={T}")
    info = facts(method)
    extra_mb, seconds = costs.evaluate(info.cost, G, C, T, dict(params or {}))
    edges = edges_mb(G, T) if info.kind == "unsupervised" else 0.0  # it writes every TF x gene pair
    mem = BASE_MB + data_mb(G, C) + extra_mb + edges
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
