"""Cost of a split protocol's training set: one supervised method on mDC TFs+500 (Non-Specific
network by default) with hard vs density (1:1) training negatives, for tf_holdout and
degree_matched. Prints training pairs, wall and CPU seconds and test AUROC per arm.

    python benchmarks/bench_split_training.py [--network nonspecific] [--method genelink] [--seed 0]

Target (issue 16): Non-Specific / STRING jobs on tf_holdout / degree_matched train on GENELink's
1:1 protocol (the workflow's default for those networks) in seconds, not minutes.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "genelink"


def main(argv=None) -> int:
    from grnbench import pipeline as pl
    from grnbench.data.dataset import write_h5ad
    from grnbench.data.readers import read_genelink_folder

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--network", default="nonspecific")
    ap.add_argument("--method", default="genelink")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--protocols", nargs="*", default=["tf_holdout", "degree_matched"])
    args = ap.parse_args(argv)
    data = read_genelink_folder(SHARED / args.network / "mDC" / "tfs500", name=f"mDC/{args.network}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        write_h5ad(data.adata, out / "d.h5ad")
        for proto in args.protocols:
            for mode in ("density", "hard"):
                split = out / f"{proto}_{mode}.csv"
                s = pl.make_split(out / "d.h5ad", split, protocol=proto, seed=args.seed, network=args.network,
                                  params={"mode": mode})
                job = out / f"{proto}_{mode}"
                t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
                pl.run_method(out / "d.h5ad", split, job / "edges.csv", job / "run.json", method=args.method,
                              seed=args.seed, preset=args.preset, threads=1, checkpoint_interval_s=None)
                wall, cpu = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_utime - c0
                m = pl.evaluate(out / "d.h5ad", split, job / "edges.csv", job / "m.json", run_path=job / "run.json")
                print(f"{proto:15s} {mode:8s} train pairs {s['train']['pairs']:7d} ({s['train']['positive_rate']:.3f} pos): "
                      f"wall {wall:7.1f} s, cpu {cpu:7.1f} s, test AUROC {m['scopes']['test']['auroc']:.3f}, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
