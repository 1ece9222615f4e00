"""No silent wrong number: what a method may see, and what counts as a scored job (issue 13).

- A hostile "oracle" plugin searches every attribute of what it is given (the dataset, its
  AnnData, the split rows, the test pairs, any file a string in them names) for (TF, target)
  pairs, and scores test pairs by membership: it must find no held-out positive.
- A prediction file that leaves test pairs unscored is ``failed``, naming the pairs and the file,
  unless the config allows partial predictions (then ``coverage`` < 1 marks it).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grnbench import pipeline as pl
from grnbench.data.dataset import write_h5ad
from grnbench.methods.base import SupervisedMethod, UnsupervisedMethod
from grnbench.methods.registry import _REGISTRY, register


# --- the oracle --------------------------------------------------------------------------------
def _strings(obj, seen: set, out: list, depth: int = 0) -> None:
    """Every sequence of strings reachable from ``obj`` (attributes, mappings, frames, arrays)."""
    if id(obj) in seen or depth > 8:
        return
    seen.add(id(obj))
    if isinstance(obj, str):
        out.append([obj])
        p = Path(obj)
        try:
            if len(obj) < 4096 and p.is_file() and p.stat().st_size < 50_000_000:  # a path: read the file
                text = p.read_text(errors="ignore")
                rows = [r.replace("\t", ",").split(",") for r in text.splitlines()]
                width = max((len(r) for r in rows), default=0)
                for j in range(width):
                    out.append([r[j].strip() if j < len(r) else "" for r in rows])
        except OSError:
            pass
        return
    if isinstance(obj, (bytes, int, float, bool, type(None), np.number)):
        return
    if isinstance(obj, pd.DataFrame):
        for c in obj.columns:
            _strings(obj[c], seen, out, depth + 1)
        _strings(obj.index, seen, out, depth + 1)
        _strings(dict(obj.attrs), seen, out, depth + 1)
        return
    if isinstance(obj, (pd.Series, pd.Index)):
        out.append([str(v) for v in obj.tolist()])
        return
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "OUS":
            flat = obj.reshape(obj.shape[0], -1) if obj.ndim > 1 else obj[:, None]
            for j in range(flat.shape[1]):
                out.append([str(v) for v in flat[:, j]])
        return
    if isinstance(obj, dict) or hasattr(obj, "keys") and hasattr(obj, "__getitem__"):
        try:
            for k in list(obj.keys()):
                _strings(k, seen, out, depth + 1)
                _strings(obj[k], seen, out, depth + 1)
        except Exception:
            pass
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = list(obj)
        if items and all(isinstance(v, str) for v in items):
            out.append(items)
        for v in items:
            _strings(v, seen, out, depth + 1)
        return
    for name in dir(obj):  # any other object: every attribute it has
        if name.startswith("__"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = getattr(obj, name)
        except Exception:
            continue
        if callable(v) and not isinstance(v, (pd.DataFrame, pd.Series)):
            continue
        _strings(v, seen, out, depth + 1)


def harvest_pairs(*objs) -> set[tuple[str, str]]:
    """Every (a, b) such that some two string sequences of one length hold a and b at one index."""
    seqs: list[list[str]] = []
    seen: set = set()
    for o in objs:
        _strings(o, seen, seqs)
    by_len: dict[int, list[list[str]]] = {}
    for q in seqs:
        if len(q) > 1:
            by_len.setdefault(len(q), []).append(q)
    pairs: set[tuple[str, str]] = set()
    for group in by_len.values():
        for a in group:
            for b in group:
                if a is not b:
                    pairs.update(zip(a, b))
    return pairs


FOUND: dict[str, set] = {}


class OracleSupervised(SupervisedMethod):
    name = "oracle_supervised_test"
    description = "Hostile test plugin: scores pairs by membership in any pair list it can find."

    def score_pairs(self, data, split, pairs, *, seed, threads=1):
        # everything it is given except the unlabelled test pairs it must score (those are known)
        found = harvest_pairs(data, data.adata, data.adata.uns, split, os.environ.get("PWD", ""))
        FOUND[self.name] = found
        return np.array([float((a, b) in found) for a, b in zip(pairs["TF"], pairs["Target"])])

    def fit(self, data, train, val, *, seed, threads=1):  # pragma: no cover - score_pairs is overridden
        return self

    def predict(self, data, pairs):  # pragma: no cover
        raise NotImplementedError


class OracleUnsupervised(UnsupervisedMethod):
    name = "oracle_unsupervised_test"
    description = "Hostile test plugin (unsupervised): looks for ground-truth pairs in its input."

    def infer(self, data, *, seed, threads=1):
        found = harvest_pairs(data, data.adata, data.adata.uns)
        FOUND[self.name] = found
        tf_pos = {t: i for i, t in enumerate(data.tfs)}
        w = np.zeros((len(data.tfs), data.n_genes))
        for a, b in found:
            if a in tf_pos and b in data._gene_index:
                w[tf_pos[a], data._gene_index[b]] = 1.0
        return w


@pytest.fixture(scope="module", autouse=True)
def _oracles():
    """Registered for this module's tests only (other modules check every registered method)."""
    for cls in (OracleSupervised, OracleUnsupervised):
        register(cls)
    yield
    for n in ("oracle_supervised_test", "oracle_unsupervised_test"):
        _REGISTRY.pop(n, None)


