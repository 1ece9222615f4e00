"""Stability of each method's top-k edges across seeds (Jaccard overlap of every two seeds),
read from the jobs' ``edges.csv`` files; nothing is rerun. Conventions:
:mod:`grnbench.evaluate.summary`.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench import layout
from grnbench.errors import InputError
from grnbench.evaluate.summary import CELL_KEYS, TEST, _join_labels, _mean, _sd, _sort


def read_edges(path: str | Path) -> pd.Series:
    """A prediction file as a Series of scores indexed by (Gene1, Gene2); duplicates keep the first."""
    path = Path(path)
    e = pd.read_csv(path, dtype={"Gene1": str, "Gene2": str})
    missing = [c for c in ("Gene1", "Gene2", "EdgeWeight") if c not in e.columns]
    if missing:
        raise InputError(path, f"missing column(s) {missing}; expected Gene1,Gene2,EdgeWeight")
    e = e.drop_duplicates(["Gene1", "Gene2"], keep="first")
    idx = pd.MultiIndex.from_arrays(
        [e["Gene1"].to_numpy(), e["Gene2"].to_numpy()], names=["Gene1", "Gene2"]
    )
    return pd.Series(pd.to_numeric(e["EdgeWeight"], errors="coerce").to_numpy(float), index=idx)


def top_k(scores: pd.Series, k: int) -> set:
    """Pairs whose score is at least the k-th highest (ties with the k-th included, as in EPR).

    NaN scores rank last. ``k <= 0`` gives the empty set.
    """
    if k <= 0 or len(scores) == 0:
        return set()
    v = scores.fillna(-np.inf).to_numpy()
    k = min(k, len(v))
    kth = np.partition(v, len(v) - k)[len(v) - k]
    return set(scores.index[v >= kth])


def jaccard(a: set, b: set) -> float:
    """|A n B| / |A u B|; NaN when both are empty."""
    union = len(a | b)
    return len(a & b) / union if union else float("nan")


def _density_for(job_rows: pd.DataFrame, n_edges: int) -> float:
    """Positive rate of the pairs an edges file scores: the metrics row whose n_pairs matches."""
    r = job_rows[job_rows["n_pairs"] == n_edges]
    if r.empty:
        # supervised files hold the test pairs, unsupervised ones all TF->gene pairs
        kind = _join_labels(job_rows["kind"])
        scope = "all_tf_gene" if kind == "unsupervised" else TEST
        r = job_rows[job_rows["scope"] == scope]
    r = r[r["density"].notna()]
    return float(r["density"].iloc[0]) if len(r) else float("nan")


def stability(metrics: pd.DataFrame, results_dir: str | Path, k: int | None = None) -> pd.DataFrame:
    """Jaccard overlap of each method's top-k edges between every two seeds.

    For seeds i, j the comparison is restricted to the pairs both edges files score (supervised
    test sets change with the split seed). k is ``k`` when given, else the expected number of
    positives among those common pairs, ``round(mean density_i,j x |common|)`` (= the number of
    positives when both files score the same pairs). Top sets include ties with the k-th score,
    so ``topk_size_mean`` above ``k_mean`` flags tied scores.
    """
    rows = []
    keys = list(CELL_KEYS) + ["method"]
    for key, g in metrics.groupby(keys, sort=False):
        row = dict(zip(keys, key))
        row["kind"] = _join_labels(g["kind"])
        seeds_ok = sorted(set(g.loc[g["status"] == "ok", "seed"]))
        n_failed_seeds = len(set(g["seed"]) - set(seeds_ok))
        loaded: dict[int, tuple[pd.Series, float]] = {}
        for s in seeds_ok:
            p = layout.edges(results_dir, *key[:4], key[4], s)
            if p.exists():
                e = read_edges(p)
                loaded[s] = (e, _density_for(g[g["seed"] == s], len(e)))
        jac, ks, sizes, common_n = [], [], [], []
        for a, b in itertools.combinations(sorted(loaded), 2):
            (ea, da), (eb, db) = loaded[a], loaded[b]
            common = ea.index.intersection(eb.index)
            if k is not None:
                kk = min(int(k), len(common))
            else:
                kk = (
                    int(round(np.nanmean([da, db]) * len(common)))
                    if np.isfinite([da, db]).any()
                    else 0
                )
            ta, tb = top_k(ea.reindex(common), kk), top_k(eb.reindex(common), kk)
            jac.append(jaccard(ta, tb))
            ks.append(kk)
            sizes += [len(ta), len(tb)]
            common_n.append(len(common))
        row.update(
            {
                "n_seeds": len(loaded),
                "n_failed": n_failed_seeds,
                "n_seed_pairs": len(jac),
                "k_mean": _mean(pd.Series(ks, dtype=float)),
                "common_pairs_mean": _mean(pd.Series(common_n, dtype=float)),
                "topk_size_mean": _mean(pd.Series(sizes, dtype=float)),
                "jaccard_mean": _mean(pd.Series(jac, dtype=float)),
                "jaccard_sd": _sd(pd.Series(jac, dtype=float)),
                "jaccard_min": float(np.nanmin(jac)) if jac and np.isfinite(jac).any() else np.nan,
            }
        )
        if not seeds_ok:
            row["status"] = "failed"
        elif len(loaded) < len(seeds_ok):
            row["status"] = "edges missing" if len(loaded) < 2 else "partial"
        elif len(loaded) < 2:
            row["status"] = "single seed"
        else:
            row["status"] = "partial" if n_failed_seeds else "ok"
        rows.append(row)
    cols = keys + [
        "kind",
        "status",
        "n_seeds",
        "n_failed",
        "n_seed_pairs",
        "k_mean",
        "common_pairs_mean",
        "topk_size_mean",
        "jaccard_mean",
        "jaccard_sd",
        "jaccard_min",
    ]
    return _sort(pd.DataFrame(rows, columns=cols), keys)

