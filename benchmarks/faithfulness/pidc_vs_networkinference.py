"""Faithfulness: our ``pidc`` against NetworkInference.jl's own PIDC reference file.

PIDC's original is Julia (Tchanders/NetworkInference.jl with InformationMeasures.jl), which
cannot run on this machine: Debian bookworm has no ``julia`` package and julialang.org and the
Julia package registry are not reachable (so neither ``jill`` nor ``juliacall`` can fetch one).
What can be checked: the package's own test fixture. ``test/runtests.jl`` infers
``PIDCNetworkInference()`` with the defaults (Bayesian blocks, maximum likelihood) on
``test/data/yeast1_10_data.txt`` (GeneNetWeaver Yeast1, 10 genes x 140 samples; first line
headers, then one gene per line) and requires its edges within 1e-4 of ``test/data/pidc.txt``.
This script runs ours (every gene a regulator, as BEELINE runs PIDC) on the same file and
compares all 90 directed weights of ``pidc.txt`` with ours.

    python benchmarks/faithfulness/pidc_vs_networkinference.py --original /path/to/NetworkInference.jl
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--original", type=Path, required=True, help="checkout of NetworkInference.jl")
    args = ap.parse_args(argv)
    from grnbench.data.dataset import GRNData, make_adata
    from grnbench.methods import registry

    data_dir = args.original / "test" / "data"
    rows = [ln.rstrip("\n").split("\t") for ln in (data_dir / "yeast1_10_data.txt").read_text().splitlines()[1:]]
    rows = [r for r in rows if r and r[0]]
    genes = [r[0] for r in rows]
    x = pd.DataFrame(np.array([[float(v) for v in r[1:]] for r in rows]).T, columns=genes)
    net = pd.DataFrame({"Gene1": [genes[0]], "Gene2": [genes[1]]})  # unused: no scoring here
    data = GRNData(make_adata(x, pd.Series(genes), net), name="yeast1_10")
    commit = subprocess.run(["git", "-C", str(args.original), "rev-parse", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    w = registry.get("pidc")().infer(data, seed=0)
    ref = pd.read_csv(data_dir / "pidc.txt", sep="\t", header=None, names=["Gene1", "Gene2", "weight"])
    tf_pos = {g: i for i, g in enumerate(data.tfs)}
    g_pos = {g: i for i, g in enumerate(data.genes)}
    ours = np.array([w[tf_pos[a], g_pos[b]] for a, b in zip(ref["Gene1"], ref["Gene2"])])
    diff = np.abs(ours - ref["weight"].to_numpy())
    same_order = bool((np.argsort(-ours, kind="stable") == np.argsort(-ref["weight"].to_numpy(), kind="stable")).all())
    print(f"NetworkInference.jl {commit}: {data.n_genes} genes x {data.n_cells} samples, "
          f"{len(ref)} PIDC weights in pidc.txt")
    print(f"max |ours - pidc.txt| = {diff.max():.2e} (runtests.jl's tolerance 1e-4); "
          f"same ranking: {same_order}; top edge {ref['Gene1'][0]}->{ref['Gene2'][0]} "
          f"{ref['weight'][0]:.6f} vs ours {ours[0]:.6f}")
    return 0 if diff.max() < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
