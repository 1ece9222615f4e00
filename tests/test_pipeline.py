"""Stage functions end to end on the tiny dataset: split -> infer -> evaluate -> collect."""

import json

import numpy as np
import pandas as pd
import pytest

from grnbench import pipeline as pl
from grnbench.data.dataset import write_h5ad
from grnbench.errors import InputError
from grnbench.methods import available


@pytest.fixture(scope="module")
def h5ad(tmp_path_factory, tiny_data):
    p = tmp_path_factory.mktemp("data") / "data.h5ad"
    write_h5ad(tiny_data.adata, p)
    return p


def test_builtin_index_matches_registry():
    from grnbench.methods.registry import BUILTIN_INDEX

    names = available()
    for name, cls in names.items():
        if cls.__module__.startswith("grnbench.methods."):
            assert BUILTIN_INDEX.get(name) == cls.__module__.rsplit(".", 1)[1], name


def test_methods_listed():
    names = available()
    assert {"random", "degree_prior", "pcc"} <= set(names)
    for cls in names.values():
        assert cls.kind in ("supervised", "unsupervised") and cls.description


@pytest.mark.parametrize("protocol", ["genelink", "tf_holdout", "degree_matched"])
def test_stages(tmp_path, h5ad, protocol):
    split = tmp_path / "split.csv"
    summary = pl.make_split(h5ad, split, protocol=protocol, seed=0, network="groundtruth")
    assert summary["test"]["positives"] > 0
    metrics = {}
    for method in ("random", "degree_prior", "pcc"):
        d = tmp_path / method
        info = pl.run_method(h5ad, split, d / "edges.csv", d / "run.json", method=method, seed=0)
        assert json.loads((d / "run.json").read_text())["kind"] == info["kind"]
        e = pd.read_csv(d / "edges.csv")
        assert list(e.columns) == ["Gene1", "Gene2", "EdgeWeight"]
        assert e["EdgeWeight"].is_monotonic_decreasing
        m = pl.evaluate(h5ad, split, d / "edges.csv", d / "metrics.json", run_path=d / "run.json",
                        ids={"method": method, "seed": 0})
        assert m["scopes"]["test"]["n_missing"] == 0
        assert ("all_tf_gene" in m["scopes"]) == (info["kind"] == "unsupervised")
        metrics[method] = m["scopes"]["test"]["auroc"]
    assert abs(metrics["random"] - 0.5) < 0.2
    assert metrics["pcc"] > metrics["random"] + 0.2
    # the same test pairs for every method: each file scores every test pair of the split
    # (the unsupervised ones score every TF -> gene pair, the test pairs among them)
    s = pd.read_csv(split)
    test_pairs = set(zip(s[s.Part == "test"].TF, s[s.Part == "test"].Target))
    for m in ("random", "degree_prior", "pcc"):
        scored = set(zip(*[pd.read_csv(tmp_path / m / "edges.csv")[c] for c in ("Gene1", "Gene2")]))
        assert test_pairs <= scored, m
        if m == "degree_prior":  # supervised: exactly the test pairs
            assert scored == test_pairs


def test_same_seed_same_bytes(tmp_path, h5ad):
    split = tmp_path / "split.csv"
    pl.make_split(h5ad, split, protocol="genelink", seed=3)
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        pl.run_method(h5ad, split, d / "edges.csv", d / "run.json", method="random", seed=5)
    assert (a / "edges.csv").read_bytes() == (b / "edges.csv").read_bytes()


def test_collect_metrics(tmp_path, h5ad):
    split = tmp_path / "split.csv"
    pl.make_split(h5ad, split, protocol="genelink", seed=0)
    files, benches = [], []
    for seed in (0, 1):
        d = tmp_path / f"pcc{seed}"
        pl.run_method(h5ad, split, d / "edges.csv", d / "run.json", method="pcc", seed=seed)
        ids = {"dataset": "tiny", "network": "n", "geneset": "tfs50", "split": "genelink", "method": "pcc", "seed": seed}
        pl.evaluate(h5ad, split, d / "edges.csv", d / "metrics.json", run_path=d / "run.json", ids=ids)
        b = d / "bench.tsv"
        b.write_text("s\th:m:s\tmax_rss\tmax_vms\n1.5\t0:00:01\t123.4\t456\n")
        files.append(d / "metrics.json")
        benches.append(b)
    df = pl.collect_metrics(files, tmp_path / "metrics.tsv", benchmark_files=benches)
    assert list(df.columns) == pl.METRIC_COLUMNS
    assert len(df) == 6  # 2 seeds x (test, all_tf_gene, beeline)
    assert set(df["runtime_s"]) == {1.5} and set(df["max_rss_mb"]) == {123.4}
    back = pd.read_csv(tmp_path / "metrics.tsv", sep="\t")
    assert np.allclose(back["auroc"], df["auroc"], atol=1e-6)


