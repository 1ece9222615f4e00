"""The ``beeline`` scope equals BEELINE's BLEval (issue 14, item 2).

Referees, not our own earlier output: (1) the values BEELINE v1.1's BLEval gives for Pearson
correlation on its own GSD example (AUROC 0.577, AUPRC 0.275, EPR 1.402; reproduced with
``benchmarks/faithfulness/bleval_referee.py`` against a BEELINE checkout); (2) a plain
re-statement of BLEval's loops (permutations, dict look-ups) written here independently of
``grnbench.evaluate.metrics``, on hostile prediction files (ties, duplicates, signs, missing
pairs, genes outside the truth, self-loops, zeros).
"""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import auc, precision_recall_curve, roc_curve

from grnbench.evaluate.metrics import beeline_scores


def bleval_loops(edges: pd.DataFrame, gt: pd.DataFrame) -> tuple[float, float, float, float]:
    """AUROC, AUPRC, AUPRC ratio, EPR as BLEval's AUROC.py / AUPRC.py / EarlyPrecision(tf_edges=True)."""
    genes = sorted(set(gt.Gene1) | set(gt.Gene2))
    universe = list(permutations(genes, 2))
    truth = set(zip(gt.Gene1, gt.Gene2))
    best: dict = {}
    for a, b, w in zip(edges.Gene1, edges.Gene2, edges.EdgeWeight):
        if a != b:
            best[(a, b)] = max(best.get((a, b), -1.0), abs(w))
    y = [int(p in truth) for p in universe]
    s = [best.get(p, 0.0) for p in universe]
    fpr, tpr, _ = roc_curve(y, s)
    prec, rec, _ = precision_recall_curve(y, s)
    gt_ns = gt[gt.Gene1 != gt.Gene2]
    ratio = auc(rec, prec) / (len(gt_ns) / (len(genes) * (len(genes) - 1)))
    regs = set(gt_ns.Gene1)
    u2 = {(a, b) for a in regs for b in genes if a != b}
    t2 = set(zip(gt_ns.Gene1, gt_ns.Gene2)) & u2
    ranked = sorted(((w, p) for p, w in best.items() if p in u2), key=lambda x: -x[0])
    k = min(len(ranked), len(t2))
    kth = ranked[k - 1][0]
    nz = [w for w, _ in ranked if w > 0]
    cut = max(min(nz) if nz else 0.0, kth)
    sel = {p for w, p in ranked if w >= cut}
    epr = (len(sel & t2) / len(sel)) / (len(t2) / len(u2)) if sel else 0.0
    return auc(fpr, tpr), auc(rec, prec), ratio, epr


@pytest.fixture(scope="module")
def gsd(shared_data):
    from grnbench.data.dataset import GRNData, make_adata
    from grnbench.data.readers import read_expression

    d = shared_data / "beeline_example" / "GSD"
    gt = pd.read_csv(d / "GroundTruthNetwork.csv")
    expr = read_expression(d / "ex1" / "ExpressionData.csv")
    data = GRNData(make_adata(expr, list(expr.columns), gt), name="GSD")  # every gene a regulator
    return data, gt


def _pcc_edges(data):
    from grnbench.methods import get

    w = get("pcc")().infer(data, seed=0)
    tf = np.repeat(data.tfs, data.n_genes)
    tg = np.tile(data.genes, len(data.tfs))
    e = pd.DataFrame({"Gene1": tf, "Gene2": tg, "EdgeWeight": w.ravel()})
    return e[e.Gene1 != e.Gene2]


def test_pcc_on_gsd_equals_bleval(gsd):
    data, gt = gsd
    got = beeline_scores(_pcc_edges(data), gt)
    assert got["auroc"] == pytest.approx(0.577, abs=5e-4)
    assert got["auprc_trapz"] == pytest.approx(0.275, abs=5e-4)
    assert got["epr"] == pytest.approx(1.402, abs=5e-4)
    assert got["n_pairs"] == 19 * 18 and got["n_pos"] == 76


def test_signed_weights_are_ranked_by_magnitude(gsd):
    """A signed-r file scores as its absolute values (BEELINE: 0.577, not 0.548)."""
    data, gt = gsd
    x = data.expression(np.float64)
    c = np.corrcoef(x, rowvar=False)
    g = data.genes
    signed = pd.DataFrame([(g[i], g[j], c[i, j]) for i in range(len(g)) for j in range(len(g)) if i != j],
                          columns=["Gene1", "Gene2", "EdgeWeight"])
    assert beeline_scores(signed, gt)["auroc"] == pytest.approx(0.577, abs=5e-4)


@pytest.mark.parametrize("case", ["plain", "ties", "missing", "dupes_signed", "outside", "zeros"])
def test_equals_bleval_loops_on_hostile_files(gsd, case):
    data, gt = gsd
    rng = np.random.default_rng(3)
    e = _pcc_edges(data).reset_index(drop=True)
    if case == "ties":
        e["EdgeWeight"] = np.round(e.EdgeWeight, 1)
    elif case == "missing":
        e = e.sample(150, random_state=1)
    elif case == "dupes_signed":
        e = pd.concat([e, e.assign(EdgeWeight=-2 * e.EdgeWeight).iloc[:40]])
    elif case == "outside":
        e = pd.concat([e, pd.DataFrame({"Gene1": ["XX", "SOX9"], "Gene2": ["SOX9", "SOX9"], "EdgeWeight": [9.0, 9.0]})])
    elif case == "zeros":
        e["EdgeWeight"] = np.where(rng.random(len(e)) < 0.7, 0.0, e.EdgeWeight)
    got = beeline_scores(e, gt)
    ref = bleval_loops(e, gt)
    np.testing.assert_allclose([got["auroc"], got["auprc_trapz"], got["auprc_ratio"], got["epr"]], ref, atol=1e-12)


def test_pipeline_reports_a_beeline_scope(tmp_path, gsd):
    """evaluate() adds scope beeline for unsupervised methods, with its own universe and coverage."""
    from grnbench import pipeline as pl
    from grnbench.data.dataset import write_h5ad

    data, gt = gsd
    h5 = tmp_path / "gsd.h5ad"
    write_h5ad(data.adata, h5)
    split = tmp_path / "split.csv"
    pl.make_split(h5, split, protocol="genelink", seed=0)
    pl.run_method(h5, split, tmp_path / "edges.csv", tmp_path / "run.json", method="pcc", seed=0)
    m = pl.evaluate(h5, split, tmp_path / "edges.csv", tmp_path / "m.json", run_path=tmp_path / "run.json")
    bl = m["scopes"]["beeline"]
    assert bl["auroc"] == pytest.approx(0.577, abs=5e-4) and bl["epr"] == pytest.approx(1.402, abs=5e-4)
    assert bl["coverage"] == 1.0 and bl["n_missing"] == 0
