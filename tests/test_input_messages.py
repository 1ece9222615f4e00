"""Data mistakes get messages that name the real cause; non-TF regulators never reach a split
(issue 13, items 3, 8 and the CLI part of 9)."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from grnbench import pipeline as pl
from grnbench.data.preprocess import to_genelink_folder
from grnbench.data.readers import read_expression, read_genelink_folder
from grnbench.data.simulate import simulate_dataset, write_beeline
from grnbench.errors import InputError


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> dict[str, Path]:
    """BEELINE-format files of a small simulated dataset (24 TFs, 200 genes, 250 cells)."""
    d = tmp_path_factory.mktemp("raw")
    files = write_beeline(simulate_dataset(n_tfs=24, n_genes=200, n_cells=250, seed=3), d)
    return {k: Path(v) for k, v in files.items() if k != "counts"}


def copy_raw(raw, tmp_path) -> dict[str, Path]:
    out = {}
    for k, p in raw.items():
        out[k] = tmp_path / p.name
        shutil.copy(p, out[k])
    return out


def load(files, geneset="tfs80"):
    return pl.load_raw_dataset(source="beeline", geneset=geneset, name="t", **{k: files[k] for k in
                               ("expression", "network", "tfs", "pseudotime")})


# --- item 3: non-TF regulators ---------------------------------------------------------------


def test_non_tf_regulators_are_dropped_and_random_stays_at_chance(tmp_path):
    """Edges Gene1 -> Gene2 with a non-TF Gene1 would be test positives that no method scores;
    they are dropped at preprocess (counted in stats.json), every split TF is a TF of the list
    and random's test AUROC stays within 0.5 +- 0.08."""
    files = write_beeline(simulate_dataset(n_tfs=40, n_genes=400, n_cells=250, seed=3), tmp_path / "raw")
    net = pd.read_csv(files["network"], dtype=str, keep_default_na=False)
    tfs = set(pd.read_csv(files["tfs"], dtype=str)["TF"])
    genes = read_expression(files["expression"]).columns.tolist()
    non_tf = [g for g in genes if g not in tfs]
    rng = np.random.default_rng(0)
    extra = pd.DataFrame({"Gene1": rng.choice(non_tf[:120], 3 * len(net)), "Gene2": rng.choice(non_tf, 3 * len(net)),
                          "Type": "+"})
    extra = extra[extra.Gene1 != extra.Gene2].drop_duplicates(["Gene1", "Gene2"])
    pd.concat([net, extra]).to_csv(files["network"], index=False)

    data = pl.load_raw_dataset(source="beeline", geneset="tfs200", name="nontf", expression=files["expression"],
                               network=files["network"], tfs=files["tfs"], pseudotime=files["pseudotime"])
    assert set(data.network["Gene1"]) <= set(data.tfs)
    stats = pl.save_dataset(data, tmp_path / "data.h5ad", tmp_path / "stats.json")
    assert json.loads((tmp_path / "stats.json").read_text()) == stats
    assert stats["edges_dropped_non_tf"] > 0
    assert int(data.adata.uns["provenance"]["edges_dropped_non_tf"]) == stats["edges_dropped_non_tf"]

    summary = pl.make_split(tmp_path / "data.h5ad", tmp_path / "split.csv", protocol="genelink", seed=0,
                            network="groundtruth")
    split = pd.read_csv(tmp_path / "split.csv", dtype=str, keep_default_na=False)
    assert set(split["TF"]) <= set(data.tfs)
    assert set(split["TF"]) == set(data.network["Gene1"])  # the genelink split uses every TF with edges
    assert max(summary[p]["tfs"] for p in ("train", "val", "test")) == stats["tfs_with_edges"] <= stats["tfs"]

    d = tmp_path / "random"
    pl.run_method(tmp_path / "data.h5ad", tmp_path / "split.csv", d / "edges.csv", d / "run.json", method="random",
                  seed=0)
    m = pl.evaluate(tmp_path / "data.h5ad", tmp_path / "split.csv", d / "edges.csv", d / "metrics.json",
                    run_path=d / "run.json", ids={"method": "random", "seed": 0})
    assert m["status"] == "ok", m.get("error")
    assert abs(m["scopes"]["test"]["auroc"] - 0.5) < 0.08


def test_genelink_folder_drops_non_tf_regulators(tmp_path, tiny_data, caplog):
    to_genelink_folder(tiny_data, tmp_path)
    net = pd.read_csv(tmp_path / "BL--network.csv")
    non_tf = [g for g in tiny_data.genes if g not in tiny_data.tfs]
    extra = pd.DataFrame({"Gene1": [non_tf[0], non_tf[1]], "Gene2": [non_tf[2], non_tf[3]]})
    pd.concat([net, extra]).to_csv(tmp_path / "BL--network.csv", index=False)
    with caplog.at_level(logging.WARNING):
        d = read_genelink_folder(tmp_path)
    assert len(d.network) == len(net) and set(d.network["Gene1"]) <= set(d.tfs)
    assert d.adata.uns["provenance"]["edges_dropped_non_tf"] == 2
    assert "2 of" in caplog.text and "not a TF" in caplog.text


