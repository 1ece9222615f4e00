"""The light method index: planning reads each method's facts without importing its code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grnbench.errors import InputError
from grnbench.methods import registry


def test_index_equals_what_the_classes_say():
    """index.json is made from the classes; after a change run `grnbench methods --write-index`."""
    on_disk = json.loads(registry.INDEX_PATH.read_text())
    assert on_disk == registry.build_index(), "src/grnbench/methods/index.json is stale: run grnbench methods --write-index"


def test_cli_writes_the_index(tmp_path, monkeypatch, capsys):
    """`grnbench methods --write-index` writes what build_index says (to a copy here)."""
    from grnbench import cli

    target = tmp_path / "index.json"
    monkeypatch.setattr(registry, "INDEX_PATH", target)
    assert cli.main(["methods", "--write-index"]) == 0
    assert json.loads(target.read_text()) == registry.build_index()
    assert str(target) in capsys.readouterr().out


FACTS = ("display_name", "family", "order", "color", "reference", "table1_variant", "cost")


def test_index_facts_are_the_classes_attributes():
    """What tables, figures and guards read from the index is what each class declares."""
    from grnbench.methods import costs

    index = registry.load_index()
    classes = {n: c for n, c in registry.available().items() if c.__module__.startswith("grnbench.methods.")}
    assert set(index) == set(classes)  # (other tests' plugins left out)
    for name, cls in classes.items():
        for attr in FACTS:
            want = dict(cls.cost) if attr == "cost" else getattr(cls, attr)
            assert getattr(index[name], attr) == want, (name, attr)
            assert getattr(registry.facts(name), attr) == want, (name, attr)
        costs.model(index[name].cost)
    # the reading order and the references of the tables before the facts moved onto the classes
    assert registry.method_order() == (
        "random", "degree_prior", "label_prior", "pcc", "mi", "genie3", "grnboost2", "pidc", "ppcor",
        "scode", "genelink", "gnnlink", "gne", "cnnc", "deepdrim", "grn_transformer", "sctransnet",
        "sctransnet_no_gnn", "sctransnet_no_encoder", "sctransnet_no_attnpool")
    assert {n for n in index if index[n].reference} == {"random", "degree_prior", "label_prior"}
    assert {n for n in index if index[n].family == "sctransnet"} == set(registry.table1_variants())
    colours = [index[n].color for n in index]
    assert None not in colours and len(set(colours)) == len(colours)


def test_a_name_no_class_declares_gets_plugin_defaults():
    f = registry.facts("no_such_method")
    assert (f.display_name, f.order, f.color, f.reference, f.table1_variant) == (
        "no_such_method", registry.PLUGIN_ORDER, None, False, None)


def test_planning_imports_no_method_module():
    code = ("import sys; import grnbench.methods.registry as r; m = r.planning_methods(); "
            "r.info('sctransnet').params('small'); "
            "import grnbench.guards as g; g.resources('grn_transformer', {'genes': 500, 'cells': 300, 'tfs': 50}, preset='small'); "
            "assert r.facts('genelink').display_name == 'GENELink'; "
            "bad = [k for k in sys.modules if k.split('.')[0] in ('torch', 'anndata', 'torch_geometric', 'sklearn')]; "
            "print(len(m), bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) >= 20 and out[1] == "[]", out


def test_one_params_resolution():
    from grnbench.guards import method_params
    from grnbench.methods import get

    for name in ("genelink", "sctransnet", "pcc"):
        cls = get(name)
        for preset in [None, *sorted(cls.presets)]:
            merged = registry.info(name).params(preset, {})
            assert merged == json.loads(json.dumps(cls(preset=preset).params, default=str)), (name, preset)
            assert method_params(name, preset, {}) == merged
    with pytest.raises(InputError, match=r"methods\.genelink\.preset"):
        registry.info("genelink").params("nope")
    with pytest.raises(InputError, match=r"methods\.genelink\.params.*'bogus'"):
        get("genelink")(bogus=1)


def test_dry_run_imports_no_torch(tmp_path):
    """Planning the default workflow loads no torch, AnnData or matplotlib (cluster jobs parse
    the Snakefile too); its time is measured in benchmarks/README.md, not asserted here."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "snakemake", "-n", "--config", f"results={tmp_path}/res"],
                       cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    loaded = {line.rsplit("|", 1)[1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert not loaded & {"torch", "anndata", "matplotlib", "torch_geometric", "scanpy"}, sorted(loaded & {"torch", "anndata", "matplotlib"})
