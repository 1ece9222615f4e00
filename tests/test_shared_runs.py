"""Work shared across splits and methods: an unsupervised method runs once per dataset and seed
(its files linked into each split's job folder), and one evaluate job scores every method of a
split and seed. The numbers must be those of one job per split and method."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from grnbench import layout as L
from grnbench import pipeline as pl
from grnbench.data.dataset import write_h5ad
from grnbench.errors import GrnbenchError
from grnbench.workflow import link_relative

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def h5ad(tmp_path_factory, tiny_data):
    p = tmp_path_factory.mktemp("data") / "data.h5ad"
    write_h5ad(tiny_data.adata, p)
    return p


@pytest.fixture(scope="module")
def splits(h5ad, tmp_path_factory):
    d = tmp_path_factory.mktemp("splits")
    out = {}
    for protocol in ("genelink", "tf_holdout"):
        out[protocol] = d / f"{protocol}.csv"
        pl.make_split(h5ad, out[protocol], protocol=protocol, seed=0, network="groundtruth")
    return out


@pytest.mark.parametrize("method", ["random", "pcc"])
def test_an_unsupervised_run_without_a_split_is_the_run_with_one(tmp_path, h5ad, splits, method):
    """What infer_unsupervised writes once is, byte for byte, what each split's job wrote."""
    shared = tmp_path / "shared"
    info = pl.run_method(h5ad, None, shared / "edges.csv", shared / "run.json", method=method, seed=3)
    assert info["split"] is None and info["status"] == "ok"
    for protocol, split in splits.items():
        job = tmp_path / protocol
        pl.run_method(h5ad, split, job / "edges.csv", job / "run.json", method=method, seed=3)
        assert (job / "edges.csv").read_bytes() == (shared / "edges.csv").read_bytes(), protocol


@pytest.mark.parametrize("method, split, uses", [("random", None, []), ("pcc", None, []),
                                                 ("degree_prior", "genelink", []),
                                                 ("label_prior", "tf_holdout", ["sklearn"])])
def test_a_job_imports_only_what_its_method_uses(tmp_path, h5ad, splits, method, split, uses):
    """A job's process pays only for what its method uses: torch and scikit-learn cost ~2.4 CPU-s
    to import, more than the whole run of these methods (a 'random' job: 3.4 -> 1.0 CPU-s);
    label_prior's logistic regression is scikit-learn's."""
    split_arg = repr(str(splits[split])) if split else "None"
    code = ("import sys; from grnbench.pipeline import run_method; "
            f"info = run_method({str(h5ad)!r}, {split_arg}, {str(tmp_path / 'e.csv')!r}, "
            f"{str(tmp_path / 'r.json')!r}, method={method!r}, seed=0); assert info['status'] == 'ok', info; "
            "print(sorted(m for m in ('torch', 'sklearn', 'torch_geometric') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == str(uses), out.stdout + out.stderr


def test_a_supervised_method_needs_its_split(tmp_path, h5ad):
    with pytest.raises(ValueError, match="degree_prior is supervised: it needs a split"):
        pl.run_method(h5ad, None, tmp_path / "e.csv", tmp_path / "r.json", method="degree_prior", seed=0)
    assert not (tmp_path / "e.csv").exists()


def test_evaluate_split_is_evaluate_per_method(tmp_path, h5ad, splits):
    """One evaluate job for a split's methods writes what one job per method wrote."""
    split = splits["genelink"]
    jobs = []
    for method, kind in (("random", "unsupervised"), ("degree_prior", "supervised"), ("pcc", "unsupervised")):
        d = tmp_path / method
        pl.run_method(h5ad, split, d / "edges.csv", d / "run.json", method=method, seed=0)
        jobs.append({"method": method, "edges": d / "edges.csv", "run": d / "run.json", "kind": kind,
                     "allow_partial": False, "out": d / "together.json"})
    ids = {"dataset": "tiny", "network": "groundtruth", "geneset": "tfs8", "split": "genelink", "seed": 0}
    outs = pl.evaluate_split(h5ad, split, jobs, ids=ids)
    assert [o["method"] for o in outs] == ["random", "degree_prior", "pcc"]
    for job in jobs:
        alone = job["out"].with_name("alone.json")
        pl.evaluate(h5ad, split, job["edges"], alone, run_path=job["run"], kind=job["kind"],
                    ids={**ids, "method": job["method"]})
        assert json.loads(job["out"].read_text()) == json.loads(alone.read_text()), job["method"]
    assert pl._READ_CACHE is None  # a lone evaluate afterwards reads the files as they are


def test_evaluate_split_reads_each_file_once(tmp_path, h5ad, splits, monkeypatch):
    split = splits["genelink"]
    d = tmp_path / "pcc"
    pl.run_method(h5ad, split, d / "edges.csv", d / "run.json", method="pcc", seed=0)
    calls = []
    real = pl.read_h5ad
    monkeypatch.setattr(pl, "read_h5ad", lambda p: calls.append(p) or real(p))
    jobs = [{"method": "pcc", "edges": d / "edges.csv", "run": d / "run.json", "kind": "unsupervised",
             "out": tmp_path / f"m{i}.json"} for i in range(3)]
    pl.evaluate_split(h5ad, split, jobs, ids={"dataset": "t", "network": "n", "geneset": "g",
                                              "split": "genelink", "seed": 0})
    assert len(calls) == 1


def test_a_failed_shared_run_is_removed_for_the_retry(tmp_path):
    """check_failures removes an unsupervised method's one run behind the links, so a rerun
    retries it instead of linking the failed files again."""
    res = tmp_path / "res"
    ids = ("sim", "groundtruth", "tfs80", "genelink", "pcc", 0)
    shared_e = L.fill(res, L.UNSUPERVISED_EDGES, dataset="sim", network="groundtruth", geneset="tfs80",
                      method="pcc", seed=0)
    shared_r = shared_e.with_name("run.json")
    shared_e.parent.mkdir(parents=True)
    shared_e.write_text("Gene1,Gene2,EdgeWeight\n")
    shared_r.write_text(json.dumps({"status": "failed"}))
    link_relative(shared_e, L.edges(res, *ids))
    link_relative(shared_r, L.run_json(res, *ids))
    assert L.edges(res, *ids).resolve() == shared_e.resolve()
    assert not Path(L.edges(res, *ids).readlink()).is_absolute()  # the folder can move
    status = tmp_path / "status.tsv"
    pd.DataFrame([{**dict(zip(pl.JOB_KEYS, ids)), "status": "failed", "coverage": float("nan"),
                   "error": "RuntimeError: boom", "log": "x.log"}]).to_csv(status, sep="\t", index=False)
    with pytest.raises(GrnbenchError, match="pcc on sim/groundtruth/tfs80/genelink/pcc/seed0"):
        pl.check_failures(status, tmp_path / "ok.txt", results_dir=res)
    for f in (shared_e, shared_r, L.edges(res, *ids), L.run_json(res, *ids)):
        assert not f.exists() and not f.is_symlink(), f


def _job_counts(stdout: str) -> dict[str, int]:
    table = stdout.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


def test_the_plan_shares_unsupervised_runs_and_evaluates_once_per_split(tmp_path):
    """config/config.yaml: 8 unsupervised and 12 supervised methods, 3 splits, 2 seeds."""
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--config",
                        f"results={tmp_path}/res"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    n = _job_counts(r.stdout)
    assert n["infer_unsupervised"] == 8 * 2
    assert n["link_unsupervised"] == 8 * 3 * 2
    assert n["infer"] == 12 * 3 * 2
    assert n["evaluate"] == 3 * 2
