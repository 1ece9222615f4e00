"""scanpy's bundled krumsiek11 as a built-in source (issue 14, item 4): offline, no download."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grnbench.data.krumsiek import (
    DATA,
    MODEL,
    coupling_list,
    parse_boolean_model,
    read_simulation,
    scanpy_file,
    write_krumsiek11,
)
from grnbench.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def test_boolean_rules_give_the_signed_graph(tmp_path):
    net = parse_boolean_model(scanpy_file(MODEL))
    assert len(net) == 30 and int((net.Gene1 != net.Gene2).sum()) == 26
    edges = {(a, b): t for a, b, t in net.itertuples(index=False)}
    # Gata2 = Gata2 and not (Gata1 and Fog1) and not Pu.1
    assert {k: v for k, v in edges.items() if k[1] == "Gata2"} == {
        ("Gata2", "Gata2"): "+", ("Gata1", "Gata2"): "-", ("Fog1", "Gata2"): "-", ("Pu.1", "Gata2"): "-"}
    assert edges[("Cebpa", "Pu.1")] == "+" and edges[("Gata1", "Pu.1")] == "-"  # (Cebpa or Pu.1) and not (...)
    # the model's own coupling list: the same edges, the same signs
    c = coupling_list(scanpy_file(MODEL))
    assert {(a, b): "+" if w > 0 else "-" for a, b, w in c.itertuples(index=False)} == edges


def test_parser_refuses_a_broken_rule(tmp_path):
    p = tmp_path / "m.txt"
    p.write_text("A = B and not (C\nB = A\nC = \n")
    with pytest.raises(InputError, match="without"):
        parse_boolean_model(p)
    p.write_text("A = B and D\nB = A\n")
    with pytest.raises(InputError, match="'D' has no rule"):
        parse_boolean_model(p)
    p.write_text("A = not not B or (B and not A)\nB = \n")
    assert parse_boolean_model(p).to_dict("list") == {"Gene1": ["B", "A"], "Gene2": ["A", "A"], "Type": ["+", "-"]}


def test_cells_are_scanpys_and_lineages_are_its_realisations():
    expr, pt = read_simulation(scanpy_file(DATA))
    assert expr.shape == (640, 11) and list(pt.columns) == [f"PseudoTime{k}" for k in (1, 2, 3, 4)]
    assert (pt.notna().sum(axis=1) == 1).all() and (pt.notna().sum() == 160).all()
    assert pt.loc["r2_t005", "PseudoTime3"] == 5.0 and expr.index.is_unique
    import scanpy as sc

    a = sc.datasets.krumsiek11()  # reads the same bundled file; no download
    assert list(a.var_names) == list(expr.columns)
    np.testing.assert_allclose(expr.to_numpy(), np.asarray(a.X, dtype=float), atol=1e-6)


def test_preprocessed_krumsiek11(tmp_path):
    from grnbench.data.dataset import read_h5ad
    from grnbench.pipeline import load_raw_dataset, save_dataset

    paths = write_krumsiek11(tmp_path / "raw")
    d = load_raw_dataset(source="beeline", geneset="tfs0", name="krumsiek11", regulators="all", select_genes=False,
                         **{k: str(v) for k, v in paths.items()})
    stats = save_dataset(d, tmp_path / "d.h5ad")
    assert stats["genes"] == stats["tfs"] == 11 and stats["edges"] == 26 and stats["cells"] == 640
    back = read_h5ad(tmp_path / "d.h5ad").adata
    assert back.obsm["pseudotime_lineages"].shape == (640, 4)
    signs = dict(zip(zip(back.uns["network"]["Gene1"], back.uns["network"]["Gene2"]), back.uns["network"]["Type"]))
    assert signs[("Gfi1", "cJun")] == "-" and signs[("Gata1", "Fog1")] == "+"


def test_rule_runs_offline(tmp_path):
    """Rules krumsiek11 + preprocess of config/krumsiek11.yaml run with every socket blocked."""
    from conftest import copy_workflow

    wf = copy_workflow(tmp_path / "wf")
    log = tmp_path / "net.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GRNBENCH_NETBLOCK_LOG": str(log)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "tests/netblock"), env.get("PYTHONPATH")]))
    res = tmp_path / "res"
    target = f"{res}/krumsiek11/boolean/tfs0/data.h5ad"
    r = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", "config/krumsiek11.yaml",
                        "--config", f"results={res}", "--", target], cwd=wf, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert "download" not in r.stdout + r.stderr
    lines = log.read_text().splitlines()
    assert any(ln.endswith(" loaded") for ln in lines)
    assert [ln for ln in lines if not ln.endswith(" loaded")] == []  # nothing tried to reach the network
    assert (res / "raw/krumsiek11/refNetwork.csv").read_text().startswith("Gene1,Gene2,Type\nGata2,Gata2,+\n")
