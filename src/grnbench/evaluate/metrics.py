"""Scores of a ranking against labels: AUROC, AUPRC (two definitions), AUPRC ratio, EPR, per-TF AUROC.

Two AUPRC definitions are reported and named:

- ``auprc``: average precision (scikit-learn's ``average_precision_score``), as GENELink and
  scRegNet report it;
- ``auprc_trapz``: area under the precision-recall curve by the trapezoid rule, as BEELINE
  computes it (``sklearn.metrics.auc(recall, precision)``).

``auprc_ratio`` divides ``auprc`` by the random predictor's AUPRC, which is the density
(positive rate) of the scored pairs. ``epr`` is BEELINE's early precision ratio: with
k = number of positives among the pairs, take the top-k pairs by score *including ties* with the
k-th score (pairs with weight 0 are not predictions, as in BEELINE), and divide their precision by
the density.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    auc,
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from grnbench.errors import InputError

METRICS = ("auroc", "auprc", "auprc_trapz", "auprc_ratio", "epr", "per_tf_auroc")


def _check(y, s):
    """Labels exactly 0/1 (numeric or bool, 1-D) and finite numeric scores of the same length."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise InputError("metrics", f"labels must be one-dimensional, got shape {y.shape}")
    if y.dtype.kind not in "biuf":
        raise InputError("metrics", f"labels must be numbers 0 or 1, got dtype {y.dtype}")
    if len(y) and not np.isin(y, (0, 1)).all():
        raise InputError("metrics", "labels must be exactly 0 or 1")
    try:
        s = np.asarray(s, dtype=float)
    except (TypeError, ValueError) as e:
        raise InputError("metrics", f"scores must be numbers ({e})") from e
    if s.shape != y.shape:
        raise InputError("metrics", f"labels and scores differ in length/shape ({y.shape} vs {s.shape})")
    if not np.all(np.isfinite(s)):
        raise InputError("metrics", f"{int((~np.isfinite(s)).sum())} scores are NaN or infinite")
    return y.astype(int), s


def early_precision_ratio(y, s) -> float:
    """BEELINE's EPR (ties with the k-th score included; zero-weight pairs excluded)."""
    y, s = _check(y, s)
    k = int(y.sum())
    density = k / len(y) if len(y) else float("nan")
    nz = s != 0
    if k == 0 or not nz.any():
        return float("nan") if k == 0 else 0.0
    ranked = np.sort(s[nz])[::-1]
    kth = ranked[min(k, len(ranked)) - 1]
    top = nz & (s >= kth)
    return float(y[top].mean() / density)


def per_tf_auroc(tf, y, s) -> float:
    """Mean AUROC over TFs with at least one positive and one negative pair."""
    df = pd.DataFrame({"tf": np.asarray(tf), "y": np.asarray(y, int), "s": np.asarray(s, float)})
    vals = [roc_auc_score(g["y"], g["s"]) for _, g in df.groupby("tf", sort=True) if 0 < g["y"].sum() < len(g)]
    return float(np.mean(vals)) if vals else float("nan")


def score_ranking(y, s, tf=None) -> dict[str, float]:
    """All metrics for labels ``y`` and scores ``s`` (optional ``tf`` per pair for per-TF AUROC)."""
    y, s = _check(y, s)
    n, npos = len(y), int(y.sum())
    out = {"n_pairs": n, "n_pos": npos, "density": npos / n if n else float("nan")}
    if npos == 0 or npos == n:
        out.update({m: float("nan") for m in METRICS})
        return out
    prec, rec, _ = precision_recall_curve(y, s)
    out["auroc"] = float(roc_auc_score(y, s))
    out["auprc"] = float(average_precision_score(y, s))
    out["auprc_trapz"] = float(auc(rec, prec))
    out["auprc_ratio"] = out["auprc"] / out["density"]
    out["epr"] = early_precision_ratio(y, s)
    out["per_tf_auroc"] = per_tf_auroc(tf, y, s) if tf is not None else float("nan")
    return out


