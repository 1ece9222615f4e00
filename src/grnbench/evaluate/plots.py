"""Figures from the summary tables and prediction files (matplotlib, Agg backend, PNG + PDF).

Every figure function takes tables made by :mod:`grnbench.evaluate.summary` (and its siblings), writes
``<stem>.png`` and ``<stem>.pdf`` and returns the written paths. Whatever is missing (methods,
columns, files), a function draws what is present; with nothing to draw it writes a labelled
"no data for this figure" placeholder, so the file names stay fixed for Snakemake.

Colours, rc settings, labels and saving are in :mod:`grnbench.evaluate.plot_style` (its names
are re-exported here, so ``plots.method_color`` and ``plots.save`` keep working).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from grnbench import layout
from grnbench.evaluate.plot_style import (
    RC,
    REFERENCE_METHODS,
    SPLIT_NAMES,
    SPLIT_ORDER,
    cell_label,
    finish_stacked,
    geneset_label,
    is_reference,
    legend_handles,
    method_color,
    order_methods,
    pick_split,
    placeholder,
    plt,
    save,
    table_cells,
)
from grnbench.evaluate.stability import top_k
from grnbench.evaluate.summary import PRIOR, RANDOM, TEST, display_name

__all__ = [
    "RC",
    "REFERENCE_METHODS",
    "SPLIT_NAMES",
    "SPLIT_ORDER",
    "cell_label",
    "finish_stacked",
    "geneset_label",
    "is_reference",
    "legend_handles",
    "method_color",
    "order_methods",
    "pick_split",
    "placeholder",
    "plt",
    "save",
    "table_cells",
]


# --------------------------------------------------------------------------------------------
# Figure 2 layout: grouped bars of AUROC and AUPRC


def performance_bars(
    summary: pd.DataFrame, stem: str | Path, split: str | None = "genelink", scope: str = TEST
) -> list[Path]:
    """Mean AUROC and AUPRC (error bar = sd over seeds) per method, grouped by dataset and gene
    set (the paper's Figure 2 layout); random and degree prior in grey; failed methods marked."""
    title = "AUROC and AUPRC per method"
    if summary.empty or "auroc_mean" not in summary.columns:
        return placeholder(stem, title, "the summary table is empty")
    sp = pick_split(summary[summary["scope"] == scope], split)
    if sp is None:
        return placeholder(stem, title, f"no rows with scope '{scope}'")
    d = summary[(summary["scope"] == scope) & (summary["split"] == sp)]
    cells, show_net = table_cells(d)
    methods = order_methods(d["method"])
    n_m = len(methods)
    width = 0.8 / max(n_m, 1)
    metrics = [("auroc", "AUROC"), ("auprc", "AUPRC (average precision)")]
    with plt.rc_context(RC):
        fig, axes = plt.subplots(
            2, 1, figsize=(max(7.0, 1.0 + len(cells) * (0.9 + 0.22 * n_m)), 7.5), sharex=True
        )
        for ax, (met, label) in zip(axes, metrics):
            for j, m in enumerate(methods):
                xs, ys, es, failed_x = [], [], [], []
                for i, c in enumerate(cells):
                    r = d[
                        (d["dataset"] == c[0])
                        & (d["network"] == c[1])
                        & (d["geneset"] == c[2])
                        & (d["method"] == m)
                    ]
                    if r.empty:
                        continue
                    x = i - 0.4 + width * (j + 0.5)
                    mean = r[f"{met}_mean"].iloc[0] if f"{met}_mean" in r else np.nan
                    if np.isfinite(mean):
                        sd = r[f"{met}_sd"].iloc[0] if f"{met}_sd" in r else np.nan
                        xs.append(x)
                        ys.append(mean)
                        es.append(sd if np.isfinite(sd) else 0.0)
                    elif r["status"].iloc[0] == "failed":
                        failed_x.append(x)
                ax.bar(
                    xs,
                    ys,
                    width=width * 0.95,
                    color=method_color(m),
                    edgecolor="black",
                    linewidth=0.3,
                    yerr=es,
                    error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#222222"},
                    hatch="//" if m == PRIOR else None,
                )
                for x in failed_x:
                    ax.text(
                        x,
                        0.02,
                        "failed",
                        rotation=90,
                        ha="center",
                        va="bottom",
                        fontsize=8,
                        color="#b22222",
                    )
            ax.set_ylabel(f"{label}\n(mean ± sd over seeds)")
            ax.set_ylim(0, 1.05)
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
        return finish_stacked(fig, axes, [cell_label(*c, show_network=show_net) for c in cells],
                               "Dataset and gene set", f"Test-set performance, {SPLIT_NAMES.get(sp, sp)} split",
                               methods, stem)


# --------------------------------------------------------------------------------------------
# ROC and PR curves


def _curve_inputs(results_dir, cell, split, method, seed):
    """Labels and scores of one job's test pairs, scored as the metrics stage scores them."""
    from grnbench.evaluate.metrics import attach_scores

    sp_file = layout.split_csv(results_dir, *cell, split, seed)
    ed_file = layout.edges(results_dir, *cell, split, method, seed)
    if not (sp_file.exists() and ed_file.exists()):
        return None
    s = pd.read_csv(sp_file, dtype={"TF": str, "Target": str})
    test = s[s["Part"] == "test"] if "Part" in s.columns else s
    edges = pd.read_csv(ed_file, dtype={"Gene1": str, "Gene2": str})
    scores, _ = attach_scores(test, edges)
    y = test["Label"].to_numpy(int)
    if y.sum() == 0 or y.sum() == len(y):
        return None
    return y, scores


def roc_pr_curves(
    summary: pd.DataFrame,
    metrics: pd.DataFrame,
    results_dir: str | Path,
    stem: str | Path,
    split: str | None = "genelink",
    n_leading: int = 4,
    max_cells: int = 4,
) -> list[Path]:
    """ROC and precision-recall curves per dataset (one row per benchmark cell) for the
    ``n_leading`` methods with the highest mean test AUROC, plus the degree prior, against the
    random predictor (diagonal; precision = positive rate). One seed: the smallest seed with
    files for every drawn method."""
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    title = "ROC and precision-recall curves"
    t = summary[summary["scope"] == TEST] if not summary.empty else summary
    sp = pick_split(t, split)
    if sp is None:
        return placeholder(stem, title, "no test-scope results")
    d = t[t["split"] == sp]
    cells, show_net = table_cells(d)
    panels = []
    for c in cells[:max_cells]:
        dc = d[(d["dataset"] == c[0]) & (d["network"] == c[1]) & (d["geneset"] == c[2])]
        ranked = dc[dc["auroc_mean"].notna() & ~dc["method"].isin(REFERENCE_METHODS)]
        lead = list(ranked.sort_values("auroc_mean", ascending=False)["method"][:n_leading])
        if PRIOR in set(dc["method"]):
            lead.append(PRIOR)
        m = metrics[
            (metrics["dataset"] == c[0])
            & (metrics["network"] == c[1])
            & (metrics["geneset"] == c[2])
            & (metrics["split"] == sp)
            & (metrics["scope"] == TEST)
            & (metrics["status"] == "ok")
        ]
        curves, seed_used = {}, None
        for seed in sorted(set(m["seed"])):
            got = {}
            for meth in lead:
                if meth in set(m.loc[m["seed"] == seed, "method"]):
                    r = _curve_inputs(results_dir, c, sp, meth, seed)
                    if r is not None:
                        got[meth] = r
            if len(got) > len(curves):
                curves, seed_used = got, seed
            if len(got) == len(lead):
                break
        if curves:
            panels.append((c, seed_used, curves))
    if not panels:
        return placeholder(
            stem, title, f"no prediction and split files found under {results_dir} for split '{sp}'"
        )
    with plt.rc_context(RC):
        fig, axes = plt.subplots(len(panels), 2, figsize=(11, 4.2 * len(panels)), squeeze=False)
        for row, (c, seed, curves) in enumerate(panels):
            ax_roc, ax_pr = axes[row]
            density = None
            for meth in order_methods(curves):
                y, s = curves[meth]
                density = y.mean()
                fpr, tpr, _ = roc_curve(y, s)
                prec, rec, _ = precision_recall_curve(y, s)
                ls = "--" if is_reference(meth) else "-"
                kw = {"color": method_color(meth), "ls": ls, "lw": 1.8}
                ax_roc.plot(fpr, tpr, label=f"{display_name(meth)} ({auc(fpr, tpr):.3f})", **kw)
                ax_pr.plot(rec, prec, label=f"{display_name(meth)} ({auc(rec, prec):.3f})", **kw)
            ax_roc.plot([0, 1], [0, 1], color="black", lw=1, ls=":", label="Random (0.500)")
            ax_pr.axhline(density, color="black", lw=1, ls=":", label=f"Random ({density:.3f})")
            name = cell_label(*c, show_network=show_net).replace("\n", " ")
            ax_roc.set_title(f"{name}: ROC (seed {seed})")
            ax_pr.set_title(f"{name}: precision-recall (seed {seed})")
            ax_roc.set_xlabel("False positive rate")
            ax_roc.set_ylabel("True positive rate")
            ax_pr.set_xlabel("Recall")
            ax_pr.set_ylabel("Precision")
            for ax in (ax_roc, ax_pr):
                ax.set_xlim(0, 1)
                ax.set_ylim(0, 1.02)
                ax.grid(alpha=0.3)
            ax_roc.legend(title="Method (AUROC)", loc="lower right")
            ax_pr.legend(title="Method (trapezoid AUPRC)", loc="upper right")
        fig.suptitle(f"Test pairs, {SPLIT_NAMES.get(sp, sp)} split", y=1.0)
        fig.tight_layout()
        return save(fig, stem)


# --------------------------------------------------------------------------------------------
# BEELINE-style heatmap


def heatmap(
    summary: pd.DataFrame, stem: str | Path, metric: str = "auroc", scope: str = TEST
) -> list[Path]:
    """Methods x benchmark cells, one panel per split; cell = mean ``metric`` over seeds, written
    in the square; 'failed' where every seed failed, blank where the method was not run."""
    label = {"auroc": "AUROC", "auprc": "AUPRC", "auprc_ratio": "AUPRC ratio", "epr": "EPR"}.get(
        metric, metric
    )
    title = f"Mean {label} per method and dataset"
    col = f"{metric}_mean"
    if summary.empty or col not in summary.columns:
        return placeholder(stem, title, f"no column {col} in the summary")
    d = summary[summary["scope"] == scope]
    if d.empty:
        return placeholder(stem, title, f"no rows with scope '{scope}'")
    splits = [s for s in SPLIT_ORDER if s in set(d["split"])] + sorted(
        set(d["split"]) - set(SPLIT_ORDER)
    )
    methods = order_methods(d["method"])
    cells, show_net = table_cells(d)
    vals = d[col].to_numpy(float)
    finite = vals[np.isfinite(vals)]
    if finite.size == 0:
        vmin, vmax = 0.0, 1.0
    else:
        vmin = (
            min(0.5, float(finite.min()))
            if metric in ("auroc", "per_tf_auroc")
            else float(finite.min())
        )
        vmax = max(vmin + 1e-6, float(finite.max()))
    cmap = plt.get_cmap("viridis")
    with plt.rc_context(RC):
        fig, axes = plt.subplots(
            1,
            len(splits),
            figsize=(1.6 + len(splits) * (0.9 + 0.95 * len(cells)), 1.2 + 0.42 * len(methods)),
            squeeze=False,
            sharey=True,
        )
        im = None
        for ax, sp in zip(axes[0], splits):
            grid = np.full((len(methods), len(cells)), np.nan)
            status = np.full(grid.shape, "", dtype=object)
            ds = d[d["split"] == sp]
            for _, r in ds.iterrows():
                i = methods.index(r["method"])
                j = cells.index((str(r["dataset"]), str(r["network"]), str(r["geneset"])))
                grid[i, j] = r[col]
                status[i, j] = r["status"]
            masked = np.ma.masked_invalid(grid)
            im = ax.imshow(masked, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
            for i in range(grid.shape[0]):
                for j in range(grid.shape[1]):
                    v = grid[i, j]
                    if np.isfinite(v):
                        rgba = cmap((v - vmin) / (vmax - vmin))
                        lum = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
                        ax.text(
                            j,
                            i,
                            f"{v:.2f}",
                            ha="center",
                            va="center",
                            fontsize=9,
                            color="black" if lum > 0.5 else "white",
                        )
                    elif status[i, j] == "failed":
                        ax.add_patch(
                            matplotlib.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, color="#e0e0e0")
                        )
                        ax.text(
                            j, i, "failed", ha="center", va="center", fontsize=8, color="#b22222"
                        )
            ax.set_xticks(range(len(cells)))
            ax.set_xticklabels([cell_label(*c, show_network=show_net) for c in cells], fontsize=9)
            ax.set_title(SPLIT_NAMES.get(sp, sp))
            ax.set_yticks(range(len(methods)))
            ax.set_yticklabels([display_name(m) for m in methods])
            for side in ("top", "right"):
                ax.spines[side].set_visible(True)
        for tick, m in zip(axes[0][0].get_yticklabels(), methods):
            if is_reference(m):
                tick.set_color("#555555")
                tick.set_style("italic")
        axes[0][0].set_ylabel("Method")
        cb = fig.colorbar(im, ax=list(axes[0]), fraction=0.03, pad=0.02)
        cb.set_label(f"Mean {label} over seeds (test pairs)")
        fig.suptitle(title)
        return save(fig, stem)


# --------------------------------------------------------------------------------------------
# AUROC against runtime


def _seconds(x: float, _pos=None) -> str:
    """Tick label for a log-scaled seconds axis: 0.1, 1, 10, 100, 1000 ..."""
    return f"{x:g}"


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")


def auroc_vs_runtime(
    summary: pd.DataFrame, stem: str | Path, split: str | None = "genelink"
) -> list[Path]:
    """Mean test AUROC (± sd) against mean wall-clock runtime per job (log scale); colour =
    method, marker = dataset and gene set."""
    title = "AUROC against runtime"
    need = {"auroc_mean", "runtime_s_mean"}
    if summary.empty or not need <= set(summary.columns):
        return placeholder(stem, title, f"the summary lacks {sorted(need - set(summary.columns))}")
    t = summary[summary["scope"] == TEST]
    sp = pick_split(t, split)
    d = t[(t["split"] == sp) & t["auroc_mean"].notna() & (t["runtime_s_mean"] > 0)]
    if d.empty:
        return placeholder(
            stem, title, "no job has both an AUROC and a recorded runtime (benchmark files)"
        )
    cells, show_net = table_cells(d)
    methods = order_methods(d["method"])
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(9, 5.5))
        for _, r in d.iterrows():
            c = (str(r["dataset"]), str(r["network"]), str(r["geneset"]))
            sd = r["auroc_sd"] if np.isfinite(r.get("auroc_sd", np.nan)) else 0.0
            ax.errorbar(
                r["runtime_s_mean"],
                r["auroc_mean"],
                yerr=sd,
                fmt=_MARKERS[cells.index(c) % len(_MARKERS)],
                color=method_color(r["method"]),
                mec="black",
                mew=0.5,
                ms=8,
                elinewidth=0.8,
                capsize=2,
            )
        ax.set_xscale("log")
        ax.set_xlabel("Runtime per job (s, log scale; mean over seeds)")
        ax.set_ylabel("AUROC on test pairs (mean ± sd)")
        ax.axhline(0.5, color="black", ls=":", lw=1)
        ax.text(
            1.0,
            0.5,
            "random ",
            va="bottom",
            ha="right",
            fontsize=9,
            transform=ax.get_yaxis_transform(),
        )
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_seconds))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.grid(alpha=0.3, which="both")
        ax.set_title(f"{title}, {SPLIT_NAMES.get(sp, sp)} split")
        fig.tight_layout(rect=(0, 0, 0.78, 1))
        right = ax.get_position().x1 + 0.01
        # figure-level legends stay inside the saved bounding box (a second axes legend would not)
        fig.legend(
            handles=legend_handles(methods),
            title="Method",
            loc="upper left",
            bbox_to_anchor=(right, ax.get_position().y1),
            frameon=False,
        )
        marker_handles = [
            Line2D(
                [],
                [],
                marker=_MARKERS[i % len(_MARKERS)],
                ls="",
                color="#888888",
                mec="black",
                ms=8,
                label=cell_label(*c, show_network=show_net).replace("\n", " "),
            )
            for i, c in enumerate(cells)
        ]
        fig.legend(
            handles=marker_handles,
            title="Dataset",
            loc="lower left",
            bbox_to_anchor=(right, ax.get_position().y0),
            frameon=False,
        )
        return save(fig, stem)