@pytest.fixture(scope="module")
def h5ad(tmp_path_factory, tiny_data):
    p = tmp_path_factory.mktemp("integrity") / "data.h5ad"
    write_h5ad(tiny_data.adata, p)
    return p


def test_harvest_finds_the_truth_when_it_is_there(tiny_data, tiny_split):
    """The oracle is strong enough: handed the raw dataset and split it recovers every test positive."""
    found = harvest_pairs(tiny_data, tiny_split)
    test_pos = tiny_split[(tiny_split.Part == "test") & (tiny_split.Label == 1)]
    assert set(zip(test_pos.TF, test_pos.Target)) <= found


@pytest.mark.parametrize("protocol", ["genelink", "tf_holdout", "degree_matched"])
@pytest.mark.parametrize("method", ["oracle_supervised_test", "oracle_unsupervised_test"])
def test_oracle_plugin_finds_no_held_out_positive(tmp_path, h5ad, tiny_data, protocol, method):
    split_csv = tmp_path / "split.csv"
    pl.make_split(h5ad, split_csv, protocol=protocol, seed=0, network="groundtruth")
    split = pd.read_csv(split_csv)
    d = tmp_path / method
    pl.run_method(h5ad, split_csv, d / "edges.csv", d / "run.json", method=method, seed=0)
    found = FOUND[method]
    held = split[(split.Part == "test") & (split.Label == 1)]
    leaked = set(zip(held.TF, held.Target)) & found
    assert not leaked, f"{method} found {len(leaked)} held-out positives, e.g. {sorted(leaked)[:3]}"
    if method == "oracle_unsupervised_test":  # no label at all
        truth = set(zip(tiny_data.network.Gene1, tiny_data.network.Gene2))
        assert not (truth & found)
    m = pl.evaluate(h5ad, split_csv, d / "edges.csv", d / "metrics.json", run_path=d / "run.json",
                    ids={"method": method, "seed": 0})
    assert m["status"] == "ok"
    assert m["scopes"]["test"]["auroc"] < 0.75, m["scopes"]["test"]


def test_views_hold_training_positives_only(tiny_data, tiny_split):
    from grnbench.data.views import method_split, method_view

    sup = method_view(tiny_data, tiny_split, "supervised")
    tr = tiny_split[(tiny_split.Part == "train") & (tiny_split.Label == 1)]
    assert set(zip(sup.network.Gene1, sup.network.Gene2)) == set(zip(tr.TF, tr.Target))
    assert len(method_view(tiny_data, tiny_split, "unsupervised").network) == 0
    np.testing.assert_array_equal(sup.expression(), tiny_data.expression())
    assert sup.tfs == tiny_data.tfs and sup.genes == tiny_data.genes
    seen, test = method_split(tiny_split)
    assert set(seen.Part) <= {"train", "val"} and list(test.columns) == ["TF", "Target"]
    assert len(test) == int((tiny_split.Part == "test").sum())


