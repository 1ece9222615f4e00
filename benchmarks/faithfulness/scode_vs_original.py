"""Faithfulness: our ``scode`` against SCODE's own R code (hmatsu1226/SCODE, ``SCODE.R``).

SCODE is not part of this project: point ``--original`` at a checkout of hmatsu1226/SCODE (the
commit used is printed). For every seed the script

1. computes one pseudotime for both sides: our ``scode.diffusion_pseudotime`` of the seed (mDC has
   no pseudotime; ours computes exactly this one when a dataset has none), written as SCODE's
   time file (cell index, t / max(t));
2. runs the original as ``run_R.rb`` does (ruby need not be installed; the loop is repeated
   here): ``Rscript SCODE.R <expr> <time> <dir>/out_i G D C I`` for i = 1..R, then
   ``Rscript averageA.R <dir> R``, with G = every gene (BEELINE's setting), D = z, C = cells,
   I = iterations. SCODE.R sets no seed, so each call is run through a one-line shim that calls
   ``set.seed(1000 * seed + i)`` and then ``source("SCODE.R")`` with the same arguments (the only
   change: a reproducible R random stream);
3. runs ours (``grnbench.methods.get("scode")(z=, n_iter=, n_rep=)``) on the same expression and
   pseudotime with the same seed;

and scores both on the test pairs of our GENELink-protocol split of the seed: TF -> gene is
|A[gene, TF]| (SCODE's README: "Aij represents the regulatory relationship from TF j to TF i";
our default ``orientation: ode``); BEELINE's parser reads A row -> column, printed too. Prints
per-seed and mean +- sd AUROC / AUPRC, the difference, wall / CPU seconds (R: the Rscript child
processes) and the ``uptime`` load. SCODE.R fits one ``lm`` per gene per iteration, ~0.5 s per
iteration on mDC's 821 genes: ``--n-iter`` / ``--n-rep`` lower BEELINE's 1000 x 6 on both sides.

    python benchmarks/faithfulness/scode_vs_original.py --original /path/to/SCODE \
        --data ../shared/data/genelink --seeds 0 1 2 --n-iter 100 --n-rep 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MODE, add_data_args, msd, test_scores  # noqa: E402

SHIM = 'set.seed({seed}); commandArgs <- function(trailingOnly = TRUE) c({args}); source("{src}")'


def load() -> str:
    return os.popen("uptime").read().strip().split("load average:")[-1].strip()


def commit_of(checkout: Path) -> str:
    r = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or "unknown (not a git work tree)"


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rscript(src: Path, args: list[str], seed: int | None, cwd: Path) -> None:
    if seed is None:
        cmd = ["Rscript", str(src), *args]
    else:
        quoted = ", ".join(f'"{a}"' for a in args)
        cmd = ["Rscript", "-e", SHIM.format(seed=seed, args=quoted, src=src)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-3000:]}")


def run_original(original: Path, x: np.ndarray, t: np.ndarray, seed: int, z: int, n_iter: int,
                 n_rep: int, tmp: Path) -> dict:
    """SCODE.R x n_rep + averageA.R (run_R.rb's loop); x genes x cells, t in [0, 1]."""
    expr, tfile, out = tmp / "exp.txt", tmp / "time.txt", tmp / "out"
    np.savetxt(expr, x, delimiter="\t", fmt="%.17g")
    np.savetxt(tfile, np.column_stack([np.arange(len(t)), t]), delimiter="\t", fmt=["%d", "%.17g"])
    out.mkdir()
    c0, t0 = child_cpu(), time.perf_counter()
    for i in range(1, n_rep + 1):
        rscript(original / "SCODE.R", [str(expr), str(tfile), str(out / f"out_{i}"), str(x.shape[0]),
                                       str(z), str(x.shape[1]), str(n_iter)], 1000 * seed + i, tmp)
    rscript(original / "averageA.R", [str(out), str(n_rep)], None, tmp)
    wall, cpu = time.perf_counter() - t0, child_cpu() - c0
    a = np.loadtxt(out / "meanA.txt", delimiter="\t")
    return {"A": a, "wall_s": wall, "cpu_s": cpu, "load": load()}






def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--original", type=Path, required=True, help="checkout of hmatsu1226/SCODE")
    add_data_args(ap)
    ap.add_argument("--z", type=int, default=10)
    ap.add_argument("--n-iter", type=int, default=1000)
    ap.add_argument("--n-rep", type=int, default=6)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.n_rep < 2:
        raise SystemExit("--n-rep must be >= 2: averageA.R loops over 2:repnum")
    folder = args.data / args.network / args.cell / args.num
    if not (folder / "BL--ExpressionData.csv").exists():
        print(f"SKIP: {folder}/BL--ExpressionData.csv is absent (needs ../shared/data)")
        return 0
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_unsupervised import load_genelink

    from grnbench.data.dataset import GRNData
    from grnbench.data.splits import genelink_split
    from grnbench.methods import registry
    from grnbench.methods.scode import diffusion_pseudotime

    data = load_genelink(folder, name=f"{args.cell}/{args.network}/{args.num}")
    tfs, genes = list(data.tfs), list(data.genes)
    tf_idx = np.flatnonzero(data.tf_mask)
    x64 = data.expression(np.float64)
    print(f"SCODE {commit_of(args.original)} ({args.original}); {data.name}: {data.n_cells} cells, "
          f"{data.n_genes} genes, {len(tfs)} TFs; z={args.z}, {args.n_iter} iterations, "
          f"{args.n_rep} repeats; load {load()}")
    rows = []
    for seed in args.seeds:
        pt = diffusion_pseudotime(x64, seed)
        keep = np.isfinite(pt)
        t = pt[keep] / pt[keep].max()
        with tempfile.TemporaryDirectory() as tmp:
            orig = run_original(args.original, x64[keep].T, t, seed, args.z, args.n_iter, args.n_rep, Path(tmp))
        ad = data.adata.copy()
        ad.obs["pseudotime"] = pt
        method = registry.get("scode")(z=args.z, n_iter=args.n_iter, n_rep=args.n_rep)
        c0, t0 = self_cpu(), time.perf_counter()
        w_ours = method.infer(GRNData(ad, name=data.name), seed=seed, threads=1)
        ours = {"wall_s": time.perf_counter() - t0, "cpu_s": self_cpu() - c0, "load": load()}
        a = orig["A"]
        w_ode = np.abs(a[:, tf_idx].T)
        w_bee = np.abs(a[tf_idx, :])
        for w in (w_ode, w_bee):
            w[np.arange(len(tf_idx)), tf_idx] = 0.0
        split = genelink_split(data, seed, mode=MODE[args.network])
        so = test_scores(w_ours, split, tfs, genes)
        sr = test_scores(w_ode, split, tfs, genes)
        sb = test_scores(w_bee, split, tfs, genes)
        rows.append({"seed": seed, "ours": {**so, **ours}, "original": {**sr, **{k: v for k, v in orig.items() if k != "A"}},
                     "original_beeline_orientation": sb, "cells": int(keep.sum())})
        print(f"seed {seed} ({int(keep.sum())} cells with pseudotime): AUROC original {sr['auroc']:.4f} "
              f"ours {so['auroc']:.4f} (diff {so['auroc'] - sr['auroc']:+.4f}); AUPRC {sr['auprc']:.4f} / "
              f"{so['auprc']:.4f}; original read row -> column (BEELINE) AUROC {sb['auroc']:.4f}")
        print(f"   original {orig['wall_s']:.1f} s wall {orig['cpu_s']:.1f} s CPU (load {orig['load']}); "
              f"ours {ours['wall_s']:.1f} s wall {ours['cpu_s']:.1f} s CPU (load {ours['load']}); "
              f"ours/original CPU {ours['cpu_s'] / orig['cpu_s']:.3f}", flush=True)
    summ = {}
    for m in ("auroc", "auprc"):
        vo, vr = [r["ours"][m] for r in rows], [r["original"][m] for r in rows]
        summ[m] = float(np.mean(vo) - np.mean(vr))
        print(f"{m.upper()}: original {msd(vr)} ours {msd(vo)} diff {summ[m]:+.4f}")
    if args.json:
        args.json.write_text(json.dumps({"seeds": rows, "diff": summ, "n_iter": args.n_iter,
                                         "n_rep": args.n_rep, "z": args.z}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
