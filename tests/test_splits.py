"""Split protocols and check_split."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_grn

from grnbench.data import splits as sp
from grnbench.errors import SplitLeakError
from grnbench.methods import get
from grnbench.methods.graph import assert_no_leak, training_graph


@pytest.fixture(scope="module")
def data():
    return tiny_grn(seed=1, n_tfs=12, n_genes=120, n_cells=100)


@pytest.mark.parametrize("protocol", ["genelink", "genelink_density", "tf_holdout", "degree_matched"])
def test_protocols_are_clean_and_seeded(data, protocol):
    make = {
        "genelink": lambda s: sp.genelink_split(data, s),
        "genelink_density": lambda s: sp.genelink_split(data, s, mode="density"),
        "tf_holdout": lambda s: sp.tf_holdout_split(data, s),
        "degree_matched": lambda s: sp.degree_matched_split(data, s),
    }[protocol]
    a, b, c = make(0), make(0), make(1)
    summary = sp.check_split(a, data, verbose=False)
    assert summary["train"]["positives"] > 0 and summary["test"]["positives"] > 0
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_genelink_hard_keeps_per_tf_density(data):
    s = sp.genelink_split(data, 0)
    # every labelled pair of a TF with edges is used exactly once (all genes except the TF itself)
    n_tfs_with_edges = data.network["Gene1"].nunique()
    assert len(s) == n_tfs_with_edges * (data.n_genes - 1)
    rate = s.groupby("Part")["Label"].mean()
    assert abs(rate["train"] - rate["test"]) < 0.05


def test_genelink_per_tf_fractions():
    rng = np.random.default_rng(0)
    train, val, test = sp._cut(list(range(100)), rng)
    assert (len(train), len(val), len(test)) == (67, 10, 23)
    one = [sp._cut(["a"], np.random.default_rng(i)) for i in range(50)]
    assert {len(t[0]) for t in one} == {0, 1} and all(len(t[1]) == 0 for t in one)
    t2 = sp._cut(["a", "b"], rng)
    assert (len(t2[0]), len(t2[1]), len(t2[2])) == (1, 0, 1)


def test_tf_holdout_test_tfs_unseen(data):
    s = sp.tf_holdout_split(data, 0)
    tfs = {p: set(s.loc[s.Part == p, "TF"]) for p in sp.PARTS}
    assert not tfs["train"] & tfs["test"] and not tfs["val"] & tfs["test"]


def test_degree_matched_defeats_degree_prior(data):
    from sklearn.metrics import roc_auc_score

    aucs = {}
    for name, s in (("genelink", sp.genelink_split(data, 0)), ("degree_matched", sp.degree_matched_split(data, 0, k=2))):
        test = s[s.Part == "test"]
        score = get("degree_prior")().score_pairs(data, s, test, seed=0)
        aucs[name] = roc_auc_score(test.Label, score)
    s = sp.degree_matched_split(data, 0, k=2)
    test = s[s.Part == "test"]
    # balanced within every TF: k negatives per positive
    per_tf = test.groupby("TF")["Label"].agg(["sum", "count"])
    assert (per_tf["count"] == 3 * per_tf["sum"]).all()
    # within each target-degree bin as well
    indeg = s[(s.Part == "train") & (s.Label == 1)]["Target"].value_counts()
    b = sp.degree_bin(test["Target"].map(indeg).fillna(0).astype(int).to_numpy())
    counts = pd.crosstab(b, test["Label"])
    assert (counts[0] == 2 * counts[1]).all()
    assert abs(aucs["degree_matched"] - 0.5) < 0.1


def test_check_split_catches_genelink_copy_defect(data):
    """GENELink's Non-Specific code let training positives become test negatives; we must catch it."""
    s = sp.genelink_split(data, 0, mode="density")
    pos_train = s[(s.Part == "train") & (s.Label == 1)].head(3).copy()
    pos_train["Label"], pos_train["Part"] = 0, "test"
    bad = pd.concat([s, pos_train], ignore_index=True)
    with pytest.raises(SplitLeakError, match="pair\\(s\\) repeat across parts"):
        sp.check_split(bad, data, verbose=False)
    # a negative that is a positive, without duplication
    s2 = s.copy()
    i = s2.index[(s2.Part == "test") & (s2.Label == 1)][0]
    s2.loc[i, "Label"] = 0
    with pytest.raises(SplitLeakError, match="negatives are ground-truth positives"):
        sp.check_split(s2, data, verbose=False)


def test_training_graph_has_no_held_out_edges(data):
    s = sp.genelink_split(data, 0)
    ei = training_graph(data, s[s.Part == "train"], symmetric=True)
    assert_no_leak(ei, data, s)
    assert ei.shape[1] == 2 * int(s[(s.Part == "train")].Label.sum())
    # a graph built from all positives leaks, and the check says so
    leaky = training_graph(data, s.assign(Part="train"), symmetric=False)
    with pytest.raises(SplitLeakError, match="held-out positive"):
        assert_no_leak(leaky, data, s)
    with pytest.raises(SplitLeakError):
        training_graph(data, s)  # rows of other parts refused


