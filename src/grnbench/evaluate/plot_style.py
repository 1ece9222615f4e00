"""The look shared by every figure: Agg backend, one colour per method, rc settings, labels,
saving (PNG + PDF, atomically) and the "no data for this figure" placeholder.

One palette (:func:`method_color`) colours a method the same way in every figure: each method
class's ``color`` (the reference predictors random, degree prior and label prior are grey),
a stable colour from the name's hash for a method that sets none. The figures are in
:mod:`grnbench.evaluate.plots`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and in Snakemake jobs

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from grnbench.evaluate.summary import (  # noqa: E402
    display_name,
    method_order_key,
)
from grnbench.methods.registry import facts, method_order  # noqa: E402

SPLIT_ORDER = ("genelink", "genelink_released", "tf_holdout", "degree_matched")
SPLIT_NAMES = {
    "genelink": "GENELink protocol",
    "genelink_released": "GENELink released split",
    "tf_holdout": "TF hold-out",
    "degree_matched": "degree-matched negatives",
}


class _ReferenceMethods(Sequence):
    """The methods whose class says ``reference = True`` (grey, never a "leading method"), read
    on every use so a registered plugin counts too; usable with ``in`` and ``Series.isin``."""

    def _names(self) -> tuple[str, ...]:
        return tuple(m for m in method_order() if facts(m).reference)

    def __getitem__(self, i):
        return self._names()[i]

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, method) -> bool:
        return isinstance(method, str) and facts(method).reference

    def __repr__(self) -> str:
        return repr(self._names())


REFERENCE_METHODS = _ReferenceMethods()  # random, degree_prior, label_prior (+ plugins that say so)

_EXTRA = plt.get_cmap("tab20b").colors  # for methods we do not know (user plugins)

RC = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def method_color(method: str) -> str:
    """One colour per method for every figure (its class's ``color``); a method that sets none
    and an unknown name get a stable colour from the name's hash."""
    color = facts(method).color
    if color:
        return color
    h = int(hashlib.md5(method.encode()).hexdigest(), 16)  # stable across runs (unlike hash())
    return matplotlib.colors.to_hex(_EXTRA[h % len(_EXTRA)])


def is_reference(method: str) -> bool:
    """True for a reference predictor (its class's ``reference``)."""
    return facts(method).reference


def order_methods(methods) -> list[str]:
    return sorted(dict.fromkeys(methods), key=method_order_key)


def geneset_label(geneset: str) -> str:
    """'tfs500' -> 'TFs+500' (the papers' spelling)."""
    g = str(geneset)
    return "TFs+" + g[3:] if g.lower().startswith("tfs") and g[3:].isdigit() else g


def cell_label(dataset: str, network: str, geneset: str, show_network: bool = True) -> str:
    parts = [str(dataset)] + ([str(network)] if show_network else []) + [geneset_label(geneset)]
    return "\n".join(parts)


def pick_split(df: pd.DataFrame, split: str | None) -> str | None:
    """The requested split when present, else the first present in protocol order."""
    if df.empty or "split" not in df.columns:
        return None
    present = list(dict.fromkeys(df["split"].astype(str)))
    if split in present:
        return split
    ordered = [s for s in SPLIT_ORDER if s in present] + [
        s for s in present if s not in SPLIT_ORDER
    ]
    return ordered[0] if ordered else None


# --------------------------------------------------------------------------------------------
# saving


def save(fig, stem: str | Path) -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.pdf`` (atomically) and close the figure."""
    from grnbench.utils import atomic_path

    stem = Path(stem)
    out = []
    for ext in (".png", ".pdf"):
        path = stem.with_suffix(ext)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext[1:], bbox_inches="tight")
        out.append(path)
    plt.close(fig)
    return out


def placeholder(stem: str | Path, title: str, reason: str) -> list[Path]:
    """A clearly labelled image saying why a figure has nothing to show."""
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.axis("off")
        ax.text(0.5, 0.72, title, ha="center", va="center", fontsize=14, weight="bold")
        ax.text(
            0.5,
            0.45,
            "No data for this figure",
            ha="center",
            va="center",
            fontsize=13,
            color="#b22222",
        )
        ax.text(0.5, 0.2, reason, ha="center", va="center", fontsize=10, wrap=True, color="#333333")
        return save(fig, stem)


def legend_handles(methods: Sequence[str]) -> list:
    return [
        matplotlib.patches.Patch(
            facecolor=method_color(m), edgecolor="black", linewidth=0.4, label=display_name(m)
        )
        for m in methods
    ]


def finish_stacked(fig, axes, ticklabels: Sequence[str], xlabel: str, title: str,
                    methods: Sequence[str], stem: str | Path) -> list[Path]:
    """Shared x axis labels, a title on top, the method legend right of the panels, save."""
    axes[-1].set_xticks(range(len(ticklabels)))
    axes[-1].set_xticklabels(ticklabels)
    axes[-1].set_xlabel(xlabel)
    axes[0].set_title(title)
    fig.legend(handles=legend_handles(methods), loc="center left", bbox_to_anchor=(1.0, 0.5),
               frameon=False, title="Method")
    fig.tight_layout()
    return save(fig, stem)


def table_cells(df: pd.DataFrame) -> tuple[list[tuple], bool]:
    cells = list(
        dict.fromkeys(map(tuple, df[["dataset", "network", "geneset"]].astype(str).to_numpy()))
    )
    cells.sort(key=lambda c: (c[0], c[1], (len(c[2]), c[2])))
    show_net = len({c[1] for c in cells}) > 1
    return cells, show_net
