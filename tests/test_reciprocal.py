"""The reciprocal-edge shortcut (issue 19): reciprocity-aware splits, label_prior, subgroups,
the stronger-prior headline; and the label-only degree_prior (unseen = 0) and check_split's
one-message report (issue 13, items 4 and 5)."""

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_grn
from sklearn.metrics import roc_auc_score

from grnbench.data import splits as sp
from grnbench.data.dataset import GRNData, make_adata
from grnbench.errors import InputError, SplitLeakError
from grnbench.evaluate import subgroups
from grnbench.evaluate.headline import headline, headline_by_split, stronger_prior
from grnbench.evaluate.summary import normalise_metrics
from grnbench.methods import get

PROTOCOLS = {
    "genelink": lambda d, s, r: sp.genelink_split(d, s, reciprocal=r),
    "genelink_density": lambda d, s, r: sp.genelink_split(d, s, mode="density", reciprocal=r),
    "tf_holdout": lambda d, s, r: sp.tf_holdout_split(d, s, reciprocal=r),
    "degree_matched": lambda d, s, r: sp.degree_matched_split(d, s, reciprocal=r),
}


def reciprocal_grn(seed: int = 0, n_tfs: int = 40, n_genes: int = 200, n_tf_tf: int = 160) -> GRNData:
    """Labels only (random expression): each TF regulates 3-8 non-TF genes, and ``n_tf_tf``
    TF -> TF edges come in reciprocal pairs (about 42% of all edges, as in mDC non-specific)."""
    rng = np.random.default_rng(seed)
    genes = [f"G{i:03d}" for i in range(n_genes)]
    tfs = genes[:n_tfs]
    edges = set()
    for t in range(n_tfs):
        for g in rng.choice(np.arange(n_tfs, n_genes), size=rng.integers(3, 9), replace=False):
            edges.add((tfs[t], genes[g]))
    while sum(b in tfs for _, b in edges) < n_tf_tf:
        a, b = rng.choice(n_tfs, 2, replace=False)
        edges |= {(tfs[a], tfs[b]), (tfs[b], tfs[a])}
    net = pd.DataFrame(sorted(edges), columns=["Gene1", "Gene2"])
    expr = pd.DataFrame(rng.gamma(2.0, 1.0, (30, n_genes)), columns=genes, index=[f"c{i}" for i in range(30)])
    return GRNData(make_adata(expr, tfs, net), name="reciprocal")


@pytest.fixture(scope="module")
def rdata():
    return reciprocal_grn()


def _reverse_auroc(split: pd.DataFrame) -> float:
    test = split[split.Part == "test"]
    return roc_auc_score(test.Label, subgroups.reverse_in_train(split).astype(float))


# --------------------------------------------------------------------------------------------
# the option


def test_reciprocal_fraction_and_resolution(rdata):
    assert sp.reciprocal_fraction(rdata) == pytest.approx(160 / len(rdata.network))
    tiny = tiny_grn(seed=1, n_tfs=12, n_genes=120, n_cells=20)  # no TF -> TF edges
    assert sp.reciprocal_fraction(tiny) == 0.0
    assert sp.resolve_reciprocal("auto", rdata)[0] == "keep_together"
    assert sp.resolve_reciprocal("auto", tiny)[0] == "ignore"
    for v, want in ((True, "keep_together"), ("keep_together", "keep_together"), (False, "ignore"), ("ignore", "ignore")):
        assert sp.resolve_reciprocal(v, tiny)[0] == want
    with pytest.raises(InputError, match="reciprocal"):
        sp.resolve_reciprocal("sometimes", rdata)
    # auto on a network without reciprocal edges is the old split, row for row
    for make in PROTOCOLS.values():
        pd.testing.assert_frame_equal(make(tiny, 0, "auto"), make(tiny, 0, "ignore"))


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_keep_together_defeats_the_reverse_edge(rdata, protocol):
    make = PROTOCOLS[protocol]
    off = make(rdata, 0, "ignore")
    assert off.attrs["reciprocal"] == "ignore"
    assert _reverse_auroc(off) > 0.58  # the shortcut, without the option
    summary = sp.check_split(off, rdata, verbose=False)
    assert summary["reciprocal"]["test_pairs_reverse_train_positive"] > 0
    for seed in (0, 1, 2):
        s = make(rdata, seed, "auto")  # 42% reciprocal: auto keeps them together
        assert s.attrs["reciprocal"] == "keep_together" and s.attrs["reciprocal_requested"] == "auto"
        summary = sp.check_split(s, rdata, verbose=False)
        r = summary["reciprocal"]
        assert r["mode"] == "keep_together" and r["network_fraction"] == pytest.approx(sp.reciprocal_fraction(rdata))
        assert r["test_pairs_reverse_train_positive"] == 0 and r["test_pairs_reverse_in_train_or_val"] == 0
        assert abs(_reverse_auroc(s) - 0.5) <= 0.05
        # a pair and its reverse, when both are rows, share a part
        part = dict(zip(zip(s.TF, s.Target), s.Part))
        assert all(part.get((b, a), p) == p for (a, b), p in part.items())
        pd.testing.assert_frame_equal(s, make(rdata, seed, True))  # seeded