def test_released_split_reader(tmp_path, data):
    genes = data.genes
    pd.DataFrame({"Gene": genes, "index": range(len(genes))}).to_csv(tmp_path / "Target.csv")
    s = sp.genelink_split(data, 0)
    idx = {g: i for i, g in enumerate(genes)}
    for part, fname in (("train", "Train_set.csv"), ("val", "Validation_set.csv"), ("test", "Test_set.csv")):
        p = s[s.Part == part]
        pd.DataFrame({"TF": p.TF.map(idx), "Target": p.Target.map(idx), "Label": p.Label}).to_csv(tmp_path / fname)
    back = sp.read_genelink_split(tmp_path, data, tmp_path / "Target.csv")
    key = ["Part", "TF", "Target"]
    pd.testing.assert_frame_equal(back.sort_values(key).reset_index(drop=True),
                                  s.sort_values(key).reset_index(drop=True), check_dtype=False)
    # a split file referring to an unknown gene index is refused, naming file and row
    bad = pd.read_csv(tmp_path / "Test_set.csv", index_col=0)
    bad.loc[bad.index[0], "TF"] = 99999
    bad.to_csv(tmp_path / "Test_set.csv")
    from grnbench.errors import InputError

    with pytest.raises(InputError, match=r"Test_set.csv \(row 2\).*99999"):
        sp.read_genelink_split(tmp_path, data, tmp_path / "Target.csv")


@pytest.mark.parametrize("geneset", ["tfs500", "tfs1000"])
def test_released_mesc_splits_are_clean_and_degree_prior_is_strong(shared_data, geneset):
    """GENELink's released mESC splits pass check_split; the label-only prior scores high on them."""
    from sklearn.metrics import roc_auc_score

    from grnbench.data.dataset import GRNData, make_adata

    root = shared_data / "genelink" / "specific" / "mESC" / geneset
    genes = pd.read_csv(root / "Target.csv", index_col=0)["Gene"].tolist()
    tfs = pd.read_csv(root / "TF.csv", index_col=0)["TF"].tolist()
    net = pd.read_csv(root / "BL--network.csv")[["Gene1", "Gene2"]]
    expr = pd.DataFrame(np.zeros((2, len(genes))), columns=genes, index=["c1", "c2"])  # labels only
    data = GRNData(make_adata(expr, tfs, net))
    s = sp.read_genelink_split(shared_data / "genelink" / "demo_splits" / "mESC" / geneset, data, root / "Target.csv")
    summary = sp.check_split(s, data, verbose=False)
    assert summary["test"]["positives"] > 1000
    test = s[s.Part == "test"]
    auroc = roc_auc_score(test.Label, get("degree_prior")().score_pairs(data, s, test, seed=0))
    assert auroc > 0.75, auroc


# --- Non-Specific / STRING networks: training sets follow GENELink's density protocol (issue 16) ---
def test_tf_holdout_density_mode_trains_on_one_to_one_negatives(tiny_data):
    from grnbench.data.splits import check_split, tf_holdout_split

    hard = tf_holdout_split(tiny_data, 0, mode="hard")
    dens = tf_holdout_split(tiny_data, 0, mode="density")
    check_split(dens, tiny_data, verbose=False)
    for part in ("train", "val"):
        d = dens[dens.Part == part]
        per_tf = d.groupby("TF")["Label"].agg(["sum", "count"])
        assert ((per_tf["count"] - per_tf["sum"]) == per_tf["sum"]).all()  # as many negatives as positives
        assert d.Label.sum() == hard[hard.Part == part].Label.sum()  # every positive kept
    t_h = hard[hard.Part == "test"].sort_values(["TF", "Target"]).reset_index(drop=True)
    t_d = dens[dens.Part == "test"].sort_values(["TF", "Target"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(t_h, t_d)  # the test pairs do not change
    again = tf_holdout_split(tiny_data, 0, mode="density")
    pd.testing.assert_frame_equal(dens, again)  # seeded


def test_degree_matched_density_base(tiny_data):
    from grnbench.data.splits import check_split, degree_matched_split

    d = degree_matched_split(tiny_data, 0, mode="density")
    check_split(d, tiny_data, verbose=False)
    tr = d[d.Part == "train"]
    assert abs(tr.Label.mean() - 0.5) < 0.05  # 1:1 training negatives
    test = d[d.Part == "test"]
    assert test.Label.sum() == (test.Label == 0).sum()  # k = 1 matched negative per positive


def test_pipeline_uses_density_training_for_nonspecific_networks(tmp_path, tiny_data):
    from grnbench import pipeline as pl
    from grnbench.data.dataset import write_h5ad

    h5 = tmp_path / "d.h5ad"
    write_h5ad(tiny_data.adata, h5)
    for proto in ("tf_holdout", "degree_matched"):
        ns = pl.make_split(h5, tmp_path / f"{proto}_ns.csv", protocol=proto, seed=0, network="nonspecific")
        sp = pl.make_split(h5, tmp_path / f"{proto}_sp.csv", protocol=proto, seed=0, network="specific")
        assert ns["negatives"].startswith("1:1") and sp["negatives"].startswith("every")
        assert ns["train"]["pairs"] < sp["train"]["pairs"]
        forced = pl.make_split(h5, tmp_path / f"{proto}_f.csv", protocol=proto, seed=0, network="nonspecific",
                               params={"mode": "hard"})
        assert forced["train"]["pairs"] == sp["train"]["pairs"]
