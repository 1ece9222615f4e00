"""BEELINE gene selection, network restriction, density, GENELink folder format."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from statsmodels.nonparametric.smoothers_lowess import lowess

from grnbench.data.dataset import GRNData, make_adata
from grnbench.data.preprocess import (
    dataset_stats,
    loess_smoother_matrix,
    restrict_network,
    select_genes,
    to_genelink_folder,
    variance_test,
)
from grnbench.data.readers import read_genelink_folder
from grnbench.errors import InputError

# --- variance test ------------------------------------------------------------------------


def test_loess_matches_statsmodels_lowess_and_keeps_lines():
    rng = np.random.default_rng(0)
    for t in (rng.random(150), np.round(rng.random(150), 1)):  # with many ties too
        y = np.sin(4 * t) + rng.normal(0, 0.3, len(t))
        S = loess_smoother_matrix(t)
        fit = lowess(y, t, frac=0.5, it=0, delta=0.0, return_sorted=False)
        np.testing.assert_allclose(S @ y, fit, atol=1e-10)
        np.testing.assert_allclose(S @ np.ones_like(t), 1.0, atol=1e-10)
        np.testing.assert_allclose(S @ (3 * t - 1), 3 * t - 1, atol=1e-10)


def _frame(cols: dict, n: int) -> pd.DataFrame:
    return pd.DataFrame(cols, index=[f"c{i}" for i in range(n)])


def test_variance_test_trend_vs_noise_and_affine_invariance():
    n = 200
    rng = np.random.default_rng(1)
    t = pd.Series(rng.random(n), index=[f"c{i}" for i in range(n)])
    noise = rng.normal(0, 1, size=(n, 400))
    expr = _frame({f"n{j}": noise[:, j] for j in range(400)}, n)
    expr["trend"] = 2 * t.to_numpy() + rng.normal(0, 0.3, n)
    expr["flat"] = 1.0
    res = variance_test(expr, t)
    assert list(res.columns) == ["VGAMpValue", "Variance"]
    assert res.loc["trend", "VGAMpValue"] < 1e-20
    assert res.loc["flat", "VGAMpValue"] == 1.0 and res.loc["flat", "Variance"] == 0.0
    # Under the null the p-values are about uniform.
    frac = (res.loc[[f"n{j}" for j in range(400)], "VGAMpValue"] < 0.05).mean()
    assert 0.02 <= frac <= 0.1
    np.testing.assert_allclose(res["Variance"], expr.var(axis=0, ddof=1))
    # Affine changes of one gene's values leave its p-value unchanged.
    expr2 = expr.assign(trend=-3 * expr["trend"] + 7)
    assert variance_test(expr2, t).loc["trend", "VGAMpValue"] == pytest.approx(
        res.loc["trend", "VGAMpValue"], rel=1e-6
    )


def test_variance_test_needs_pseudotime():
    expr = _frame({"a": np.arange(20.0)}, 20)
    with pytest.raises(InputError, match="pseudotime"):
        variance_test(expr, pd.Series([np.nan] * 20, index=expr.index))


# --- select_genes -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def known():
    """Genes whose fate under BEELINE's rule is known by construction."""
    n = 200
    rng = np.random.default_rng(2)
    t = np.linspace(0, 1, n)
    e = lambda sd: rng.normal(0, sd, n)  # noqa: E731
    expr = _frame(
        {
            "G_noisy": 5 + e(3.0),  # largest variance, no trend: not significant
            "TF_trend": 3 * t + e(0.3),  # significant TF
            "G_small": 1.5 * t + e(0.2),  # significant, smallest variance of the trend genes
            "TF_noise": 5 + e(2.0),  # TF without trend: not significant
            "G_big": 6 * t + e(0.3),  # significant, largest variance
            "G_flat": np.full(n, 2.0),
            "G_mid": 3 * t + e(0.3),  # significant, middle variance
        },
        n,
    )
    pt = pd.Series(t, index=expr.index)
    return expr, pt, ["TF_trend", "TF_noise", "TF_absent"]


def test_select_genes_beeline_rule(known):
    expr, pt, tfs = known
    assert select_genes(expr, tfs, 2, pseudotime=pt) == ["TF_trend", "G_big", "G_mid"]
    assert select_genes(expr, tfs, 3, pseudotime=pt) == ["TF_trend", "G_small", "G_big", "G_mid"]
    # n_top larger than the significant genes: all of them, never a non-significant one.
    assert select_genes(expr, tfs, 50, pseudotime=pt) == ["TF_trend", "G_small", "G_big", "G_mid"]
    assert select_genes(expr, tfs, 0, pseudotime=pt) == ["TF_trend"]