# --- coverage ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scored(tmp_path_factory, h5ad):
    """A split and degree_prior's complete prediction file for it."""
    d = tmp_path_factory.mktemp("cover")
    split = d / "split.csv"
    pl.make_split(h5ad, split, protocol="genelink", seed=0, network="groundtruth")
    pl.run_method(h5ad, split, d / "edges.csv", d / "run.json", method="degree_prior", seed=0)
    return d, split


def _eval(h5ad, split, edges, out, **kw):
    return pl.evaluate(h5ad, split, edges, out, kind="supervised", ids={"method": "mine", "seed": 0}, **kw)


def test_header_only_prediction_file_is_failed(tmp_path, h5ad, scored):
    _, split = scored
    edges = tmp_path / "edges.csv"
    edges.write_text("Gene1,Gene2,EdgeWeight\n")
    m = _eval(h5ad, split, edges, tmp_path / "m.json")
    n_test = int((pd.read_csv(split).Part == "test").sum())
    assert m["status"] == "failed"
    assert f"{n_test} of {n_test} test pairs are not scored" in m["error"]
    assert str(edges) in m["error"] and "->" in m["error"] and "allow_partial" in m["error"]
    assert m["scopes"]["test"]["coverage"] == 0.0 and m["scopes"]["test"]["n_missing"] == n_test
    assert "auroc" not in m["scopes"]["test"]


def test_swapped_columns_are_failed(tmp_path, h5ad, scored):
    d, split = scored
    e = pd.read_csv(d / "edges.csv")
    e[["Gene2", "Gene1", "EdgeWeight"]].rename(columns={"Gene2": "Gene1", "Gene1": "Gene2"}).to_csv(
        tmp_path / "edges.csv", index=False)
    m = _eval(h5ad, split, tmp_path / "edges.csv", tmp_path / "m.json")
    assert m["status"] == "failed" and m["scopes"]["test"]["n_missing"] > 0


def test_one_missing_pair_is_failed_unless_allowed(tmp_path, h5ad, scored):
    d, split = scored
    e = pd.read_csv(d / "edges.csv")
    e.iloc[1:].to_csv(tmp_path / "edges.csv", index=False)
    m = _eval(h5ad, split, tmp_path / "edges.csv", tmp_path / "m.json")
    assert m["status"] == "failed" and "1 of" in m["error"]
    assert f"{e.Gene1.iloc[0]} -> {e.Gene2.iloc[0]}" in m["error"]
    ok = _eval(h5ad, split, tmp_path / "edges.csv", tmp_path / "m2.json", allow_partial=True)
    assert ok["status"] == "ok" and ok["scopes"]["test"]["n_missing"] == 1
    assert 0.99 < ok["scopes"]["test"]["coverage"] < 1.0 and np.isfinite(ok["scopes"]["test"]["auroc"])
    full = _eval(h5ad, split, d / "edges.csv", tmp_path / "m3.json")
    assert full["status"] == "ok" and full["scopes"]["test"]["coverage"] == 1.0


