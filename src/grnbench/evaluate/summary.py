"""The per-job metrics table (``results/tables/metrics.tsv``) and what is computed from it alone:
reading and checking it, mean and sd over seeds, ranks per benchmark cell and the leaderboard.

Conventions shared by every table module (this one, :mod:`~grnbench.evaluate.headline`,
:mod:`~grnbench.evaluate.table1`, :mod:`~grnbench.evaluate.stability`):

- mean and sd are over seeds; sd is the sample standard deviation (ddof = 1), NaN for one seed;
- only rows with ``status == "ok"`` enter means; failed rows are counted (``n_failed``) and a
  group whose every seed failed is kept, marked ``status = "failed"`` (never silently dropped);
- a missing optional column is treated as all-NaN, so partial tables still aggregate.

The keys, constants and small helpers here (``CELL_KEYS``, ``_sort``, ``_mean``, ...) are the
ones those modules and :mod:`~grnbench.evaluate.stats` share. Markdown rendering:
:mod:`grnbench.evaluate.markdown`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.errors import InputError
from grnbench.methods.registry import facts

JOB_KEYS = ("dataset", "network", "geneset", "split", "method", "seed", "scope")
GROUP_KEYS = ("dataset", "network", "geneset", "split", "method", "scope")
CELL_KEYS = ("dataset", "network", "geneset", "split")  # one benchmark cell (methods compete in it)
SUMMARY_METRICS = (
    "auroc",
    "auprc",
    "auprc_ratio",
    "epr",
    "per_tf_auroc",
    "runtime_s",
    "max_rss_mb",
)
NUMERIC = (
    "auroc",
    "auprc",
    "auprc_trapz",
    "auprc_ratio",
    "epr",
    "per_tf_auroc",
    "n_pairs",
    "n_pos",
    "density",
    "coverage",
    "n_missing",
    "n_genes",
    "n_tfs",
    "geneset_requested",
    "runtime_s",
    "max_rss_mb",
)
PRIOR = "degree_prior"
RANDOM = "random"
TEST = "test"

#: The label-only priors a headline subtracts: per cell, the stronger of the two (ties: first).
LABEL_PRIORS = ("degree_prior", "label_prior")

# A method's display name, reading order and Table 1 column are facts of its class
# (grnbench.methods.base.Method), read through the light index (no method module imported):
# grnbench.methods.registry's facts(), method_order() and table1_variants().


def display_name(method: str) -> str:
    """The name a reader knows a method by (paper spelling; the class's ``display_name``);
    unknown names unchanged."""
    return facts(method).display_name


# --------------------------------------------------------------------------------------------
# reading


def read_metrics(path: str | Path) -> pd.DataFrame:
    """Read ``metrics.tsv``; check the key columns, add missing optional ones as NaN.

    ``status`` defaults to ``ok`` where AUROC is finite and ``failed`` elsewhere when the
    column is absent; ``kind`` defaults to ``""``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "metrics table not found (made by rule collect_metrics)")
    df = pd.read_csv(path, sep="\t", dtype={"seed": "Int64"}, keep_default_na=True)
    return normalise_metrics(df, source=path)


def normalise_metrics(df: pd.DataFrame, source: object = "metrics") -> pd.DataFrame:
    """Check and complete a metrics frame (see :func:`read_metrics`)."""
    df = df.copy()
    missing = [c for c in JOB_KEYS if c not in df.columns]
    if missing:
        raise InputError(
            source,
            f"missing column(s) {missing}; expected at least {list(JOB_KEYS)}",
        )
    for c in ("dataset", "network", "geneset", "split", "method", "scope"):
        df[c] = df[c].astype(str)
    df["seed"] = pd.to_numeric(df["seed"], errors="raise").astype(int)
    for c in NUMERIC:
        df[c] = pd.to_numeric(df[c], errors="coerce") if c in df.columns else np.nan
    if "status" not in df.columns:
        df["status"] = np.where(np.isfinite(df["auroc"]), "ok", "failed")
    df["status"] = df["status"].fillna("failed").astype(str)
    if "kind" not in df.columns:
        df["kind"] = ""
    df["kind"] = df["kind"].fillna("").astype(str)
    if "labels" not in df.columns:
        df["labels"] = ""
    df["labels"] = df["labels"].fillna("").astype(str)
    dup = df.duplicated(list(JOB_KEYS), keep=False)
    if dup.any():
        first = df.loc[dup, list(JOB_KEYS)].iloc[0].to_dict()
        raise InputError(source, f"{int(dup.sum())} duplicated job rows", where=str(first))
    return df


