"""grnbench.layout: one place for every results path, used by the rules, pipeline and evaluate."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from grnbench import layout as L

ROOT = Path(__file__).resolve().parents[1]
JOB = ("sim", "groundtruth", "tfs150", "genelink", "pcc", 1)


def test_python_form_fills_the_rule_templates():
    wc = dict(zip(("dataset", "network", "geneset", "split", "method", "seed"), JOB))
    assert L.edges("res", *JOB) == Path("res/sim/groundtruth/tfs150/genelink/pcc/seed1/edges.csv")
    assert L.edges("res", *JOB) == L.fill("res", L.EDGES, **wc)
    assert L.run_json("res", *JOB) == L.fill("res", L.RUN, **wc)
    assert L.metrics("res", *JOB) == L.fill("res", L.METRICS, **wc)
    assert L.split_csv("res", *JOB[:4], 1) == Path("res/sim/groundtruth/tfs150/genelink/split_seed1.csv")
    assert L.split_json("res", *JOB[:4], 1) == L.fill("res", L.SPLIT_JSON, **wc)
    assert L.under("res", L.EDGES) == "res/{dataset}/{network}/{geneset}/{split}/{method}/seed{seed}/edges.csv"
    assert L.log_file("res", "infer", L.job_key(*JOB)) == Path("res/logs/infer/sim/groundtruth/tfs150/genelink/pcc/seed1.log")
    assert L.log("check_failures") == "logs/check_failures.log"
    assert L.benchmark("split", L.split_key(*JOB[:4], 1)) == "benchmarks/split/sim/groundtruth/tfs150/genelink/seed1.tsv"
    assert L.tables_dir("res") / "metrics.tsv" == Path("res", L.METRICS_TSV)


def test_results_of_inverts_under():
    assert L.results_of(L.under("/tmp/x/out", L.METRICS_TSV), L.METRICS_TSV) == "/tmp/x/out"
    with pytest.raises(ValueError, match="not a tables/status.tsv"):
        L.results_of("/tmp/x/out/tables/metrics.tsv", L.STATUS_TSV)


def test_import_is_light():
    code = ("import sys, grnbench.layout; heavy = {'pandas', 'numpy', 'torch', 'anndata', 'snakemake'} & set(sys.modules);"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_rules_build_no_results_path_by_hand():
    """Every results path of the rules comes from grnbench.layout (R(L.X), L.fill, L.log ...)."""
    bad = []
    for f in [*sorted((ROOT / "rules").glob("*.smk")), ROOT / "Snakefile"]:
        for i, line in enumerate(f.read_text().splitlines(), 1):
            if re.search(r'f"\{(RESULTS|LOGS|BENCH)\}/|seed\{|dirname\(os\.path\.dirname', line):
                bad.append(f"{f.name}:{i}: {line.strip()}")
    assert not bad, "\n".join(bad)


def _status(tmp_path, rows):
    cols = ["dataset", "network", "geneset", "split", "method", "seed", "kind", "scope", "status", "coverage", "error"]
    m = pd.DataFrame([dict(zip(cols, r)) for r in rows])
    (tmp_path / "tables").mkdir(exist_ok=True)
    m.to_csv(tmp_path / "tables/metrics.tsv", sep="\t", index=False)
    from grnbench.pipeline import job_status

    return job_status(tmp_path / "tables/metrics.tsv", tmp_path / "tables/status.tsv", results_dir=tmp_path)


def test_job_status_and_check_failures_use_the_layout(tmp_path):
    """status.tsv names the log of the step that failed; check_failures removes that job's files."""
    from grnbench.errors import GrnbenchError
    from grnbench.pipeline import check_failures

    ok = ("sim", "gt", "tfs9", "genelink", "pcc", 0)
    infer_failed = ("sim", "gt", "tfs9", "genelink", "gnnlink", 0)
    refused = ("sim", "gt", "tfs9", "tf_holdout", "pcc", 0)
    table = _status(tmp_path, [
        (*ok, "unsupervised", "test", "ok", 1.0, ""),
        (*infer_failed, "supervised", "test", "failed", float("nan"), "RuntimeError: boom"),
        (*refused, "unsupervised", "test", "failed", float("nan"), "split tf_holdout (seed 0) refused: no TF"),
    ])
    logs = dict(zip(table["method"] + "/" + table["split"], table["log"]))
    assert logs["pcc/genelink"] == str(L.log_file(tmp_path, "infer", L.job_key(*ok)))
    assert logs["gnnlink/genelink"] == str(tmp_path / "logs/infer/sim/gt/tfs9/genelink/gnnlink/seed0.log")
    assert logs["pcc/tf_holdout"] == str(tmp_path / "logs/split/sim/gt/tfs9/tf_holdout/seed0.log")
    files = [L.edges(tmp_path, *j) for j in (ok, infer_failed, refused)] + [
        L.run_json(tmp_path, *infer_failed), L.split_csv(tmp_path, *refused[:4], 0), L.split_json(tmp_path, *refused[:4], 0),
        L.split_csv(tmp_path, *ok[:4], 0)]
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("x\n")
    with pytest.raises(GrnbenchError, match=r"2 of 3 job\(s\) failed") as e:
        check_failures(tmp_path / "tables/status.tsv", tmp_path / "tables/all_jobs_ok.txt", results_dir=tmp_path)
    assert "gnnlink on sim/gt/tfs9/genelink/gnnlink/seed0: RuntimeError: boom" in str(e.value)
    kept = {f for f in files if f.exists()}
    assert kept == {L.edges(tmp_path, *ok), L.split_csv(tmp_path, *ok[:4], 0)}
    assert not (tmp_path / "tables/all_jobs_ok.txt").exists()
