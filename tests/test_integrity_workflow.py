"""Issue 13 end to end: a refused split and an unscored rule method do not sink the run, are marked
failed (never ``ok``), and ``status.tsv`` lists every job with its status, coverage, reason and log."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import ROOT, copy_workflow

pytestmark = pytest.mark.slow

RULES = '''
rule header_only:
    input:
        unpack(method_inputs),
    output:
        f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/{{split}}/header_only/seed{{seed}}/edges.csv",
    log:
        f"{LOGS}/infer/{{dataset}}/{{network}}/{{geneset}}/{{split}}/header_only/seed{{seed}}.log",
    benchmark:
        f"{BENCH}/infer/{{dataset}}/{{network}}/{{geneset}}/{{split}}/header_only/seed{{seed}}.tsv"
    shell:
        "echo Gene1,Gene2,EdgeWeight > {output} 2> {log}"


rule reads_its_inputs:
    input:
        unpack(method_inputs),
    output:
        f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/{{split}}/reads_its_inputs/seed{{seed}}/edges.csv",
    log:
        f"{LOGS}/infer/{{dataset}}/{{network}}/{{geneset}}/{{split}}/reads_its_inputs/seed{{seed}}.log",
    benchmark:
        f"{BENCH}/infer/{{dataset}}/{{network}}/{{geneset}}/{{split}}/reads_its_inputs/seed{{seed}}.tsv"
    run:
        import anndata as ad
        import pandas as pd

        test = pd.read_csv(input.test_pairs)
        net = ad.read_h5ad(input.supervised_h5ad).uns["network"]
        train = set(zip(net["Gene1"], net["Gene2"]))
        w = [float((t, g) in train) + 0.001 * i for i, (t, g) in enumerate(zip(test.TF, test.Target))]
        pd.DataFrame({"Gene1": test.TF, "Gene2": test.Target, "EdgeWeight": w}).to_csv(output[0], index=False)
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("integrity_wf")
    wf = copy_workflow(base / "workflow")
    (base / "mine.smk").write_text(RULES)
    cfg = yaml.safe_load((ROOT / "config/test.yaml").read_text())
    cfg["methods"] = {"random": {}, "degree_prior": {}, "header_only": {"rule": True, "kind": "supervised"},
                      "reads_its_inputs": {"rule": True, "kind": "supervised"}}
    cfg["split_params"] = {"degree_matched": {"k": 100000}}  # no test positive keeps k negatives: refused
    cfg["rule_files"] = [str(base / "mine.smk")]
    res = base / "results"
    cfg["results"] = str(res)
    (base / "config.yaml").write_text(yaml.safe_dump(cfg))
    r = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--keep-going", "--configfile",
                        str(base / "config.yaml")], cwd=wf, capture_output=True, text=True, timeout=900)
    return {"res": res, "r": r, "out": r.stdout + r.stderr}


def test_run_fails_naming_the_refused_split_and_the_unscored_method(run):
    assert run["r"].returncode != 0
    out = run["out"]
    assert "split degree_matched (seed 0) refused" in out, out[-3000:]
    assert "header_only on sim/groundtruth/tfs80/genelink/header_only/seed0" in out
    assert "test pairs are not scored" in out


def test_valid_branches_are_tabled_and_bad_ones_marked(run):
    m = pd.read_csv(run["res"] / "tables/metrics.tsv", sep="\t")
    t = m[m.scope == "test"]
    good = t[t.split.isin(["genelink", "tf_holdout"]) & t.method.isin(["random", "degree_prior", "reads_its_inputs"])]
    assert len(good) == 6 and (good.status == "ok").all() and (good.coverage == 1.0).all()
    dm = t[t.split == "degree_matched"]
    assert len(dm) == 4 and (dm.status == "failed").all() and dm.error.str.contains("refused").all()
    ho = t[(t.method == "header_only") & (t.split != "degree_matched")]
    assert (ho.status == "failed").all() and (ho.coverage == 0).all() and (ho.n_missing > 0).all()
    summary = pd.read_csv(run["res"] / "tables/summary.tsv", sep="\t")
    assert set(summary[summary.method == "header_only"].status) == {"failed"}


def test_rule_method_reads_only_training_labels(run):
    """The rule method scores by training-network membership from its inputs: on the genelink split
    no test pair is a training edge, so every test pair gets the same 0 bit (AUROC from the tie-break)."""
    import anndata as ad

    res = run["res"]
    inp = res / "sim/groundtruth/tfs80/genelink/inputs/seed0"
    split = pd.read_csv(res / "sim/groundtruth/tfs80/genelink/split_seed0.csv")
    net = ad.read_h5ad(inp / "supervised.h5ad").uns["network"]
    train = split[(split.Part == "train") & (split.Label == 1)]
    assert set(zip(net["Gene1"], net["Gene2"])) == set(zip(train.TF, train.Target))
    assert len(ad.read_h5ad(inp / "unsupervised.h5ad").uns["network"]["Gene1"]) == 0
    assert list(pd.read_csv(inp / "test_pairs.csv").columns) == ["TF", "Target"]
    assert set(pd.read_csv(inp / "trainval.csv").Part) <= {"train", "val"}


def test_status_tsv_lists_every_job(run):
    s = pd.read_csv(run["res"] / "tables/status.tsv", sep="\t")
    assert len(s) == 3 * 4  # 3 splits x 4 methods x 1 seed
    assert {"status", "coverage", "error", "log"} <= set(s.columns)
    assert (s[s.split == "degree_matched"].log.str.contains("/logs/split/")).all()
    ho = s[(s.method == "header_only") & (s.split == "genelink")]
    assert ho.status.iloc[0] == "failed" and "/logs/evaluate/" in ho.log.iloc[0]
    assert (s[s.method == "random"].split.isin(["genelink", "tf_holdout"]) == (s[s.method == "random"].status == "ok")).all()
    assert not (run["res"] / "tables/all_jobs_ok.txt").exists()
