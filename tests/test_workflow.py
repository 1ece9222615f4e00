"""The Snakemake workflow: lint, formatting, dry runs of every config, one real end-to-end run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def smk(*args, cwd=ROOT, check=True, timeout=900):
    r = subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


def test_lint_is_clean():
    r = smk("--lint", check=False)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "Lints for" not in out, out[-3000:]


@pytest.mark.skipif(shutil.which("snakefmt") is None, reason="snakefmt not installed")
def test_rules_are_snakefmt_formatted():
    r = subprocess.run(["snakefmt", "--check", "rules", "Snakefile"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/shared-real.yaml", "config/paper.yaml",
                                        "config/beeline-gsd.yaml", "config/krumsiek11.yaml"])
def test_dry_run_plans(configfile, tmp_path):
    r = smk("-n", "--configfile", configfile, "--config", f"results={tmp_path}/res")
    assert "infer" in r.stdout and "evaluate" in r.stdout


def test_paper_config_plans_whole_grid_without_data(tmp_path):
    r = smk("-n", "--configfile", "config/paper.yaml", "--config", f"results={tmp_path}/res")
    out = r.stdout
    assert "download_genelink" in out and "download_source" in out  # hESC released split files
    for ds in ("hESC", "hHEP"):
        for gs in ("tfs500", "tfs1000"):
            assert f"{ds}/specific/{gs}/degree_matched" in out
    # every registered method at 5 seeds on every split
    from grnbench.methods import registry

    for m in registry.available():
        if not m.startswith("_"):
            assert f"hESC/specific/tfs1000/genelink/{m}/seed4/edges.csv" in out, m
    assert "hESC/specific/tfs500/genelink_released/sctransnet/seed0/edges.csv" in out


def _pretrain_jobs(tmp_path, methods: dict) -> list[str]:
    """The pretrain_sctransnet jobs a dry run of config/test.yaml with ``methods`` plans."""
    import yaml

    cfg = yaml.safe_load((ROOT / "config/test.yaml").read_text())
    cfg.update(methods=methods, splits=["genelink"], seeds=[0, 1])
    f = tmp_path / "cfg.yaml"
    f.write_text(yaml.safe_dump(cfg))
    r = smk("-n", "--configfile", str(f), "--config", f"results={tmp_path}/res")
    return re.findall(r"^    output: (\S+/pretrain/scbert_\w+\.pt)$", r.stdout, flags=re.M)


def test_variants_share_an_encoder_unless_its_settings_differ(tmp_path):
    """The planning key hashes the resolved encoder settings only: a head / GNN / training setting
    shares the pretrained encoder, an encoder setting (size, MLM epochs) gets its own."""
    same = _pretrain_jobs(tmp_path, {
        "sctransnet": {"preset": "small"},
        "sctransnet_no_gnn": {"preset": "small", "params": {"head_dropout": 0.3, "epochs": 7}},
        "sctransnet_no_attnpool": {"preset": "small", "params": {"gnn_dims": [16, 8]}},
        "sctransnet_no_encoder": {"preset": "small"},  # no encoder at all
    })
    assert len(same) == 1, same
    for enc in ({"enc_depth": 1}, {"pretrain_epochs": 3}):
        two = _pretrain_jobs(tmp_path, {"sctransnet": {"preset": "small"},
                                        "sctransnet_no_gnn": {"preset": "small", "params": {**enc, "head_dropout": 0.3}}})
        assert len(set(two)) == 2 and same[0] in two, (enc, two)
    # a setting equal to the preset's resolves to the same encoder
    small_depth = {"enc_depth": 2}
    assert _pretrain_jobs(tmp_path, {"sctransnet": {"preset": "small", "params": small_depth}}) == same


def test_slurm_profile_plans(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="snakemake-executor-plugin-slurm not installed")
    import yaml

    prof = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    assert prof["executor"] == "slurm" and "mem_mb" in prof["default-resources"]
    r = smk("-n", "--workflow-profile", "profiles/slurm", "--configfile", "config/test.yaml",
            "--config", f"results={tmp_path}/res")
    assert "infer" in r.stdout


def test_bad_config_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seeds: zero\ndatasets: {x: {source: simulate, networks: [n], genesets: [tfs10]}}\nmethods: {pcc: {}}\n")
    r = smk("-n", "--configfile", str(bad), check=False)
    assert r.returncode != 0 and "seeds" in (r.stdout + r.stderr)
    bad.write_text("datasets: {x: {source: nowhere, networks: [n], genesets: [tfs10]}}\nmethods: {pcc: {}}\n")
    r = smk("-n", "--configfile", str(bad), check=False)
    assert r.returncode != 0 and "nowhere" in (r.stdout + r.stderr)
    bad.write_text("datasets: {x: {source: simulate, networks: [n], genesets: [tfs10]}}\nmethods: {nope: {}}\n")
    r = smk("-n", "--configfile", str(bad), check=False)
    assert r.returncode != 0 and "unknown method 'nope'" in (r.stdout + r.stderr)


@pytest.fixture(scope="module")
def test_run(tmp_path_factory):
    """One real run of config/test.yaml (simulated data, every split protocol)."""
    res = tmp_path_factory.mktemp("wf") / "results"
    smk("--cores", "2", "--configfile", "config/test.yaml", "--config", f"results={res}")
    return res


@pytest.mark.slow
def test_end_to_end(test_run):
    m = pd.read_csv(test_run / "tables" / "metrics.tsv", sep="\t")
    test = m[m.scope == "test"]
    assert set(test.split) == {"genelink", "tf_holdout", "degree_matched"}
    assert {"pcc", "random", "degree_prior"} <= set(test.method)
    assert (test.status == "ok").all()
    g = test.groupby("method")["auroc"].mean()
    assert abs(g["random"] - 0.5) < 0.15
    # over all TF -> gene pairs (BEELINE's scope) correlation clearly beats random
    allp = m[m.scope == "all_tf_gene"].groupby("method")["auroc"].mean()
    assert allp["pcc"] > allp["random"] + 0.08
    assert test["runtime_s"].notna().all() and test["max_rss_mb"].notna().all()
    stats = json.loads(next(test_run.glob("sim/*/*/stats.json")).read_text())
    assert stats["genes"] > 60 and stats["edges"] > 0
    assert next(test_run.glob("logs/infer/**/*.log"))


@pytest.mark.slow
def test_rerun_is_a_no_op(test_run):
    r = smk("-n", "--cores", "2", "--configfile", "config/test.yaml", "--config", f"results={test_run}")
    assert "Nothing to be done" in r.stdout + r.stderr


def test_every_rule_has_log_and_benchmark():
    """House style (snakemake-workflows): each rule writes a log and a benchmark file."""
    import re

    missing = []
    for f in sorted((ROOT / "rules").glob("*.smk")):
        blocks = re.split(r"^rule (\w+):", f.read_text(), flags=re.M)[1:]
        for name, body in zip(blocks[::2], blocks[1::2]):
            for key in ("log:", "benchmark:"):
                if f"\n    {key}" not in body:
                    missing.append(f"{f.name}: rule {name} has no {key}")
    assert not missing, "\n".join(missing)


def test_slurm_profile_requests_a_gpu_for_sctransnet(tmp_path):
    """paper.yaml's scTransNet jobs ask SLURM for a GPU (resource gpu=1); the baselines do not."""
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="snakemake-executor-plugin-slurm not installed")
    import re

    r = smk("-n", "--workflow-profile", "profiles/slurm", "--configfile", "config/paper.yaml",
            "--config", f"results={tmp_path}/res")
    gpu = {}
    for block in r.stdout.split("\nrule ")[1:]:
        m = re.search(r"method=(\w+)", block)
        g = re.search(r"\bgpu=(\d+)", block)
        if block.startswith(("infer:", "infer_unsupervised:")) and m and g:
            gpu.setdefault(m.group(1), set()).add(int(g.group(1)))
    assert gpu["sctransnet"] == {1} and gpu["sctransnet_no_gnn"] == {1}
    assert gpu["genelink"] == {0} and gpu["pcc"] == {0}