# --------------------------------------------------------------------------------------------
# helpers


def _sd(x: pd.Series) -> float:
    x = x.dropna()
    return float(x.std(ddof=1)) if len(x) >= 2 else float("nan")


def _mean(x: pd.Series) -> float:
    x = x.dropna()
    return float(x.mean()) if len(x) else float("nan")


def _join_labels(values: Iterable[str]) -> str:
    """One labels string per group: the unique non-empty JSON strings, in order, joined by '; '."""
    seen: list[str] = []
    for v in values:
        if v and v not in seen:
            seen.append(v)
    return "; ".join(seen)


def _merge_labels(values: Iterable[str]) -> str:
    """One labels JSON per group of seeds: a key every seed agrees on keeps its value; a key whose
    value differs between seeds (e.g. ``selected_epoch``) lists the distinct values in seed order.
    Strings that are not JSON objects fall back to :func:`_join_labels`."""
    dicts: list[dict] = []
    for v in values:
        if not v:
            continue
        try:
            d = json.loads(v)
        except json.JSONDecodeError:
            return _join_labels(values)
        if not isinstance(d, dict):
            return _join_labels(values)
        dicts.append(d)
    if not dicts:
        return ""
    merged: dict = {}
    for key in dict.fromkeys(k for d in dicts for k in d):
        distinct: list = []
        for d in dicts:
            if d.get(key) not in distinct:
                distinct.append(d.get(key))
        merged[key] = distinct[0] if len(distinct) == 1 else distinct
    return json.dumps(merged)


def _group_status(n_ok: int, n_failed: int) -> str:
    if n_ok == 0:
        return "failed"
    return "partial" if n_failed else "ok"


def method_order_key(method: str) -> tuple[float, str]:
    """Sort key: the class's ``order`` (baselines first, the usual method families, scTransNet
    last; unknown methods just before the scTransNet family), then the name."""
    return (float(facts(method).order), method)


