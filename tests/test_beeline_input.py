"""BEELINE-format input that just works (issue 14, item 1).

BEELINE's own example files (R-style PseudoTime.csv header), gene selection per dataset and
switched off (``preprocess: {pvalue: 0}`` / ``{select_genes: false}``), ``regulators: all``
(no TF list), several lineages (SCODE per lineage, BLRun/scodeRunner.py) and the network's
sign reaching the ``.h5ad``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from grnbench.data.dataset import read_h5ad
from grnbench.data.readers import read_pseudotime, read_pseudotime_lineages
from grnbench.errors import InputError
from grnbench.pipeline import load_raw_dataset, save_dataset

ROOT = Path(__file__).resolve().parents[1]


def beeline_files(folder: Path, *, n_cells: int = 60, seed: int = 0, r_style: bool = True) -> dict[str, Path]:
    """A small BEELINE-format data set: 6 genes, two lineages (trunk cells on both), signed edges."""
    rng = np.random.default_rng(seed)
    genes = ["A", "B", "C", "D", "E", "F"]
    cells = [f"E{i}" for i in range(n_cells)]
    t = np.linspace(0, 1, n_cells)
    x = np.c_[t, 1 - t, t**2, np.sin(3 * t), rng.random(n_cells), rng.random(n_cells)]
    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: folder / f for k, f in (("expression", "ExpressionData.csv"), ("pseudotime", "PseudoTime.csv"),
                                         ("network", "refNetwork.csv"))}
    pd.DataFrame(x.T, index=genes, columns=cells).to_csv(paths["expression"])
    lin = np.where(np.arange(n_cells) % 3 == 0, np.nan, t * 10)  # every third cell off lineage 1
    lin2 = np.where(np.arange(n_cells) % 3 == 1, np.nan, t * 20)
    rows = [f"{c},{'NA' if np.isnan(a) else a},{'NA' if np.isnan(b) else b}" for c, a, b in zip(cells, lin, lin2)]
    head = "PseudoTime1,PseudoTime2" if r_style else ",PseudoTime1,PseudoTime2"
    paths["pseudotime"].write_text("\n".join([head, *rows]) + "\n")
    paths["network"].write_text("Gene1,Gene2,Type\nA,C,+\nB,A,-\nD,E,+\nF,A,-\nA,C,+\n")
    return {k: str(v) for k, v in paths.items()}


# --- R-style PseudoTime.csv ---------------------------------------------------------------------


def test_r_style_pseudotime_header_is_read(tmp_path):
    f = beeline_files(tmp_path)
    lin = read_pseudotime_lineages(f["pseudotime"], short_header=True)
    assert list(lin.columns) == ["PseudoTime1", "PseudoTime2"] and lin.shape == (60, 2)
    assert np.isnan(lin.iloc[0, 0]) and lin.iloc[0, 1] == 0.0
    pt = read_pseudotime(f["pseudotime"], short_header=True)
    assert pt.iloc[0] == 0.0 and pt.iloc[1] == pytest.approx(10 / 59)  # first non-missing lineage
    full = beeline_files(tmp_path / "full", r_style=False)  # the ',PseudoTime1,...' layout, as before
    pd.testing.assert_frame_equal(read_pseudotime_lineages(full["pseudotime"]), lin)
    with pytest.raises(InputError, match="more than the header's"):  # the strict reader still refuses it
        read_pseudotime(f["pseudotime"])


def test_load_raw_dataset_reads_beeline_pseudotime_and_keeps_every_lineage(tmp_path):
    f = beeline_files(tmp_path)
    d = load_raw_dataset(source="beeline", geneset="tfs0", name="toy", regulators="all", select_genes=False, **f)
    lin = d.adata.obsm["pseudotime_lineages"]
    assert list(lin.columns) == ["PseudoTime1", "PseudoTime2"]
    np.testing.assert_array_equal(d.adata.obs["pseudotime"].to_numpy(), lin.bfill(axis=1).iloc[:, 0].to_numpy())
    save_dataset(d, tmp_path / "d.h5ad")
    back = read_h5ad(tmp_path / "d.h5ad")
    pd.testing.assert_frame_equal(back.adata.obsm["pseudotime_lineages"], lin)
    assert back.adata.uns["provenance"]["lineages"] == 2


# --- gene selection ------------------------------------------------------------------------------


def schema_errors(cfg: dict) -> list[str]:
    import jsonschema

    schema = yaml.safe_load((ROOT / "config/schema.yaml").read_text())
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(cfg)]


def test_schema_accepts_pvalue_zero_and_per_dataset_preprocess():
    ds = {"source": "beeline", "regulators": "all", "files": {"expression": "e.csv", "networks": {"n": "n.csv"}},
          "networks": ["n"], "genesets": ["tfs0"], "preprocess": {"pvalue": 0, "select_genes": False}}
    cfg = {"datasets": {"x": ds}, "methods": {"pcc": {}}, "preprocess": {"pvalue": 0}}
    assert schema_errors(cfg) == []
    assert schema_errors({**cfg, "preprocess": {"pvalue": -0.1}})  # still a p-value
    assert schema_errors({**cfg, "datasets": {"x": {**ds, "regulators": "some"}}})


def test_pvalue_zero_and_select_genes_off(tmp_path):
    f = beeline_files(tmp_path)
    common = dict(source="beeline", name="toy", regulators="all", **f)
    # every gene is a TF here: pvalue 0 keeps every TF whatever N; select_genes off keeps every gene
    assert load_raw_dataset(geneset="tfs0", pvalue=0, **common).n_genes == 6
    assert load_raw_dataset(geneset="tfs0", select_genes=False, **common).n_genes == 6
    tfs = tmp_path / "TFs.csv"
    tfs.write_text("TF\nA\nB\n")
    d = load_raw_dataset(source="beeline", name="toy", geneset="tfs1", select_genes=False, tfs=str(tfs),
                         **{k: v for k, v in f.items()})
    assert d.genes == ["A", "B", "C", "D", "E", "F"] and d.tfs == ["A", "B"]  # N is a label only


# --- regulators: all -----------------------------------------------------------------------------


def test_regulators_all_makes_every_gene_a_regulator(tmp_path):
    f = beeline_files(tmp_path)
    d = load_raw_dataset(source="beeline", geneset="tfs0", name="toy", regulators="all", select_genes=False, **f)
    assert d.tfs == d.genes and d.adata.uns["provenance"]["regulators"] == "all"
    # 4 distinct edges, all with a regulator among the genes (D -> E would be dropped by a TF list A, B)
    assert sorted(zip(d.network["Gene1"], d.network["Gene2"])) == [("A", "C"), ("B", "A"), ("D", "E"), ("F", "A")]
    with pytest.raises(InputError, match="no TF list"):
        load_raw_dataset(source="beeline", geneset="tfs0", name="toy", select_genes=False, **f)


def test_plancheck_tfs_optional_with_regulators_all():
    from grnbench.plancheck import config_problems

    ds = {"source": "beeline", "files": {"expression": "e.csv", "networks": {"n": "n.csv"}},
          "networks": ["n"], "genesets": ["tfs0"]}
    ctx = {"jobs_here": False}
    assert config_problems({"datasets": {"x": {**ds, "regulators": "all"}}}, {}, context=ctx) == []
    (msg,) = config_problems({"datasets": {"x": ds}}, {}, context=ctx)
    assert msg.startswith("datasets.x.files.tfs: missing") and "regulators: all" in msg
    gl = {"source": "genelink", "cell": "mDC", "regulators": "all", "networks": ["specific"], "genesets": ["tfs500"]}
    assert any("datasets.g.regulators" in p for p in config_problems({"datasets": {"g": gl}}, {}, context=ctx))


def test_workflow_without_tf_list_and_per_dataset_pvalue(tmp_path):
    """Old code: planning crashed with KeyError: 'tfs' for a beeline dataset without files.tfs
    (and the schema refused pvalue 0 and a dataset's own preprocess block)."""
    from conftest import copy_workflow

    wf = copy_workflow(tmp_path / "wf")
    f = beeline_files(tmp_path / "data")
    cfg = {"seeds": [0], "splits": ["genelink"], "methods": {"pcc": {}},
           "datasets": {"toy": {"source": "beeline", "regulators": "all", "preprocess": {"pvalue": 0},
                                "files": {"expression": f["expression"], "pseudotime": f["pseudotime"],
                                          "networks": {"truth": f["network"]}},
                                "networks": ["truth"], "genesets": ["tfs0"]}}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(tmp_path / "c.yaml"),
                        "--config", f"results={tmp_path}/res"], cwd=wf, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert "preprocess" in r.stdout and "KeyError" not in r.stderr
    h5ad = tmp_path / "res/toy/truth/tfs0/data.h5ad"
    r = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", str(tmp_path / "c.yaml"),
                        "--config", f"results={tmp_path}/res", "--", str(h5ad)], cwd=wf, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    d = read_h5ad(h5ad)
    prov = d.adata.uns["provenance"]
    assert prov["pvalue"] == 0 and prov["regulators"] == "all" and bool(prov["select_genes"]) is True
    assert d.tfs == d.genes and d.n_genes == 6 and list(d.adata.uns["network"]["Type"]) == ["+", "-", "+", "-"]