def test_tf_holdout_cross_pairs_go_to_the_held_out_part(rdata):
    plain = sp.tf_holdout_split(rdata, 0, reciprocal="ignore")
    tf_part = plain.drop_duplicates("TF").set_index("TF")["Part"]
    s = sp.tf_holdout_split(rdata, 0, reciprocal="keep_together")
    test_tfs = set(tf_part[tf_part == "test"].index)
    train_tfs = set(tf_part[tf_part == "train"].index)
    cross = s[(s.TF.isin(train_tfs) & s.Target.isin(test_tfs)) | (s.TF.isin(test_tfs) & s.Target.isin(train_tfs))]
    assert len(cross) and (cross.Part == "test").all()
    assert (s[s.TF.isin(test_tfs)].Part == "test").all()  # test TFs still never in training
    seen = s[s.Part != "test"]
    assert not (seen.TF.isin(test_tfs) | seen.Target.isin(test_tfs)).any()  # no training pair names a test TF


def test_degree_matched_negatives_match_the_reverse_bit(rdata):
    s = sp.degree_matched_split(rdata, 0, k=1, reciprocal="keep_together")
    test = s[s.Part == "test"]
    per_tf = test.groupby("TF")["Label"].agg(["sum", "count"])
    assert (per_tf["count"] == 2 * per_tf["sum"]).all()
    bit = subgroups.reverse_in_train(s)
    assert pd.crosstab(bit, test["Label"].to_numpy()).pipe(lambda c: (c[0] == c[1]).all())


def test_released_split_records_not_applicable(tmp_path, rdata):
    genes = rdata.genes
    pd.DataFrame({"Gene": genes, "index": range(len(genes))}).to_csv(tmp_path / "Target.csv")
    s = sp.genelink_split(rdata, 0, reciprocal="ignore")
    idx = {g: i for i, g in enumerate(genes)}
    for part, name in sp.RELEASED_FILES.items():
        p = s[s.Part == part]
        pd.DataFrame({"TF": p.TF.map(idx), "Target": p.Target.map(idx), "Label": p.Label}).to_csv(tmp_path / name)
    back = sp.read_genelink_split(tmp_path, rdata, tmp_path / "Target.csv")
    r = sp.check_split(back, rdata, verbose=False)["reciprocal"]
    assert r["mode"] == "not_applicable" and r["test_pairs_reverse_train_positive"] > 0


# --------------------------------------------------------------------------------------------
# check_split and the released-split reader (issue 13, item 5)


def test_check_split_reports_every_problem_at_once(rdata):
    s = sp.genelink_split(rdata, 0, reciprocal="ignore")
    train_pos = s[(s.Part == "train") & (s.Label == 1)]
    within = train_pos.head(1)                                     # same pair twice in train
    across = train_pos.iloc[1:3].assign(Part="test", Label=0)      # in train and test
    bad = pd.concat([s, within, across], ignore_index=True)
    i = bad.index[(bad.Part == "test") & (bad.Label == 1)][0]
    bad.loc[i, "Label"] = 0                                        # negative that is a positive
    j = bad.index[(bad.Part == "val") & (bad.Label == 0)][0]
    bad.loc[j, "Label"] = 1                                        # positive not in the network
    with pytest.raises(SplitLeakError) as e:
        sp.check_split(bad, rdata, verbose=False)
    msg = str(e.value)
    for part in ("repeat within one part", "repeat across parts", "negatives are ground-truth positives",
                 "positives are not in the network"):
        assert part in msg, (part, msg)
    assert msg.startswith("4 problem(s)")
    empty = s[s.Part != "test"].copy()
    empty.loc[empty.Part == "train", "Label"] = 0  # and now labels disagree with the network too
    with pytest.raises(SplitLeakError) as e:
        sp.check_split(empty, rdata, verbose=False)
    msg = str(e.value)
    assert "part 'train' has no positive pairs" in msg and "part 'test' has no pairs" in msg
    assert "negatives are ground-truth positives" in msg


def test_check_split_refuses_a_broken_keep_together(rdata):
    s = sp.genelink_split(rdata, 0, reciprocal="keep_together")
    a = s[(s.Part == "test") & s.Target.isin(rdata.tfs)].iloc[0]
    k = s.index[(s.TF == a.Target) & (s.Target == a.TF)][0]
    s.loc[k, "Part"] = "train"
    with pytest.raises(SplitLeakError, match="reverse in train or val"):
        sp.check_split(s, rdata, verbose=False)