# --------------------------------------------------------------------------------------------
# improvement over the degree prior per protocol


def improvement_over_prior(by_split: pd.DataFrame, stem: str | Path) -> list[Path]:
    """Mean (± sd over runs) AUROC and AUPRC gain over the stronger label-only prior, per protocol;
    0 = no better than knowing how many edges each gene has in the training labels."""
    title = "Improvement over the stronger label-only prior"
    need = {"split", "method", "delta_auroc_mean"}
    if by_split.empty or not need <= set(by_split.columns):
        return placeholder(stem, title, "no degree_prior / label_prior results to compare with")
    d = by_split[by_split["method"] != PRIOR]
    if d["delta_auroc_mean"].notna().sum() == 0 and (d["status"] != "failed").all():
        return placeholder(stem, title, "no job has a label-only prior result on the same seed")
    splits = [s for s in SPLIT_ORDER if s in set(d["split"])] + sorted(
        set(d["split"]) - set(SPLIT_ORDER)
    )
    methods = order_methods(d["method"])
    width = 0.8 / max(len(methods), 1)
    with plt.rc_context(RC):
        fig, axes = plt.subplots(
            2,
            1,
            figsize=(max(7.0, 1.5 + len(splits) * (0.8 + 0.25 * len(methods))), 7.5),
            sharex=True,
        )
        for ax, met, label in zip(axes, ("auroc", "auprc"), ("AUROC", "AUPRC")):
            for j, m in enumerate(methods):
                for i, sp in enumerate(splits):
                    r = d[(d["split"] == sp) & (d["method"] == m)]
                    if r.empty:
                        continue
                    x = i - 0.4 + width * (j + 0.5)
                    v = r[f"delta_{met}_mean"].iloc[0]
                    e = r[f"delta_{met}_sd"].iloc[0] if f"delta_{met}_sd" in r else np.nan
                    if np.isfinite(v):
                        ax.bar(
                            x,
                            v,
                            width=width * 0.95,
                            color=method_color(m),
                            edgecolor="black",
                            linewidth=0.3,
                            yerr=e if np.isfinite(e) else None,
                            error_kw={"elinewidth": 0.8, "capsize": 1.5},
                        )
                    elif r["status"].iloc[0] == "failed":
                        ax.text(
                            x,
                            0,
                            "failed",
                            rotation=90,
                            ha="center",
                            va="bottom",
                            fontsize=8,
                            color="#b22222",
                        )
            ax.axhline(0, color="black", lw=1)
            ax.set_ylabel(f"Δ{label} vs degree prior\n(mean ± sd over runs)")
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
        return finish_stacked(fig, axes, [SPLIT_NAMES.get(s, s) for s in splits], "Split protocol",
                               f"{title} (same seed, test pairs; runs pooled over datasets)", methods, stem)


