"""Our GENIE3/GRNBoost2 wrapper against a direct loop over arboreto's per-target function.

    python benchmarks/bench_tree_based.py [--method genie3 grnboost2] [--targets N] [--tfs N]

Same data, same seed, one run, side by side: (a) a plain Python loop calling
``arboreto.core.infer_partial_network`` for every target (what arboreto's dask graph runs per
task), (b) our ``infer`` with threads=1, (c) our ``infer`` with threads=2 (a loky process pool
over targets). Prints wall seconds, CPU seconds (this process plus the pool's worker processes,
read with psutil) and the ``uptime`` load after each, the ratios (b)/(a) and (a)/(c), the
largest difference between (a) and (b) importances and whether (b) == (c) bit for bit.
Targets (issue 16): (b)/(a) <= 1.1 and (a)/(c) >= 1.8. On a shared machine (c) is only as fast
as the second core is free: compare its CPU seconds with its wall seconds.

Data: mDC TFs+500 (GENELink files), every TF as a regulator. ``--targets N`` fits N targets
spread evenly over the gene list (TFs and non-TFs in file order; the real per-target cost, since
each regression sees all regulators); default: all 821 for GRNBoost2, 48 for GENIE3 (1000-tree
forests, ~3.3 s per target on one core). ``--tfs N`` keeps only the first N TFs as regulators.
Skips with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import psutil
from arboreto.core import EARLY_STOP_WINDOW_LENGTH, infer_partial_network

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_unsupervised import MDC, load_genelink  # noqa: E402

from grnbench.data.dataset import GRNData  # noqa: E402
from grnbench.methods import registry  # noqa: E402
from grnbench.methods.tree_based import tree_importances  # noqa: E402

#: Default number of targets per method (None = every gene).
TARGETS = {"grnboost2": None, "genie3": 48}


def load() -> str:
    return os.popen("uptime").read().strip().split("load average:")[-1].strip()


def cpu_s() -> float:
    """CPU seconds of this process and of its live children (the loky workers)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    own = r.ru_utime + r.ru_stime
    kids = 0.0
    for p in psutil.Process().children(recursive=True):
        try:
            t = p.cpu_times()
            kids += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return own + kids


def pick_targets(n_genes: int, n: int | None) -> np.ndarray:
    """``n`` gene indices spread evenly over ``range(n_genes)`` (all when ``n`` is None)."""
    if n is None or n >= n_genes:
        return np.arange(n_genes)
    return np.unique(np.linspace(0, n_genes - 1, n).round().astype(np.int64))


def keep_tfs(data: GRNData, n_tfs: int | None) -> GRNData:
    """Only the first ``n_tfs`` TFs (file order) stay TFs; every gene stays."""
    if n_tfs is None:
        return data
    ad = data.adata.copy()
    tf_idx = np.flatnonzero(data.tf_mask)
    mask = np.zeros(data.n_genes, dtype=bool)
    mask[tf_idx[:n_tfs]] = True
    ad.var["is_tf"] = mask
    return GRNData(ad, name=f"{data.name}[{n_tfs} TFs]")


def direct_loop(method, data: GRNData, seed: int, targets: np.ndarray) -> np.ndarray:
    """arboreto's per-target function over ``targets``: (TFs x targets) importance matrix."""
    x = data.expression()
    genes = data.genes
    tf_idx = np.flatnonzero(data.tf_mask)
    tf_matrix, tf_names = x[:, tf_idx], [genes[i] for i in tf_idx]
    kwargs = method.regressor_kwargs()
    window = method.params.get("early_stop_window_length", EARLY_STOP_WINDOW_LENGTH)
    links = [
        infer_partial_network(
            method.regressor_type,
            kwargs,
            tf_matrix,
            tf_names,
            genes[j],
            x[:, j],
            early_stop_window_length=window,
            seed=seed,
        )
        for j in targets
    ]
    w = np.zeros((len(tf_idx), len(targets)))
    pos = {g: i for i, g in enumerate(tf_names)}
    for k, df in enumerate(links):
        w[[pos[t] for t in df["TF"]], k] = df["importance"].to_numpy()
    return w


def ours(method, data: GRNData, seed: int, threads: int, targets: np.ndarray) -> np.ndarray:
    """What ``method.infer`` runs (``regulators="tfs"``), restricted to ``targets``."""
    return tree_importances(
        data.expression(),
        np.flatnonzero(data.tf_mask),
        method.regressor_type,
        method.regressor_kwargs(),
        seed=seed,
        threads=threads,
        early_stop_window_length=method.params.get(
            "early_stop_window_length", EARLY_STOP_WINDOW_LENGTH
        ),
        targets=targets,
    )


def timed(fn, *args) -> tuple[dict, np.ndarray]:
    c0, t0 = cpu_s(), time.perf_counter()
    w = fn(*args)
    wall = time.perf_counter() - t0
    return {"wall": wall, "cpu": cpu_s() - c0, "load": load()}, w


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=MDC)
    ap.add_argument("--method", nargs="+", default=["genie3", "grnboost2"])
    ap.add_argument("--targets", type=int, default=None, help="override the per-method count")
    ap.add_argument("--tfs", type=int, default=None, help="keep only the first N TFs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not (args.data / "BL--ExpressionData.csv").exists():
        print(f"SKIP: {args.data}/BL--ExpressionData.csv is absent (needs ../shared/data)")
        return 0
    data = keep_tfs(load_genelink(args.data), args.tfs)
    print(f"{os.cpu_count()} CPUs; load before {load()}", flush=True)
    for name in args.method:
        n = args.targets if args.targets is not None else TARGETS.get(name)
        targets = pick_targets(data.n_genes, n)
        method = registry.get(name)()
        print(
            f"{name} on {data.name}: {data.n_cells} cells, {len(data.tfs)} regulators, "
            f"{len(targets)} of {data.n_genes} targets ({int(data.tf_mask[targets].sum())} TFs), "
            f"seed {args.seed}, params {method.params}",
            flush=True,
        )
        runs = {}
        for label, fn, extra in (
            ("direct arboreto loop", direct_loop, ()),
            ("ours threads=1", ours, (1,)),
            ("ours threads=2", ours, (2,)),
        ):
            t, w = timed(fn, method, data, args.seed, *extra, targets)
            runs[label] = (t, w)
            base = runs["direct arboreto loop"][0]["wall"]
            print(
                f"  {label:22s} {t['wall']:8.1f} s wall {t['cpu']:8.1f} s CPU "
                f"(CPU/wall {t['cpu'] / t['wall']:.2f})  direct/this {base / t['wall']:.3f}  "
                f"load {t['load']}",
                flush=True,
            )
        (t_a, w_a), (t_b, w_b), (t_c, w_c) = runs.values()
        print(
            f"  ours(1)/direct {t_b['wall'] / t_a['wall']:.3f} (target <= 1.1); "
            f"direct/ours(2) {t_a['wall'] / t_c['wall']:.3f} (target >= 1.8); "
            f"max |ours - direct| = {np.abs(w_b - w_a).max():.2e}; "
            f"threads 2 == 1: {np.array_equal(w_b, w_c)}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
