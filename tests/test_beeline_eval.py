"""BEELINE v1.1's other BLEval evaluators (issue 14, item 3): signed EPR, Jaccard / Spearman
stability, Borda, motifs; and the tables the aggregate stage builds from them.

Referees, not our own earlier output: (1) the values BEELINE's own evaluator classes
(``SignedEarlyPrecision``, ``Jaccard``, ``Spearman``, ``Motifs``, ``Borda`` at commit 37464085)
wrote for GSD runs, measured with ``benchmarks/faithfulness/bleval_extra_referee.py`` (137
values, bit-identical) and pinned here; (2) plain re-statements of BLEval's loops (networkx
cycles and its feed-forward loop, its Borda loop), written here independently of
``grnbench.evaluate.beeline_eval``, on hostile files.
"""

from __future__ import annotations

from itertools import combinations, permutations

import numpy as np
import pandas as pd
import pytest

from grnbench.evaluate import beeline_eval as be

# --------------------------------------------------------------------------------------------
# the referee's GSD runs (same construction as bleval_extra_referee.py)


def _corr(x):
    z = x - x.mean(axis=1, keepdims=True)
    z = z / np.sqrt(np.einsum("ik,ik->i", z, z))[:, None]
    return np.einsum("ik,jk->ij", z, z)


def _pairs(c, g):
    return pd.DataFrame([(g[i], g[j], c[i, j]) for i in range(len(g)) for j in range(len(g)) if i != j],
                        columns=["Gene1", "Gene2", "EdgeWeight"])