# --------------------------------------------------------------------------------------------
# subnetwork: true test edges one method finds and another misses (paper Fig. 3 idea)


def _pick_pair(d: pd.DataFrame, method: str, other: str) -> tuple[str, str] | None:
    present = set(d.loc[d["auroc_mean"].notna(), "method"])
    if {method, other} <= present:
        return method, other
    ranked = d[d["auroc_mean"].notna() & ~d["method"].isin(REFERENCE_METHODS)]
    ranked = ranked.groupby("method")["auroc_mean"].mean().sort_values(ascending=False)
    names = list(ranked.index)
    if method in present and len(names) >= 2:
        return method, next(n for n in names if n != method)
    return (names[0], names[1]) if len(names) >= 2 else None


def subnetwork_edges(
    y_pairs: pd.DataFrame, scores_a: np.ndarray, scores_b: np.ndarray
) -> pd.DataFrame:
    """Classify every true test edge: found (in the top-k, k = number of positives, ties
    included) by A only, by both, by B only, or by neither."""
    y = y_pairs["Label"].to_numpy(int)
    k = int(y.sum())
    pos_at = np.flatnonzero(y == 1)
    in_a = np.isin(pos_at, list(top_k(pd.Series(np.asarray(scores_a, float)), k)))
    in_b = np.isin(pos_at, list(top_k(pd.Series(np.asarray(scores_b, float)), k)))
    pos = y_pairs.iloc[pos_at].copy()
    pos["found"] = np.select(
        [in_a & ~in_b, in_a & in_b, ~in_a & in_b], ["a_only", "both", "b_only"], "neither"
    )
    return pos[["TF", "Target", "found"]].reset_index(drop=True)