def attach_scores(pairs: pd.DataFrame, edges: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Scores of ``pairs`` (TF, Target) looked up in a prediction file (Gene1, Gene2, EdgeWeight).

    Pairs the prediction file lacks get a score below every predicted one (BEELINE gives them 0);
    the number of such pairs is returned too.
    """
    e = edges.drop_duplicates(["Gene1", "Gene2"], keep="first")
    key = pd.MultiIndex.from_frame(e[["Gene1", "Gene2"]].astype(str))
    w = pd.Series(e["EdgeWeight"].to_numpy(float), index=key)
    q = pd.MultiIndex.from_frame(pairs[["TF", "Target"]].astype(str))
    s = w.reindex(q).to_numpy(float)
    missing = int(np.isnan(s).sum())
    if missing:
        floor = (np.nanmin(w.to_numpy()) if len(w) else 0.0) - 1.0
        s = np.where(np.isnan(s), floor, s)
    return s, missing


# --- BEELINE's BLEval, exactly -------------------------------------------------------------------
def beeline_scores(edges: pd.DataFrame, network: pd.DataFrame) -> dict[str, float]:
    """BEELINE v1.1's BLEval metrics of one prediction file (scope ``beeline``), exactly.

    As ``BLEval/AUROC.py``, ``AUPRC.py`` and ``EarlyPrecision.py`` (commit 37464085):

    - universe: every ordered pair of ground-truth genes (genes of ``network``), no self-loops;
    - a pair's score is its ``|EdgeWeight|`` (a pair scored twice keeps the highest), 0 where the
      file lacks it; self-loops are dropped;
    - ``auroc``: ``sklearn.metrics.roc_curve`` + ``auc``; ``auprc_trapz``: ``precision_recall_curve``
      + ``auc`` (BEELINE's AUPRC); ``auprc`` (average precision) on the same scores, for reference;
    - ``auprc_ratio``: ``auprc_trapz`` over BEELINE's random baseline ``k / (n (n - 1))``
      (``BLPlot.plotter.random_classifier_baseline``: k = network rows without self-loops, n = genes);
    - ``epr``: BLEval's ``EarlyPrecision(tf_edges=True)``: universe = pairs from a gene that
      regulates something in ``network`` to any other gene, predictions restricted to it, k =
      true edges there, cut-off ``max(smallest non-zero |w|, k-th |w|)`` with every tie taken,
      precision over the selected pairs, divided by ``k / |universe|``.
    """
    gt = network[["Gene1", "Gene2"]].astype(str)
    gt_ns = gt[gt["Gene1"] != gt["Gene2"]]
    genes = sorted(set(gt["Gene1"]) | set(gt["Gene2"]))
    n = len(genes)
    pos = {g: i for i, g in enumerate(genes)}
    pred = edges[edges["Gene1"].astype(str) != edges["Gene2"].astype(str)]
    w = np.abs(pred["EdgeWeight"].to_numpy(float))
    order = np.argsort(-w, kind="mergesort")
    pred = pd.DataFrame({"Gene1": pred["Gene1"].astype(str).to_numpy()[order],
                         "Gene2": pred["Gene2"].astype(str).to_numpy()[order], "w": w[order]})
    pred = pred.drop_duplicates(["Gene1", "Gene2"], keep="first").reset_index(drop=True)
    out: dict[str, float] = {m: float("nan") for m in METRICS}
    score = np.zeros((n, n))
    lab = np.zeros((n, n), dtype=int)
    known = pred["Gene1"].isin(pos) & pred["Gene2"].isin(pos)
    score[pred.loc[known, "Gene1"].map(pos).to_numpy(int), pred.loc[known, "Gene2"].map(pos).to_numpy(int)] = \
        pred.loc[known, "w"].to_numpy()
    lab[gt_ns["Gene1"].map(pos).to_numpy(int), gt_ns["Gene2"].map(pos).to_numpy(int)] = 1
    off = ~np.eye(n, dtype=bool)
    y, s = lab[off], score[off]
    npos = int(y.sum())
    out.update({"n_pairs": int(y.size), "n_pos": npos, "density": npos / y.size if y.size else float("nan")})
    if 0 < npos < y.size:
        fpr, tpr, _ = roc_curve(y, s)
        prec, rec, _ = precision_recall_curve(y, s)
        out["auroc"] = float(auc(fpr, tpr))
        out["auprc_trapz"] = float(auc(rec, prec))
        out["auprc"] = float(average_precision_score(y, s))
    baseline = len(gt_ns) / (n * (n - 1)) if n > 1 and len(gt_ns) else float("nan")
    out["auprc_ratio"] = out["auprc_trapz"] / baseline if np.isfinite(baseline) else float("nan")
    out["epr"] = _beeline_epr(pred, gt_ns, genes)
    return out


def _beeline_epr(pred: pd.DataFrame, gt_ns: pd.DataFrame, genes: list[str]) -> float:
    """BLEval's ``EarlyPrecision(tf_edges=True)`` on deduplicated, |w|-sorted predictions."""
    regulators = set(gt_ns["Gene1"])
    universe = {(a, b) for a in regulators for b in genes if a != b}
    true = set(zip(gt_ns["Gene1"], gt_ns["Gene2"])) & universe
    if not true or not universe:
        return float("nan")
    keep = [(a, b) in universe for a, b in zip(pred["Gene1"], pred["Gene2"])]
    p = pred[keep].reset_index(drop=True)
    if p.empty:
        return 0.0
    k = min(len(p), len(true))
    kth = float(p["w"].iloc[k - 1])
    nz = p.loc[p["w"] > 0, "w"]
    best = max(float(nz.min()) if len(nz) else 0.0, kth)
    sel = p[p["w"] >= best]
    if sel.empty:
        return 0.0
    chosen = set(zip(sel["Gene1"], sel["Gene2"]))
    return (len(chosen & true) / len(chosen)) / (len(true) / len(universe))
