"""What the matrix-scoring referee scripts (arboreto, PPCOR, SCODE) share: test-pair scores from a
TF x gene weight matrix, mean +- sd, and the GENELink-folder arguments. Imported by those scripts
(run as ``python benchmarks/faithfulness/<script>.py``, so this folder is on ``sys.path``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
MODE = {"specific": "hard", "nonspecific": "density"}  # training negatives per network (GENELink's)


def test_scores(w: np.ndarray, split: pd.DataFrame, tfs: list[str], genes: list[str]) -> dict:
    """AUROC / AUPRC (average precision) of ``w[tf, gene]`` on the split's test pairs."""
    test = split[split["Part"] == "test"]
    tf_pos = {g: i for i, g in enumerate(tfs)}
    g_pos = {g: i for i, g in enumerate(genes)}
    s = w[[tf_pos[t] for t in test["TF"]], [g_pos[g] for g in test["Target"]]]
    y = test["Label"].to_numpy()
    return {"auroc": float(roc_auc_score(y, s)), "auprc": float(average_precision_score(y, s)),
            "n_test": int(len(y)), "n_pos": int(y.sum())}


def msd(v) -> str:
    v = np.asarray(v, dtype=float)
    return f"{v.mean():.4f} +- {v.std(ddof=1) if len(v) > 1 else 0.0:.4f}"


def add_data_args(ap: argparse.ArgumentParser) -> None:
    """--data (GENELink folders), --network, --cell, --num, --seeds."""
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "genelink")
    ap.add_argument("--network", choices=sorted(MODE), default="specific")
    ap.add_argument("--cell", default="mDC")
    ap.add_argument("--num", default="tfs500")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