def _run(x: pd.DataFrame, run: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(run)
    cells = np.sort(rng.choice(x.shape[1], size=int(0.7 * x.shape[1]), replace=False))
    xs = x.to_numpy()[:, cells]
    g = list(x.index)
    pcc = _pairs(_corr(xs), g)
    ranks = np.argsort(np.argsort(xs, axis=1), axis=1).astype(float)
    r2 = np.random.default_rng(100 + run)
    return {
        "pcc": pcc,
        "scc": _pairs(_corr(ranks), g),
        "pcc_ties": pcc.assign(EdgeWeight=np.round(pcc.EdgeWeight, 1)),
        "pcc_missing": pcc.sample(150, random_state=run),
        "pcc_dupes_signed": pd.concat([pcc, pcc.assign(EdgeWeight=-2 * pcc.EdgeWeight).iloc[:40]]),
        "pcc_outside": pd.concat([pcc, pd.DataFrame({"Gene1": ["XX", "SOX9"], "Gene2": ["SOX9", "SOX9"],
                                                     "EdgeWeight": [9.0, 9.0]})]),
        "pcc_zeros": pcc.assign(EdgeWeight=np.where(r2.random(len(pcc)) < 0.7, 0.0, pcc.EdgeWeight)),
    }


@pytest.fixture(scope="module")
def gsd(shared_data, tmp_path_factory):
    d = shared_data / "beeline_example" / "GSD"
    gt = pd.read_csv(d / "GroundTruthNetwork.csv")
    x = pd.read_csv(d / "ex1" / "ExpressionData.csv", index_col=0)
    # through a tab-separated file, as BLEval reads rankedEdges.csv
    tmp = tmp_path_factory.mktemp("gsd")
    runs = []
    for i in range(3):
        back = {}
        for a, e in _run(x, i).items():
            e.to_csv(tmp / "e.tsv", sep="\t", index=False)
            back[a] = pd.read_csv(tmp / "e.tsv", sep="\t")
        runs.append(back)
    return gt, runs


def test_signed_epr_and_motifs_equal_bleval_on_gsd(gsd):
    gt, runs = gsd
    act, inh = be.signed_early_precision(runs[0]["pcc"], gt)
    assert act == pytest.approx(2.8488129945855896, abs=1e-12) and inh == 0.0
    act, inh = be.signed_early_precision(runs[0]["scc"], gt)
    assert act == pytest.approx(2.652244897959184, abs=1e-12)
    assert inh == pytest.approx(0.9047619047619048, abs=1e-12)
    m = be.motif_ratios(runs[0]["pcc"], gt)
    assert m == pytest.approx({"fbl_ratio": 94 / 30, "ffl_ratio": 282 / 111, "mi_ratio": 38 / 18})
    assert be.motif_counts(set(zip(gt.Gene1, gt.Gene2))) == (30, 111, 18)  # GSD's own motifs
    assert be.motif_ratios(runs[0]["scc"], gt)["fbl_ratio"] == pytest.approx(2.6)
    assert be.signed_early_precision(runs[2]["pcc_zeros"], gt)[1] == pytest.approx(2.34568, abs=5e-6)


def test_jaccard_spearman_borda_equal_bleval_on_gsd(gsd):
    gt, runs = gsd
    k = int((gt.Gene1 != gt.Gene2).sum())
    genes = set(gt.Gene1) | set(gt.Gene2)
    pcc = [r["pcc"] for r in runs]
    assert be.jaccard_median_mad([be.top_k_edges(e, k) for e in pcc]) == pytest.approx((41 / 43, 0.0))
    assert be.spearman_median_mad(pcc, genes) == pytest.approx((0.9995128038975688, 0.00016746532694404218), abs=1e-12)
    scc = [r["scc"] for r in runs]
    assert be.jaccard_median_mad([be.top_k_edges(e, k) for e in scc]) == pytest.approx(
        (0.9090909090909091, 0.019732205778717444), abs=1e-12)
    b = be.borda_runs(runs).reset_index(drop=True)
    assert len(b) == 343  # 342 pairs + XX->SOX9 (self-loops dropped)
    top = b.head(3)
    assert list(zip(top.Gene1, top.Gene2)) == [("AMH", "FGF9"), ("DHH", "PGD2"), ("PGD2", "FGF9")]
    np.testing.assert_allclose(top.BORDA, [1.0, 0.972114, 0.958904], atol=5e-7)
    np.testing.assert_allclose(top.mBORDA, [0.982301, 0.985251, 0.994100], atol=5e-7)
    np.testing.assert_allclose(top.sBORDA, [0.986928, 0.758170, 0.679739], atol=5e-7)


# --------------------------------------------------------------------------------------------
# plain re-statements of BLEval's loops


def bleval_signed_loops(edges, gt):
    act = {(a, b) for a, b, t in zip(gt.Gene1, gt.Gene2, gt.Type) if t == "+"}
    inh = {(a, b) for a, b, t in zip(gt.Gene1, gt.Gene2, gt.Type) if t == "-"}
    n = len({g for e in act | inh for g in e})
    rows = [(a, b, abs(w)) for a, b, w in zip(edges.Gene1, edges.Gene2, edges.EdgeWeight) if a != b]

    def ep(true, opp):
        k = sum(1 for a, b in true if a != b)
        cand = sorted((r for r in rows if (r[0], r[1]) not in opp), key=lambda r: -r[2])
        if k == 0 or not cand:
            return float("nan")
        kth = cand[min(k, len(cand)) - 1][2]
        nz = [r[2] for r in cand if r[2] > 0]
        cut = max(min(nz) if nz else 0.0, kth)
        sel = [r for r in cand if r[2] >= cut]
        return (sum((r[0], r[1]) in true for r in sel) / len(sel)) / (k / (n * (n - 1)))

    return ep(act, inh), ep(inh, act)


def nx_motifs(edges):
    nx = pytest.importorskip("networkx")
    g = nx.DiGraph()
    g.add_edges_from((a, b) for a, b in edges if a != b)
    fbl = sum(1 for c in nx.simple_cycles(g, length_bound=3) if len(c) == 3)
    ffl = sum(1 for a in g for b in g.successors(a) for c in g.successors(b)
              if c in set(g.successors(a)) and c not in (a, b))
    mi = sum(1 for a, b in g.edges() if g.has_edge(b, a)) // 2
    return fbl, ffl, mi


def bleval_borda_loop(ranked):
    edges = sorted({(a, b) for df in ranked.values() for a, b in zip(df.Gene1, df.Gene2) if a != b})
    n = len(edges)
    cols = []
    for df in ranked.values():
        nl = df[df.Gene1 != df.Gene2].sort_values("EdgeWeight", ascending=False).reset_index(drop=True)
        sc = {e: n - len(nl) for e in edges}
        for i, (a, b) in enumerate(zip(nl.Gene1, nl.Gene2)):
            sc[(a, b)] = n - i
        cols.append([sc[e] for e in edges])
    return edges, np.array(cols, float).T


@pytest.fixture
def hostile():
    rng = np.random.default_rng(5)
    genes = [f"g{i}" for i in range(9)]
    types = rng.choice(["+", "-", "?"], size=30, p=[0.6, 0.3, 0.1])
    pairs = [p for p in permutations(genes, 2)]
    idx = rng.choice(len(pairs), size=30, replace=False)
    gt = pd.DataFrame({"Gene1": [pairs[i][0] for i in idx], "Gene2": [pairs[i][1] for i in idx], "Type": types})
    gt = pd.concat([gt, pd.DataFrame({"Gene1": ["g0"], "Gene2": ["g0"], "Type": ["+"]})])  # self-loop
    e = pd.DataFrame({"Gene1": [p[0] for p in pairs], "Gene2": [p[1] for p in pairs],
                      "EdgeWeight": np.round(rng.normal(size=len(pairs)), 1)})
    e = pd.concat([e, e.iloc[:10].assign(EdgeWeight=lambda d: -3 * d.EdgeWeight),
                   pd.DataFrame({"Gene1": ["zz", "g1"], "Gene2": ["g1", "g1"], "EdgeWeight": [5.0, 7.0]})])
    e.loc[e.sample(20, random_state=2).index, "EdgeWeight"] = 0.0
    return gt.reset_index(drop=True), e.reset_index(drop=True)


def test_signed_epr_equals_the_loops_on_hostile_files(hostile):
    gt, e = hostile
    np.testing.assert_allclose(be.signed_early_precision(e, gt), bleval_signed_loops(e, gt), atol=1e-12)
    assert np.isnan(be.signed_early_precision(e, gt.drop(columns="Type"))).all()
    only_act = gt.assign(Type="+")
    assert np.isnan(be.signed_early_precision(e, only_act)[1])  # no inhibitory edge: NaN


def test_motif_counts_equal_networkx():
    rng = np.random.default_rng(0)
    for trial in range(20):
        n = int(rng.integers(4, 12))
        edges = {(f"v{a}", f"v{b}") for a in range(n) for b in range(n) if rng.random() < 0.3}
        assert be.motif_counts(edges) == nx_motifs(edges), trial


def test_borda_equals_the_loop(hostile):
    _, e = hostile
    ranked = {"a": e, "b": e.sample(40, random_state=1).assign(EdgeWeight=lambda d: d.EdgeWeight ** 2),
              "c": e.iloc[::-1].reset_index(drop=True)}
    edges, scores = bleval_borda_loop(ranked)
    got = be.borda_aggregations(ranked)
    for agg, f in (("mean", np.mean), ("median", np.median), ("min", np.min), ("max", np.max)):
        g = got[agg].set_index(["Gene1", "Gene2"])["Score"]
        np.testing.assert_array_equal(g.reindex(pd.MultiIndex.from_tuples(edges)).to_numpy(), f(scores, axis=1))


def test_jaccard_and_spearman_stability_by_hand():
    e1 = pd.DataFrame({"Gene1": list("aabc"), "Gene2": list("bcca"), "EdgeWeight": [0.9, -0.8, 0.1, 0.0]})
    e2 = e1.assign(EdgeWeight=[0.9, 0.1, 0.8, 0.0])
    assert be.top_k_edges(e1, 2) == {("a", "b"), ("a", "c")}
    assert be.top_k_edges(e1, 4) == {("a", "b"), ("a", "c"), ("b", "c")}  # zero weight is no prediction
    assert be.jaccard_median_mad([be.top_k_edges(e1, 2), be.top_k_edges(e2, 2)]) == (1 / 3, 0.0)
    assert np.isnan(be.jaccard_median_mad([set()])[0])  # one run: nothing to compare
    genes = {"a", "b", "c"}
    w1 = be.universe_weights(e1, genes)  # (a,b) (a,c) (b,a) (b,c) (c,a) (c,b)
    np.testing.assert_array_equal(w1, [0.9, -0.8, 0.0, 0.1, 0.0, 0.0])
    from scipy.stats import spearmanr

    rho = spearmanr(w1, be.universe_weights(e2, genes)).correlation
    assert be.spearman_median_mad([e1, e2], genes) == pytest.approx((rho, 0.0))
    const = e1.assign(EdgeWeight=1.0)
    assert be.spearman_median_mad([e1, e2, const], genes)[0] == pytest.approx(rho)  # constant run left out


# --------------------------------------------------------------------------------------------
# tables from a results folder


def _results_with_truth(root, signed=True):
    """One cell: an h5ad whose uns['network'] has (optionally) Type; 3 seeds of 3 unsupervised
    methods (scope beeline) and one supervised method scoring only the test pairs."""
    from grnbench.data.dataset import make_adata, write_h5ad
    from grnbench.evaluate.metrics import attach_scores, beeline_scores, score_ranking

    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(12)]
    tfs = genes[:4]
    pairs = [(a, b) for a in tfs for b in genes if a != b]
    truth = [p for p in pairs if rng.random() < 0.3]
    net = pd.DataFrame(truth, columns=["Gene1", "Gene2"])
    expr = pd.DataFrame(rng.normal(size=(30, len(genes))), columns=genes, index=[f"c{i}" for i in range(30)])
    adata = make_adata(expr, tfs, net)
    if signed:
        adata.uns["network"]["Type"] = np.where(rng.random(len(net)) < 0.6, "+", "-")
    cell = root / "ds" / "net" / "gs"
    cell.mkdir(parents=True)
    write_h5ad(adata, cell / "data.h5ad")
    y = np.array([int(p in set(truth)) for p in pairs])
    rows = []
    for seed in range(3):
        s = rng.random(len(pairs)) < 0.4
        split = pd.DataFrame({"TF": [p[0] for p in pairs], "Target": [p[1] for p in pairs], "Label": y,
                              "Part": np.where(s, "test", "train")})
        (cell / "sp").mkdir(exist_ok=True)
        split.to_csv(cell / "sp" / f"split_seed{seed}.csv", index=False)
        test = split[split.Part == "test"].reset_index(drop=True)
        for m, q, kind in (("pcc", 1.0, "unsupervised"), ("mi", 0.5, "unsupervised"),
                           ("random", 0.0, "unsupervised"), ("genelink", 2.0, "supervised")):
            src = test if kind == "supervised" else split
            w = q * src.Label.to_numpy() + rng.normal(size=len(src))
            e = pd.DataFrame({"Gene1": src.TF, "Gene2": src.Target, "EdgeWeight": w})
            d = cell / "sp" / m / f"seed{seed}"
            d.mkdir(parents=True)
            e.to_csv(d / "edges.csv", index=False)
            base = dict(dataset="ds", network="net", geneset="gs", split="sp", method=m, seed=seed,
                        kind=kind, status="ok")
            sc, _ = attach_scores(test, e)
            rows.append({**base, "scope": "test", **score_ranking(test.Label.to_numpy(), sc)})
            if kind == "unsupervised":
                rows.append({**base, "scope": "beeline", **beeline_scores(e, net)})
    from grnbench.evaluate.summary import normalise_metrics

    return normalise_metrics(pd.DataFrame(rows)), net, adata


