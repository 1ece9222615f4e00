"""How far each method generalises: table and figure ``generalization`` (issue 18.3).

One row per benchmark cell (dataset, network, gene set), method, split protocol and scope: the
method's test AUROC and AUPRC on the protocols the config ran (``genelink`` = the GENELink
protocol, ``tf_holdout``, ``degree_matched``, ``cross_dataset``, ...), each minus the label-only
``degree_prior`` on the same split and seed, mean ± sd over the seeds both succeeded on. So the
rows of one method read, left to right in protocol order, what it still predicts as the labels
it trained on move further from the pairs it is tested on. Where the ``significance`` table
(:func:`grnbench.evaluate.stats.bootstrap_tables`: paired bootstrap on the same test pairs, Holm
over the methods of a cell) holds the comparison with ``degree_prior`` (scope ``test``), its
Holm-corrected p-values, DeLong's p and the verdict are joined; other scopes (the
``cross_dataset`` subgroups ``test:unseen_tf`` ...) have the deltas only.

``labels_from`` says where the training labels came from: ``own network`` for every protocol
but ``cross_dataset``, whose split summary (``split_seed<seed>.json``) names the training
dataset, network and gene set.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.evaluate.summary import (
    CELL_KEYS,
    PRIOR,
    TEST,
    _join_labels,
    _mean,
    _sd,
    method_order_key,
)

#: Protocols in reading order (from the closed world outwards); unknown ones follow.
PROTOCOL_ORDER = ("genelink", "genelink_released", "tf_holdout", "degree_matched", "cross_dataset")
PROTOCOL_NAMES = {
    "genelink": "GENELink protocol",
    "genelink_released": "GENELink released",
    "tf_holdout": "TF hold-out",
    "degree_matched": "degree-matched",
    "cross_dataset": "cross-dataset",
}
#: Scopes of the table: the test pairs and the cross_dataset subgroups.
SCOPES = (TEST, "test:unseen_tf", "test:unseen_target", "test:both_seen")
OWN = "own network"
COLUMNS = [
    "dataset", "network", "geneset", "method", "kind", "split", "scope", "labels_from", "status", "n_seeds",
    "auroc_mean", "auroc_sd", "prior_auroc_mean", "delta_auroc_mean", "delta_auroc_sd",
    "auprc_mean", "auprc_sd", "prior_auprc_mean", "delta_auprc_mean", "delta_auprc_sd",
    "p_auroc_holm", "p_auprc_holm", "p_auroc_delong", "verdict",
]


def _protocol_rank(split: str) -> tuple[int, str]:
    return (PROTOCOL_ORDER.index(split) if split in PROTOCOL_ORDER else len(PROTOCOL_ORDER), split)


def labels_from(results_dir: str | Path | None, dataset, network, geneset, split, seeds) -> str:
    """Where a cell's training labels came from (module docstring)."""
    if split != "cross_dataset":
        return OWN
    names = []
    for s in seeds:
        p = Path(results_dir or ".", str(dataset), str(network), str(geneset), str(split), f"split_seed{s}.json")
        try:
            names.append(str(json.loads(p.read_text())["cross_dataset"]["train"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return _join_labels(names) if names else "another dataset (split summary not found)"


def generalization_table(metrics: pd.DataFrame, significance: pd.DataFrame | None = None,
                         results_dir: str | Path | None = None, prior: str = PRIOR) -> pd.DataFrame:
    """The ``generalization`` table (module docstring) from ``metrics.tsv``'s rows and, when
    given, the ``significance`` table of the same run."""
    from grnbench.evaluate.headline import prior_deltas

    rows = []
    for scope in SCOPES:
        if not (metrics["scope"] == scope).any():
            continue
        d = prior_deltas(metrics, prior, scope)
        for key, g in d.groupby(list(CELL_KEYS) + ["method"], sort=False):
            ok = g[g["status"] == "ok"]
            both = ok[ok["prior_auroc"].notna()]
            row = dict(zip(list(CELL_KEYS) + ["method"], key))
            row.update(scope=scope, kind=_join_labels(g["kind"]), n_seeds=len(both),
                       status="failed" if len(ok) == 0 else ("no prior" if len(both) == 0 else "ok"),
                       labels_from=labels_from(results_dir, *key[:4], sorted(set(g["seed"]))))
            for met in ("auroc", "auprc"):
                row[f"{met}_mean"] = _mean(both[met])
                row[f"{met}_sd"] = _sd(both[met])
                row[f"prior_{met}_mean"] = _mean(both[f"prior_{met}"])
                row[f"delta_{met}_mean"] = _mean(both[f"delta_{met}"])
                row[f"delta_{met}_sd"] = _sd(both[f"delta_{met}"])
            rows.append(row)
    out = pd.DataFrame(rows, columns=COLUMNS)
    if significance is not None and len(significance) and len(out):
        sig = significance[(significance["comparison"] == "prior") & (significance["reference"] == prior)]
        sig = sig[list(CELL_KEYS) + ["method", "p_auroc_holm", "p_auprc_holm", "p_auroc_delong", "verdict"]]
        sig = sig.astype({k: str for k in CELL_KEYS}).assign(scope=TEST)
        out = out.drop(columns=["p_auroc_holm", "p_auprc_holm", "p_auroc_delong", "verdict"])
        out = out.astype({k: str for k in CELL_KEYS}).merge(sig, on=list(CELL_KEYS) + ["method", "scope"], how="left")
        out = out[COLUMNS]
    if out.empty:
        return out
    out = out.assign(_c=[(str(a), str(b), str(c)) for a, b, c in out[["dataset", "network", "geneset"]].to_numpy()],
                     _m=out["method"].map(method_order_key), _p=out["split"].map(_protocol_rank),
                     _s=out["scope"].map(lambda s: SCOPES.index(s) if s in SCOPES else len(SCOPES)))
    out = out.sort_values(["_c", "_m", "_p", "_s"], kind="mergesort").drop(columns=["_c", "_m", "_p", "_s"])
    return out.reset_index(drop=True)


def generalization_figure(table: pd.DataFrame, stem: str | Path, prior: str = PRIOR) -> list[Path]:
    """Per cell (rows of panels) the gain over ``prior`` in AUROC and AUPRC (columns) on each
    protocol it ran (x), one line per method, error bars = sd over seeds; a filled marker =
    beats the prior (Holm-corrected p < 0.05 in ``significance``). Scope ``test`` only."""
    from matplotlib.lines import Line2D

    from grnbench.evaluate import plots
    from grnbench.evaluate.stats import BEATS
    from grnbench.evaluate.summary import display_name

    title = f"Generalisation: gain over {display_name(prior)} per split protocol"
    t = table[(table["scope"] == TEST) & (table["status"] == "ok")] if len(table) else table
    if t.empty:
        return plots.placeholder(stem, title, f"no successful method with a {prior} of the same split and seed")
    plt = plots.plt
    cells = list(dict.fromkeys(map(tuple, t[["dataset", "network", "geneset"]].astype(str).to_numpy())))
    methods = plots.order_methods(t["method"])
    with plt.rc_context(plots.RC):
        fig, axes = plt.subplots(len(cells), 2, figsize=(11, 3.2 * len(cells) + 0.6), squeeze=False)
        for i, cell in enumerate(cells):
            c = t[(t[["dataset", "network", "geneset"]].astype(str) == list(cell)).all(axis=1)]
            splits = sorted(set(c["split"]), key=_protocol_rank)
            x = {s: k for k, s in enumerate(splits)}
            for j, met in enumerate(("auroc", "auprc")):
                ax = axes[i][j]
                ax.axhline(0.0, color="#6b6b6b", lw=1, ls="--")
                n = len(methods)
                for k, m in enumerate(methods):
                    r = c[c["method"] == m].sort_values("split", key=lambda s: s.map(_protocol_rank))
                    if r.empty:
                        continue
                    off = (k - (n - 1) / 2) * min(0.6 / max(n, 1), 0.12)
                    xs = np.array([x[s] for s in r["split"]]) + off
                    ys = r[f"delta_{met}_mean"].to_numpy(float)
                    err = np.nan_to_num(r[f"delta_{met}_sd"].to_numpy(float))
                    col = plots.method_color(m)
                    ax.plot(xs, ys, color=col, lw=1, alpha=0.6)
                    ax.errorbar(xs, ys, yerr=err, fmt="none", ecolor=col, elinewidth=1, capsize=2)
                    beats = (r["verdict"] == BEATS).to_numpy() if met == "auroc" else np.zeros(len(r), bool)
                    ax.scatter(xs[beats], ys[beats], color=col, edgecolor="black", s=36, zorder=3)
                    ax.scatter(xs[~beats], ys[~beats], facecolor="white", edgecolor=col, s=36, zorder=3,
                               linewidths=1.5)
                ax.set_xticks(range(len(splits)))
                ax.set_xticklabels([PROTOCOL_NAMES.get(s, s) for s in splits], rotation=15)
                ax.set_ylabel(f"{met.upper()} - {display_name(prior)}")
                ax.set_title(f"{plots.cell_label(*cell).replace(chr(10), ' / ')}: {met.upper()}")
        handles = [Line2D([], [], color=plots.method_color(m), marker="o", label=display_name(m))
                   for m in methods]
        handles.append(Line2D([], [], color="black", marker="o", ls="none", markerfacecolor="black",
                                    label="filled: beats the prior (Holm p < 0.05)"))
        fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, title="Method")
        fig.suptitle(title)
        fig.tight_layout()
        return plots.save(fig, stem)