def test_coverage_reaches_metrics_and_summary(tmp_path, h5ad, scored):
    from grnbench.evaluate.summary import normalise_metrics, summarise

    d, split = scored
    e = pd.read_csv(d / "edges.csv")
    e.iloc[1:].to_csv(tmp_path / "edges.csv", index=False)
    files = []
    for name, edges, allow in (("full", d / "edges.csv", False), ("part", tmp_path / "edges.csv", True),
                               ("bad", tmp_path / "edges.csv", False)):
        out = tmp_path / f"{name}.json"
        pl.evaluate(h5ad, split, edges, out, kind="supervised", allow_partial=allow,
                    ids={"dataset": "d", "network": "n", "geneset": "tfs1", "split": "genelink", "method": name, "seed": 0})
        files.append(out)
    m = pl.collect_metrics(files, tmp_path / "metrics.tsv")
    assert {"coverage", "n_missing", "error"} <= set(m.columns)
    row = m[m.scope == "test"].set_index("method")
    assert row.loc["full", "coverage"] == 1.0 and row.loc["part", "n_missing"] == 1
    assert row.loc["bad", "status"] == "failed" and "not scored" in row.loc["bad", "error"]
    s = summarise(normalise_metrics(pd.read_csv(tmp_path / "metrics.tsv", sep="\t")))
    s = s[s.scope == "test"].set_index("method")
    assert s.loc["part", "predictions"] == "partial" and s.loc["full", "predictions"] == "complete"
    assert s.loc["bad", "status"] == "failed"
    assert json.loads(Path(files[2]).read_text())["status"] == "failed"


# --- released splits (item 5) ------------------------------------------------------------------
def test_released_split_templates_take_seed_and_network():
    from grnbench.data.released import released_files, same_files_every_seed

    d = {"source": "beeline", "released_splits": "/x/{network}/{geneset}/seed{seed}"}
    a = released_files("ds", d, network="string", geneset="tfs500", seed=3, results="res")
    assert a["train"] == "/x/string/tfs500/seed3/Train_set.csv" and a["test"].endswith("seed3/Test_set.csv")
    assert not same_files_every_seed(d) and same_files_every_seed({"released_splits": "/x/{network}"})


def test_released_download_is_refused_for_other_networks_and_gene_sets():
    from grnbench.data.released import released_files
    from grnbench.errors import InputError

    d = {"source": "genelink", "cell": "hESC", "released_splits": "download"}
    ok = released_files("hESC", d, network="specific", geneset="tfs500", seed=0, results="res")
    assert set(ok) == {"train", "val", "test"} and "genelink_released_hESC_tfs500_train" in ok["train"]
    with pytest.raises(InputError, match=r"datasets\.hESC\.released_splits.*'specific' network only, not 'nonspecific'"):
        released_files("hESC", d, network="nonspecific", geneset="tfs500", seed=0, results="res")
    with pytest.raises(InputError, match="released no split for hESC tfs5000"):
        released_files("hESC", d, network="specific", geneset="tfs5000", seed=0, results="res")
    with pytest.raises(InputError, match="unknown placeholder"):
        released_files("x", {"released_splits": "/x/{cell}"}, network="n", geneset="tfs5", seed=0, results="r")


def test_released_split_summary_names_its_files(tmp_path, tiny_data):
    """A released split records which files it came from (so a reader sees seeds sharing one set)."""
    from grnbench.data.splits import genelink_split

    h5 = tmp_path / "d.h5ad"
    write_h5ad(tiny_data.adata, h5)
    genes = tiny_data.genes
    (tmp_path / "Target.csv").write_text(",Gene,index\n" + "".join(f"{i},{g},{i}\n" for i, g in enumerate(genes)))
    sp = genelink_split(tiny_data, 0)
    idx = {g: i for i, g in enumerate(genes)}
    files = {}
    for part, name in (("train", "Train_set.csv"), ("val", "Validation_set.csv"), ("test", "Test_set.csv")):
        p = sp[sp.Part == part]
        pd.DataFrame({"TF": p.TF.map(idx), "Target": p.Target.map(idx), "Label": p.Label}).to_csv(tmp_path / name)
        files[part] = str(tmp_path / name)
    s = pl.make_split(h5, tmp_path / "split.csv", protocol="genelink_released", seed=0,
                      released={**files, "targets": str(tmp_path / "Target.csv")})
    assert s["status"] == "ok" and s["released_files"]["train"] == files["train"]


