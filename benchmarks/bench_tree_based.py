"""Our GENIE3/GRNBoost2 wrapper against a direct loop over arboreto's per-target function.

    python benchmarks/bench_tree_based.py [--method grnboost2 genie3] [--tfs N] [--genes N]

Same data, same seed, same run: (a) a plain Python loop calling
``arboreto.core.infer_partial_network`` for every target (what arboreto's dask graph runs per
task), (b) our ``infer`` with threads=1, (c) our ``infer`` with threads=2. Prints seconds,
the ratios (b)/(a) and (c)/(a), and the largest difference between (a) and (b) importances.
Target: (b)/(a) <= 1.1 and (c)/(a) < 1.

Data: mDC TFs+500 (GENELink files); ``--tfs``/``--genes`` keep the first N TFs and the first N
genes in file order (regulators = kept TFs, targets = all kept genes), so GENIE3's 1000-tree
forests fit in a few minutes. Skips with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from arboreto.core import EARLY_STOP_WINDOW_LENGTH, infer_partial_network

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_unsupervised import MDC, load_genelink  # noqa: E402

from grnbench.data.dataset import GRNData  # noqa: E402
from grnbench.methods import registry  # noqa: E402

#: Default subset sizes per method (None = all); GENIE3's 1000 trees cost ~1.5 s per target.
SUBSET = {"grnboost2": (None, None), "genie3": (60, 120)}


def subset(data: GRNData, n_tfs: int | None, n_genes: int | None) -> GRNData:
    """First ``n_tfs`` TFs plus first non-TF genes up to ``n_genes`` genes, in file order."""
    if n_tfs is None and n_genes is None:
        return data
    tf_idx = np.flatnonzero(data.tf_mask)[: n_tfs or None]
    other = np.flatnonzero(~data.tf_mask)
    n_other = max(0, (n_genes or data.n_genes) - len(tf_idx))
    keep = np.sort(np.concatenate([tf_idx, other[:n_other]]))
    return GRNData(data.adata[:, keep].copy(), name=f"{data.name}[{len(tf_idx)} TFs/{len(keep)}]")


def direct_loop(method, data: GRNData, seed: int) -> tuple[float, np.ndarray]:
    """arboreto's per-target function over all targets; returns (seconds, importance matrix)."""
    x = data.expression()
    genes = data.genes
    tf_idx = np.flatnonzero(data.tf_mask)
    tf_matrix, tf_names = x[:, tf_idx], [genes[i] for i in tf_idx]
    kwargs = method.regressor_kwargs()
    window = method.params.get("early_stop_window_length", EARLY_STOP_WINDOW_LENGTH)
    t0 = time.perf_counter()
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
        for j in range(data.n_genes)
    ]
    seconds = time.perf_counter() - t0
    w = np.zeros((len(tf_idx), data.n_genes))
    pos = {g: i for i, g in enumerate(tf_names)}
    for j, df in enumerate(links):
        w[[pos[t] for t in df["TF"]], j] = df["importance"].to_numpy()
    return seconds, w


def timed_infer(method, data: GRNData, seed: int, threads: int) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    w = method.infer(data, seed=seed, threads=threads)
    return time.perf_counter() - t0, w


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=MDC)
    ap.add_argument("--method", nargs="+", default=["grnboost2", "genie3"])
    ap.add_argument("--tfs", type=int, default=None, help="override the per-method subset")
    ap.add_argument("--genes", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not (args.data / "BL--ExpressionData.csv").exists():
        print(f"SKIP: {args.data}/BL--ExpressionData.csv is absent (needs ../shared/data)")
        return 0
    full = load_genelink(args.data)
    for name in args.method:
        n_tfs, n_genes = SUBSET.get(name, (None, None))
        if args.tfs is not None or args.genes is not None:
            n_tfs, n_genes = args.tfs, args.genes
        data = subset(full, n_tfs, n_genes)
        method = registry.get(name)()
        print(
            f"{name} on {data.name}: {data.n_cells} cells, {len(data.tfs)} regulators, "
            f"{data.n_genes} targets, params {method.params}",
            flush=True,
        )
        t_direct, w_direct = direct_loop(method, data, args.seed)
        print(f"  direct arboreto loop      {t_direct:8.1f} s", flush=True)
        t_one, w_one = timed_infer(method, data, args.seed, threads=1)
        print(
            f"  ours threads=1            {t_one:8.1f} s   ratio {t_one / t_direct:.3f}", flush=True
        )
        t_two, w_two = timed_infer(method, data, args.seed, threads=2)
        print(
            f"  ours threads=2            {t_two:8.1f} s   ratio {t_two / t_direct:.3f}", flush=True
        )
        print(
            f"  max |ours - direct| = {np.abs(w_one - w_direct).max():.2e}; "
            f"threads 2 == 1: {np.array_equal(w_one, w_two)}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
