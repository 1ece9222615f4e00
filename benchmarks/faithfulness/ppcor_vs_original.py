"""Faithfulness: our ``ppcor`` against R ppcor's own ``pcor`` (as BEELINE's runPPCOR.R calls it).

ppcor is not part of this project: point ``--original`` at a checkout of the CRAN package's
sources (github:cran/ppcor; the commit used is printed). CRAN itself need not be reachable: the
script runs ``Rscript`` (Debian's ``r-base-core`` and ``r-cran-mass``), ``library(MASS)`` and
``source("R/ppcor_v1.01.R")`` from the checkout, then BEELINE's call
``pcor(x = t(as.matrix(expr)), method = "spearman")`` on the expression file as
``read.table(sep = ",", header = 1, row.names = 1)`` reads it, and writes the estimate and
p-value matrices as raw float64. Ours is ``grnbench.methods.get("ppcor")`` on the same file.
BEELINE's parser keeps a pair when ``pValue <= 0.01`` and ranks it by |estimate|; NaN p-values
(n - p <= 0: more genes than cells, as in mDC TFs+500's 821 genes x 383 cells) drop every pair.

Printed: the largest |difference| of the estimates and of the p-values (over pairs where both
are finite) and whether NaN p-values agree; test AUROC / AUPRC of both on our GENELink-protocol
splits (``genelink_split``, seeds given, ``hard`` for the cell-type-specific network) with
BEELINE's cut-off and with ``p_value_cutoff = None`` (all pairs by |estimate|); wall / CPU
seconds of each and the ``uptime`` load. ``--genes N`` keeps the first N genes of the file
(every TF among them stays a TF), so that n > p and the p-values are defined.

    python benchmarks/faithfulness/ppcor_vs_original.py --original /path/to/ppcor \
        --data ../shared/data/genelink --network specific --seeds 0 1 2 [--genes 300]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MODE, add_data_args, msd, test_scores  # noqa: E402

R_DRIVER = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(MASS))
source(args[1])
inputExpr <- read.table(args[2], sep = ",", header = 1, row.names = 1)
t0 <- proc.time()
pcorResults <- pcor(x = t(as.matrix(inputExpr)), method = "spearman")
el <- proc.time() - t0
writeBin(as.vector(pcorResults$estimate), file.path(args[3], "estimate.bin"), size = 8)
writeBin(as.vector(pcorResults$p.value), file.path(args[3], "pvalue.bin"), size = 8)
cat(sprintf("%d %.4f %.4f\n", nrow(inputExpr), el[["elapsed"]], el[["user.self"]] + el[["sys.self"]]),
    file = file.path(args[3], "timing.txt"))
"""


def load() -> str:
    return os.popen("uptime").read().strip().split("load average:")[-1].strip()


def commit_of(checkout: Path) -> str:
    r = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or "unknown (not a git work tree)"


def run_original(original: Path, expr_csv: Path, out: Path, n_genes: int) -> dict:
    driver = out / "driver.R"
    driver.write_text(R_DRIVER)
    src = original / "R" / "ppcor_v1.01.R"
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(["Rscript", str(driver), str(src), str(expr_csv), str(out)],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"Rscript failed ({r.returncode}):\n{r.stderr[-3000:]}")
    est = np.fromfile(out / "estimate.bin", dtype=np.float64).reshape(n_genes, n_genes, order="F")
    pv = np.fromfile(out / "pvalue.bin", dtype=np.float64).reshape(n_genes, n_genes, order="F")
    _, el, cpu_in = (out / "timing.txt").read_text().split()
    return {"estimate": est, "pvalue": pv, "wall_s": wall, "pcor_wall_s": float(el),
            "pcor_cpu_s": float(cpu_in), "process_cpu_s": (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime),
            "load": load(), "warnings": [ln for ln in r.stderr.splitlines() if ln.strip()][:3]}


def beeline_weights(est: np.ndarray, pv: np.ndarray, tf_rows: np.ndarray, cutoff: float | None) -> np.ndarray:
    """BEELINE's PPCOR parser on a full matrix: |estimate| of TF rows where p <= cutoff, else 0."""
    w = np.abs(est[tf_rows])
    if cutoff is not None:
        w = np.where(pv[tf_rows] <= cutoff, w, 0.0)  # NaN fails, as `pValue <= cutoff` in pandas
    w[np.arange(len(tf_rows)), tf_rows] = 0.0
    return w






