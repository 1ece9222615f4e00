"""The generalization table and figure (issue 18.3): each method on every split protocol, minus
degree_prior on the same split and seed, with the paired tests where they exist."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fake_results import make_results

from grnbench.evaluate import generalization as gen
from grnbench.evaluate import stats
from grnbench.evaluate.report import FIGURES, TABLES, output_files, report_items
from grnbench.evaluate.summary import read_metrics

ROOT = Path(__file__).resolve().parents[1]

SPLITS = ("genelink", "tf_holdout", "degree_matched", "cross_dataset")


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    path = make_results(root, cells=(("mDC", "nonspecific", "tfs500"), ("sim", "groundtruth", "tfs80")),
                        splits=SPLITS, seeds=(0, 1, 2), methods=("random", "degree_prior", "pcc", "genelink"),
                        failed=())
    metrics = read_metrics(path)
    # a cross_dataset split summary names the training labels (written by rule split)
    for seed in (0, 1, 2):
        p = root / "mDC" / "nonspecific" / "tfs500" / "cross_dataset" / f"split_seed{seed}.json"
        p.write_text(json.dumps({"status": "ok", "cross_dataset": {"train": "mDC/specific/tfs500"}}))
    _, sig = stats.bootstrap_tables(metrics, root, n_boot=100)
    table = gen.generalization_table(metrics, sig, root)
    return root, metrics, sig, table


def test_numbers_equal_a_recomputation_from_metrics(fake):
    _, metrics, _, table = fake
    t = metrics[metrics.scope == "test"]
    assert set(table.split) == set(SPLITS) and "degree_prior" not in set(table.method)
    assert set(table.method) == {"random", "pcc", "genelink"}
    for _, r in table.iterrows():
        keys = (t.dataset == r.dataset) & (t.network == r.network) & (t.geneset == r.geneset) & (t.split == r.split)
        m = t[keys & (t.method == r.method)].set_index("seed")
        p = t[keys & (t.method == "degree_prior")].set_index("seed")
        for met in ("auroc", "auprc"):
            d = (m[met] - p[met]).dropna()
            assert r[f"delta_{met}_mean"] == pytest.approx(d.mean())
            assert r[f"delta_{met}_sd"] == pytest.approx(d.std(ddof=1))
            assert r[f"{met}_mean"] == pytest.approx(m[met].mean())
            assert r[f"prior_{met}_mean"] == pytest.approx(p[met].mean())
            assert r.n_seeds == len(d)  # seeds where both have a value


def test_significance_is_the_paired_test_against_degree_prior(fake):
    _, _, sig, table = fake
    ref = sig[(sig.comparison == "prior") & (sig.reference == "degree_prior")].set_index(
        ["dataset", "network", "geneset", "split", "method"])
    assert len(ref)
    for _, r in table.iterrows():
        s = ref.loc[(r.dataset, r.network, r.geneset, r.split, r.method)]
        assert r.p_auroc_holm == pytest.approx(s.p_auroc_holm) and r.verdict == s.verdict
        assert r.p_auprc_holm == pytest.approx(s.p_auprc_holm)
    beats = table.verdict == stats.BEATS
    assert (beats == ((table.p_auroc_holm < 0.05) & (table.delta_auroc_mean > 0))).all()
    assert not beats[table.method == "random"].any()  # random (no signal) is below the prior (signal 0.6)


def test_rows_read_protocol_by_protocol_and_name_the_labels(fake):
    _, _, _, table = fake
    g = table[(table.dataset == "mDC") & (table.method == "pcc")]
    assert list(g.split) == list(SPLITS)  # protocol order, from the closed world outwards
    assert g.set_index("split").labels_from.to_dict() == {
        "genelink": gen.OWN, "tf_holdout": gen.OWN, "degree_matched": gen.OWN, "cross_dataset": "mDC/specific/tfs500"}
    sim = table[(table.dataset == "sim") & (table.split == "cross_dataset")]
    assert sim.labels_from.str.contains("not found").all()  # no summary there: said so, not guessed


def test_subgroup_scopes_get_deltas_without_tests(fake):
    _, metrics, sig, _ = fake
    # add a cross_dataset subgroup scope (as rule evaluate writes it) for two methods
    t = metrics[(metrics.scope == "test") & (metrics.split == "cross_dataset") & metrics.method.isin(["degree_prior", "pcc"])]
    sub = t.assign(scope="test:unseen_tf", auroc=t.auroc - 0.05 * (t.method == "pcc"))
    table = gen.generalization_table(pd.concat([metrics, sub], ignore_index=True), sig)
    s = table[table.scope == "test:unseen_tf"]
    assert set(s.method) == {"pcc"} and s.p_auroc_holm.isna().all() and s.verdict.isna().all()
    whole = table[(table.scope == "test") & (table.split == "cross_dataset") & (table.method == "pcc")]
    for cell in ("mDC", "sim"):
        a = s[s.dataset == cell].delta_auroc_mean.iloc[0]
        b = whole[whole.dataset == cell].delta_auroc_mean.iloc[0]
        assert a == pytest.approx(b - 0.05)


def test_only_the_protocols_that_ran_and_empty_inputs(fake, tmp_path):
    _, metrics, sig, _ = fake
    two = metrics[metrics.split.isin(["genelink", "tf_holdout"])]
    table = gen.generalization_table(two, None)
    assert set(table.split) == {"genelink", "tf_holdout"} and table.p_auroc_holm.isna().all()
    assert table.columns.tolist() == gen.COLUMNS
    empty = gen.generalization_table(metrics.iloc[:0], None)
    assert empty.empty and empty.columns.tolist() == gen.COLUMNS
    written = gen.generalization_figure(empty, tmp_path / "g")
    assert [p.suffix for p in written] == [".png", ".pdf"] and all(p.stat().st_size > 0 for p in written)


def test_figure_is_drawn(fake, tmp_path):
    import matplotlib.image

    _, _, _, table = fake
    png, pdf = gen.generalization_figure(table, tmp_path / "generalization")
    img = matplotlib.image.imread(png)
    assert img.shape[0] > 300 and img[..., :3].std() > 0.01 and pdf.stat().st_size > 1000


def test_aggregate_writes_it_and_the_report_declares_it(tmp_path):
    from grnbench.evaluate.report import aggregate

    root = tmp_path / "res"
    metrics = make_results(root, cells=(("sim", "groundtruth", "tfs80"),), splits=("genelink", "cross_dataset"),
                           seeds=(0, 1), methods=("random", "degree_prior", "pcc"), failed=())
    written = aggregate(metrics, root, root / "tables", root / "figures", ROOT / "resources" / "published")
    assert "generalization" in TABLES and "generalization" in FIGURES
    for f in ("tables/generalization.tsv", "tables/generalization.md", "figures/generalization.png",
              "figures/generalization.pdf"):
        assert root / f in written and (root / f).stat().st_size > 0
    assert str(root / "tables" / "generalization.tsv") in output_files(root / "tables", root / "figures")
    items = report_items(root)
    assert items["generalization_tsv"]["caption"] == "generalization"
    assert (ROOT / "report" / "generalization.rst").read_text().strip()
    # the TSV holds the table's numbers (six significant digits)
    tsv = pd.read_csv(root / "tables" / "generalization.tsv", sep="\t")
    m = read_metrics(metrics)
    t = m[(m.scope == "test") & (m.split == "cross_dataset")].set_index(["method", "seed"]).auroc
    want = np.nanmean([t[("pcc", s)] - t[("degree_prior", s)] for s in (0, 1)])  # a seed may have no AUROC
    got = tsv[(tsv.method == "pcc") & (tsv.split == "cross_dataset") & (tsv.scope == "test")].delta_auroc_mean.iloc[0]
    assert got == pytest.approx(want, rel=1e-5, abs=1e-6)
    md = (root / "tables" / "generalization.md").read_text()
    assert md.startswith("# Generalisation") and "cross_dataset" in md
    html = (root / "figures" / "overview.html").read_text()
    assert 'data-figure="generalization"' in html