def test_released_split_without_target_file_names_it(tmp_path, rdata):
    with pytest.raises(InputError, match="Target.csv"):
        sp.read_genelink_split(tmp_path, rdata, tmp_path / "Target.csv")


# --------------------------------------------------------------------------------------------
# the label-only priors


def test_degree_prior_unseen_gene_scores_zero():
    """A TF or target absent from training has rate 0 (was: the overall training rate)."""
    train = pd.DataFrame({"TF": ["A", "A", "B", "B"], "Target": ["x", "y", "x", "z"], "Label": [1, 0, 1, 1]})
    m = get("degree_prior")().fit(None, train, train.iloc[:0], seed=0)
    pairs = pd.DataFrame({"TF": ["C", "C", "A"], "Target": ["w", "x", "w"]})
    np.testing.assert_allclose(m.predict(None, pairs), [0.0, 1.0, 0.5])


def test_label_prior_reads_the_reverse_edge(rdata):
    s = sp.genelink_split(rdata, 0, reciprocal="ignore")
    test = s[s.Part == "test"]
    lp = get("label_prior")()
    auc_lp = roc_auc_score(test.Label, lp.score_pairs(rdata, s, test, seed=0))
    auc_dp = roc_auc_score(test.Label, get("degree_prior")().score_pairs(rdata, s, test, seed=0))
    assert auc_lp > auc_dp + 0.03 and lp.labels["label_prior_coef"]["reverse_train_positive"] > 0
    # it never reads validation or test labels
    shuffled = s.copy()
    held = shuffled.Part != "train"
    shuffled.loc[held, "Label"] = np.random.default_rng(0).permutation(shuffled.loc[held, "Label"].to_numpy())
    np.testing.assert_allclose(get("label_prior")().score_pairs(rdata, shuffled, test, seed=0),
                               get("label_prior")().score_pairs(rdata, s, test, seed=0))
    # with the pairs kept together it adds nothing to the degree prior on test
    s2 = sp.genelink_split(rdata, 0, reciprocal="keep_together")
    t2 = s2[s2.Part == "test"]
    assert roc_auc_score(t2.Label, get("label_prior")().score_pairs(rdata, s2, t2, seed=0)) == pytest.approx(
        roc_auc_score(t2.Label, get("degree_prior")().score_pairs(rdata, s2, t2, seed=0)))


def test_label_prior_constant_bit_and_single_label():
    data = tiny_grn(seed=1, n_tfs=12, n_genes=120, n_cells=20)  # no reverse edges: the bit is 0 throughout
    s = sp.genelink_split(data, 0)
    test = s[s.Part == "test"]
    lp = get("label_prior")()
    a = lp.score_pairs(data, s, test, seed=0)
    b = get("degree_prior")().score_pairs(data, s, test, seed=0)
    assert roc_auc_score(test.Label, a) == pytest.approx(roc_auc_score(test.Label, b))
    np.testing.assert_allclose(a, get("label_prior")().score_pairs(data, s, test, seed=0))  # deterministic
    one = s.assign(Label=np.where(s.Part == "train", 1, s.Label))
    lp1 = get("label_prior")()
    assert np.isfinite(lp1.score_pairs(data, one, test, seed=0)).all()
    assert "label_prior_fallback" in lp1.labels


# --------------------------------------------------------------------------------------------
# subgroups


def test_reverse_subgroups(rdata):
    s = sp.genelink_split(rdata, 0, reciprocal="ignore")
    test = s[s.Part == "test"]
    g = subgroups.reverse_subgroups(s)
    assert set(g) == {"reverse_in_train", "reverse_not_in_train"}
    assert (g["reverse_in_train"] ^ g["reverse_not_in_train"]).all() and len(g["reverse_in_train"]) == len(test)
    train_pos = set(zip(*s[(s.Part == "train") & (s.Label == 1)][["TF", "Target"]].to_numpy().T))
    want = [(b, a) in train_pos for a, b in zip(test.TF, test.Target)]
    assert g["reverse_in_train"].tolist() == want and any(want)
    assert set(subgroups.subgroup_scopes(s)) == {"test:reverse_in_train", "test:reverse_not_in_train"}
    kt = sp.genelink_split(rdata, 0, reciprocal="keep_together")
    assert not subgroups.reverse_subgroups(kt)["reverse_in_train"].any()


# --------------------------------------------------------------------------------------------
# headline: the stronger label-only prior per cell