@pytest.mark.shared_data
@pytest.mark.parametrize("network", ["specific", "nonspecific"])
def test_genelink_mdc_networks_have_tf_regulators_only(shared_data, network):
    """GENELink's published mDC TFs+500 inputs are unchanged by the TF-regulator restriction."""
    folder = shared_data / "genelink" / network / "mDC" / "tfs500"
    data = pl.load_raw_dataset(source="genelink", geneset="tfs500", name="mDC", expression=folder / "BL--ExpressionData.csv",
                               network=folder / "BL--network.csv", tfs=folder / "TF.csv")
    prov = data.adata.uns["provenance"]
    assert prov["edges_dropped_non_tf"] == 0
    assert len(data.network) == len(pd.read_csv(folder / "BL--network.csv"))
    assert prov["geneset_requested"] == 500 and prov["nontf_genes"] == data.n_genes - len(data.tfs)


# --- item 8: messages that name the real cause -----------------------------------------------


def test_empty_network_is_refused_naming_it(raw, tmp_path):
    f = copy_raw(raw, tmp_path)
    f["network"].write_text("Gene1,Gene2,Type\n")
    with pytest.raises(InputError, match=r"refNetwork.csv: the network has no edges"):
        load(f)


def test_case_mismatched_network_is_refused_naming_the_case(raw, tmp_path):
    f = copy_raw(raw, tmp_path)
    net = pd.read_csv(f["network"], dtype=str)
    net[["Gene1", "Gene2"]] = net[["Gene1", "Gene2"]].apply(lambda c: c.str.lower())
    net.to_csv(f["network"], index=False)
    with pytest.raises(InputError, match=r"refNetwork.csv: none of its \d+ edges has both genes in .*ExpressionData.csv"
                                         r".*match one when case is ignored \(e.g. 'tf\d+', gene 'TF\d+'\)"):
        load(f)


def test_network_outside_the_gene_set_is_refused(raw, tmp_path):
    f = copy_raw(raw, tmp_path)
    expr = read_expression(f["expression"])
    low = expr.var().sort_values().index[:2]  # two flat non-TF genes: never selected
    pd.DataFrame({"Gene1": [low[0]], "Gene2": [low[1]]}).to_csv(f["network"], index=False)
    with pytest.raises(InputError, match=r"refNetwork.csv: none of its edges has both genes in the gene set tfs80"):
        load(f)


@pytest.mark.parametrize(("sep", "name"), [(";", "';'"), ("\t", "tab")])
def test_other_delimiter_is_named(raw, tmp_path, sep, name):
    f = copy_raw(raw, tmp_path)
    pd.read_csv(raw["expression"], index_col=0).to_csv(f["expression"], sep=sep)
    with pytest.raises(InputError, match=rf"ExpressionData.csv \(line 1\): .*looks {name}-separated; expected comma"):
        load(f)


def test_cells_by_genes_expression_is_named(raw, tmp_path):
    f = copy_raw(raw, tmp_path)
    pd.read_csv(raw["expression"], index_col=0).T.to_csv(f["expression"])
    with pytest.raises(InputError, match=r"ExpressionData.csv: the file looks cells x genes.*expected genes x cells"):
        load(f)


def test_case_mismatched_tf_list_is_named(raw, tmp_path):
    f = copy_raw(raw, tmp_path)
    tfs = pd.read_csv(f["tfs"], dtype=str)
    tfs["TF"] = tfs["TF"].str.lower()
    tfs.to_csv(f["tfs"], index=False)
    with pytest.raises(InputError, match=r"TFs.csv: none of the \d+ TFs .* match when case is ignored"):
        load(f)


def test_pseudotime_cell_names_that_do_not_match(raw, tmp_path):
    f = copy_raw(raw, tmp_path)
    pt = pd.read_csv(f["pseudotime"], index_col=0)
    first = pt.index[0]
    pt.index = [f"cell_{c}" for c in pt.index]
    pt.to_csv(f["pseudotime"])
    with pytest.raises(InputError, match=rf"PseudoTime.csv: all 250 cells of .*ExpressionData.csv have no pseudotime.*"
                                         rf"'{first}'.*'cell_{first}'"):
        load(f)


def test_gene_set_smaller_than_asked_warns_and_is_recorded(raw, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="grnbench"):
        data = load(raw, geneset="tfs5000")
    assert "fewer than the 5000 asked" in caplog.text
    stats = pl.save_dataset(data, tmp_path / "d.h5ad", tmp_path / "stats.json")
    assert stats["geneset_requested"] == 5000
    assert stats["nontf_genes"] == data.n_genes - len(data.tfs) < 5000
    assert json.loads((tmp_path / "stats.json").read_text())["nontf_genes"] == stats["nontf_genes"]


# --- CLI: one clean line, no traceback --------------------------------------------------------


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grnbench.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("params", "match"), [("{epochs: 5}", "not valid JSON"), ("[1, 2]", "expected a JSON object")])
def test_cli_bad_params_json(tmp_path, params, match):
    r = cli("infer", "d.h5ad", "s.csv", str(tmp_path / "e.csv"), str(tmp_path / "r.json"), "--method", "pcc",
            "--params", params)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("grnbench: error: --params: ") and match in r.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cli_unavailable_device(tmp_path):
    r = cli("infer", "d.h5ad", "s.csv", str(tmp_path / "e.csv"), str(tmp_path / "r.json"), "--method", "pcc",
            "--device", "cuda")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("grnbench: error: device: 'cuda' asked for, but CUDA is not available")
    r = cli("infer", "d.h5ad", "s.csv", str(tmp_path / "e.csv"), str(tmp_path / "r.json"), "--method", "pcc",
            "--device", "tpu")
    assert r.returncode == 2 and "unknown device 'tpu'" in r.stderr
