"""Summary tables from the per-job metrics (``results/tables/metrics.tsv``) and prediction files.

Every table is computed from ``metrics.tsv`` (one row per dataset, network, geneset, split,
method, seed and scope) and, for stability, from the jobs' ``edges.csv`` files; nothing is rerun.

Conventions used by every function here:

- mean and sd are over seeds; sd is the sample standard deviation (ddof = 1), NaN for one seed;
- only rows with ``status == "ok"`` enter means; failed rows are counted (``n_failed``) and a
  group whose every seed failed is kept, marked ``status = "failed"`` (never silently dropped);
- a missing optional column is treated as all-NaN, so partial tables still aggregate.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.errors import InputError
from grnbench.methods.registry import facts, method_order, table1_variants  # noqa: F401 (re-exported)

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
# method_order() and table1_variants() (method -> the paper's Table 1 column) come from there.


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


# --------------------------------------------------------------------------------------------
# paper Table 1


def read_published(published_dir: str | Path | None) -> pd.DataFrame:
    """The paper's Table 1 (``table1.tsv``): dataset, network, split, method, variant, auroc,
    auprc, genesets, source. Returns an empty frame when the folder or file is absent."""
    cols = [
        "dataset",
        "network",
        "split",
        "method",
        "variant",
        "auroc",
        "auprc",
        "genesets",
        "source",
    ]
    if published_dir is None:
        return pd.DataFrame(columns=cols)
    path = Path(published_dir) / "table1.tsv"
    if not path.exists():
        return pd.DataFrame(columns=cols)
    df = pd.read_csv(path, sep="\t", comment="#")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(path, f"missing column(s) {missing}; expected {cols}")
    return df[cols]


def _norm(name: object) -> str:
    """Compare names loosely: lower case, letters and digits only (hESC == hesc == h-ESC)."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _geneset_key(name: str) -> str:
    digits = re.findall(r"\d+", str(name))
    return digits[0] if digits else _norm(name)