def _sort(df: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    if df.empty:
        return df.reset_index(drop=True)
    tmp = df.copy()
    sort_cols = []
    for k in keys:
        if k == "method":
            tmp["_morder"] = tmp["method"].map(lambda m: method_order_key(m)[0])
            sort_cols += ["_morder", "method"]
        else:
            sort_cols.append(k)
    tmp = tmp.sort_values(sort_cols, kind="mergesort")
    return tmp.drop(columns=[c for c in ("_morder",) if c in tmp.columns]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# summary


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over seeds per dataset x network x geneset x split x method x scope.

    Columns: the group keys, ``kind``, ``status`` (ok / partial / failed; partial = some seeds
    failed), ``n_seeds`` (seeds with status ok), ``n_failed``, ``coverage`` (the lowest fraction
    of the scope's pairs a seed's prediction file scored) and ``n_missing`` (the most pairs a
    seed left unscored), ``predictions`` (``partial`` where ``coverage < 1``: a method the config
    allowed to leave pairs unscored, which rank last), ``<metric>_mean`` and ``<metric>_sd``
    for each of ``SUMMARY_METRICS``, and ``labels``.
    """
    rows = []
    for key, g in metrics.groupby(list(GROUP_KEYS), sort=False):
        ok = g[g["status"] == "ok"]
        n_ok, n_failed = len(ok), int((g["status"] != "ok").sum())
        row = dict(zip(GROUP_KEYS, key))
        row["kind"] = _join_labels(g["kind"])
        row["status"] = _group_status(n_ok, n_failed)
        row["n_seeds"] = n_ok
        row["n_failed"] = n_failed
        cov = ok["coverage"].dropna()
        row["coverage"] = float(cov.min()) if len(cov) else float("nan")
        miss = ok["n_missing"].dropna()
        row["n_missing"] = int(miss.max()) if len(miss) else 0
        row["predictions"] = "partial" if len(cov) and cov.min() < 1 else ("complete" if len(cov) else "")
        n_genes = g["n_genes"].dropna() if "n_genes" in g else pd.Series(dtype=float)
        row["n_genes"] = int(n_genes.iloc[0]) if len(n_genes) else float("nan")  # the gene set's real size
        for m in SUMMARY_METRICS:
            row[f"{m}_mean"] = _mean(ok[m])
            row[f"{m}_sd"] = _sd(ok[m])
        row["labels"] = _merge_labels(g["labels"])
        rows.append(row)
    cols = (
        list(GROUP_KEYS)
        + ["kind", "status", "n_seeds", "n_failed", "coverage", "n_missing", "predictions", "n_genes"]
        + [f"{m}_{s}" for m in SUMMARY_METRICS for s in ("mean", "sd")]
        + ["labels"]
    )
    out = pd.DataFrame(rows, columns=cols)
    return _sort(out, ["dataset", "network", "geneset", "split", "scope", "method"])


# --------------------------------------------------------------------------------------------
# leaderboard


def rank_cells(summary: pd.DataFrame, metric: str = "auroc", scope: str = TEST) -> pd.DataFrame:
    """Rank methods inside every benchmark cell (dataset, network, geneset, split) on mean ``metric``.

    Rank 1 = best; ties share the average rank. A method with no successful seed in a cell is
    ranked last (tied with the other failures) so failing never improves a mean rank.
    """
    s = summary[summary["scope"] == scope]
    out = []
    for _, g in s.groupby(list(CELL_KEYS), sort=False):
        g = g.copy()
        val = g[f"{metric}_mean"]
        ok = val.notna()
        n_ok = int(ok.sum())
        g["rank"] = np.nan
        g.loc[ok, "rank"] = (-val[ok]).rank(method="average")
        n_bad = int((~ok).sum())
        g.loc[~ok, "rank"] = n_ok + (n_bad + 1) / 2.0
        g["n_methods"] = len(g)
        out.append(
            g[list(CELL_KEYS) + ["method", "kind", "status", f"{metric}_mean", "rank", "n_methods"]]
        )
    if not out:
        return pd.DataFrame(
            columns=list(CELL_KEYS)
            + ["method", "kind", "status", f"{metric}_mean", "rank", "n_methods"]
        )
    return _sort(pd.concat(out, ignore_index=True), list(CELL_KEYS) + ["method"])


def leaderboard(summary: pd.DataFrame, metric: str = "auroc", scope: str = TEST) -> pd.DataFrame:
    """Mean rank of each method over all benchmark cells (and per split), best first.

    Columns: ``method``, ``kind``, ``mean_rank``, ``sd_rank``, ``n_cells``, ``n_cells_failed``,
    ``mean_<metric>`` (mean over cells with a result), then ``mean_rank_<split>`` per split.
    """
    ranks = rank_cells(summary, metric, scope)
    if ranks.empty:
        return pd.DataFrame(
            columns=[
                "method",
                "kind",
                "mean_rank",
                "sd_rank",
                "n_cells",
                "n_cells_failed",
                f"mean_{metric}",
            ]
        )
    rows = []
    splits = list(dict.fromkeys(ranks["split"]))
    for method, g in ranks.groupby("method", sort=False):
        row = {
            "method": method,
            "kind": _join_labels(g["kind"]),
            "mean_rank": float(g["rank"].mean()),
            "sd_rank": _sd(g["rank"]),
            "n_cells": len(g),
            "n_cells_failed": int(g[f"{metric}_mean"].isna().sum()),
            f"mean_{metric}": _mean(g[f"{metric}_mean"]),
        }
        for sp in splits:
            gs = g[g["split"] == sp]
            row[f"mean_rank_{sp}"] = float(gs["rank"].mean()) if len(gs) else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    out = out.sort_values(["mean_rank", "method"], kind="mergesort").reset_index(drop=True)
    out.insert(0, "position", np.arange(1, len(out) + 1))
    return out