def test_beeline_extra_table_matches_the_functions(tmp_path):
    metrics, net, adata = _results_with_truth(tmp_path)
    t = be.beeline_extra(metrics, tmp_path).set_index("method")
    assert set(t.index) == {"pcc", "mi", "random"}  # supervised: no beeline scope
    gt = be.read_truth(tmp_path, "ds", "net", "gs")
    assert list(gt.columns) == ["Gene1", "Gene2", "Type"] and len(gt) == len(net)
    vals = []
    for seed in range(3):
        e = pd.read_csv(tmp_path / "ds/net/gs/sp/pcc" / f"seed{seed}" / "edges.csv")
        vals.append((*be.signed_early_precision(e, gt), be.motif_ratios(e, gt)["ffl_ratio"]))
    vals = np.array(vals)
    r = t.loc["pcc"]
    assert r["status"] == "ok" and r["n_seeds"] == 3 and bool(r["signed"])
    assert r["epr_activation_mean"] == pytest.approx(np.nanmean(vals[:, 0]))
    assert r["epr_inhibitory_sd"] == pytest.approx(np.std(vals[:, 1], ddof=1))
    assert r["ffl_ratio_mean"] == pytest.approx(vals[:, 2].mean())
    # the sign column dropped (as preprocess does today): signed EPR NaN, motifs still there
    unsigned = tmp_path / "u"
    m2, _, _ = _results_with_truth(unsigned, signed=False)
    u = be.beeline_extra(m2, unsigned).set_index("method")
    assert not u.loc["pcc", "signed"] and np.isnan(u.loc["pcc", "epr_activation_mean"])
    assert np.isfinite(u.loc["pcc", "ffl_ratio_mean"])


