"""Wall and CPU seconds of a whole workflow run (the default config unless told), per rule.

    python benchmarks/bench_default_run.py [--configfile config/config.yaml] [--cores 2]
                                           [--out /tmp/bench_default] [--compare OTHER/tables/metrics.tsv]
    python benchmarks/bench_default_run.py --summarise RESULTS   # an existing run's benchmark files

Runs ``snakemake --cores N --config results=OUT`` from the repository root into a fresh ``OUT``
and prints its wall seconds, the CPU seconds (user + system) of Snakemake and every job it ran
(``getrusage(RUSAGE_CHILDREN)``: less sensitive to other load than wall time), the load average
before and after, the number of jobs, and per rule the jobs and the CPU seconds their
``benchmark:`` files record. ``--compare`` checks the run's ``metrics.tsv`` against another's,
row for row apart from the runtime and memory columns (the check of issue 17: a refactor leaves
every number as it was). Target (issue 16): the default config within 5 minutes on 2 idle cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_COLUMNS = ["runtime_s", "max_rss_mb"]
KEY = ["dataset", "network", "geneset", "split", "method", "seed", "scope"]


def per_rule(results: Path) -> pd.DataFrame:
    """Jobs, wall and CPU seconds per rule from ``results/benchmarks/<rule>/...tsv``."""
    rows = []
    for f in sorted((results / "benchmarks").rglob("*.tsv")):
        rel = f.relative_to(results / "benchmarks")
        rule = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        b = pd.read_csv(f, sep="\t")
        rows.append({"rule": rule, "s": float(b["s"].iloc[0]), "cpu_s": float(b["cpu_time"].iloc[0])})
    df = pd.DataFrame(rows, columns=["rule", "s", "cpu_s"])
    out = df.groupby("rule").agg(jobs=("s", "size"), wall_s=("s", "sum"), cpu_s=("cpu_s", "sum"))
    return out.sort_values("cpu_s", ascending=False)


def compare(a_path: Path, b_path: Path) -> bool:
    """True when two metrics.tsv agree row for row apart from the runtime columns; prints why not."""
    a = pd.read_csv(a_path, sep="\t", keep_default_na=False)
    b = pd.read_csv(b_path, sep="\t", keep_default_na=False)
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        print(f"differ in shape: {a.shape} vs {b.shape}, columns equal: {list(a.columns) == list(b.columns)}")
        return False
    cols = [c for c in a.columns if c not in RUNTIME_COLUMNS]
    a = a[cols].sort_values(KEY).reset_index(drop=True)
    b = b[cols].sort_values(KEY).reset_index(drop=True)
    same = True
    for c in cols:
        diff = a[c].astype(str) != b[c].astype(str)
        if diff.any():
            same = False
            print(f"column {c}: {int(diff.sum())} rows differ, methods {sorted(set(a.loc[diff, 'method']))}")
    return same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configfile", default=None)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_default"))
    ap.add_argument("--compare", type=Path, default=None, help="another run's tables/metrics.tsv")
    ap.add_argument("--summarise", type=Path, default=None, help="print an existing results folder's per-rule costs")
    ap.add_argument("--snakemake-args", nargs=argparse.REMAINDER, default=[],
                    help="the rest of the line goes to snakemake (e.g. --scheduler greedy)")
    args = ap.parse_args()
    if args.summarise:
        t = per_rule(args.summarise)
        print(t.to_string(float_format=lambda x: f"{x:.1f}"))
        print(f"jobs with a benchmark file: {int(t['jobs'].sum())}, their CPU seconds: {t['cpu_s'].sum():.0f}")
        return 0
    shutil.rmtree(args.out, ignore_errors=True)
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), "--config", f"results={args.out}"]
    if args.configfile:
        cmd[3:3] = ["--configfile", args.configfile]
    cmd += args.snakemake_args
    load0 = os.getloadavg()
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    load1 = os.getloadavg()
    if r.returncode != 0:
        print(r.stdout[-3000:], r.stderr[-3000:], sep="\n")
        print(f"snakemake failed ({r.returncode})")
        return r.returncode
    user, system = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
    jobs = (r.stdout + r.stderr).count("Finished job")
    print(f"{' '.join(cmd[1:])}\n  wall {wall:.0f} s, CPU {user + system:.0f} s ({user:.0f} user + {system:.0f} system), "
          f"{jobs} jobs, load average before {load0[0]:.2f}, after {load1[0]:.2f} (1 min)")
    t = per_rule(args.out)
    print(t.to_string(float_format=lambda x: f"{x:.1f}"))
    print(f"  jobs' benchmark files: {t['cpu_s'].sum():.0f} CPU s; the rest, {user + system - t['cpu_s'].sum():.0f} CPU s, "
          "is Snakemake itself (planning, scheduling, starting each job) and what the files miss")
    if args.compare:
        same = compare(args.out / "tables" / "metrics.tsv", args.compare)
        print(f"metrics.tsv identical to {args.compare} apart from {RUNTIME_COLUMNS}: {same}")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
