"""How long planning takes: ``snakemake -n`` of a config, wall and CPU seconds, and whether the
Snakefile imported torch, AnnData or matplotlib (every cluster job parses it too).

    python benchmarks/bench_planning.py [--configfile config/config.yaml] [--repeat 3]

Target (issue 16): a dry run of the default config < 5 s; no method module imported.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"torch", "anndata", "matplotlib", "torch_geometric", "scanpy", "sklearn"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configfile", default="config/config.yaml")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-X", "importtime", "-m", "snakemake", "-n", "--configfile",
                                args.configfile, "--config", f"results={tmp}/res"], cwd=ROOT, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
            loaded = {ln.rsplit("|", 1)[1].strip() for ln in r.stderr.splitlines() if ln.startswith("import time:")}
            print(f"run {i + 1}: rc {r.returncode}, wall {wall:.2f} s, cpu {cpu:.2f} s, heavy modules imported: "
                  f"{sorted(loaded & HEAVY) or 'none'}")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
