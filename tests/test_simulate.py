"""The simulator: determinism, shapes, BEELINE files, and that its data are a fair benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from grnbench.data.dataset import GRNData
from grnbench.data.simulate import (
    DEFAULTS,
    log2_library_size_normalise,
    simulate_dataset,
    write_beeline,
)
from grnbench.errors import InputError
from grnbench.methods.registry import get

# The default workflow size (config/config.yaml: datasets.sim).
SIZE = {"n_tfs": 40, "n_genes": 400, "n_cells": 300}


@pytest.fixture(scope="module")
def sim():
    return simulate_dataset(**SIZE, seed=7)


@pytest.fixture(scope="module")
def small():
    return simulate_dataset(n_tfs=10, n_genes=60, n_cells=80, seed=3)


def _tf_gene_auroc(data: GRNData, scores: np.ndarray) -> float:
    """AUROC over every TF -> gene pair but self pairs (scores: TFs x genes)."""
    tf_row = {t: i for i, t in enumerate(data.tfs)}
    labels = np.zeros_like(scores, dtype=bool)
    net = data.network
    labels[[tf_row[t] for t in net["Gene1"]], data.gene_idx(net["Gene2"].to_numpy())] = True
    keep = np.ones_like(labels)
    keep[np.arange(len(data.tfs)), data.gene_idx(data.tfs)] = False
    return float(roc_auc_score(labels[keep], scores[keep]))


def test_shapes_and_names(sim):
    n_genes, n_cells = SIZE["n_genes"], SIZE["n_cells"]
    assert sim.counts.shape == (n_genes, n_cells)
    assert sim.mrna.shape == (n_genes, n_cells)
    assert sim.counts.index.is_unique and sim.counts.columns.is_unique
    assert (sim.counts.to_numpy() >= 0).all() and sim.counts.to_numpy().dtype == np.int64
    assert len(sim.tfs) == SIZE["n_tfs"] and set(sim.tfs) <= set(sim.counts.index)
    assert list(sim.pseudotime.index) == list(sim.counts.columns)
    assert sim.pseudotime.between(0, 1).all()
    assert set(sim.roles) <= {"master_tf", "tf", "target", "background_trend", "background"}
    assert set(sim.roles[sim.roles.isin(["master_tf", "tf"])].index) == set(sim.tfs)


def test_network_only_among_listed_genes(sim):
    net = sim.network
    assert list(net.columns) == ["Gene1", "Gene2", "Type"]
    assert set(net["Gene1"]) <= set(sim.tfs)
    assert set(net["Gene2"]) <= set(sim.counts.index)
    assert set(net["Type"]) == {"+", "-"}
    assert not (net["Gene1"] == net["Gene2"]).any()
    assert not net.duplicated(["Gene1", "Gene2"]).any()
    # Background genes and master TFs have no regulator; TFs regulate TFs.
    regulated = set(net["Gene2"])
    assert not regulated & set(sim.roles.index[sim.roles.isin(["background", "background_trend"])])
    assert not regulated & set(sim.roles.index[sim.roles == "master_tf"])
    assert regulated & set(sim.tfs)


def test_network_density_and_heavy_tailed_outdegree(sim):
    net = sim.network
    density = len(net) / (net["Gene1"].nunique() * net["Gene2"].nunique())
    assert 0.05 <= density <= 0.2
    assert density == pytest.approx(sim.stats["density"])
    outdeg = net["Gene1"].value_counts()
    assert outdeg.max() >= 4 * outdeg.median()  # hubs


def test_same_seed_same_bytes_other_seed_differs(tmp_path, small):
    again = simulate_dataset(n_tfs=10, n_genes=60, n_cells=80, seed=3)
    other = simulate_dataset(n_tfs=10, n_genes=60, n_cells=80, seed=4)
    pa = write_beeline(small, tmp_path / "a")
    pb = write_beeline(again, tmp_path / "b")
    pc = write_beeline(other, tmp_path / "c")
    assert set(pa) == {"expression", "pseudotime", "network", "tfs", "counts"}
    for key in pa:
        assert pa[key].read_bytes() == pb[key].read_bytes(), key
    assert pa["expression"].read_bytes() != pc["expression"].read_bytes()
    assert pa["network"].read_bytes() != pc["network"].read_bytes()
    assert not list((tmp_path / "a").glob(".*"))  # no temporary files left behind


def test_network_does_not_depend_on_cell_number(small):
    more_cells = simulate_dataset(n_tfs=10, n_genes=60, n_cells=120, seed=3)
    pd.testing.assert_frame_equal(small.network, more_cells.network)


def test_beeline_files_read_back(tmp_path, small):
    paths = write_beeline(small, tmp_path)
    expr = pd.read_csv(paths["expression"], index_col=0)
    assert paths["expression"].read_text().startswith(",C0001,")
    assert list(expr.index) == list(small.counts.index)
    assert list(expr.columns) == list(small.counts.columns)
    np.testing.assert_allclose(expr.to_numpy(), small.expression().to_numpy(), rtol=1e-5, atol=1e-6)
    pt = pd.read_csv(paths["pseudotime"], index_col=0)
    assert list(pt.columns) == ["PseudoTime"]
    np.testing.assert_allclose(pt["PseudoTime"], small.pseudotime, rtol=1e-5, atol=1e-6)
    net = pd.read_csv(paths["network"])
    pd.testing.assert_frame_equal(net, small.network)
    assert pd.read_csv(paths["tfs"])["TF"].tolist() == small.tfs
    counts = pd.read_csv(paths["counts"], index_col=0)
    np.testing.assert_array_equal(counts.to_numpy(), small.counts.to_numpy())


def test_log_normalise_is_log2_of_size_factor_scaled_counts():
    counts = pd.DataFrame([[1, 0, 6], [3, 4, 2]], index=["a", "b"], columns=["c1", "c2", "c3"])
    # library sizes 4, 4, 8; median 4 -> size factors 1, 1, 2
    expected = np.log2(1 + np.array([[1, 0, 3], [3, 4, 1]], dtype=float))
    np.testing.assert_allclose(log2_library_size_normalise(counts).to_numpy(), expected)


def test_pcc_clearly_above_random_but_far_from_perfect(sim):
    data = GRNData(sim.to_adata(), name="sim")
    pcc = _tf_gene_auroc(data, get("pcc")().infer(data, seed=0))
    rnd = _tf_gene_auroc(data, get("random")().infer(data, seed=0))
    assert abs(rnd - 0.5) < 0.05
    assert pcc - rnd > 0.1
    assert pcc < 0.9  # non-linear, combinatorial and noisy: not solvable by correlation


def test_dropout_and_zero_fraction_within_documented_range(sim):
    assert 0.05 <= sim.stats["dropout_fraction"] <= 0.3
    assert 0.15 <= sim.stats["zero_fraction"] <= 0.5
    assert sim.stats["zero_fraction"] == pytest.approx((sim.counts.to_numpy() == 0).mean())


def test_dropout_follows_its_parameter():
    lo = simulate_dataset(n_tfs=10, n_genes=60, n_cells=80, seed=3, dropout_midpoint=0.05)
    hi = simulate_dataset(n_tfs=10, n_genes=60, n_cells=80, seed=3, dropout_midpoint=5.0)
    assert lo.stats["dropout_fraction"] < 0.05 < 0.4 < hi.stats["dropout_fraction"]


def test_genes_vary_along_the_trajectory(sim):
    expr = sim.expression()
    var = expr.var(axis=1)
    # Background housekeeping genes are the least variable class; trajectory genes vary.
    assert var[sim.roles == "target"].median() > var[sim.roles == "background"].median()
    # TFs and targets follow pseudotime: many have |Spearman rho| > 0.3 with it.
    rho = expr.T.corrwith(sim.pseudotime, method="spearman").abs()
    assert (rho[sim.tfs] > 0.3).mean() > 0.3
    assert (rho[sim.roles == "target"] > 0.3).mean() > 0.2


def test_two_branches(tmp_path):
    res = simulate_dataset(n_tfs=16, n_genes=80, n_cells=120, seed=1, n_branches=2)
    assert set(res.branch) == {-1, 0, 1}
    pt = pd.read_csv(write_beeline(res, tmp_path, counts=False)["pseudotime"], index_col=0)
    assert list(pt.columns) == ["PseudoTime1", "PseudoTime2"]
    trunk = res.branch == -1
    assert pt.loc[trunk].notna().all().all()
    assert (pt.notna().sum(axis=1) >= 1).all()
    assert pt.loc[~trunk].notna().sum(axis=1).eq(1).all()


def test_bad_parameters_raise_input_error():
    with pytest.raises(InputError, match="unknown parameter"):
        simulate_dataset(n_tfs=4, n_genes=20, n_cells=10, seed=0, no_such_param=1)
    with pytest.raises(InputError, match="n_genes > n_tfs"):
        simulate_dataset(n_tfs=20, n_genes=20, n_cells=10, seed=0)
    assert "dropout_midpoint" in DEFAULTS