def subnetwork(
    summary: pd.DataFrame,
    metrics: pd.DataFrame,
    results_dir: str | Path,
    stem: str | Path,
    method: str = "sctransnet",
    other: str = "genelink",
    dataset: str | None = None,
    split: str | None = "genelink",
    max_tfs: int = 5,
    max_targets: int = 28,
) -> list[Path]:
    """Bipartite drawing (TFs left, targets right) of true test edges of one dataset: those in
    ``method``'s top-k but not ``other``'s, those both find, those only ``other`` finds, and those
    ``method`` misses. Falls back to the two best non-reference methods when one is absent."""
    from grnbench.evaluate.metrics import attach_scores

    title = "True test edges found by one method and missed by another"
    t = summary[summary["scope"] == TEST] if not summary.empty else summary
    sp = pick_split(t, split)
    if sp is None:
        return placeholder(stem, title, "no test-scope results")
    d = t[t["split"] == sp]
    if dataset is not None and dataset in set(d["dataset"]):
        d = d[d["dataset"] == dataset]
    cells, _ = table_cells(d)
    chosen = None
    for c in cells:
        dc = d[(d["dataset"] == c[0]) & (d["network"] == c[1]) & (d["geneset"] == c[2])]
        pair = _pick_pair(dc, method, other)
        if pair is None:
            continue
        m = metrics[
            (metrics["dataset"] == c[0])
            & (metrics["network"] == c[1])
            & (metrics["geneset"] == c[2])
            & (metrics["split"] == sp)
            & (metrics["scope"] == TEST)
            & (metrics["status"] == "ok")
        ]
        for seed in sorted(set(m["seed"])):
            fa, fb = (layout.edges(results_dir, *c, sp, p, seed) for p in pair)
            fs = layout.split_csv(results_dir, *c, sp, seed)
            if not (fa.exists() and fb.exists() and fs.exists()):
                continue
            if not set(pair) <= set(m.loc[m["seed"] == seed, "method"]):
                continue
            s = pd.read_csv(fs, dtype={"TF": str, "Target": str})
            test = s[s["Part"] == "test"].reset_index(drop=True)
            if test["Label"].sum() == 0:
                continue  # nothing true to draw for this seed
            sa, _ = attach_scores(test, pd.read_csv(fa, dtype={"Gene1": str, "Gene2": str}))
            sb, _ = attach_scores(test, pd.read_csv(fb, dtype={"Gene1": str, "Gene2": str}))
            chosen = (c, pair, seed, subnetwork_edges(test, sa, sb))
            break
        if chosen:
            break
    if chosen is None:
        return placeholder(
            stem,
            title,
            "needs two methods (scTransNet and GENELink by default) with prediction files and "
            "true test edges on a shared seed",
        )
    c, (a, b), seed, edges = chosen
    counts = edges["found"].value_counts()
    # TFs with the most edges only A finds, then the most edges A misses
    score = edges.assign(
        a=edges["found"].eq("a_only"), miss=edges["found"].isin(["b_only", "neither"])
    )
    per_tf = score.groupby("TF")[["a", "miss"]].sum().sort_values(["a", "miss"], ascending=False)
    tfs = list(per_tf.index[:max_tfs])
    sub = edges[edges["TF"].isin(tfs)].copy()
    pri = {"a_only": 0, "b_only": 1, "neither": 2, "both": 3}
    sub["p"] = sub["found"].map(pri)
    sub = sub.sort_values(["p", "TF", "Target"])
    targets = list(dict.fromkeys(sub["Target"]))[:max_targets]
    sub = sub[sub["Target"].isin(targets)]
    targets = sorted(set(sub["Target"]), key=lambda g: (sub.loc[sub["Target"] == g, "p"].min(), g))
    style = {
        "a_only": dict(
            color=method_color(a), lw=2.4, ls="-", label=f"found by {display_name(a)} only"
        ),
        "both": dict(color="#9a9a9a", lw=1.0, ls="-", label="found by both"),
        "b_only": dict(
            color=method_color(b), lw=2.0, ls="-", label=f"found by {display_name(b)} only"
        ),
        "neither": dict(color="black", lw=1.0, ls=(0, (2, 2)), label="missed by both"),
    }
    ty = {g: i for i, g in enumerate(tfs)}
    gy = {g: i for i, g in enumerate(targets)}
    scale = (len(targets) - 1) / max(len(tfs) - 1, 1) if len(tfs) > 1 else 0.0
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(8.5, max(5.0, 0.3 * len(targets) + 1.5)))
        for _, r in sub.sort_values("p", ascending=False).iterrows():
            y0 = ty[r["TF"]] * scale if len(tfs) > 1 else (len(targets) - 1) / 2
            st = dict(style[r["found"]])
            st.pop("label")
            ax.plot([0, 1], [y0, gy[r["Target"]]], **st, alpha=0.9, zorder=1)
        for g, i in ty.items():
            y0 = i * scale if len(tfs) > 1 else (len(targets) - 1) / 2
            ax.scatter([0], [y0], s=260, color="#fce4b6", edgecolor="black", zorder=2)
            ax.text(-0.04, y0, g, ha="right", va="center", fontsize=10, weight="bold")
        for g, i in gy.items():
            ax.scatter([1], [i], s=70, color="#d9e8f5", edgecolor="black", zorder=2)
            ax.text(1.03, i, g, ha="left", va="center", fontsize=9)
        ax.set_xlim(-0.45, 1.4)
        ax.set_ylim(-1.6, len(targets))
        ax.invert_yaxis()
        ax.axis("off")
        ax.text(0, -1.1, "TFs", ha="center", fontsize=11, weight="bold")
        ax.text(1, -1.1, "Targets", ha="center", fontsize=11, weight="bold")
        handles = [
            Line2D(
                [],
                [],
                color=st["color"],
                lw=st["lw"],
                ls=st["ls"],
                label=f"{st['label']} ({int(counts.get(key, 0))} in test set)",
            )
            for key, st in style.items()
        ]
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=2,
            frameon=False,
            title=f"True test edges; found = in the top k={int(len(edges))} of the test pairs",
        )
        name = cell_label(*c, show_network=False).replace("\n", " ")
        ax.set_title(
            f"{display_name(a)} vs {display_name(b)}: {name}, {SPLIT_NAMES.get(sp, sp)} split, seed {seed}"
        )
        fig.tight_layout()
        return save(fig, stem)