def test_device_recorded_is_the_one_used(tmp_path, h5ad, monkeypatch):
    """random and pcc run on the CPU: run.json says cpu even when the config asked for cuda."""
    split = tmp_path / "split.csv"
    pl.make_split(h5ad, split, protocol="genelink", seed=0)
    monkeypatch.setattr(pl, "resolve_device", lambda device: "cuda")
    for method in ("random", "pcc", "degree_prior"):
        info = pl.run_method(h5ad, split, tmp_path / method / "edges.csv", tmp_path / method / "run.json",
                             method=method, seed=0, device="cuda")
        assert info["device"] == "cpu", method
    from grnbench.methods import get

    assert get("genelink").uses_device and get("sctransnet").uses_device and not get("pcc").uses_device


def test_reverse_subgroups_are_scored_as_scopes(tmp_path, h5ad, tiny_data):
    """Test pairs whose reverse is a training positive are scored apart (scope test:reverse_in_train)."""
    from grnbench.data.splits import genelink_split

    sp = genelink_split(tiny_data, 0)
    test_pos = sp[(sp.Part == "test") & (sp.Label == 1)].iloc[0]
    # make the reverse of one test positive a training positive (a hand-made split, checked only here)
    extra = pd.DataFrame({"TF": [test_pos.Target], "Target": [test_pos.TF], "Label": [1], "Part": ["train"]})
    tr = sp[sp.Part == "train"]
    tr_first = tr.index[0]
    sp = pd.concat([sp.drop(index=tr_first), extra], ignore_index=True)
    split = tmp_path / "split.csv"
    sp.to_csv(split, index=False)
    test = sp[sp.Part == "test"]
    edges = pd.DataFrame({"Gene1": test.TF, "Gene2": test.Target, "EdgeWeight": np.arange(len(test), dtype=float)})
    edges.to_csv(tmp_path / "edges.csv", index=False)
    m = pl.evaluate(h5ad, split, tmp_path / "edges.csv", tmp_path / "m.json", kind="supervised",
                    ids={"method": "x", "seed": 0})
    assert m["scopes"]["test:reverse_in_train"]["n_pairs"] >= 1
    n = m["scopes"]["test:reverse_in_train"]["n_pairs"] + m["scopes"]["test:reverse_not_in_train"]["n_pairs"]
    assert n == len(test)


@pytest.mark.parametrize("protocol", ["genelink", "tf_holdout", "degree_matched"])
def test_make_split_passes_and_records_the_reciprocal_option(tmp_path, h5ad, protocol):
    on = pl.make_split(h5ad, tmp_path / "a.csv", protocol=protocol, seed=0, params={"reciprocal": "keep_together"})
    off = pl.make_split(h5ad, tmp_path / "b.csv", protocol=protocol, seed=0, params={"reciprocal": "ignore"})
    assert on["reciprocal"]["mode"] == "keep_together" and off["reciprocal"]["mode"] == "ignore"
    auto = pl.make_split(h5ad, tmp_path / "c.csv", protocol=protocol, seed=0)
    assert auto["reciprocal"]["requested"] == "auto"


def test_real_gene_set_size_reaches_the_tables(tmp_path, h5ad, scored):
    """metrics.tsv and the summary carry the gene set's real size (it can be smaller than tfs<N>)."""
    from grnbench.evaluate.summary import normalise_metrics, summarise

    d, split = scored
    out = tmp_path / "m.json"
    pl.evaluate(h5ad, split, d / "edges.csv", out, kind="supervised",
                ids={"dataset": "d", "network": "n", "geneset": "tfs5000", "split": "genelink", "method": "x", "seed": 0})
    m = pl.collect_metrics([out], tmp_path / "metrics.tsv")
    assert (m["n_genes"] == 60).all() and (m["n_tfs"] == 8).all()
    s = summarise(normalise_metrics(pd.read_csv(tmp_path / "metrics.tsv", sep="\t")))
    assert (s["n_genes"] == 60).all()
