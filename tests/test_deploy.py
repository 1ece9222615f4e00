"""Deployed as Snakemake users deploy workflows (issue 17.4): as a ``module`` of another workflow
with its own config, from a non-editable install (package data, not ``Path(__file__).parents``),
and under ``--sdm conda`` where conda is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

#: The outer workflow: nothing of its own but a config and the module import.
OUTER_SNAKEFILE = """\
configfile: "outer.yaml"


module grnbench:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from grnbench
"""

#: Its own small config (a results folder of its own, one simulated dataset, one split).
OUTER_CONFIG = """\
results: out
seeds: [0]
datasets:
  sim:
    source: simulate
    simulate: {n_tfs: 12, n_genes: 60, n_cells: 80, seed: 3}
    networks: [groundtruth]
    genesets: [tfs30]
splits: [genelink]
methods:
  random: {}
  pcc: {}
  degree_prior: {}
"""


def outer_workflow(folder: Path) -> Path:
    """A workflow in ``folder`` (far from the checkout) that imports this one as a module."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Snakefile").write_text(OUTER_SNAKEFILE.format(snakefile=ROOT / "Snakefile"))
    (folder / "outer.yaml").write_text(OUTER_CONFIG)
    return folder


def smk(*args, cwd: Path, timeout=900):
    r = subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"snakemake {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r


def test_module_dry_run_plans_the_whole_benchmark(tmp_path):
    """Planned from another folder: every path the rules use resolves from the module or the package."""
    outer = outer_workflow(tmp_path / "outer")
    r = smk("-n", "--cores", "1", cwd=outer)
    out = r.stdout + r.stderr
    for rule in ("simulate", "preprocess", "split", "infer", "infer_unsupervised", "link_unsupervised", "evaluate",
                 "collect_metrics", "aggregate"):
        assert f"rule {rule}:" in out, f"rule {rule} not planned under module:\n{out[-3000:]}"
    assert "out/sim/groundtruth/tfs30/genelink/pcc/seed0/edges.csv" in out  # the outer config's results folder
    assert not (ROOT / "out").exists()


@pytest.mark.slow
def test_module_runs_a_real_target(tmp_path):
    """simulate -> preprocess -> split -> infer -> evaluate -> metrics.tsv, run as a module (~30 CPU s)."""
    outer = outer_workflow(tmp_path / "outer")
    smk("--cores", "1", "out/tables/metrics.tsv", cwd=outer)
    m = pd.read_csv(outer / "out" / "tables" / "metrics.tsv", sep="\t")
    assert set(m["method"]) == {"random", "pcc", "degree_prior"}
    assert (m["status"] == "ok").all(), m[["method", "scope", "status"]]
    assert m["auroc"].between(0, 1).all()


@pytest.mark.slow
def test_non_editable_install_ships_the_resources(tmp_path):
    """The wheel (what --sdm conda's env installs with ``pip install ..``) holds resources/, and a
    non-editable install reads them through grnbench.package_data, not the checkout."""
    pytest.importorskip("setuptools")
    wheels = tmp_path / "wheels"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(wheels), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    (wheel,) = wheels.glob("grnbench-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for need in ("grnbench/resources/sources.tsv", "grnbench/resources/genelink_manifest.tsv",
                 "grnbench/resources/published/table1.tsv", "grnbench/methods/index.json"):
        assert need in names, f"{need} missing from {wheel.name}"
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import grnbench.package_data as p, grnbench.data.download as d; "
            "print(p.RESOURCES); print(len(d.read_sources()), d.GENELINK_MANIFEST.is_file())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                       env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    where, counts = r.stdout.splitlines()
    assert Path(where).resolve() == (site / "grnbench" / "resources").resolve()
    n_sources, manifest = counts.split()
    assert int(n_sources) > 0 and manifest == "True"


CONDA = shutil.which("mamba") or shutil.which("conda")


@pytest.mark.slow
@pytest.mark.skipif(CONDA is None, reason="neither conda nor mamba is installed on this machine, so "
                                          "snakemake --sdm conda cannot build envs/grnbench.yaml here")
def test_rule_runs_under_sdm_conda(tmp_path):
    """One rule (simulate) in the env of envs/grnbench.yaml, where the package is installed non-editable."""
    outer = outer_workflow(tmp_path / "outer")
    target = "out/raw/sim/ExpressionData.csv"
    smk("--sdm", "conda", "--cores", "1", target, cwd=outer, timeout=3600)
    expr = pd.read_csv(outer / target, index_col=0)
    assert expr.shape == (60, 80)
