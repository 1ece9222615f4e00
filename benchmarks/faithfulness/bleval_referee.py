"""Referee: our ``beeline`` scope against BEELINE's own BLEval on the same prediction files.

BEELINE is not part of this project: point ``--beeline`` at a checkout of Murali-group/Beeline
(v1.1; the commit used is printed). Without ``--edges`` it scores Pearson correlation on BEELINE's
GSD example (``../shared/data/beeline_example``) plus five hostile variants of that file (ties,
missing pairs, duplicated signed pairs, genes outside the truth, zeros).

    python benchmarks/faithfulness/bleval_referee.py --beeline /path/to/Beeline
    python benchmarks/faithfulness/bleval_referee.py --beeline /path/to/Beeline \
        --network GroundTruthNetwork.csv --edges rankedEdges.csv [...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
GSD = ROOT.parent / "shared" / "data" / "beeline_example" / "GSD"


def gsd_cases() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    gt = pd.read_csv(GSD / "GroundTruthNetwork.csv")
    x = pd.read_csv(GSD / "ex1" / "ExpressionData.csv", index_col=0)
    c = np.corrcoef(x.to_numpy())
    g = list(x.index)
    e = pd.DataFrame([(g[i], g[j], c[i, j]) for i in range(len(g)) for j in range(len(g)) if i != j],
                     columns=["Gene1", "Gene2", "EdgeWeight"])
    rng = np.random.default_rng(0)
    cases = {
        "pcc": e,
        "pcc_ties": e.assign(EdgeWeight=np.round(e.EdgeWeight, 1)),
        "pcc_missing": e.sample(150, random_state=1),
        "pcc_dupes_signed": pd.concat([e, e.assign(EdgeWeight=-2 * e.EdgeWeight).iloc[:40]]),
        "pcc_outside": pd.concat([e, pd.DataFrame({"Gene1": ["XX", "SOX9"], "Gene2": ["SOX9", "SOX9"], "EdgeWeight": [9.0, 9.0]})]),
        "pcc_zeros": e.assign(EdgeWeight=np.where(rng.random(len(e)) < 0.7, 0.0, e.EdgeWeight)),
    }
    return gt, cases


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--beeline", required=True, help="a Beeline checkout (holds BLEval/)")
    ap.add_argument("--network", help="ground truth (Gene1,Gene2[,Type]); default: GSD's")
    ap.add_argument("--edges", nargs="*", help="prediction files (Gene1,Gene2,EdgeWeight)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(args.beeline).resolve()))
    from BLEval.AUPRC import _compute_auprc
    from BLEval.AUROC import _compute_auroc
    from BLEval.EarlyPrecision import _build_edge_universe, _compute_early_precision

    from grnbench.evaluate.metrics import beeline_scores

    commit = subprocess.run(["git", "-C", args.beeline, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"BEELINE checkout {args.beeline} at {commit or 'unknown commit'}")
    if args.edges:
        gt = pd.read_csv(args.network)
        cases = {Path(f).name: pd.read_csv(f) for f in args.edges}
    else:
        gt, cases = gsd_cases()
    pe, te = _build_edge_universe(gt, True)
    rows = []
    for name, e in cases.items():
        ours = beeline_scores(e, gt)
        ref = {"auroc": _compute_auroc(e, gt), "auprc_trapz": _compute_auprc(e, gt),
               "epr": _compute_early_precision(e, te, pe, True)}
        for m, v in ref.items():
            rows.append({"file": name, "metric": m, "bleval": v, "grnbench": ours[m], "diff": ours[m] - v})
    t = pd.DataFrame(rows)
    print(t.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    worst = float(np.nanmax(np.abs(t["diff"].to_numpy())))
    print(f"largest |difference|: {worst:.3g}")
    return 0 if worst < 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
