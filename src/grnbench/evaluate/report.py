"""Aggregate stage: every table and figure from ``metrics.tsv`` and the jobs' files, nothing rerun.

Entry point :func:`aggregate` (wired as ``grnbench aggregate``; also ``python -m
grnbench.evaluate.report``). Output names are fixed (:data:`TABLE_STEMS`, :data:`FIGURE_STEMS`,
:data:`OVERVIEW`) so Snakemake can declare them; :func:`output_files` lists them.
"""

from __future__ import annotations

import argparse
import base64
import html
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grnbench import layout

if TYPE_CHECKING:  # plots, tables and pandas load on use: report_items is read when Snakemake plans
    import pandas as pd

log = logging.getLogger("grnbench.aggregate")

# stem -> (title, one-line note shown above the Markdown table)
TABLES = {
    "summary": (
        "Summary per dataset, network, gene set, split, method and scope",
        "Mean ± sd over seeds (sd: ddof = 1). Only seeds with status ok enter means; n_failed counts failed jobs; status failed = every seed failed.",
    ),
    "leaderboard": (
        "Leaderboard: mean rank on test AUROC",
        "Rank 1 = best mean AUROC inside a dataset/network/gene set/split cell (test pairs); a method that failed in a cell ranks last there.",
    ),
    "table1_comparison": (
        "scTransNet ablations against the paper's Table 1",
        "Ours: per seed the mean over gene sets (the paper averages TFs+500 and TFs+1000), then mean ± sd over seeds; delta = ours - published. like_for_like = same gene sets and network as the paper.",
    ),
    "headline": (
        "Honest headline: gain over the stronger label-only prior",
        "delta = method - the stronger of degree_prior and label_prior in its cell (column prior), on the same split seed (test pairs); mean ± sd over seeds.",
    ),
    "headline_by_split": (
        "Gain over the stronger label-only prior per split protocol",
        "Per-seed gains pooled over datasets, networks and gene sets; frac_above_prior = share of runs with AUROC above the prior's.",
    ),
    "stability": (
        "Stability of the top-k edges across seeds",
        "Jaccard overlap of the top-k pairs (ties included) between every two seeds, on the pairs both seeds scored; k = expected positives among those pairs.",
    ),
    "stability_ranks": (
        "Stability of the ranking across seeds (Spearman) and BEELINE's Jaccard / Spearman",
        "spearman = Spearman of two seeds' scores on the pairs both scored (every method); bleval_* = BEELINE v1.1's Jaccard.py / Spearman.py over the seeds (median and MAD; methods with scope beeline only).",
    ),
    "beeline_extra": (
        "BEELINE v1.1's signed early precision and network motifs",
        "Scope beeline (unsupervised methods), mean ± sd over seeds. epr_activation / epr_inhibitory: SignedEarlyPrecision.py (NaN where the ground truth has no Type column: signed = no); fbl / ffl / mi_ratio: Motifs.py, motif count in the top-k predictions over that in the ground truth (k = true edges; NaN where the truth has none).",
    ),
    "borda": (
        "Borda ensemble of the methods (BEELINE v1.1's Borda.py)",
        "BORDA = mean Borda score per pair over the members, per seed, scored like a method; test: every method but random and the label-only priors, on the test pairs; beeline: the methods with scope beeline, BEELINE's universe. best_single = member with the highest mean AUROC.",
    ),
    "bootstrap_ci": (
        "Test AUROC and AUPRC with 95% bootstrap intervals",
        "Mean over seeds; interval = 2.5 and 97.5 percentiles of 1000 label-stratified resamples of the cell's test pairs (seeds resampled together). Over test pairs, for the trained models: training variance is the sd over seeds in summary.",
    ),
    "significance": (
        "Paired tests against the label-only priors and the cell's best method",
        "delta = method - reference on the same test pairs and seeds (mean over seeds); p: paired bootstrap (same resamples for both, bootstrap standard error), Holm-corrected over the methods of a cell per reference; p_auroc_delong: DeLong, seeds combined as independent. verdict on AUROC: 'beats the prior (p < 0.05)' only when Holm p < 0.05 and delta > 0.",
    ),
    "average_ranks": (
        "Average ranks across benchmark cells (Friedman, Nemenyi critical difference)",
        "Rank per cell on mean test AUROC (1 = best; failed = last), averaged over cells; only methods run in every cell. cd = Nemenyi critical difference (Demsar 2006); within_cd_of_best = not shown to rank worse than the best.",
    ),
    "generalization": (
        "Generalisation across split protocols: gain over the degree prior",
        "Per cell, method and protocol (GENELink, TF hold-out, degree-matched, cross-dataset; whichever ran): AUROC / AUPRC and delta = method - degree_prior on the same split and seed, mean ± sd over seeds; p: paired bootstrap vs degree_prior, Holm (table significance; scope test). labels_from: where the training labels came from.",
    ),
}
FIGURES = {
    "performance_bars": "Mean AUROC and AUPRC per method and dataset (error bars: sd over seeds); the paper's Figure 2 layout, with random and the degree prior in grey.",
    "roc_pr_curves": "ROC and precision-recall curves of the leading methods and the degree prior against the random predictor (dotted), one seed.",
    "heatmap_auroc": "Mean test AUROC of every method (rows) in every dataset (columns), one panel per split protocol.",
    "auroc_vs_runtime": "Mean test AUROC against mean runtime per job (log scale).",
    "improvement_over_prior": "Gain in AUROC and AUPRC over the stronger label-only prior (degree_prior or label_prior) on the same seed, per split protocol.",
    "subnetwork": "True test edges of one dataset found by scTransNet (in its top-k) and missed by GENELink, and the reverse.",
    "critical_difference": "Average rank of every method over the benchmark cells (test AUROC, 1 = best) with the Nemenyi critical difference; methods joined by a bar are not significantly different (Demsar 2006).",
    "significance_ci": "Each method's AUROC gain over the stronger label-only prior of its cell with the 95% paired-bootstrap interval; filled = beats the prior (Holm-corrected p < 0.05).",
    "generalization": "Each method's gain in AUROC and AUPRC over the degree prior (same split and seed; sd over seeds) on every split protocol the run has, from the GENELink protocol to cross-dataset label transfer; filled = beats the prior (Holm-corrected p < 0.05).",
}
TABLE_STEMS = tuple(TABLES)
FIGURE_STEMS = tuple(FIGURES)
OVERVIEW = "overview.html"