def test_stability_ranks_table(tmp_path):
    metrics, net, _ = _results_with_truth(tmp_path)
    t = be.stability_ranks(metrics, tmp_path).set_index("method")
    from scipy.stats import spearmanr

    e = {s: pd.read_csv(tmp_path / "ds/net/gs/sp/genelink" / f"seed{s}" / "edges.csv") for s in range(3)}
    rho = []
    for a, b in combinations(range(3), 2):
        m = e[a].merge(e[b], on=["Gene1", "Gene2"])
        rho.append(spearmanr(m.EdgeWeight_x, m.EdgeWeight_y).correlation)
    g = t.loc["genelink"]
    assert g["spearman_mean"] == pytest.approx(np.mean(rho)) and g["n_seed_pairs"] == 3
    assert g["bleval_runs"] == 0 and np.isnan(g["bleval_jaccard_median"])  # supervised
    p = t.loc["pcc"]
    runs = [pd.read_csv(tmp_path / "ds/net/gs/sp/pcc" / f"seed{s}" / "edges.csv") for s in range(3)]
    k = int((net.Gene1 != net.Gene2).sum())
    assert p["bleval_jaccard_median"] == pytest.approx(be.jaccard_median_mad([be.top_k_edges(x, k) for x in runs])[0])
    genes = set(net.Gene1) | set(net.Gene2)
    assert p["bleval_spearman_median"] == pytest.approx(be.spearman_median_mad(runs, genes)[0])