# --- the sign column ------------------------------------------------------------------------------


def test_network_sign_reaches_the_h5ad(tmp_path):
    f = beeline_files(tmp_path)
    d = load_raw_dataset(source="beeline", geneset="tfs0", name="toy", regulators="all", select_genes=False, **f)
    save_dataset(d, tmp_path / "d.h5ad")
    net = read_h5ad(tmp_path / "d.h5ad").adata.uns["network"]
    got = dict(zip(zip(net["Gene1"], net["Gene2"]), net["Type"]))
    assert got == {("A", "C"): "+", ("B", "A"): "-", ("D", "E"): "+", ("F", "A"): "-"}


# --- SCODE per lineage ----------------------------------------------------------------------------


def test_scode_runs_per_lineage_and_keeps_the_largest_abs_a(tmp_path):
    from grnbench.data.views import method_view
    from grnbench.methods import get
    from grnbench.methods.scode import mean_of_repeats

    f = beeline_files(tmp_path, n_cells=90)
    d = load_raw_dataset(source="beeline", geneset="tfs0", name="toy", regulators="all", select_genes=False, **f)
    view = method_view(d, None, "unsupervised")  # what the method gets: the lineages travel with it
    assert "pseudotime_lineages" in view.adata.obsm
    params = {"n_iter": 30, "n_rep": 2, "z": 3}
    m = get("scode")(**params)
    score = m.infer(view, seed=5)
    assert m.labels["scode_lineages"] == 2 and m.labels["scode_cells"] == [60, 60]
    # BLRun/scodeRunner.py by hand: each lineage's cells, t / max(t), mean A; per edge max |A|
    x = d.expression(np.float64)
    lin = d.adata.obsm["pseudotime_lineages"].to_numpy(float)
    kw = {"z": 3, "n_iter": 30, "min_b": -10.0, "max_b": 2.0, "jitter": 0.001}
    want = []
    for k, lseed in enumerate([5, int(np.random.SeedSequence([5, 1]).generate_state(1)[0])]):
        keep = np.isfinite(lin[:, k])
        t = lin[keep, k] / lin[keep, k].max()
        want.append(np.abs(mean_of_repeats(x[keep].T, t, lseed, 2, **kw)).T)  # TF rows (all genes are TFs)
    expected = np.maximum(*want)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(score, expected, rtol=1e-12, atol=1e-12)
    # one lineage (obs["pseudotime"] only): the run of before, bit for bit
    view.adata.obsm.pop("pseudotime_lineages")
    one = get("scode")(**params)
    s1 = one.infer(view, seed=5)
    keep = np.isfinite(view.pseudotime)
    t = view.pseudotime[keep] / view.pseudotime[keep].max()
    ref = np.abs(mean_of_repeats(x[keep].T, t, 5, 2, **kw)).T
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_allclose(s1, ref, rtol=1e-12, atol=1e-12)
    assert one.labels["scode_cells"] == int(keep.sum()) and "scode_lineages" not in one.labels