def output_files(outdir_tables: str | Path, outdir_figures: str | Path) -> list[str]:
    """Every file :func:`aggregate` writes, in a fixed order (for Snakemake's ``output``)."""
    t, f = Path(outdir_tables), Path(outdir_figures)
    out = [str(t / f"{s}.{e}") for s in TABLE_STEMS for e in ("tsv", "md")]
    out += [str(f / f"{s}.{e}") for s in FIGURE_STEMS for e in ("png", "pdf")]
    out.append(str(f / OVERVIEW))
    return out


FIGURE_GROUPS = {
    "performance_bars": "Performance",
    "heatmap_auroc": "Performance",
    "roc_pr_curves": "Performance",
    "improvement_over_prior": "Against the label-only priors",
    "auroc_vs_runtime": "Cost",
    "subnetwork": "Predicted edges",
    "critical_difference": "Statistics",
    "significance_ci": "Against the label-only priors",
    "generalization": "Against the label-only priors",
}


def report_items(results: str | Path) -> dict[str, dict]:
    """What rule aggregate declares: output name -> path, caption stem, report category,
    subcategory and labels (the Snakemake file wraps each in ``report()``)."""
    tables_dir, figures_dir = layout.tables_dir(results), layout.figures_dir(results)
    items: dict[str, dict] = {}
    for stem in TABLE_STEMS:
        for ext in ("tsv", "md"):
            items[f"{stem}_{ext}"] = {
                "path": str(tables_dir / f"{stem}.{ext}"),
                "caption": stem,
                "category": "Tables",
                "subcategory": "Summary tables" + (" (Markdown)" if ext == "md" else ""),
                "labels": {"table": stem, "format": ext},
            }
    for stem in FIGURE_STEMS:
        for ext in ("png", "pdf"):
            items[f"{stem}_{ext}"] = {
                "path": str(figures_dir / f"{stem}.{ext}"),
                "caption": stem,
                "category": "Figures" + (" (PDF)" if ext == "pdf" else ""),
                "subcategory": FIGURE_GROUPS.get(stem, "Other"),
                "labels": {"figure": stem, "format": ext},
            }
    items["overview"] = {
        "path": str(figures_dir / OVERVIEW),
        "caption": "overview",
        "category": "Overview",
        "subcategory": None,
        "labels": {"page": "overview"},
    }
    return items