def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--original", type=Path, required=True, help="checkout of cran/ppcor")
    add_data_args(ap)
    ap.add_argument("--genes", type=int, default=None, help="keep the first N genes of the file")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    folder = args.data / args.network / args.cell / args.num
    if not (folder / "BL--ExpressionData.csv").exists():
        print(f"SKIP: {folder}/BL--ExpressionData.csv is absent (needs ../shared/data)")
        return 0
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import warnings

    from bench_unsupervised import load_genelink

    from grnbench.data.dataset import GRNData, make_adata
    from grnbench.data.splits import genelink_split
    from grnbench.methods import registry

    expr = pd.read_csv(folder / "BL--ExpressionData.csv", index_col=0)  # genes x cells
    data = load_genelink(folder, name=f"{args.cell}/{args.network}/{args.num}")
    if args.genes is not None:
        expr = expr.iloc[: args.genes]
        keep = set(expr.index.astype(str))
        net = data.network[data.network["Gene1"].isin(keep) & data.network["Gene2"].isin(keep)]
        data = GRNData(make_adata(expr.T, [g for g in data.tfs if g in keep], net),
                       name=f"{data.name}[first {args.genes} genes]")
    tfs, genes = list(data.tfs), list(data.genes)
    assert genes == list(expr.index.astype(str))
    tf_rows = np.flatnonzero(data.tf_mask)
    print(f"ppcor {commit_of(args.original)} ({args.original}); {data.name}: {data.n_cells} cells, "
          f"{data.n_genes} genes, {len(tfs)} TFs; R: "
          f"{(lambda r: (r.stdout + r.stderr).strip())(subprocess.run(['Rscript', '--version'], capture_output=True, text=True))}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv = tmp / "ExpressionData.csv"
        expr.to_csv(csv, float_format="%.17g")
        orig = run_original(args.original, csv, tmp, len(genes))
    print(f"original: Rscript {orig['wall_s']:.1f} s wall, {orig['process_cpu_s']:.1f} s CPU "
          f"(pcor itself {orig['pcor_wall_s']:.2f} s wall, {orig['pcor_cpu_s']:.2f} s CPU); load {orig['load']}"
          + (f"; R said: {orig['warnings']}" if orig["warnings"] else ""))
    res = {}
    for cutoff in (0.01, None):
        method = registry.get("ppcor")(p_value_cutoff=cutoff)
        c0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            w_ours = method.infer(data, seed=0)
        wall = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
        w_orig = beeline_weights(orig["estimate"], orig["pvalue"], tf_rows, cutoff)
        print(f"\ncutoff {cutoff}: ours {wall:.2f} s wall {cpu:.2f} s CPU (load {load()}); "
              f"labels {method.labels}{'; warned: ' + str(caught[0].message) if caught else ''}; "
              f"max |w ours - w original| {np.abs(w_ours - w_orig).max():.2e}; "
              f"nonzero weights ours {int((w_ours != 0).sum())} original {int((w_orig != 0).sum())}")
        rows = []
        for seed in args.seeds:
            split = genelink_split(data, seed, mode=MODE[args.network])
            so, sr = test_scores(w_ours, split, tfs, genes), test_scores(w_orig, split, tfs, genes)
            rows.append({"seed": seed, "ours": so, "original": sr})
            print(f"  seed {seed}: AUROC original {sr['auroc']:.4f} ours {so['auroc']:.4f} "
                  f"(diff {so['auroc'] - sr['auroc']:+.2e}); AUPRC {sr['auprc']:.4f} / {so['auprc']:.4f}")
        for m in ("auroc", "auprc"):
            vo, vr = [r["ours"][m] for r in rows], [r["original"][m] for r in rows]
            print(f"  {m.upper()}: original {msd(vr)} ours {msd(vo)} diff {np.mean(vo) - np.mean(vr):+.2e}")
        res[str(cutoff)] = {"seeds": rows, "ours_wall_s": wall, "ours_cpu_s": cpu}
    from grnbench.methods.ppcor import partial_correlation, partial_correlation_pvalues

    rho, _ = partial_correlation(data.expression())
    pv = partial_correlation_pvalues(rho, data.n_cells)
    off = ~np.eye(len(genes), dtype=bool)  # R sets the diagonal's p-value to 0, ours NaN too
    pv, pr = pv[off], orig["pvalue"][off]
    both = np.isfinite(pv) & np.isfinite(pr)
    print(f"\nestimates: max |rho ours - R| {np.abs(rho - orig['estimate']).max():.2e}; p-values finite "
          f"ours {int(np.isfinite(pv).sum())} R {int(np.isfinite(pr).sum())} of {pv.size} off-diagonal pairs; "
          f"max |p ours - R| where both finite "
          f"{(np.abs(pv - pr)[both].max() if both.any() else float('nan')):.2e}")
    if args.json:
        args.json.write_text(json.dumps({"original_wall_s": orig["wall_s"], "results": res}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