# --- BEELINE's GSD example ------------------------------------------------------------------------


def gsd(shared_data: Path, **kw):
    g = shared_data / "beeline_example/GSD"
    return load_raw_dataset(source="beeline", geneset="tfs0", name="GSD", expression=g / "ex1/ExpressionData.csv",
                            pseudotime=g / "ex1/PseudoTime.csv", network=g / "GroundTruthNetwork.csv", **kw)


def test_gsd_as_beeline_runs_it(shared_data):
    """GSD with every gene a regulator and no gene dropped: pcc gives BEELINE's numbers."""
    from grnbench.evaluate.metrics import beeline_scores
    from grnbench.methods import get

    d = gsd(shared_data, regulators="all", select_genes=False)
    assert d.n_genes == 19 and len(d.network) == 76 and "WNT4" in d.genes
    assert set(d.adata.uns["network"]["Type"]) == {"+", "-"}
    assert d.adata.obsm["pseudotime_lineages"].shape == (2000, 2)
    scores = get("pcc")().infer(d, seed=0)
    tf_idx = d.gene_idx(d.tfs)
    g1, g2 = np.meshgrid(np.arange(len(tf_idx)), np.arange(d.n_genes), indexing="ij")
    edges = pd.DataFrame({"Gene1": np.asarray(d.tfs)[g1.ravel()], "Gene2": np.asarray(d.genes)[g2.ravel()],
                          "EdgeWeight": scores.ravel()})
    r = beeline_scores(edges[edges.Gene1 != edges.Gene2], d.network)
    assert r["n_pairs"] == 342
    assert r["auroc"] == pytest.approx(0.577, abs=5e-4)
    assert r["auprc_trapz"] == pytest.approx(0.275, abs=5e-4)
    assert r["epr"] == pytest.approx(1.402, abs=5e-4)


def test_gsd_default_selection_drops_wnt4(shared_data):
    """What the default test at p < 0.01 does to GSD (why beeline-gsd.yaml switches it off)."""
    d = gsd(shared_data, regulators="all")
    assert "WNT4" not in d.genes and d.n_genes == 18 and len(d.network) == 59
