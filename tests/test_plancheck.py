"""Refused at planning what is known at planning (issue 13, item 7), and one run per results
folder (item 9): grnbench.plancheck, through its functions and through ``snakemake -n``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from conftest import ROOT, copy_workflow

from grnbench import plancheck
from grnbench.errors import InputError
from grnbench.methods import available
from grnbench.utils import resolve_device

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")

SIM = {"source": "simulate", "simulate": {"n_tfs": 24, "n_genes": 200, "n_cells": 250, "seed": 3},
       "networks": ["groundtruth"], "genesets": ["tfs80"]}
#: one config with every planning-time mistake of item 7 (duplicate seeds: tested apart, the
#: schema refuses them first)
BAD = {
    "seeds": [0],
    "downloads": {"genelink_local_dir": "no/such/folder"},
    "datasets": {
        "sim": SIM,
        "nofiles": {"source": "beeline", "networks": ["chip"], "genesets": ["tfs500"]},
        "wrongnet": {"source": "beeline", "networks": ["chip"], "genesets": ["tfs500"],
                     "files": {"expression": "e.csv", "tfs": "t.csv", "networks": {"string": "n.csv"}}},
        "gl": {"source": "genelink", "cell": "mdc", "networks": ["specific"], "genesets": ["tfs500"]},
    },
    "methods": {"random": {"preset": "fast"}, "pcc": {"params": {"n_neighbours": 5}},
                "genie3": {"params": {"n_trees": 10}}, "sctransnet": {"preset": "tiny"}},
}  # fmt: skip
BAD_KEYS = ["downloads.genelink_local_dir", "datasets.nofiles.files", "datasets.wrongnet.files.networks",
            "datasets.gl:", "methods.random.preset", "methods.pcc.params.n_neighbours",
            "methods.genie3.params.n_trees", "methods.sctransnet.preset"]


def smk(*args, cwd=ROOT, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def write_config(tmp_path, cfg, name="config.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(cfg))
    return p


# --- the checks, called directly --------------------------------------------------------------------


def test_config_problems_name_every_key(tmp_path):
    cfg = {**BAD, "seeds": [0, 1, 0], "device": "cuda",
           "methods": {**BAD["methods"], "gne": {"params": {"device": "cuda:0"}}, "cnnc": {"params": {"device": "gpu"}}}}
    probs = plancheck.config_problems(cfg, available(), cuda_available=lambda: False, cwd=tmp_path)
    text = "\n".join(probs)
    for key in [*BAD_KEYS, "seeds: seed 0 is listed 2 times", "device: 'cuda', but CUDA is not available",
                "methods.gne.params.device: 'cuda:0', but CUDA", "methods.cnnc.params.device: 'gpu' is not a device"]:
        assert key in text, f"{key} not named:\n{text}"
    # each message lists what the method knows
    assert "methods.pcc.params.n_neighbours: unknown parameter of pcc; known: ['device']" in text
    assert "methods.genie3.params.n_trees: unknown parameter of genie3; known: ['device', 'max_features', " in text
    assert "methods.random.preset: unknown preset 'fast'; random has no presets" in text
    assert "methods.sctransnet.preset: unknown preset 'tiny'; known: ['cpu', 'paper', 'small']" in text
    # a cluster executor: planning on a login node without a GPU is fine
    cluster = plancheck.config_problems(cfg, available(), context={"jobs_here": True, "local": False},
                                        cuda_available=lambda: False, cwd=tmp_path)
    assert not [p for p in cluster if "CUDA" in p] and any("genelink_local_dir" in p for p in cluster)
    # --unlock / --report / a job of a run: nothing that depends on this machine
    nojobs = plancheck.config_problems(cfg, available(), context={"jobs_here": False, "local": True},
                                       cuda_available=lambda: False, cwd=tmp_path)
    assert not [p for p in nojobs if "CUDA" in p or "local_dir" in p]
    assert len(nojobs) == len(probs) - 3  # the two CUDA devices and the folder


def test_shipped_configs_have_no_problems():
    for name in ("config.yaml", "test.yaml", "paper.yaml", "geo.yaml", "shared-real.yaml"):
        cfg = yaml.safe_load((ROOT / "config" / name).read_text())
        if name == "shared-real.yaml" and not (ROOT / cfg["downloads"]["genelink_local_dir"]).is_dir():
            continue  # ../shared is absent here
        assert plancheck.config_problems(cfg, available(), cuda_available=lambda: False, cwd=ROOT) == [], name


def test_check_config_raises_one_input_error_listing_all():
    with pytest.raises(InputError, match=r"config: 2 problems found at planning, nothing was run:\n  seeds: seed 3 "
                                         r".*\n  methods.random.preset"):
        plancheck.check_config({"seeds": [3, 3], "methods": {"random": {"preset": "x"}}, "datasets": {}},
                               methods=available())


@NO_CUDA
def test_resolve_device_refuses_cuda_without_cuda():
    assert resolve_device("cpu") == "cpu" and resolve_device("auto") == "cpu"
    for dev in ("cuda", "cuda:1"):
        with pytest.raises(InputError, match=rf"device: '{dev}' asked for, but CUDA is not available"):
            resolve_device(dev)
    with pytest.raises(InputError, match="unknown device 'gpu'"):
        resolve_device("gpu")


# --- snakemake -n -------------------------------------------------------------------------------------


def test_dry_run_refuses_every_planning_mistake(tmp_path):
    r = smk("-n", "--configfile", str(write_config(tmp_path, BAD)), "--config", f"results={tmp_path}/res")
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "problems found at planning" in out, out[-3000:]
    for key in BAD_KEYS:
        assert key in out, key
    assert "Traceback" not in out


def test_dry_run_refuses_duplicate_seeds(tmp_path):
    r = smk("-n", "--configfile", str(write_config(tmp_path, {"seeds": [0, 1, 0], "datasets": {"sim": SIM}, "methods": {"random": {}}})),
            "--config", f"results={tmp_path}/res")
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "non-unique" in out and "seeds" in out, out[-3000:]


@NO_CUDA
def test_dry_run_refuses_cuda_locally_but_plans_it_for_a_cluster(tmp_path):
    cfg = write_config(tmp_path, {"seeds": [0], "device": "cuda", "datasets": {"sim": SIM}, "methods": {"random": {}}})
    r = smk("-n", "--configfile", str(cfg), "--config", f"results={tmp_path}/res")
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "device: 'cuda', but CUDA is not available" in out, out[-3000:]
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="snakemake-executor-plugin-slurm not installed")
    r = smk("-n", "--executor", "slurm", "--jobs", "2", "--configfile", str(cfg), "--config", f"results={tmp_path}/res")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]


# --- the results-folder lock ----------------------------------------------------------------------------


def foreign_lock(results: Path, pid: int) -> Path:
    results.mkdir(parents=True, exist_ok=True)
    p = plancheck.lock_path(results)
    p.write_text(json.dumps({"workdir": "/another/checkout", "pid": pid, "host": socket.gethostname(),
                             "pid_start": plancheck._proc_start(pid), "started": "earlier"}))
    return p


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_refuses_a_live_run_from_another_checkout(tmp_path):
    p = foreign_lock(tmp_path / "res", os.getppid())  # a live process (pytest's parent)
    with pytest.raises(InputError, match=r"\.grnbench-run\.lock: the results folder .* is in use by a run from another "
                                         r"working directory \(/another/checkout"):
        plancheck.lock_results(tmp_path / "res")
    assert json.loads(p.read_text())["workdir"] == "/another/checkout"  # left alone


def test_lock_takes_over_a_stale_lock_and_releases_its_own(tmp_path):
    p = foreign_lock(tmp_path / "res", dead_pid())
    assert plancheck.lock_results(tmp_path / "res") == p
    held = json.loads(p.read_text())
    assert held["pid"] == os.getpid() and held["workdir"] == os.path.realpath(os.getcwd())
    assert plancheck.lock_results(tmp_path / "res") == p  # the same run (and working directory) again
    plancheck.unlock_results(tmp_path / "res")
    assert not p.exists()
    # a lock held by someone else is never released by us
    foreign_lock(tmp_path / "res", os.getppid())
    plancheck.unlock_results(tmp_path / "res")
    assert p.exists()


@pytest.mark.slow
def test_workflow_run_refused_on_a_results_folder_in_use(tmp_path):
    """A real run from another working directory is refused before any job; a dry run still
    plans; once the other run is gone (stale lock) the run goes and leaves no lock."""
    wf = copy_workflow(tmp_path / "workflow")
    res = tmp_path / "res"
    target = f"{res}/raw/sim/TFs.csv"
    args = [target, "--cores", "1", "--configfile", "config/test.yaml", "--config", f"results={res}"]
    lock = foreign_lock(res, os.getppid())
    r = smk(*args, cwd=wf)
    assert r.returncode != 0 and "is in use by a run from another working directory" in r.stdout + r.stderr
    assert not Path(target).exists() and lock.exists()
    assert smk("-n", *args, cwd=wf).returncode == 0
    foreign_lock(res, dead_pid())
    r = smk(*args, cwd=wf)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert Path(target).exists() and not lock.exists()