# --------------------------------------------------------------------------------------------
# statistics (issue 14.5): critical-difference diagram, intervals of the gain over the prior


def critical_difference(ranks: pd.DataFrame, stem: str | Path) -> list[Path]:
    """Demsar's (2006) critical-difference diagram from table ``average_ranks``: each method at
    its average rank over the benchmark cells (1 = best, left), the Nemenyi CD as a scale bar, and
    thick bars joining methods whose average ranks differ by less than the CD."""
    from grnbench.evaluate.stats import cliques

    title = "Average ranks across benchmark cells"
    need = {"method", "mean_rank", "cd", "n"}
    if ranks.empty or not need <= set(ranks.columns) or len(ranks) < 2:
        return placeholder(stem, title, "needs at least two methods run in every benchmark cell")
    n = int(ranks["n"].iloc[0])
    if n < 2:
        return placeholder(stem, title, f"needs at least two benchmark cells to rank over (found {n})")
    d = ranks.sort_values("mean_rank", kind="mergesort").reset_index(drop=True)
    k, cd = len(d), float(ranks["cd"].iloc[0])
    names, r = list(d["method"]), d["mean_rank"].to_numpy(float)
    groups = cliques(names, r, cd)
    half = (k + 1) // 2
    step = 0.32
    y_groups = [-0.18 - 0.13 * j for j in range(len(groups))]
    y0 = (min(y_groups) if groups else -0.05) - 0.3
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(10, 1.9 + step * half + 0.13 * len(groups)))
        ax.axis("off")
        ax.plot([1, k], [0, 0], color="black", lw=1.2)
        for t in range(1, k + 1):
            ax.plot([t, t], [0, 0.07], color="black", lw=1)
            ax.text(t, 0.12, str(t), ha="center", va="bottom", fontsize=9)
        if np.isfinite(cd):
            ax.plot([1, 1 + cd], [0.55, 0.55], color="black", lw=2)
            for x in (1, 1 + cd):
                ax.plot([x, x], [0.5, 0.6], color="black", lw=1.2)
            ax.text(1 + cd / 2, 0.63, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=10)
        for j, g in enumerate(groups):
            lo, hi = r[names.index(g[0])], r[names.index(g[-1])]
            ax.plot([lo - 0.04, hi + 0.04], [y_groups[j]] * 2, color="black", lw=4, solid_capstyle="round")
        for i, (m, x) in enumerate(zip(names, r)):
            left = i < half
            row = i if left else k - 1 - i
            y = y0 - step * row
            xe = 0.6 if left else k + 0.4
            ax.plot([x, x, xe], [0, y, y], color=method_color(m), lw=1.6)
            ax.scatter([x], [0], color=method_color(m), edgecolor="black", zorder=3, s=30)
            ax.text(xe - 0.05 if left else xe + 0.05, y, f"{display_name(m)} ({x:.2f})",
                    ha="right" if left else "left", va="center", fontsize=10,
                    color="#555555" if is_reference(m) else "black",
                    style="italic" if is_reference(m) else "normal")
        ax.set_xlim(-1.2, k + 2.2)
        ax.set_ylim(y0 - step * half, 0.9)
        fr = ranks.iloc[0]
        sub = (f"N = {n} cells, k = {k} methods; Friedman chi² = {fr['friedman_chi2']:.2f} "
               f"(p = {fr['friedman_p']:.2g}); Nemenyi CD at alpha = {fr['alpha']:g}")
        ax.set_title(f"{title} (test AUROC; 1 = best)\n{sub}", fontsize=11)
        fig.tight_layout()
        return save(fig, stem)


