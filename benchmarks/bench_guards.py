"""Measured peak memory and seconds of each method against grnbench.guards' estimates.

    python benchmarks/bench_guards.py [--methods pcc mi ...] [--sizes 20,200,300 40,400,600]
                                      [--preset small] [--largest 1000]

Each (method, size) runs in a fresh process (peak RSS is per process): ``tiny_grn(T, G, C)`` from
tests/conftest.py, one thread, ``infer`` (unsupervised) or ``score_pairs`` on a GENELink split
(supervised). Prints measured seconds / peak MB (the method alone, not the workflow job's start)
next to the estimate's memory (which adds the job's base and the safety factor). With
``--largest C`` it also prints, per method, the largest gene count whose memory estimate fits
24 GiB at C cells (TFs = 10% of genes, paper defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {tests!r})
from conftest import tiny_grn
import torch
torch.set_num_threads(1)
method, T, G, C, preset = {method!r}, {T}, {G}, {C}, {preset!r}
from grnbench.methods import get
from grnbench.data.splits import genelink_split
d = tiny_grn(0, T, G, C)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cls = get(method)
m = cls(preset=preset, device="cpu")
t0 = time.perf_counter()
if cls.kind == "unsupervised":
    m.infer(d, seed=0, threads=1)
else:
    sp = genelink_split(d, seed=0)
    m.score_pairs(d, sp, sp[sp.Part == "test"][["TF", "Target"]], seed=0, threads=1)
s = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"s": s, "peak_mb": peak, "base_mb": base, "params": m.params}}, default=str))
"""


def measure(method: str, T: int, G: int, C: int, preset: str | None, timeout: int = 1800) -> dict:
    code = CHILD.format(tests=str(ROOT / "tests"), method=method, T=T, G=G, C=C, preset=preset)
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    if r.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    from grnbench.guards import cost_models, estimate, largest_genes, method_params

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="*", default=sorted(cost_models()))
    ap.add_argument("--sizes", nargs="*", default=["20,200,300"], help="T,G,C triples")
    ap.add_argument(
        "--preset", default="small", help="preset where the method has one ('none' = defaults)"
    )
    ap.add_argument(
        "--largest", type=int, default=None, help="cells for the 24 GiB largest-size table"
    )
    a = ap.parse_args(argv)
    print(
        f"{'method':24s} {'T,G,C':>14s} {'s':>8s} {'est_min':>8s} {'peak_mb':>8s} {'job_mb':>8s} {'est_mb':>8s}"
    )
    for method in a.methods:
        for size in a.sizes:
            T, G, C = map(int, size.split(","))
            from grnbench.methods import get

            preset = (
                a.preset if a.preset != "none" and a.preset in (get(method).presets or {}) else None
            )
            m = measure(method, T, G, C, preset)
            est = estimate(method, G, C, T, params=method_params(method, preset))
            # the workflow job's peak adds ~250 MB of snakemake/anndata start over this bare process
            job = m["peak_mb"] + 250
            print(
                f"{method:24s} {size:>14s} {m['s']:8.2f} {est['runtime_min']:8.2f} {m['peak_mb']:8.0f} "
                f"{job:8.0f} {est['mem_mb']:8.0f}",
                flush=True,
            )
    if a.largest:
        print(
            f"\nlargest gene count within 24 GiB at {a.largest} cells (TFs = 10% of genes, paper defaults):"
        )
        for method in sorted(cost_models()):
            g = largest_genes(method, a.largest, params=method_params(method))
            est = estimate(
                method, g, a.largest, max(1, round(0.1 * g)), params=method_params(method)
            )
            print(f"  {method:24s} {g:>8d} genes  ({est['runtime_min'] / 60:,.1f} h estimated)")


if __name__ == "__main__":
    main()
