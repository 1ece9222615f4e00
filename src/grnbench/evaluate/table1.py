"""Our scTransNet and its ablations beside the published Table 1 of the paper (``table1.tsv``
in ``resources/published``). Conventions: :mod:`grnbench.evaluate.summary`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.errors import InputError
from grnbench.evaluate.summary import TEST, _group_status, _mean, _merge_labels, _sd, _sort
from grnbench.methods.registry import table1_variants


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