def table1(
    metrics: pd.DataFrame,
    published: pd.DataFrame,
    split: str = "genelink",
    genesets: Sequence[str] = ("tfs500", "tfs1000"),
    scope: str = TEST,
) -> pd.DataFrame:
    """Our scTransNet and its ablations in the layout of the paper's Table 1, published beside.

    Per dataset and network: for every seed, average AUROC/AUPRC over the gene sets (the paper
    averages TFs+500 and TFs+1000); mean and sd over the seeds that have every gene set.
    ``delta_* = ours - published``. ``like_for_like`` is true only when the averaged gene sets
    are the paper's (500 and 1000) and the network matches the published one.
    Published rows we did not run appear with ``status = "not run"``.
    """
    variants = table1_variants()
    m = metrics[
        (metrics["split"] == split)
        & (metrics["scope"] == scope)
        & (metrics["method"].isin(list(variants)))
    ]
    wanted = {_geneset_key(g) for g in genesets}
    rows = []
    for (ds, net, method), g in m.groupby(["dataset", "network", "method"], sort=False):
        ok = g[g["status"] == "ok"]
        present = sorted(set(ok["geneset"]), key=lambda x: (len(_geneset_key(x)), _geneset_key(x)))
        use = [x for x in present if _geneset_key(x) in wanted] or present
        row = {
            "dataset": ds,
            "network": net,
            "method": method,
            "variant": variants[method],
            "genesets": "+".join(use),
            "n_failed": int((g["status"] != "ok").sum()),
            "labels": _merge_labels(g["labels"]),
        }
        per_seed = ok[ok["geneset"].isin(use)].pivot_table(
            index="seed", columns="geneset", values=["auroc", "auprc"], aggfunc="mean"
        )
        for met in ("auroc", "auprc"):
            if per_seed.empty:
                vals = pd.Series(dtype=float)
            else:
                block = per_seed[met].reindex(columns=use)
                vals = block.dropna(how="any").mean(axis=1)  # seeds with every gene set only
            row[f"{met}_mean"] = _mean(vals)
            row[f"{met}_sd"] = _sd(vals)
            row["n_seeds"] = len(vals)
        row["status"] = _group_status(row["n_seeds"], row["n_failed"])
        rows.append(row)
    ours = pd.DataFrame(
        rows,
        columns=[
            "dataset",
            "network",
            "method",
            "variant",
            "genesets",
            "n_failed",
            "auroc_mean",
            "auroc_sd",
            "auprc_mean",
            "auprc_sd",
            "n_seeds",
            "status",
            "labels",
        ],
    )
    pub = published[published["split"].astype(str) == split] if len(published) else published
    pub = pub.rename(
        columns={
            "auroc": "published_auroc",
            "auprc": "published_auprc",
            "genesets": "published_genesets",
        }
    )
    ours["_k"] = ours["dataset"].map(_norm) + "|" + ours["method"]
    pub = pub.assign(_k=pub["dataset"].map(_norm) + "|" + pub["method"].astype(str))
    merged = ours.merge(
        pub[
            [
                "_k",
                "dataset",
                "network",
                "variant",
                "published_auroc",
                "published_auprc",
                "published_genesets",
                "source",
            ]
        ].rename(
            columns={"dataset": "pub_dataset", "network": "pub_network", "variant": "pub_variant"}
        ),
        on="_k",
        how="outer",
    )
    not_run = merged["method"].isna()
    merged.loc[not_run, "dataset"] = merged.loc[not_run, "pub_dataset"]
    merged.loc[not_run, "network"] = merged.loc[not_run, "pub_network"]
    merged.loc[not_run, "variant"] = merged.loc[not_run, "pub_variant"]
    merged.loc[not_run, "method"] = merged.loc[not_run, "_k"].str.split("|").str[1]
    merged.loc[not_run, "status"] = "not run"
    merged.loc[not_run, ["n_seeds", "n_failed"]] = 0
    # a published number belongs to its network only (the paper used the cell-type-specific one)
    net_ok = merged["network"].map(_norm) == merged["pub_network"].map(_norm)
    net_ok |= merged["pub_network"].isna()
    for met in ("auroc", "auprc"):
        merged.loc[~net_ok, f"published_{met}"] = np.nan
        merged[f"delta_{met}"] = merged[f"{met}_mean"] - merged[f"published_{met}"]
    gs_keys = (
        merged["genesets"].fillna("").map(lambda s: {_geneset_key(x) for x in s.split("+") if x})
    )
    pub_keys = (
        merged["published_genesets"]
        .fillna("")
        .map(lambda s: {_geneset_key(x) for x in s.split("+") if x})
    )
    merged["like_for_like"] = [
        bool(a) and a == b and bool(n)
        for a, b, n in zip(gs_keys, pub_keys, net_ok & merged["published_auroc"].notna())
    ]
    merged["source"] = merged["source"].fillna("")
    merged["n_seeds"] = merged["n_seeds"].astype(int)
    merged["n_failed"] = merged["n_failed"].astype(int)
    cols = [
        "dataset",
        "network",
        "method",
        "variant",
        "genesets",
        "status",
        "n_seeds",
        "n_failed",
        "auroc_mean",
        "auroc_sd",
        "published_auroc",
        "delta_auroc",
        "auprc_mean",
        "auprc_sd",
        "published_auprc",
        "delta_auprc",
        "like_for_like",
        "labels",
        "source",
    ]
    merged["labels"] = merged["labels"].fillna("")
    return _sort(merged[cols], ["dataset", "network", "method"])


# --------------------------------------------------------------------------------------------
# honest headline: improvement over the label-only degree prior


def _priors(prior: str | Sequence[str]) -> tuple[str, ...]:
    return (prior,) if isinstance(prior, str) else tuple(prior)


def stronger_prior(
    metrics: pd.DataFrame, prior: str | Sequence[str] = LABEL_PRIORS, scope: str = TEST
) -> pd.DataFrame:
    """Per benchmark cell: the label-only prior (of ``prior``) with the higher mean AUROC over
    its successful seeds in ``scope``; ties go to the one listed first. Columns: the cell keys
    and ``prior``. Cells where no prior succeeded are absent."""
    priors = _priors(prior)
    t = metrics[(metrics["scope"] == scope) & metrics["method"].isin(priors) & (metrics["status"] == "ok")]
    m = t.groupby(list(CELL_KEYS) + ["method"], sort=False)["auroc"].mean().dropna().reset_index()
    m["_rank"] = m["method"].map({p: i for i, p in enumerate(priors)})
    m = m.sort_values(["auroc", "_rank"], ascending=[False, True], kind="mergesort")
    best = m.drop_duplicates(list(CELL_KEYS))
    return best[list(CELL_KEYS) + ["method"]].rename(columns={"method": "prior"}).reset_index(drop=True)