def test_bad_edges_file(tmp_path, h5ad):
    split = tmp_path / "split.csv"
    pl.make_split(h5ad, split, protocol="genelink", seed=0)
    bad = tmp_path / "edges.csv"
    bad.write_text("Gene1,Gene2,EdgeWeight\nG000,G010,abc\n")
    with pytest.raises(InputError, match=r"edges.csv \(row 2\): value 'abc' is not a finite number"):
        pl.evaluate(h5ad, split, bad, tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="expected columns Gene1,Gene2,EdgeWeight"):
        pl.evaluate(h5ad, split, bad, tmp_path / "m.json")


def test_unknown_method_and_params(tmp_path, h5ad):
    split = tmp_path / "split.csv"
    pl.make_split(h5ad, split, protocol="genelink", seed=0)
    with pytest.raises(InputError, match="unknown method 'nope'"):
        pl.run_method(h5ad, split, tmp_path / "e.csv", tmp_path / "r.json", method="nope", seed=0)
    with pytest.raises(InputError, match="unknown parameter"):
        pl.run_method(h5ad, split, tmp_path / "e.csv", tmp_path / "r.json", method="pcc", seed=0,
                      params={"bogus": 1})
    assert not (tmp_path / "e.csv").exists()


def test_split_file_with_unknown_gene(tmp_path, h5ad):
    split = tmp_path / "split.csv"
    pd.DataFrame({"TF": ["G000"], "Target": ["NOPE"], "Label": [0], "Part": ["test"]}).to_csv(split, index=False)
    with pytest.raises(InputError, match="gene 'NOPE' is not in the dataset"):
        pl.run_method(h5ad, split, tmp_path / "e.csv", tmp_path / "r.json", method="pcc", seed=0)


def test_guard_refuses_oversized_job_before_it_starts(tmp_path, h5ad):
    split = tmp_path / "split.csv"
    pl.make_split(h5ad, split, protocol="genelink", seed=0)
    with pytest.raises(InputError, match="guards"):
        pl.run_method(h5ad, split, tmp_path / "e.csv", tmp_path / "r.json", method="genie3", seed=0,
                      limits={"max_genes": 10})
    assert not (tmp_path / "e.csv").exists() and not (tmp_path / "r.json").exists()


# --- labels carry no run-varying value (issue 8: byte-identical metrics.tsv) -------------------
class FakeClock:
    """A clock that races ahead by ``step`` seconds per reading (``step`` 0: the real one)."""

    def __init__(self, real, step: float):
        self.real, self.step, self.calls = real, step, 0

    def __call__(self):
        self.calls += 1
        return self.real() + self.step * self.calls


def _run_elsewhere(monkeypatch, tiny_data, root, method, *, step: float, host: str) -> dict:
    """run_method from its own folder, inputs and cwd, under its own clock and host name."""
    import platform
    import socket
    import time

    root.mkdir()
    write_h5ad(tiny_data.adata, root / "data.h5ad")
    pl.make_split(root / "data.h5ad", root / "split.csv", protocol="genelink", seed=0)
    cls = available()[method]
    with monkeypatch.context() as m:
        m.chdir(root)
        for name in ("perf_counter", "monotonic", "time"):
            m.setattr(time, name, FakeClock(getattr(time, name), step))
        m.setattr(socket, "gethostname", lambda: host)
        m.setattr(platform, "node", lambda: host)
        out = root / "results"
        pl.run_method(root / "data.h5ad", root / "split.csv", out / "edges.csv", out / "run.json", method=method,
                      seed=0, preset="small" if "small" in cls.presets else None)  # fmt: skip
    return json.loads((out / "run.json").read_text())


@pytest.mark.parametrize("method", sorted(m for m, c in available().items() if c.__module__.startswith("grnbench.")))
def test_labels_free_of_run_varying_values(method, tiny_data, tmp_path, monkeypatch):
    """Two runs of the same job (same seed and inputs) from other folders, working directories,
    host names and clocks (one racing ahead 97 s per reading) record the same labels: no path,
    time or host reaches ``metrics.tsv``'s labels column. Measured seconds go to resources."""
    a = _run_elsewhere(monkeypatch, tiny_data, tmp_path / "a", method, step=0.0, host="node-a")
    b = _run_elsewhere(monkeypatch, tiny_data, tmp_path / "b", method, step=97.0, host="node-b")
    assert json.dumps(a["labels"], sort_keys=True) == json.dumps(b["labels"], sort_keys=True)
    assert a["status"] == b["status"] == "ok"
    text = json.dumps(a["labels"])
    assert str(tmp_path) not in text and "node-a" not in text