def test_borda_table(tmp_path):
    from grnbench.evaluate.metrics import attach_scores, score_ranking

    metrics, net, _ = _results_with_truth(tmp_path)
    t = be.borda_table(metrics, tmp_path)
    test_row = t[t.scope == "test"].iloc[0]
    assert test_row["members"] == "pcc,mi,genelink" and test_row["n_seeds"] == 3  # random excluded
    aur, epr = [], []
    for seed in range(3):
        s = pd.read_csv(tmp_path / "ds/net/gs/sp" / f"split_seed{seed}.csv")
        test = s[s.Part == "test"].reset_index(drop=True)
        ranked = {}
        for m in ("pcc", "mi", "genelink"):
            e = pd.read_csv(tmp_path / "ds/net/gs/sp" / m / f"seed{seed}" / "edges.csv")
            sc, _ = attach_scores(test, e)
            ranked[m] = pd.DataFrame({"Gene1": test.TF, "Gene2": test.Target, "EdgeWeight": sc})
        edges, scores = bleval_borda_loop(ranked)
        ens = pd.DataFrame({"Gene1": [a for a, _ in edges], "Gene2": [b for _, b in edges],
                            "EdgeWeight": scores.mean(axis=1)})
        sc, _ = attach_scores(test, ens)
        aur.append(score_ranking(test.Label.to_numpy(), sc)["auroc"])
        # EPR needs BLEval's normalised BORDA column (its lowest pairs become 0: no prediction)
        b = be.borda_runs([ranked]).rename(columns={"BORDA": "EdgeWeight"})
        sc, _ = attach_scores(test, b)
        epr.append(score_ranking(test.Label.to_numpy(), sc)["epr"])
    assert test_row["auroc_mean"] == pytest.approx(np.mean(aur))
    assert test_row["epr_mean"] == pytest.approx(np.mean(epr))
    assert test_row["best_single"] == "genelink"
    bl = t[t.scope == "beeline"].iloc[0]
    assert bl["members"] == "pcc,mi"
