"""Referee: grnbench.evaluate.beeline_eval against BEELINE's own BLEval evaluators.

BEELINE is not part of this project: point ``--beeline`` at a checkout of Murali-group/Beeline
(v1.1; a folder holding ``BLEval/``). The script lays out BLEval's own input/output folders in a
temporary directory (GSD's ``GroundTruthNetwork.csv`` with its Type column; three runs = Pearson
/ Spearman correlations of GSD ex1 over three random 70% subsets of the cells; seven prediction
files per run: ``pcc``, ``scc`` and five hostile variants of ``pcc``), runs BLEval's evaluator
classes ``SignedEarlyPrecision``, ``Jaccard``, ``Spearman``, ``Motifs`` and ``Borda`` on it
exactly as ``BLEvaluator.py`` would, reads the CSV files they write (``float_precision="round_trip"``, so a value is BLEval's to the
last bit), and prints them beside our
functions on the same files (read back from the same CSVs).

    python benchmarks/faithfulness/bleval_extra_referee.py --beeline /path/to/Beeline
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
GSD = ROOT.parent / "shared" / "data" / "beeline_example" / "GSD"
RUNS = ("r0", "r1", "r2")


def _pairs(c: np.ndarray, g: list[str]) -> pd.DataFrame:
    return pd.DataFrame([(g[i], g[j], c[i, j]) for i in range(len(g)) for j in range(len(g)) if i != j],
                        columns=["Gene1", "Gene2", "EdgeWeight"])


def corr(x: np.ndarray) -> np.ndarray:
    """Pearson correlation of the rows, bit-for-bit symmetric and the same on every machine and
    thread count (einsum, no BLAS: np.corrcoef's last bits move with OpenBLAS threading, which
    moves ties between a pair and its reverse)."""
    z = x - x.mean(axis=1, keepdims=True)
    z = z / np.sqrt(np.einsum("ik,ik->i", z, z))[:, None]
    return np.einsum("ik,jk->ij", z, z)


def run_predictions(run: int) -> dict[str, pd.DataFrame]:
    """Run ``run``'s seven prediction files (the same construction as tests/test_beeline_eval.py)."""
    x = pd.read_csv(GSD / "ex1" / "ExpressionData.csv", index_col=0, float_precision="round_trip")
    rng = np.random.default_rng(run)
    cells = np.sort(rng.choice(x.shape[1], size=int(0.7 * x.shape[1]), replace=False))
    xs = x.to_numpy()[:, cells]
    g = list(x.index)
    pcc = _pairs(corr(xs), g)
    ranks = np.argsort(np.argsort(xs, axis=1), axis=1).astype(float)
    scc = _pairs(corr(ranks), g)
    r2 = np.random.default_rng(100 + run)
    return {
        "pcc": pcc,
        "scc": scc,
        "pcc_ties": pcc.assign(EdgeWeight=np.round(pcc.EdgeWeight, 1)),
        "pcc_missing": pcc.sample(150, random_state=run),
        "pcc_dupes_signed": pd.concat([pcc, pcc.assign(EdgeWeight=-2 * pcc.EdgeWeight).iloc[:40]]),
        "pcc_outside": pd.concat([pcc, pd.DataFrame({"Gene1": ["XX", "SOX9"], "Gene2": ["SOX9", "SOX9"],
                                                     "EdgeWeight": [9.0, 9.0]})]),
        "pcc_zeros": pcc.assign(EdgeWeight=np.where(r2.random(len(pcc)) < 0.7, 0.0, pcc.EdgeWeight)),
    }