def significance_ci(sig: pd.DataFrame, stem: str | Path, stronger: pd.DataFrame | None = None,
                    max_cells: int = 6) -> list[Path]:
    """Per benchmark cell: each method's AUROC gain over the cell's stronger label-only prior
    (table ``significance``) with its 95% paired-bootstrap interval; filled = beats the prior
    (Holm-corrected p < 0.05), hollow = not shown to."""
    from grnbench.evaluate.stats import BEATS
    from grnbench.evaluate.summary import CELL_KEYS

    title = "Gain in AUROC over the stronger label-only prior, with 95% intervals"
    need = {"comparison", "reference", "delta_auroc", "delta_auroc_ci_lo", "verdict"}
    if sig.empty or not need <= set(sig.columns):
        return placeholder(stem, title, "no method has a label-only prior on the same test pairs")
    p = sig[(sig["comparison"] == "prior") & sig["delta_auroc"].notna()]
    keys = list(CELL_KEYS)
    if stronger is not None and len(stronger):
        p = p.merge(stronger.rename(columns={"prior": "reference"}), on=keys + ["reference"], how="inner")
    else:  # the prior with the higher AUROC in each cell
        best = p.groupby(keys + ["reference"])["reference_auroc"].mean().reset_index()
        best = best.sort_values("reference_auroc", ascending=False, kind="mergesort").drop_duplicates(keys)
        p = p.merge(best[keys + ["reference"]], on=keys + ["reference"], how="inner")
    p = p[~p["method"].isin(REFERENCE_METHODS) | (p["method"] == RANDOM)]
    if p.empty:
        return placeholder(stem, title, "no method has a label-only prior on the same test pairs")
    cells = list(dict.fromkeys(map(tuple, p[keys].astype(str).to_numpy())))
    cells.sort(key=lambda c: (SPLIT_ORDER.index(c[3]) if c[3] in SPLIT_ORDER else 99, c))
    cells = cells[:max_cells]
    methods = order_methods(p["method"])
    ncol = min(3, len(cells))
    nrow = (len(cells) + ncol - 1) // ncol
    with plt.rc_context(RC):
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 0.8 + 0.3 * len(methods) * nrow + 0.6 * nrow),
                                 squeeze=False, sharey=True)
        for ax in axes.ravel()[len(cells):]:
            ax.axis("off")
        for ax, c in zip(axes.ravel(), cells):
            dc = p[(p[keys].astype(str) == pd.Series(c, index=keys)).all(axis=1)].set_index("method")
            ms = [m for m in methods if m in dc.index]
            ys = [methods.index(m) for m in ms]
            r = dc.loc[ms]
            cols = [method_color(m) for m in ms]
            ax.hlines(ys, r["delta_auroc_ci_lo"], r["delta_auroc_ci_hi"], colors=cols, lw=2)
            ax.scatter(r["delta_auroc"], ys, s=45, zorder=3, edgecolors=cols, linewidths=1.5,
                       c=[c if v == BEATS else "white" for c, v in zip(cols, r["verdict"])])
            ax.axvline(0, color="black", lw=1)
            ax.set_yticks(range(len(methods)))
            ax.set_yticklabels([display_name(m) for m in methods])
            ax.invert_yaxis()
            ref = display_name(str(dc["reference"].iloc[0])) if len(dc) else ""
            ax.set_title(f"{c[0]} {geneset_label(c[2])}, {SPLIT_NAMES.get(c[3], c[3])}\nvs {ref}", fontsize=10)
            ax.set_xlabel("ΔAUROC (method - prior)")
            ax.grid(axis="x", alpha=0.3)
        handles = [Line2D([], [], marker="o", ls="", color="#444444", label="beats the prior (Holm p < 0.05)"),
                   Line2D([], [], marker="o", ls="", mfc="white", color="#444444", label="not shown to beat the prior")]
        fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, bbox_to_anchor=(0.5, -0.02))
        fig.suptitle(f"{title}\n(paired bootstrap over test pairs, seeds averaged)", fontsize=11)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        return save(fig, stem)
