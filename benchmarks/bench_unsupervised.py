"""Time every unsupervised baseline on mDC TFs+500 (GENELink files) and score it.

    python benchmarks/bench_unsupervised.py [--methods genie3 pidc ...] [--threads 1]

Scores: AUROC and AUPRC (average precision, sklearn) over all TF -> gene pairs of the gene set
(self pairs excluded) against BL--network.csv; "ratio" = AUPRC / edge density (the random
predictor's AUPRC). Skips with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from grnbench.data.dataset import GRNData, make_adata
from grnbench.methods import registry

ROOT = Path(__file__).resolve().parents[1]
MDC = ROOT.parent / "shared" / "data" / "genelink" / "specific" / "mDC" / "tfs500"
METHODS = ["random", "pcc", "mi", "pidc", "ppcor", "scode", "grnboost2", "genie3"]


def load_genelink(folder: Path, name: str = "mDC/specific/tfs500") -> GRNData:
    """GRNData from a GENELink folder: BL--ExpressionData.csv (genes x cells), TF.csv, network."""
    expr = pd.read_csv(folder / "BL--ExpressionData.csv", index_col=0)
    tfs = pd.read_csv(folder / "TF.csv", index_col=0)["TF"].astype(str)
    net = pd.read_csv(folder / "BL--network.csv")[["Gene1", "Gene2"]]
    adata = make_adata(expr.T, tfs, net, provenance={"source": str(folder)})
    return GRNData(adata, name=name)


def tf_gene_labels(data: GRNData) -> tuple[np.ndarray, np.ndarray]:
    """Labels of all TF x gene pairs and the mask without self pairs."""
    tf_pos = {g: i for i, g in enumerate(data.tfs)}
    lab = np.zeros((len(data.tfs), data.n_genes), dtype=np.int8)
    net = data.network
    net = net[net["Gene1"].isin(tf_pos) & net["Gene2"].isin(set(data.genes))]
    lab[[tf_pos[g] for g in net["Gene1"]], data.gene_idx(net["Gene2"].to_numpy())] = 1
    mask = np.ones(lab.shape, dtype=bool)
    mask[np.arange(len(data.tfs)), np.flatnonzero(data.tf_mask)] = False
    return lab, mask


def score(data: GRNData, w: np.ndarray) -> dict[str, float]:
    lab, mask = tf_gene_labels(data)
    y, s = lab[mask], np.asarray(w, dtype=np.float64)[mask]
    ap = float(average_precision_score(y, s))
    return {"auroc": float(roc_auc_score(y, s)), "auprc": ap, "ratio": ap / float(y.mean())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=MDC)
    ap.add_argument("--methods", nargs="+", default=METHODS)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not (args.data / "BL--ExpressionData.csv").exists():
        print(f"SKIP: {args.data}/BL--ExpressionData.csv is absent (needs ../shared/data)")
        return 0
    data = load_genelink(args.data)
    lab, mask = tf_gene_labels(data)
    print(
        f"{data.name}: {data.n_cells} cells, {data.n_genes} genes, {len(data.tfs)} TFs, "
        f"{int(lab.sum())} edges over {int(mask.sum())} TF->gene pairs "
        f"(density {lab[mask].mean():.4f}); threads={args.threads}, seed={args.seed}"
    )
    print(f"{'method':10s} {'seconds':>9s} {'AUROC':>7s} {'AUPRC':>7s} {'ratio':>6s}  labels")
    for name in args.methods:
        method = registry.get(name)()
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            w = method.infer(data, seed=args.seed, threads=args.threads)
        seconds = time.perf_counter() - t0
        m = score(data, w)
        notes = dict(method.labels)
        if caught:
            notes["warnings"] = sorted({str(c.message)[:80] for c in caught})
        print(
            f"{name:10s} {seconds:9.1f} {m['auroc']:7.3f} {m['auprc']:7.3f} {m['ratio']:6.2f}  "
            f"{notes if notes else ''}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