def test_select_genes_without_test(known, caplog):
    expr, pt, tfs = known
    # BEELINE's -p 0: every TF present, the most-varying other genes.
    assert select_genes(expr, tfs, 2, pvalue=0, pseudotime=pt) == [
        "G_noisy",
        "TF_trend",
        "TF_noise",
        "G_big",
    ]
    with caplog.at_level(logging.WARNING):
        got = select_genes(expr, tfs, 2)
    assert got == ["G_noisy", "TF_trend", "TF_noise", "G_big"]
    assert "no variance test" in caplog.text


def test_select_genes_with_beeline_gene_ordering(known):
    expr, _, tfs = known
    # GeneOrdering.csv as BEELINE writes it: index gene, VGAMpValue, Variance (sorted by p).
    order = pd.DataFrame(
        {
            "VGAMpValue": [1e-4, 2e-3, 4e-3, 1e-2, 0.5, 0.9],
            "Variance": [0.1, 9.0, 3.0, 5.0, 8.0, 1.0],
        },
        index=["G_small", "G_big", "TF_noise", "G_mid", "G_noisy", "TF_trend"],
    )
    # Bonferroni: 0.03 / 6 genes = 0.005 -> G_small, G_big, TF_noise pass.
    assert select_genes(expr, tfs, 1, pvalue=0.03, gene_ordering=order) == ["TF_noise", "G_big"]
    assert select_genes(expr, tfs, 5, pvalue=0.03, gene_ordering=order) == [
        "G_small",
        "TF_noise",
        "G_big",
    ]


def test_select_genes_on_simulated_data_keeps_most_tfs():
    from grnbench.data.simulate import simulate_dataset

    # The default workflow data set (config/config.yaml: 40 TFs, 400 genes, 300 cells, seed 7).
    sim = simulate_dataset(n_tfs=40, n_genes=400, n_cells=300, seed=7)
    expr = sim.expression().T
    genes = select_genes(expr, sim.tfs, 200, pseudotime=sim.pseudotime)
    tfs_kept = set(genes) & set(sim.tfs)
    assert len(tfs_kept) >= 24
    assert len(genes) - len(tfs_kept) >= 100
    assert not set(genes) & set(sim.roles.index[sim.roles == "background"])


# --- network and stats --------------------------------------------------------------------


def test_restrict_network():
    net = pd.DataFrame(
        {
            "Gene1": ["A", "A", "A", "B", "A", "C", "B"],
            "Gene2": ["B", "X", "A", "C", "B", "A", "C"],
            "Score": [1, 2, 3, 4, 5, 6, 7],
        }
    )
    out = restrict_network(net, ["A", "B", "C"])
    assert out.to_dict("list") == {
        "Gene1": ["A", "B", "C"],
        "Gene2": ["B", "C", "A"],
        "Score": [1, 4, 6],
    }
    assert list(restrict_network(net, ["A"]).columns) == ["Gene1", "Gene2", "Score"]
    assert restrict_network(net, ["A"]).empty
    with pytest.raises(InputError):
        restrict_network(net.rename(columns={"Gene1": "source"}), ["A"])


def _data(genes, tfs, edges, n_cells=3) -> GRNData:
    expr = pd.DataFrame(
        np.arange(n_cells * len(genes), dtype=float).reshape(n_cells, len(genes)),
        index=[f"c{i}" for i in range(n_cells)],
        columns=genes,
    )
    net = pd.DataFrame(edges, columns=["Gene1", "Gene2"])
    return GRNData(make_adata(expr, tfs, net), name="hand")


def test_dataset_stats_hand_made():
    d = _data(
        ["T1", "g1", "T2", "g2", "g3", "T3"],
        ["T1", "T2", "T3"],
        [("T1", "g1"), ("T1", "g2"), ("T2", "g2"), ("T2", "T1"), ("T1", "T1"), ("T1", "g1")],
    )
    st = dataset_stats(d)
    # 4 distinct non-self edges, 2 TFs with edges, 3 targets (g1, g2, T1).
    assert st == {
        "cells": 3,
        "genes": 6,
        "tfs": 3,
        "tfs_with_edges": 2,
        "targets_with_edges": 3,
        "edges": 4,
        "density": pytest.approx(4 / 6),
        "density_beeline": pytest.approx(4 / (2 * 4 - 2)),
    }
    assert dataset_stats(d.adata) == st


def _read_genelink_with_pandas(folder) -> GRNData:
    expr = pd.read_csv(folder / "BL--ExpressionData.csv", index_col=0)
    tfs = pd.read_csv(folder / "TF.csv", index_col=0)["TF"].tolist()
    net = pd.read_csv(folder / "BL--network.csv")
    return GRNData(make_adata(expr.T, tfs, net), name=str(folder))