def aggregate(
    metrics_tsv: str | Path,
    results_dir: str | Path,
    outdir_tables: str | Path,
    outdir_figures: str | Path,
    published_dir: str | Path | None,
    *,
    split: str = "genelink",
    stability_k: int | None = None,
    subnetwork_dataset: str | None = None,
) -> list[Path]:
    """Write every summary table (TSV + Markdown), figure (PNG + PDF) and the overview page.

    Reads only ``metrics_tsv``, the ``edges.csv``/``split_seed*.csv`` files under
    ``results_dir`` and ``published_dir/table1.tsv``. ``split`` is the protocol of the paper's
    layouts (Figure 2, Table 1, curves, subnetwork). Returns the written paths.
    """
    from grnbench.evaluate import plots
    from grnbench.evaluate.headline import headline, headline_by_split, stronger_prior
    from grnbench.evaluate.markdown import to_markdown, write_table
    from grnbench.evaluate.stability import stability
    from grnbench.evaluate.summary import leaderboard, read_metrics, summarise
    from grnbench.evaluate.table1 import read_published, table1

    outdir_tables, outdir_figures = Path(outdir_tables), Path(outdir_figures)
    outdir_tables.mkdir(parents=True, exist_ok=True)
    outdir_figures.mkdir(parents=True, exist_ok=True)
    metrics = read_metrics(metrics_tsv)
    log.info("read %d job rows from %s", len(metrics), metrics_tsv)
    summary = summarise(metrics)
    frames = {
        "summary": summary,
        "leaderboard": leaderboard(summary),
        "table1_comparison": table1(
            metrics, read_published(published_dir), split=split
        ),
        "headline": headline(metrics),
        "headline_by_split": headline_by_split(metrics),
        "stability": stability(metrics, results_dir, k=stability_k),
    }
    from grnbench.evaluate import beeline_eval, stats

    files = stats.JobFiles(results_dir)  # each split and edges file read once by the tables below
    frames["stability_ranks"] = beeline_eval.stability_ranks(metrics, results_dir, files=files)
    frames["beeline_extra"] = beeline_eval.beeline_extra(metrics, results_dir, files=files)
    frames["borda"] = beeline_eval.borda_table(metrics, results_dir, files=files)
    frames["bootstrap_ci"], frames["significance"] = stats.bootstrap_tables(metrics, results_dir, files=files)
    frames["average_ranks"] = stats.average_ranks(summary)
    from grnbench.evaluate import generalization

    # issue 18.3: the protocols side by side, minus degree_prior
    frames["generalization"] = generalization.generalization_table(metrics, frames["significance"], results_dir)
    written: list[Path] = []
    for stem, df in frames.items():
        title, note = TABLES[stem]
        written += write_table(df, outdir_tables / stem, title, note)
    from grnbench.utils import atomic_path

    for stem in ("significance", "average_ranks", "generalization"):  # Markdown: p-values to 2 significant digits
        with atomic_path(outdir_tables / f"{stem}.md") as tmp:
            tmp.write_text(to_markdown(stats.readable_p(frames[stem]), *TABLES[stem]))
    fig = outdir_figures
    written += plots.performance_bars(summary, fig / "performance_bars", split=split)
    written += plots.roc_pr_curves(
        summary, metrics, results_dir, fig / "roc_pr_curves", split=split
    )
    written += plots.heatmap(summary, fig / "heatmap_auroc", metric="auroc")
    written += plots.auroc_vs_runtime(summary, fig / "auroc_vs_runtime", split=split)
    written += plots.improvement_over_prior(
        frames["headline_by_split"], fig / "improvement_over_prior"
    )
    written += plots.subnetwork(
        summary, metrics, results_dir, fig / "subnetwork", dataset=subnetwork_dataset, split=split
    )
    written += plots.critical_difference(frames["average_ranks"], fig / "critical_difference")
    written += plots.significance_ci(
        frames["significance"], fig / "significance_ci", stronger_prior(metrics)
    )
    written += generalization.generalization_figure(frames["generalization"], fig / "generalization")
    written.append(
        write_overview_html(
            fig / OVERVIEW,
            {s: frames[s] for s in ("headline_by_split", "leaderboard", "table1_comparison")},
            {s: fig / f"{s}.png" for s in FIGURE_STEMS},
        )
    )
    for p in written:
        log.info("wrote %s", p)
    return written