def prior_deltas(
    metrics: pd.DataFrame, prior: str | Sequence[str] = LABEL_PRIORS, scope: str = TEST
) -> pd.DataFrame:
    """Per job (scope ``test``): ``delta_<m> = <m>(method, seed) - <m>(prior, same seed)`` for m
    in AUROC and AUPRC, with the prior's values beside and its name in ``prior``.

    ``prior`` is the stronger, per benchmark cell, of the label-only priors given (default
    ``degree_prior`` and ``label_prior``; see :func:`stronger_prior`); one name gives that one
    prior. The priors themselves are not rows. Missing or failed prior -> NaN."""
    priors = _priors(prior)
    t = metrics[metrics["scope"] == scope]
    keys = list(CELL_KEYS) + ["seed"]
    best = stronger_prior(metrics, priors, scope)
    p = t[t["method"].isin(priors) & (t["status"] == "ok")][keys + ["method", "auroc", "auprc"]]
    p = p.rename(columns={"method": "prior", "auroc": "prior_auroc", "auprc": "prior_auprc"})
    p = p.merge(best, on=list(CELL_KEYS) + ["prior"], how="inner")
    o = t[~t["method"].isin(priors)][keys + ["method", "kind", "status", "auroc", "auprc"]]
    d = o.merge(best, on=list(CELL_KEYS), how="left").merge(p, on=keys + ["prior"], how="left")
    d["prior"] = d["prior"].fillna("")
    d["delta_auroc"] = d["auroc"] - d["prior_auroc"]
    d["delta_auprc"] = d["auprc"] - d["prior_auprc"]
    return d


def headline(
    metrics: pd.DataFrame, prior: str | Sequence[str] = LABEL_PRIORS, scope: str = TEST
) -> pd.DataFrame:
    """Per benchmark cell and method: mean and sd over seeds of the gain over the stronger
    label-only prior of the cell (``degree_prior`` or ``label_prior``, named in ``prior``).

    ``n_seeds`` counts seeds where both the method and the prior succeeded; ``n_failed`` the
    method's failed seeds; ``n_no_prior`` its successful seeds without a prior to compare.
    """
    d = prior_deltas(metrics, prior, scope)
    rows = []
    for key, g in d.groupby(list(CELL_KEYS) + ["method"], sort=False):
        ok = g[g["status"] == "ok"]
        both = ok[ok["prior_auroc"].notna()]
        row = dict(zip(list(CELL_KEYS) + ["method"], key))
        row["kind"] = _join_labels(g["kind"])
        row["prior"] = _join_labels(g["prior"])
        row["n_seeds"] = len(both)
        row["n_failed"] = int((g["status"] != "ok").sum())
        row["n_no_prior"] = int(ok["prior_auroc"].isna().sum())
        row["status"] = "failed" if len(ok) == 0 else ("no prior" if len(both) == 0 else "ok")
        for met in ("auroc", "auprc"):
            row[f"{met}_mean"] = _mean(both[met])
            row[f"prior_{met}_mean"] = _mean(both[f"prior_{met}"])
            row[f"delta_{met}_mean"] = _mean(both[f"delta_{met}"])
            row[f"delta_{met}_sd"] = _sd(both[f"delta_{met}"])
        rows.append(row)
    cols = list(CELL_KEYS) + [
        "method",
        "kind",
        "prior",
        "status",
        "n_seeds",
        "n_failed",
        "n_no_prior",
        "auroc_mean",
        "prior_auroc_mean",
        "delta_auroc_mean",
        "delta_auroc_sd",
        "auprc_mean",
        "prior_auprc_mean",
        "delta_auprc_mean",
        "delta_auprc_sd",
    ]
    return _sort(
        pd.DataFrame(rows, columns=cols), ["split", "dataset", "network", "geneset", "method"]
    )


def _prior_cells(both: pd.DataFrame) -> str:
    """Which prior each pooled cell used: ``label_prior`` or ``degree_prior: 2 cells; ...``."""
    cells = both[list(CELL_KEYS) + ["prior"]].drop_duplicates()
    n = cells["prior"].value_counts()
    if len(n) <= 1:
        return str(n.index[0]) if len(n) else ""
    return "; ".join(f"{p}: {c} cell{'s' if c > 1 else ''}" for p, c in sorted(n.items()))


