"""The honest headline: each method's gain over the stronger label-only prior of its cell.

Per benchmark cell the prior is ``degree_prior`` or ``label_prior``, whichever has the higher
mean test AUROC (:func:`stronger_prior`); gains are taken seed by seed (same split seed), then
averaged (:func:`headline`) or pooled per protocol (:func:`headline_by_split`). Conventions:
:mod:`grnbench.evaluate.summary`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from grnbench.evaluate.summary import CELL_KEYS, LABEL_PRIORS, TEST, _join_labels, _mean, _sd, _sort


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