# --------------------------------------------------------------------------------------------
# a self-contained HTML page (figures embedded), readable without Snakemake


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}
.scroll{overflow-x:auto}
th{background:#f2f2f2} td:first-child,th:first-child{text-align:left}
figure{margin:1.5em 0} img{max-width:100%;border:1px solid #eee}
figcaption{font-size:14px;color:#444}
"""


def write_overview_html(
    path: str | Path, frames: dict[str, pd.DataFrame], figures: dict[str, Path]
) -> Path:
    """One HTML file: the key tables and every figure (PNG embedded as base64), no scripts."""
    from grnbench.evaluate.markdown import _markdown_frame
    from grnbench.utils import atomic_path

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>grnbench results overview</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>grnbench results overview</h1>",
        "<p>Generated from results/tables/metrics.tsv and the jobs' prediction files.</p>",
    ]
    for stem, df in frames.items():
        title, note = TABLES.get(stem, (stem, ""))
        parts.append(f'<section data-table="{html.escape(stem)}"><h2>{html.escape(title)}</h2>')
        parts.append(f"<p>{html.escape(note)}</p>")
        if df.empty:
            parts.append("<p><em>No rows: nothing to show for this table yet.</em></p>")
        else:
            shown = df
            if "source" in df.columns:  # one long citation per row: say it once instead
                sources = sorted({str(x) for x in df["source"] if isinstance(x, str) and x})
                parts.append(f"<p>Published numbers: {html.escape('; '.join(sources))}</p>")
                shown = df.drop(columns=["source"])
            table = _markdown_frame(shown).to_html(index=False, border=0, escape=True)
            parts.append(f'<div class="scroll">{table}</div>')
        parts.append("</section>")
    for stem, png in figures.items():
        png = Path(png)
        if not png.exists():
            continue
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        cap = html.escape(FIGURES.get(stem, stem))
        parts.append(
            f'<figure data-figure="{html.escape(stem)}"><h2>{html.escape(stem.replace("_", " ").capitalize())}</h2>'
            f'<img alt="{html.escape(stem)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{cap}</figcaption></figure>"
        )
    parts.append("</body></html>")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# command line


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Arguments of ``grnbench aggregate`` (pass a subparser to extend it in place)."""
    p = parser or argparse.ArgumentParser(
        prog="grnbench aggregate", description="Tables and figures from results/tables/metrics.tsv"
    )
    p.add_argument("--metrics", required=True, help="metrics.tsv made by rule collect_metrics")
    p.add_argument("--results", required=True, help="results folder holding the per-job files")
    p.add_argument("--tables", required=True, help="output folder for tables")
    p.add_argument("--figures", required=True, help="output folder for figures")
    p.add_argument("--published", default=None, help="folder with table1.tsv (paper numbers)")
    p.add_argument("--split", default="genelink", help="protocol of the paper layouts")
    p.add_argument("--stability-k", type=int, default=None, help="top-k size (default: positives)")
    p.add_argument("--subnetwork-dataset", default=None, help="dataset drawn in subnetwork")
    return p


def run(args: argparse.Namespace) -> list[Path]:
    return aggregate(
        args.metrics,
        args.results,
        args.tables,
        args.figures,
        args.published,
        split=args.split,
        stability_k=args.stability_k,
        subnetwork_dataset=args.subnetwork_dataset,
    )


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    written = run(build_parser().parse_args(argv))
    print(f"wrote {len(written)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