def _metrics(*specs, split="genelink"):
    rows = [{"dataset": "d", "network": "n", "geneset": "g", "split": split, "method": m, "seed": s,
             "scope": "test", "kind": "supervised", "auroc": a, "auprc": a / 2,
             "status": "ok" if np.isfinite(a) else "failed"} for m, s, a in specs]
    return normalise_metrics(pd.DataFrame(rows))


def test_headline_uses_the_stronger_prior_seed_by_seed():
    m = pd.concat([
        _metrics(("degree_prior", 0, 0.70), ("degree_prior", 1, 0.70), ("label_prior", 0, 0.75),
                 ("label_prior", 1, 0.73), ("x", 0, 0.80), ("x", 1, 0.80)),
        _metrics(("degree_prior", 0, 0.60), ("label_prior", 0, 0.55), ("x", 0, 0.65), split="tf_holdout"),
        _metrics(("degree_prior", 0, 0.50), ("x", 0, 0.52), split="degree_matched"),  # only degree_prior
    ])
    best = stronger_prior(m).set_index("split")["prior"]
    assert best.to_dict() == {"genelink": "label_prior", "tf_holdout": "degree_prior", "degree_matched": "degree_prior"}
    h = headline(m).set_index(["split", "method"])
    assert set(h.index.get_level_values("method")) == {"x"}  # the priors are references, not rows
    x = h.loc[("genelink", "x")]
    assert x["prior"] == "label_prior" and x["delta_auroc_mean"] == pytest.approx(0.06)  # 0.05, 0.07
    assert x["delta_auroc_sd"] == pytest.approx(np.std([0.05, 0.07], ddof=1))
    assert h.loc[("tf_holdout", "x"), "prior"] == "degree_prior"
    assert h.loc[("tf_holdout", "x"), "delta_auroc_mean"] == pytest.approx(0.05)
    assert h.loc[("degree_matched", "x"), "delta_auroc_mean"] == pytest.approx(0.02)
    b = headline_by_split(m).set_index(["split", "method"])
    assert b.loc[("genelink", "x"), "prior"] == "label_prior" and b.loc[("genelink", "x"), "n_runs"] == 2
    two = pd.concat([m, _metrics(("degree_prior", 0, 0.5), ("label_prior", 0, 0.6), ("x", 0, 0.7)).assign(dataset="e")])
    assert headline_by_split(two).set_index(["split", "method"]).loc[("genelink", "x"), "prior"] == "label_prior"
    assert headline(m, prior="degree_prior").set_index(["split", "method"]).loc[
        ("genelink", "x"), "delta_auroc_mean"] == pytest.approx(0.10)  # one named prior still works


# --------------------------------------------------------------------------------------------
# the measured shortcut on mDC TFs+500 (../shared)


def _mdc(shared_data, network):
    from grnbench.data.readers import read_genelink_folder

    return read_genelink_folder(shared_data / "genelink" / network / "mDC" / "tfs500", name="mDC")


def test_mdc_nonspecific_reverse_shortcut_before_and_after(shared_data):
    data = _mdc(shared_data, "nonspecific")
    assert sp.reciprocal_fraction(data) == pytest.approx(1296 / 3067)
    make = {
        "genelink": lambda r: sp.genelink_split(data, 0, mode="density", reciprocal=r),
        "tf_holdout": lambda r: sp.tf_holdout_split(data, 0, reciprocal=r),
        "degree_matched": lambda r: sp.degree_matched_split(data, 0, reciprocal=r),
    }
    issue = {"genelink": 0.606, "tf_holdout": 0.626, "degree_matched": 0.627}  # issue 19, seed 0
    s = make["genelink"]("ignore")
    test = s[s.Part == "test"]
    dp = roc_auc_score(test.Label, get("degree_prior")().score_pairs(data, s, test, seed=0))
    assert dp == pytest.approx(0.738, abs=0.001)  # unseen = 0; the training-rate fallback gave 0.713
    for name, f in make.items():
        assert _reverse_auroc(f("ignore")) == pytest.approx(issue[name], abs=0.001), name
        s = f("auto")
        assert sp.check_split(s, data, verbose=False)["reciprocal"]["mode"] == "keep_together"
        assert abs(_reverse_auroc(s) - 0.5) <= 0.05, name


def test_mdc_specific_auto_leaves_the_split_alone(shared_data):
    data = _mdc(shared_data, "specific")
    assert sp.reciprocal_fraction(data) < sp.RECIPROCAL_AUTO  # 4 of 756 edges
    s = sp.tf_holdout_split(data, 0)
    assert s.attrs["reciprocal"] == "ignore"
    test = s[s.Part == "test"]
    auc = roc_auc_score(test.Label, get("degree_prior")().score_pairs(data, s, test, seed=0))
    assert auc == pytest.approx(0.567, abs=0.001)  # the degree prior does not fall to 0.5 here