def layout(root: Path) -> dict:
    """BLEval's folders (inputs/GSD/..., outputs/GSD/<run>/<algo>/rankedEdges.csv) and config."""
    (root / "inputs" / "GSD").mkdir(parents=True)
    (root / "inputs" / "GSD" / "GroundTruthNetwork.csv").write_bytes((GSD / "GroundTruthNetwork.csv").read_bytes())
    algos = []
    for i, run in enumerate(RUNS):
        for algo, e in run_predictions(i).items():
            d = root / "outputs" / "GSD" / run / algo
            d.mkdir(parents=True)
            e.to_csv(d / "rankedEdges.csv", sep="\t", index=False)
            if algo not in algos:
                algos.append(algo)
    return {
        "input_settings": {"input_dir": "inputs", "datasets": [{"dataset_id": "GSD", "runs": [{"run_id": r} for r in RUNS]}],
                           "algorithms": [{"algorithm_id": a, "should_run": [True]} for a in algos]},
        "output_settings": {"output_dir": "outputs"},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--beeline", required=True, help="a Beeline checkout (holds BLEval/)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(args.beeline).resolve()))
    from BLEval.Borda import Borda
    from BLEval.data import EvaluationData
    from BLEval.Jaccard import Jaccard
    from BLEval.Motifs import Motifs
    from BLEval.SignedEarlyPrecision import SignedEarlyPrecision
    from BLEval.Spearman import Spearman

    from grnbench.evaluate import beeline_eval as be

    commit = subprocess.run(["git", "-C", args.beeline, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"BEELINE checkout {args.beeline} at {commit or 'unknown commit (not a git checkout)'}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = layout(root)
        data = EvaluationData(config, root)
        for ev in (SignedEarlyPrecision(), Jaccard(), Spearman(), Motifs(), Borda()):
            ev(data)
        out = root / "outputs" / "GSD"
        gt = pd.read_csv(root / "inputs" / "GSD" / "GroundTruthNetwork.csv")
        files = {(r, a): pd.read_csv(out / r / a / "rankedEdges.csv", sep="\t")  # as BLEval reads them
                 for r in RUNS for a in [x["algorithm_id"] for x in config["input_settings"]["algorithms"]]}
        algos = list(dict.fromkeys(a for _, a in files))
        rows = []
        ref = {"epr_activation": pd.read_csv(out / "EarlyPrecisionActivation.csv", index_col=0, float_precision="round_trip"),
               "epr_inhibitory": pd.read_csv(out / "EarlyPrecisionInhibitory.csv", index_col=0, float_precision="round_trip"),
               "fbl_ratio": pd.read_csv(out / "motifs_FBL.csv", index_col=0, float_precision="round_trip"),
               "ffl_ratio": pd.read_csv(out / "motifs_FFL.csv", index_col=0, float_precision="round_trip"),
               "mi_ratio": pd.read_csv(out / "motifs_MI.csv", index_col=0, float_precision="round_trip")}
        for (run, algo), e in files.items():
            act, inh = be.signed_early_precision(e, gt)
            ours = {"epr_activation": act, "epr_inhibitory": inh, **be.motif_ratios(e, gt)}
            for m, v in ours.items():
                rows.append({"file": f"{run}/{algo}", "metric": m, "bleval": float(ref[m].loc[algo, run]), "grnbench": v})
        jac = pd.read_csv(out / "Jaccard.csv", index_col=0, float_precision="round_trip")
        spe = pd.read_csv(out / "Spearman.csv", index_col=0, float_precision="round_trip")
        k = int((gt.Gene1 != gt.Gene2).sum())
        genes = set(gt.Gene1) | set(gt.Gene2)
        for algo in algos:
            runs = [files[(r, algo)] for r in RUNS]
            jm, jd = be.jaccard_median_mad([be.top_k_edges(e, k) for e in runs])
            sm, sd = be.spearman_median_mad(runs, genes)
            for m, b, v in (("MedianJaccard", jac.loc[algo, "MedianJaccard"], jm), ("MADJaccard", jac.loc[algo, "MADJaccard"], jd),
                            ("MedianSpearman", spe.loc[algo, "MedianSpearman"], sm), ("MADSpearman", spe.loc[algo, "MADSpearman"], sd)):
                rows.append({"file": f"runs/{algo}", "metric": m, "bleval": float(b), "grnbench": v})
        bor = pd.read_csv(out / "Borda.csv", float_precision="round_trip")
        ours_b = be.borda_runs([{a: files[(r, a)] for a in algos} for r in RUNS])
        merged = bor.merge(ours_b, on=["Gene1", "Gene2"], suffixes=("_bleval", "_grnbench"), how="outer")
        for col in be.AGGREGATIONS.values():
            d = np.abs(merged[f"{col}_bleval"] - merged[f"{col}_grnbench"])
            rows.append({"file": f"Borda.csv ({len(merged)} edges)", "metric": f"max |diff| {col}", "bleval": 0.0,
                         "grnbench": float(d.max()) if d.notna().all() else float("nan")})
        top = bor.head(3)
        print("BLEval Borda.csv, top 3:\n" + top.to_string(index=False))
    t = pd.DataFrame(rows)
    t["diff"] = t["grnbench"] - t["bleval"]
    both_nan = t["bleval"].isna() & t["grnbench"].isna()
    pd.set_option("display.max_rows", 500)
    print(t.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    worst = float(np.nanmax(np.abs(t["diff"].to_numpy()))) if (~both_nan).any() else 0.0
    one_nan = int((t["bleval"].isna() ^ t["grnbench"].isna()).sum())
    print(f"{len(t)} values; NaN in both: {int(both_nan.sum())}; NaN in one only: {one_nan}; largest |difference|: {worst:.3g}")
    return 0 if worst < 1e-9 and one_nan == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
