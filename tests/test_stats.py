"""Statistics beyond BEELINE (issue 14, item 5): bootstrap, DeLong, Holm, Friedman / Nemenyi,
and the ``bootstrap_ci`` / ``significance`` / ``average_ranks`` tables.

Referees, not our own earlier output: scikit-learn's ``roc_auc_score`` and
``average_precision_score`` with ``sample_weight`` (every bootstrap resample), a brute-force
DeLong (the Mann-Whitney kernel over every positive-negative pair, DeLong et al. 1988 eqs.),
statsmodels' Holm, scipy's ``friedmanchisquare``, Demsar (2006)'s Table 5a and worked example.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as ss
from sklearn.metrics import average_precision_score, roc_auc_score

from grnbench.evaluate import stats as st
from grnbench.evaluate.summary import CELL_KEYS, normalise_metrics, summarise


def _data(rng, n=200, effect=1.0, rate=0.2, digits=None):
    y = rng.random(n) < rate
    s = rng.normal(size=n) + effect * y
    return y, (np.round(s, digits) if digits is not None else s)


@pytest.mark.parametrize("digits", [None, 1, 0])
def test_weighted_metrics_equal_sklearn_on_every_resample(digits):
    rng = np.random.default_rng(1)
    y, s = _data(rng, 150, digits=digits)
    w = st.stratified_weights(y, 30, rng=2)
    a, p = st.weighted_auroc(y, s, w), st.weighted_average_precision(y, s, w)
    np.testing.assert_allclose(a, [roc_auc_score(y, s, sample_weight=r) for r in w], atol=1e-12)
    np.testing.assert_allclose(p, [average_precision_score(y, s, sample_weight=r) for r in w], atol=1e-12)
    assert st.auroc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_stratified_weights_keep_the_classes_and_are_seeded():
    y = np.r_[np.ones(7, bool), np.zeros(40, bool)]
    w = st.stratified_weights(y, 50, rng=3)
    assert (w[:, y].sum(axis=1) == 7).all() and (w[:, ~y].sum(axis=1) == 40).all()
    np.testing.assert_array_equal(w, st.stratified_weights(y, 50, rng=3))
    assert not np.array_equal(w, st.stratified_weights(y, 50, rng=4))


def brute_delong(y, a, b):
    """DeLong et al. (1988) with explicit loops over every positive-negative pair."""
    y = np.asarray(y, bool)
    psi = lambda x, z: 1.0 if x > z else (0.5 if x == z else 0.0)  # noqa: E731
    comps = []
    for s in (a, b):
        x, z = s[y], s[~y]
        v10 = np.array([np.mean([psi(xi, zj) for zj in z]) for xi in x])
        v01 = np.array([np.mean([psi(xi, zj) for xi in x]) for zj in z])
        comps.append((v10.mean(), v10, v01))
    (ta, v10a, v01a), (tb, v10b, v01b) = comps
    s10 = np.cov(np.vstack([v10a, v10b]))
    s01 = np.cov(np.vstack([v01a, v01b]))
    S = s10 / len(v10a) + s01 / len(v01a)
    var = S[0, 0] + S[1, 1] - 2 * S[0, 1]
    z = (ta - tb) / np.sqrt(var)
    return ta, tb, var, 2 * ss.norm.sf(abs(z))


def test_delong_equals_brute_force():
    rng = np.random.default_rng(7)
    for trial in range(5):
        y, a = _data(rng, 60, effect=1.0, digits=1)
        b = np.round(a * 0.5 + rng.normal(size=60), 1)
        got = st.delong_test(y, a, b)
        ta, tb, var, p = brute_delong(y, a, b)
        assert got["auroc_a"] == pytest.approx(ta, abs=1e-12) and got["auroc_b"] == pytest.approx(tb, abs=1e-12)
        assert got["var"] == pytest.approx(var, rel=1e-10) and got["p"] == pytest.approx(p, rel=1e-8), trial


def test_paired_bootstrap_agrees_with_delong_large_effect_and_null():
    rng = np.random.default_rng(11)
    y, a = _data(rng, 400, effect=2.0)
    b = rng.normal(size=400)  # no signal
    boot = st.paired_bootstrap(y, a, b, n_boot=2000, seed=0)
    dl = st.delong_test(y, a, b)
    assert boot["delta_auroc"] == pytest.approx(dl["delta"], abs=1e-12)
    assert boot["p_auroc"] < 1e-10 and dl["p"] < 1e-10
    assert boot["delta_auroc_ci_lo"] > 0.2
    # a moderate effect: the two p-values agree on the log scale
    y, a = _data(rng, 400, effect=0.6)
    b = a + rng.normal(scale=1.5, size=400)
    pb, pd_ = st.paired_bootstrap(y, a, b, n_boot=4000, seed=1)["p_auroc"], st.delong_test(y, a, b)["p"]
    assert abs(np.log10(pb) - np.log10(pd_)) < 0.35, (pb, pd_)
    # null: two rankings equally good -> p roughly uniform, both tests
    pb, pdl = [], []
    for i in range(200):
        y, a = _data(rng, 120, effect=0.8)
        b = y * 0.8 + rng.normal(size=120)
        pb.append(st.paired_bootstrap(y, a, b, n_boot=300, seed=i)["p_auroc"])
        pdl.append(st.delong_test(y, a, b)["p"])
    for p in (np.array(pb), np.array(pdl)):
        assert 0.01 <= (p < 0.05).mean() <= 0.11
        assert ss.kstest(p, "uniform").pvalue > 0.01


def test_bootstrap_ci_covers_and_is_deterministic():
    rng = np.random.default_rng(3)
    y, s = _data(rng, 300)
    ci = st.bootstrap_ci(y, s, seed=5)
    assert ci["auroc"] == pytest.approx(roc_auc_score(y, s))
    assert ci["auprc"] == pytest.approx(average_precision_score(y, s))
    assert ci["auroc_ci_lo"] < ci["auroc"] < ci["auroc_ci_hi"]
    assert ci["auprc_ci_lo"] < ci["auprc"] < ci["auprc_ci_hi"]
    assert ci == st.bootstrap_ci(y, s, seed=5)


def test_holm_equals_statsmodels():
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5, np.nan, 0.02])
    got = st.holm(p)
    ok = np.isfinite(p)
    np.testing.assert_allclose(got[ok], multipletests(p[ok], method="holm")[1], atol=1e-15)
    assert np.isnan(got[~ok]).all()
    assert np.isnan(st.holm([np.nan])).all()


def test_nemenyi_and_friedman_equal_demsar_2006():
    # Table 5a (alpha = 0.05), k = 2..10
    table = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
    # printed to 3 decimals (2.343 for 2.3437, 2.949 for 2.9483): agree within 1e-3
    np.testing.assert_allclose([st.nemenyi_q(k) for k in range(2, 11)], table, atol=1e-3)
    # section 3.2.2: four classifiers on 14 data sets
    f = st.friedman([3.143, 2.000, 2.893, 1.964], 14)
    assert f["chi2"] == pytest.approx(9.28, abs=0.01) and f["F"] == pytest.approx(3.69, abs=0.01)
    assert st.nemenyi_cd(4, 14) == pytest.approx(1.25, abs=0.005)
    # against scipy on rank data without ties
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 5)) + np.arange(5) * 0.4
    r = ss.rankdata(-x, axis=1)
    ref = ss.friedmanchisquare(*x.T)
    got = st.friedman(r.mean(axis=0), 12)
    assert got["chi2"] == pytest.approx(ref.statistic) and got["p_chi2"] == pytest.approx(ref.pvalue)


def test_cliques_of_a_cd_diagram():
    names = ["a", "b", "c", "d"]
    assert st.cliques(names, [1.0, 1.5, 2.9, 3.2], cd=1.0) == [["a", "b"], ["c", "d"]]
    assert st.cliques(names, [1.0, 1.5, 1.9, 3.2], cd=1.0) == [["a", "b", "c"]]
    assert st.cliques(names, [1.0, 2.5, 4.0, 5.5], cd=1.0) == []


# --------------------------------------------------------------------------------------------
# tables on a results folder


def _cell(root, effects, seeds=(0, 1), n_pairs=300, rate=0.2, cell=("ds", "net", "gs", "sp"), data_seed=0):
    """A cell whose methods score the test pairs with label signal ``effects[method]``."""
    rows = []
    d = root.joinpath(*cell)
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(data_seed)
    for seed in seeds:
        pairs = pd.DataFrame({"TF": [f"T{i % 10}" for i in range(n_pairs)],
                              "Target": [f"G{i}" for i in range(n_pairs)]})
        pairs["Label"] = (rng.random(n_pairs) < rate).astype(int)
        pairs["Part"] = "test"
        pairs.to_csv(d / f"split_seed{seed}.csv", index=False)
        for m, eff in effects.items():
            w = eff * pairs["Label"] + rng.normal(size=n_pairs)
            jd = d / m / f"seed{seed}"
            jd.mkdir(parents=True, exist_ok=True)
            pd.DataFrame({"Gene1": pairs.TF, "Gene2": pairs.Target, "EdgeWeight": w}).to_csv(jd / "edges.csv", index=False)
            rows.append(dict(zip(CELL_KEYS, cell), method=m, seed=seed, scope="test", status="ok",
                             kind="supervised", auroc=roc_auc_score(pairs.Label, w),
                             auprc=average_precision_score(pairs.Label, w)))
    return rows


def test_significance_verdicts_holm_and_agreement_with_metrics(tmp_path):
    effects = {"degree_prior": 0.5, "strong": 2.0, "same": 0.5, "worse": -0.5}
    m = normalise_metrics(pd.DataFrame(_cell(tmp_path, effects)))
    ci, sig = st.bootstrap_tables(m, tmp_path, n_boot=500)
    c = ci.set_index("method")
    assert (c["status"] == "ok").all() and (c["n_seeds"] == 2).all()
    means = m.groupby("method")[["auroc", "auprc"]].mean()
    np.testing.assert_allclose(c.loc[means.index, "auroc"], means["auroc"], atol=1e-12)
    np.testing.assert_allclose(c.loc[means.index, "auprc"], means["auprc"], atol=1e-12)
    assert (c["auroc_ci_lo"] < c["auroc"]).all() and (c["auroc"] < c["auroc_ci_hi"]).all()
    pr = sig[sig.comparison == "prior"].set_index("method")
    assert set(pr.reference) == {"degree_prior"}
    assert pr.loc["strong", "verdict"] == st.BEATS
    assert pr.loc["same", "verdict"] == st.NOT_BEATS
    assert pr.loc["worse", "verdict"] == st.NOT_BEATS  # significant, but the wrong way
    assert pr.loc["worse", "p_auroc_holm"] < 0.05 and pr.loc["worse", "delta_auroc"] < 0
    assert (pr["p_auroc_holm"] >= pr["p_auroc"] - 1e-15).all()
    np.testing.assert_allclose(np.sort(pr["p_auroc_holm"].to_numpy()),
                               np.sort(st.holm(pr["p_auroc"].to_numpy())))
    # bootstrap p and DeLong agree where the effect is moderate
    assert abs(np.log10(pr.loc["same", "p_auroc"]) - np.log10(pr.loc["same", "p_auroc_delong"])) < 0.5
    best = sig[sig.comparison == "best"].set_index("method")
    assert set(best.reference) == {"strong"} and "strong" not in best.index
    assert best.loc["worse", "verdict"] == st.BELOW_BEST
    # deterministic; another bootstrap seed moves the intervals only a little
    _, sig2 = st.bootstrap_tables(m, tmp_path, n_boot=500)
    pd.testing.assert_frame_equal(sig, sig2)
    _, sig3 = st.bootstrap_tables(m, tmp_path, n_boot=500, seed=1)
    assert not np.array_equal(sig["delta_auroc_ci_lo"], sig3["delta_auroc_ci_lo"])
    np.testing.assert_allclose(sig["delta_auroc_ci_lo"], sig3["delta_auroc_ci_lo"], atol=0.03)


def test_significance_pairs_seeds_and_reports_failures(tmp_path):
    effects = {"degree_prior": 0.5, "a": 1.5}
    rows = _cell(tmp_path, effects, seeds=(0, 1, 2))
    rows = [r for r in rows if not (r["method"] == "degree_prior" and r["seed"] == 2)]  # prior lacks seed 2
    rows.append(dict(zip(CELL_KEYS, ("ds", "net", "gs", "sp")), method="broken", seed=0, scope="test",
                     status="failed", kind="supervised", auroc=np.nan, auprc=np.nan))
    m = normalise_metrics(pd.DataFrame(rows))
    ci, sig = st.bootstrap_tables(m, tmp_path, n_boot=200)
    c = ci.set_index("method")
    assert c.loc["broken", "status"] == "failed" and c.loc["a", "n_seeds"] == 3
    r = sig[(sig.method == "a") & (sig.comparison == "prior")].iloc[0]
    assert r["n_seeds"] == 2  # only the seeds both have
    both = m[(m.seed < 2) & (m.status == "ok")].groupby("method")["auroc"].mean()
    assert r["delta_auroc"] == pytest.approx(both["a"] - both["degree_prior"], abs=1e-12)


def test_average_ranks_table():
    rows = []
    for i, order in enumerate([("a", "b", "c"), ("a", "c", "b"), ("b", "a", "c"), ("a", "b", "c")]):
        for rank, meth in enumerate(order):
            rows.append({"dataset": f"d{i}", "network": "n", "geneset": "g", "split": "s", "method": meth,
                         "seed": 0, "scope": "test", "status": "ok", "auroc": 0.9 - 0.1 * rank})
    rows.append({"dataset": "d0", "network": "n", "geneset": "g", "split": "s", "method": "only_here",
                 "seed": 0, "scope": "test", "status": "ok", "auroc": 0.99})
    s = summarise(normalise_metrics(pd.DataFrame(rows)))
    r = st.average_ranks(s).set_index("method")
    assert "only_here" not in r.index  # not run in every cell
    assert r.loc["a", "mean_rank"] == pytest.approx(1.25) and r.loc["b", "mean_rank"] == pytest.approx(2.0)
    assert r.loc["c", "mean_rank"] == pytest.approx(2.75)
    assert r["cd"].iloc[0] == pytest.approx(st.nemenyi_q(3) * np.sqrt(3 * 4 / (6 * 4)))
    ref = st.friedman([1.25, 2.0, 2.75], 4)
    assert r["friedman_chi2"].iloc[0] == pytest.approx(ref["chi2"])
    assert r.loc["a", "position"] == 1 and bool(r.loc["b", "within_cd_of_best"])


def test_aggregate_writes_the_statistics_tables_and_figures(tmp_path):
    from grnbench.evaluate.report import aggregate

    root = tmp_path / "results"
    rows = _cell(root, {"degree_prior": 0.5, "strong": 2.0, "same": 0.5})
    rows += _cell(root, {"degree_prior": 0.5, "strong": 1.8, "same": 0.6}, cell=("ds2", "net", "gs", "sp"), data_seed=1)
    (root / "tables").mkdir()
    pd.DataFrame(rows).to_csv(root / "tables" / "metrics.tsv", sep="\t", index=False)
    aggregate(root / "tables" / "metrics.tsv", root, root / "tables", root / "figures", None)
    sig = pd.read_csv(root / "tables" / "significance.tsv", sep="\t")
    strong = sig[(sig.method == "strong") & (sig.comparison == "prior")]
    assert len(strong) == 2 and (strong.verdict == st.BEATS).all()
    md = (root / "tables" / "significance.md").read_text()
    assert st.BEATS in md and "e-" in md  # p-values in two significant digits, not 0.000
    ranks = pd.read_csv(root / "tables" / "average_ranks.tsv", sep="\t")
    assert list(ranks.method[:1]) == ["strong"] and (ranks.n == 2).all()
    for stem in ("critical_difference", "significance_ci"):
        assert (root / "figures" / f"{stem}.png").stat().st_size > 5000