def headline_by_split(
    metrics: pd.DataFrame, prior: str | Sequence[str] = LABEL_PRIORS, scope: str = TEST
) -> pd.DataFrame:
    """Per protocol (split) and method: mean and sd of the per-seed gains over the stronger
    label-only prior of each cell, pooled over datasets, networks and gene sets; ``prior`` says
    which prior the cells used; ``frac_above_prior`` = share of runs with AUROC above it."""
    d = prior_deltas(metrics, prior, scope)
    rows = []
    for (sp, method), g in d.groupby(["split", "method"], sort=False):
        ok = g[g["status"] == "ok"]
        both = ok[ok["prior_auroc"].notna()]
        row = {
            "split": sp,
            "method": method,
            "kind": _join_labels(g["kind"]),
            "prior": _prior_cells(both),
            "status": "failed" if len(ok) == 0 else ("no prior" if len(both) == 0 else "ok"),
            "n_runs": len(both),
            "n_cells": int(both[list(CELL_KEYS)].drop_duplicates().shape[0]),
            "n_failed": int((g["status"] != "ok").sum()),
        }
        for met in ("auroc", "auprc"):
            row[f"delta_{met}_mean"] = _mean(both[f"delta_{met}"])
            row[f"delta_{met}_sd"] = _sd(both[f"delta_{met}"])
        row["frac_above_prior"] = float((both["delta_auroc"] > 0).mean()) if len(both) else np.nan
        rows.append(row)
    cols = [
        "split",
        "method",
        "kind",
        "prior",
        "status",
        "n_runs",
        "n_cells",
        "n_failed",
        "delta_auroc_mean",
        "delta_auroc_sd",
        "delta_auprc_mean",
        "delta_auprc_sd",
        "frac_above_prior",
    ]
    return _sort(pd.DataFrame(rows, columns=cols), ["split", "method"])


# --------------------------------------------------------------------------------------------
# stability of the top-k edges across seeds


def _cell_dir(results_dir: str | Path, dataset, network, geneset, split) -> Path:
    """``results/{dataset}/{network}/{geneset}/{split}``: one split protocol of one gene set."""
    return Path(results_dir, str(dataset), str(network), str(geneset), str(split))


def edges_path(results_dir: str | Path, dataset, network, geneset, split, method, seed) -> Path:
    return _cell_dir(results_dir, dataset, network, geneset, split) / str(method) / f"seed{seed}" / "edges.csv"


def split_path(results_dir: str | Path, dataset, network, geneset, split, seed) -> Path:
    return _cell_dir(results_dir, dataset, network, geneset, split) / f"split_seed{seed}.csv"


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
            p = edges_path(results_dir, *key[:4], key[4], s)
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


# --------------------------------------------------------------------------------------------
# writing


def _fmt_num(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{v:.{digits}f}"
    return str(v)


def _markdown_frame(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Collapse ``<x>_mean``/``<x>_sd`` pairs into one ``x`` column 'mean ± sd' for reading."""
    out = pd.DataFrame(index=df.index)
    cols = list(df.columns)
    done: set[str] = set()
    status = df["status"] if "status" in df.columns else pd.Series("", index=df.index)
    for c in cols:
        if c in done:
            continue
        if c.endswith("_mean") and c[: -len("_mean")] + "_sd" in cols:
            base = c[: -len("_mean")]
            sd = base + "_sd"
            d = 1 if base in ("runtime_s", "max_rss_mb") else digits
            vals = []
            for mean, s, st in zip(df[c], df[sd], status):
                if not np.isfinite(mean):
                    vals.append("failed" if st == "failed" else "")
                elif np.isfinite(s):
                    vals.append(f"{mean:.{d}f} ± {s:.{d}f}")
                else:
                    vals.append(f"{mean:.{d}f}")
            out[base] = vals
            done |= {c, sd}
        else:
            out[c] = [_fmt_num(v, digits) for v in df[c]]
            done.add(c)
    return out


def to_markdown(
    df: pd.DataFrame, title: str | None = None, note: str | None = None, digits: int = 3
) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency); mean/sd pairs shown as 'm ± sd'."""
    md = _markdown_frame(df, digits)
    lines = []
    if title:
        lines += [f"# {title}", ""]
    if note:
        lines += [note, ""]
    if md.empty:
        lines.append("_No rows: nothing to show for this table yet._")
        return "\n".join(lines) + "\n"
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    lines.append("| " + " | ".join(esc(c) for c in md.columns) + " |")
    lines.append("|" + "|".join("---" for _ in md.columns) + "|")
    for _, r in md.iterrows():
        lines.append("| " + " | ".join(esc(v) for v in r) + " |")
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, stem: Path, title: str, note: str | None = None) -> list[Path]:
    """Write ``<stem>.tsv`` (full precision, NaN empty) and ``<stem>.md``; return both paths."""
    from grnbench.utils import atomic_path

    stem = Path(stem)
    tsv, md = stem.with_suffix(".tsv"), stem.with_suffix(".md")
    with atomic_path(tsv) as tmp:
        df.to_csv(tmp, sep="\t", index=False, na_rep="NaN", float_format="%.6g")
    with atomic_path(md) as tmp:
        tmp.write_text(to_markdown(df, title, note))
    return [tsv, md]


def labels_of(labels: str) -> dict:
    """Parse one labels JSON string (first one when several were joined); {} when empty or bad."""
    if not labels:
        return {}
    try:
        return json.loads(labels.split("; ")[0])
    except json.JSONDecodeError:
        return {}