@pytest.mark.shared_data
def test_dataset_stats_on_mdc_specific_tfs500(shared_data):
    data = _read_genelink_with_pandas(shared_data / "genelink/specific/mDC/tfs500")
    st = dataset_stats(data)
    assert (st["cells"], st["genes"], st["tfs"]) == (383, 821, 323)
    assert (st["tfs_with_edges"], st["targets_with_edges"], st["edges"]) == (20, 443, 756)
    assert st["density"] == pytest.approx(756 / (20 * 443))
    assert round(st["density"], 3) == 0.085  # GENELink's published density


# GENELink's published densities of the cell-type-specific networks (docs/reference.md).
PUBLISHED = {
    ("hESC", "tfs500"): 0.164, ("hESC", "tfs1000"): 0.165,
    ("hHEP", "tfs500"): 0.379, ("hHEP", "tfs1000"): 0.377,
    ("mDC", "tfs500"): 0.085, ("mDC", "tfs1000"): 0.082,
    ("mESC", "tfs500"): 0.345, ("mESC", "tfs1000"): 0.347,
    ("mHSC-E", "tfs500"): 0.578, ("mHSC-E", "tfs1000"): 0.566,
    ("mHSC-GM", "tfs500"): 0.543, ("mHSC-GM", "tfs1000"): 0.565,
    ("mHSC-L", "tfs500"): 0.525, ("mHSC-L", "tfs1000"): 0.507,
}  # fmt: skip


@pytest.mark.shared_data
@pytest.mark.parametrize(("cell", "geneset"), sorted(PUBLISHED))
def test_density_matches_genelink_published(shared_data, cell, geneset):
    folder = shared_data / "genelink/specific" / cell / geneset
    genes = pd.read_csv(folder / "Target.csv", index_col=0)["Gene"].astype(str).tolist()
    tfs = pd.read_csv(folder / "TF.csv", index_col=0)["TF"].astype(str).tolist()
    net = pd.read_csv(folder / "BL--network.csv")
    # Density depends on the network and gene set only; one dummy cell of expression.
    d = _data(genes, tfs, list(zip(net["Gene1"].astype(str), net["Gene2"].astype(str))), n_cells=1)
    # Published values are rounded (some truncated) to 3 decimals.
    assert dataset_stats(d)["density"] == pytest.approx(PUBLISHED[(cell, geneset)], abs=0.0015)


# --- GENELink folder ----------------------------------------------------------------------


def test_genelink_folder_round_trip(tmp_path, tiny_data):
    paths = to_genelink_folder(tiny_data, tmp_path)
    assert sorted(p.name for p in paths.values()) == sorted(
        ["BL--ExpressionData.csv", "BL--network.csv", "TF.csv", "Target.csv", "Label.csv"]
    )
    back = read_genelink_folder(tmp_path)
    assert back.genes == tiny_data.genes and back.tfs == tiny_data.tfs
    assert list(back.adata.obs_names) == list(tiny_data.adata.obs_names)
    np.testing.assert_array_equal(back.expression(), tiny_data.expression())  # float32 exact
    pd.testing.assert_frame_equal(back.network, tiny_data.network)
    # Headers and index conventions.
    tf = pd.read_csv(paths["TF.csv"], index_col=0)
    assert paths["TF.csv"].read_text().splitlines()[0] == ",TF,index"
    assert [tiny_data.genes[i] for i in tf["index"]] == tiny_data.tfs
    tg = pd.read_csv(paths["Target.csv"], index_col=0)
    assert paths["Target.csv"].read_text().splitlines()[0] == ",Gene,index"
    assert tg["Gene"].tolist() == tiny_data.genes and tg["index"].tolist() == list(
        range(tiny_data.n_genes)
    )
    lab = pd.read_csv(paths["Label.csv"], index_col=0)
    assert paths["Label.csv"].read_text().splitlines()[0] == ",TF,Target"
    g = np.array(tiny_data.genes)
    assert list(zip(g[lab["TF"]], g[lab["Target"]])) == list(
        zip(tiny_data.network["Gene1"], tiny_data.network["Gene2"])
    )
    assert not list(tmp_path.glob(".*"))  # no temporary files left


@pytest.mark.shared_data
def test_genelink_folder_reproduces_published_mdc_files(shared_data, tmp_path):
    src = shared_data / "genelink/specific/mDC/tfs500"
    data = read_genelink_folder(src)
    paths = to_genelink_folder(data, tmp_path)
    for name in ("TF.csv", "Target.csv", "Label.csv"):
        assert paths[name].read_bytes() == (src / name).read_bytes(), name
    ours = pd.read_csv(paths["BL--ExpressionData.csv"], index_col=0)
    theirs = pd.read_csv(src / "BL--ExpressionData.csv", index_col=0)
    assert list(ours.index) == list(theirs.index) and list(ours.columns) == list(theirs.columns)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-6, atol=1e-6)
    net = pd.read_csv(src / "BL--network.csv")
    pd.testing.assert_frame_equal(pd.read_csv(paths["BL--network.csv"]), net[["Gene1", "Gene2"]])
