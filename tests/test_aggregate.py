"""Aggregate stage: table math on hand-made metrics and edges files, figures, rule, end to end.

Every expected number below is worked out by hand from the inputs written in the test.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grnbench.errors import InputError
from grnbench.evaluate import plots
from grnbench.evaluate.headline import headline, headline_by_split
from grnbench.evaluate.markdown import to_markdown
from grnbench.evaluate.report import (
    FIGURE_STEMS,
    TABLE_STEMS,
    aggregate,
    output_files,
    report_items,
)
from grnbench.evaluate.stability import jaccard, stability, top_k
from grnbench.evaluate.summary import (
    leaderboard,
    normalise_metrics,
    rank_cells,
    read_metrics,
    summarise,
)
from grnbench.evaluate.table1 import read_published, table1
from grnbench.methods.registry import method_order, table1_variants

ROOT = Path(__file__).resolve().parents[1]

from fake_results import make_results  # noqa: E402  (a hand-made results folder)

# --------------------------------------------------------------------------------------------
# hand-made metrics tables

BASE = {
    "dataset": "hESC",
    "network": "specific",
    "geneset": "tfs500",
    "split": "genelink",
    "scope": "test",
}


def _rows(*specs) -> pd.DataFrame:
    """specs: (method, seed, auroc[, overrides]) -> a metrics frame (status from NaN AUROC)."""
    out = []
    for spec in specs:
        method, seed, auroc = spec[:3]
        extra = spec[3] if len(spec) > 3 else {}
        row = {**BASE, "method": method, "seed": seed, "kind": "supervised", "auroc": auroc}
        row["auprc"] = extra.pop("auprc", np.nan if np.isnan(auroc) else auroc / 2)
        row["status"] = "failed" if np.isnan(auroc) else "ok"
        row.update(extra)
        out.append(row)
    return normalise_metrics(pd.DataFrame(out))


def test_read_metrics_roundtrip_and_missing_columns(tmp_path):
    df = _rows(("a", 0, 0.6), ("a", 1, np.nan))
    path = tmp_path / "metrics.tsv"
    df.to_csv(path, sep="\t", index=False, na_rep="NaN")
    back = read_metrics(path)
    assert list(back["status"]) == ["ok", "failed"]
    assert np.isnan(back["runtime_s"]).all()  # optional column absent -> NaN
    with pytest.raises(InputError, match="scope"):
        normalise_metrics(df.drop(columns=["scope"]))
    with pytest.raises(InputError, match="duplicated"):
        normalise_metrics(pd.concat([df, df]))


def test_summary_mean_sd_and_failed_rows():
    m = _rows(
        ("a", 0, 0.6, {"runtime_s": 10.0}),
        ("a", 1, 0.7, {"runtime_s": 20.0}),
        ("a", 2, 0.8, {"runtime_s": 30.0}),
        ("b", 0, 0.5),
        ("b", 1, np.nan),
        ("c", 0, np.nan),
        ("c", 1, np.nan),
    )
    s = summarise(m).set_index("method")
    assert s.loc["a", "auroc_mean"] == pytest.approx(0.7)
    assert s.loc["a", "auroc_sd"] == pytest.approx(0.1)  # sample sd of 0.6, 0.7, 0.8
    assert s.loc["a", "runtime_s_mean"] == pytest.approx(20.0)
    assert s.loc["a", "runtime_s_sd"] == pytest.approx(10.0)
    assert (s.loc["a", "n_seeds"], s.loc["a", "n_failed"], s.loc["a", "status"]) == (3, 0, "ok")
    assert s.loc["b", "auroc_mean"] == pytest.approx(0.5)
    assert np.isnan(s.loc["b", "auroc_sd"])  # one seed: no sd
    assert (s.loc["b", "n_seeds"], s.loc["b", "n_failed"], s.loc["b", "status"]) == (
        1,
        1,
        "partial",
    )
    assert s.loc["c", "status"] == "failed" and np.isnan(s.loc["c", "auroc_mean"])
    md = to_markdown(summarise(m))
    assert "0.700 ± 0.100" in md
    assert "| c |" in md and "failed" in md.split("| c |")[1].splitlines()[0]


def test_leaderboard_ranks_ties_and_failures():
    m = pd.concat(
        [
            _rows(("a", 0, 0.8), ("b", 0, 0.6), ("c", 0, np.nan)),
            _rows(("a", 0, 0.7), ("b", 0, 0.9), ("c", 0, np.nan)).assign(geneset="tfs1000"),
            _rows(("a", 0, 0.75), ("b", 0, 0.75)).assign(split="tf_holdout"),
        ]
    )
    s = summarise(normalise_metrics(m))
    r = rank_cells(s).set_index(["geneset", "split", "method"])["rank"]
    assert r[("tfs500", "genelink", "a")] == 1 and r[("tfs500", "genelink", "b")] == 2
    assert r[("tfs500", "genelink", "c")] == 3  # failed -> last
    assert r[("tfs1000", "genelink", "b")] == 1 and r[("tfs1000", "genelink", "a")] == 2
    assert r[("tfs500", "tf_holdout", "a")] == 1.5 == r[("tfs500", "tf_holdout", "b")]  # tie
    lb = leaderboard(s).set_index("method")
    assert lb.loc["a", "mean_rank"] == pytest.approx((1 + 2 + 1.5) / 3)
    assert lb.loc["b", "mean_rank"] == pytest.approx((2 + 1 + 1.5) / 3)
    assert lb.loc["c", "mean_rank"] == 3 and lb.loc["c", "n_cells_failed"] == 2
    assert lb.loc["a", "mean_rank_genelink"] == 1.5 and lb.loc["a", "mean_rank_tf_holdout"] == 1.5
    assert list(lb.index) == ["a", "b", "c"]  # equal mean rank -> by name
    assert lb.loc["a", "mean_auroc"] == pytest.approx((0.8 + 0.7 + 0.75) / 3)


def test_published_table1_file_matches_the_paper():
    pub = read_published(ROOT / "resources" / "published")
    assert len(pub) == 8
    assert set(pub["method"]) == set(table1_variants())
    assert all(s.startswith("scTransNet paper, Table 1") for s in pub["source"])
    p = pub.set_index(["dataset", "method"])
    # values as printed in the paper's Table 1 (shared/paper/sctransnet-paper.txt)
    assert tuple(p.loc[("hESC", "sctransnet"), ["auroc", "auprc"]]) == (0.880, 0.595)
    assert tuple(p.loc[("hHEP", "sctransnet_no_attnpool"), ["auroc", "auprc"]]) == (0.862, 0.683)
    assert tuple(p.loc[("hHEP", "sctransnet_no_gnn"), ["auroc", "auprc"]]) == (0.830, 0.725)


ENC = json.dumps({"encoder": "pretrained-by-us"})


def test_table1_averages_genesets_per_seed_and_subtracts_published():
    m = pd.concat(
        [
            _rows(
                ("sctransnet", 0, 0.80, {"auprc": 0.50, "labels": ENC}),
                ("sctransnet", 1, 0.90, {"auprc": 0.60}),
                ("sctransnet", 2, 0.99, {"auprc": 0.99}),
            ),  # seed 2 has only tfs500: dropped
            _rows(
                ("sctransnet", 0, 0.84, {"auprc": 0.54}), ("sctransnet", 1, 0.86, {"auprc": 0.56})
            ).assign(geneset="tfs1000"),
            _rows(("sctransnet_no_gnn", 0, np.nan)),
        ]
    )
    t = table1(
        normalise_metrics(m), read_published(ROOT / "resources" / "published")
    )
    t = t.set_index(["dataset", "method"])
    r = t.loc[("hESC", "sctransnet")]
    assert r["genesets"] == "tfs500+tfs1000" and r["n_seeds"] == 2
    assert r["auroc_mean"] == pytest.approx(0.85)  # seeds: (0.80+0.84)/2, (0.90+0.86)/2
    assert r["auroc_sd"] == pytest.approx(np.std([0.82, 0.88], ddof=1))
    assert r["published_auroc"] == pytest.approx(0.880)
    assert r["delta_auroc"] == pytest.approx(0.85 - 0.880)
    assert r["delta_auprc"] == pytest.approx(0.55 - 0.595)
    assert bool(r["like_for_like"]) is True
    assert r["labels"] == ENC  # what produced the number travels with it
    assert t.loc[("hESC", "sctransnet_no_gnn"), "status"] == "failed"
    assert t.loc[("hHEP", "sctransnet"), "status"] == "not run"  # published, not run: listed
    assert t.loc[("hHEP", "sctransnet"), "published_auroc"] == pytest.approx(0.870)
    assert len(t) == 8


def test_table1_other_network_is_not_compared():
    m = _rows(("sctransnet", 0, 0.8)).assign(network="string")
    t = table1(
        normalise_metrics(m), read_published(ROOT / "resources" / "published")
    )
    r = t[
        (t["dataset"] == "hESC") & (t["method"] == "sctransnet") & (t["network"] == "string")
    ].iloc[0]
    assert np.isnan(r["published_auroc"]) and not r["like_for_like"]


def test_headline_deltas_against_degree_prior_same_seed():
    m = pd.concat(
        [
            _rows(("degree_prior", 0, 0.7), ("degree_prior", 1, 0.6)),
            _rows(("x", 0, 0.8), ("x", 1, 0.8), ("x", 2, 0.9)),  # seed 2 has no prior
            _rows(("y", 0, np.nan), ("y", 1, np.nan)),
            _rows(("degree_prior", 0, 0.5), ("x", 0, 0.45)).assign(split="tf_holdout"),
        ]
    )
    m = normalise_metrics(m)
    h = headline(m).set_index(["split", "method"])
    x = h.loc[("genelink", "x")]
    assert x["delta_auroc_mean"] == pytest.approx(0.15)  # 0.8-0.7, 0.8-0.6
    assert x["delta_auroc_sd"] == pytest.approx(np.std([0.1, 0.2], ddof=1))
    assert x["delta_auprc_mean"] == pytest.approx(0.075)  # auprc = auroc / 2 here
    assert (x["n_seeds"], x["n_no_prior"], x["n_failed"]) == (2, 1, 0)
    assert h.loc[("genelink", "y"), "status"] == "failed"
    assert h.loc[("tf_holdout", "x"), "delta_auroc_mean"] == pytest.approx(-0.05)
    assert "degree_prior" not in set(h.index.get_level_values("method"))
    b = headline_by_split(m).set_index(["split", "method"])
    assert b.loc[("genelink", "x"), "frac_above_prior"] == 1.0
    assert b.loc[("tf_holdout", "x"), "frac_above_prior"] == 0.0
    assert b.loc[("genelink", "x"), "n_runs"] == 2


# --------------------------------------------------------------------------------------------
# stability (hand-made edges files)


def test_top_k_includes_ties_and_jaccard():
    s = pd.Series([0.9, 0.5, 0.5, 0.1], index=list("abcd"))
    assert top_k(s, 1) == {"a"}
    assert top_k(s, 2) == {"a", "b", "c"}  # tie with the 2nd score
    assert top_k(s, 0) == set()
    assert jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)
    assert np.isnan(jaccard(set(), set()))


def _write_edges(root, method, seed, pairs, scores, split="genelink"):
    d = root / "hESC" / "specific" / "tfs500" / split / method / f"seed{seed}"
    d.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {"Gene1": [p[0] for p in pairs], "Gene2": [p[1] for p in pairs], "EdgeWeight": scores}
    ).to_csv(d / "edges.csv", index=False)


def test_stability_jaccard_from_edges_files(tmp_path):
    pairs = [("T1", f"G{i}") for i in range(6)]
    _write_edges(tmp_path, "m", 0, pairs, [6, 5, 4, 3, 2, 1])  # top-2: G0, G1
    _write_edges(tmp_path, "m", 1, pairs, [6, 1, 5, 4, 3, 2])  # top-2: G0, G2
    _write_edges(tmp_path, "m", 2, pairs, [1, 2, 3, 4, 5, 6])  # top-2: G5, G4
    dens = {"n_pairs": 6, "n_pos": 2, "density": 2 / 6}
    m = _rows(
        ("m", 0, 0.7, dict(dens)),
        ("m", 1, 0.7, dict(dens)),
        ("m", 2, 0.7, dict(dens)),
        ("f", 0, np.nan),
    )
    st = stability(m, tmp_path).set_index("method")
    r = st.loc["m"]
    # pairs of seeds: (0,1) 1/3, (0,2) 0, (1,2) 0
    assert r["k_mean"] == 2 and r["n_seed_pairs"] == 3
    assert r["jaccard_mean"] == pytest.approx(1 / 9)
    assert r["jaccard_sd"] == pytest.approx(np.std([1 / 3, 0, 0], ddof=1))
    assert r["jaccard_min"] == 0
    assert st.loc["f", "status"] == "failed"
    # explicit k; k = 3: seed0 {G0,G1,G2}, seed1 {G0,G2,G3} -> 2/4
    st3 = stability(m[m["seed"] < 2], tmp_path, k=3).set_index("method")
    assert st3.loc["m", "jaccard_mean"] == pytest.approx(0.5)


def test_stability_restricts_to_pairs_both_seeds_scored(tmp_path):
    _write_edges(tmp_path, "m", 0, [("T", "A"), ("T", "B"), ("T", "C"), ("T", "D")], [4, 3, 2, 1])
    _write_edges(tmp_path, "m", 1, [("T", "C"), ("T", "D"), ("T", "E"), ("T", "F")], [1, 2, 9, 9])
    dens = {"n_pairs": 4, "n_pos": 2, "density": 0.5}
    m = _rows(("m", 0, 0.7, dict(dens)), ("m", 1, 0.7, dict(dens)))
    r = stability(m, tmp_path).iloc[0]
    # common pairs C, D; k = 0.5 x 2 = 1; seed 0 picks C, seed 1 picks D
    assert r["common_pairs_mean"] == 2 and r["k_mean"] == 1 and r["jaccard_mean"] == 0


# --------------------------------------------------------------------------------------------
# figures, rule and end to end


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    root = tmp_path_factory.mktemp("agg") / "results"
    metrics = make_results(
        root,
        cells=(("hESC", "specific", "tfs500"), ("hESC", "specific", "tfs1000")),
        splits=("genelink", "tf_holdout"),
        seeds=(0, 1, 2),
        methods=("random", "degree_prior", "pcc", "genelink", "sctransnet", "gnnlink"),
    )
    written = aggregate(
        metrics, root, root / "tables", root / "figures", ROOT / "resources" / "published"
    )
    return root, metrics, written


def _assert_png(path: Path):
    import matplotlib.image

    assert path.exists() and path.stat().st_size > 5000, path
    img = matplotlib.image.imread(path)
    assert img.shape[0] > 200 and img.shape[1] > 300
    assert img[..., :3].std() > 0.01  # not a blank canvas
    assert path.with_suffix(".pdf").stat().st_size > 1000


def test_aggregate_writes_every_declared_file(fake):
    root, _, written = fake
    expected = output_files(root / "tables", root / "figures")
    assert sorted(map(str, written)) == sorted(expected)
    assert sorted(expected) == sorted(i["path"] for i in report_items(root).values())
    for f in expected:
        assert Path(f).stat().st_size > 0, f
    for stem in FIGURE_STEMS:
        _assert_png(root / "figures" / f"{stem}.png")
    for stem in TABLE_STEMS:
        assert (root / "tables" / f"{stem}.md").read_text().startswith("# ")


def test_aggregate_tables_report_failed_method(fake):
    root, _, _ = fake
    s = pd.read_csv(root / "tables" / "summary.tsv", sep="\t")
    g = s[s["method"] == "gnnlink"]
    assert len(g) == 4 and (g["status"] == "failed").all() and (g["n_failed"] == 3).all()
    lb = pd.read_csv(root / "tables" / "leaderboard.tsv", sep="\t").set_index("method")
    assert lb.loc["gnnlink", "n_cells_failed"] == 4
    assert "failed" in (root / "tables" / "headline_by_split.md").read_text()


def test_aggregate_summary_matches_metrics(fake):
    root, metrics, _ = fake
    m = pd.read_csv(metrics, sep="\t")
    one = m[
        (m["method"] == "pcc")
        & (m["split"] == "genelink")
        & (m["geneset"] == "tfs500")
        & (m["scope"] == "test")
    ]
    s = pd.read_csv(root / "tables" / "summary.tsv", sep="\t")
    row = s[
        (s["method"] == "pcc")
        & (s["split"] == "genelink")
        & (s["geneset"] == "tfs500")
        & (s["scope"] == "test")
    ]
    assert row["auroc_mean"].iloc[0] == pytest.approx(one["auroc"].mean(), rel=1e-5)
    assert row["auroc_sd"].iloc[0] == pytest.approx(one["auroc"].std(ddof=1), rel=1e-5)
    assert set(s["scope"]) == {"test", "all_tf_gene"}


def test_tables_are_deterministic(fake, tmp_path):
    root, metrics, _ = fake
    m = read_metrics(metrics)
    a = stability(m, root)
    b = stability(m, root)
    pd.testing.assert_frame_equal(a, b)
    s = summarise(m)
    pd.testing.assert_frame_equal(s, summarise(m.sample(frac=1.0, random_state=3)))


def test_figures_cope_with_only_some_methods(fake, tmp_path):
    root, metrics, _ = fake
    m = read_metrics(metrics)
    only = m[m["method"].isin(["pcc", "random"])]
    s = summarise(only)
    for f in (
        plots.performance_bars(s, tmp_path / "bars"),
        plots.heatmap(s.drop(columns=["runtime_s_mean"]), tmp_path / "heat"),
        plots.roc_pr_curves(s, only, root, tmp_path / "roc"),
        plots.subnetwork(s, only, root, tmp_path / "sub"),  # falls back to the two present
        plots.auroc_vs_runtime(s, tmp_path / "runtime"),
        plots.improvement_over_prior(headline_by_split(only), tmp_path / "imp"),  # no prior
    ):
        assert [p.suffix for p in f] == [".png", ".pdf"]
        _assert_png(f[0])


def test_empty_inputs_give_placeholders(tmp_path):
    empty = summarise(_rows(("a", 0, 0.5)).iloc[:0])
    for fn in (plots.performance_bars, plots.heatmap, plots.auroc_vs_runtime):
        out = fn(empty, tmp_path / fn.__name__)
        _assert_png(out[0])
    out = plots.improvement_over_prior(pd.DataFrame(), tmp_path / "imp")
    _assert_png(out[0])


def test_palette_is_one_colour_per_method_and_grey_references():
    import matplotlib.colors as mc

    known = method_order()
    colours = [plots.method_color(m) for m in known]
    assert len(set(colours)) == len(known)
    for ref in ("random", "degree_prior"):
        r, g, b = mc.to_rgb(plots.method_color(ref))
        assert r == g == b  # grey
    assert plots.method_color("my_plugin") == plots.method_color("my_plugin")
    assert plots.order_methods(["sctransnet", "zzz", "random", "pcc"]) == [
        "random",
        "pcc",
        "zzz",
        "sctransnet",
    ]


def test_subnetwork_edge_classes():
    pairs = pd.DataFrame({"TF": ["T"] * 6, "Target": list("ABCDEF"), "Label": [1, 1, 1, 0, 0, 0]})
    a = np.array([6, 5, 1, 4, 2, 3])  # top-3: A, B, D
    b = np.array([6, 1, 5, 4, 2, 3])  # top-3: A, C, D
    e = plots.subnetwork_edges(pairs, a, b).set_index("Target")["found"]
    assert e.to_dict() == {"A": "both", "B": "a_only", "C": "b_only"}


def test_rule_declares_the_same_files(tmp_path):
    """The workflow's aggregate rule plans exactly the files report_items names."""
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", "config/test.yaml",
         "--config", f"results={tmp_path}/results", "--quiet", "rules"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "aggregate" in res.stdout + res.stderr
    for item in report_items("results").values():
        assert (ROOT / "report" / f"{item['caption']}.rst").exists(), item["caption"]
    text = (ROOT / "rules" / "aggregate.smk").read_text()
    assert "def " not in text  # functions live in common.smk (snakemake --lint)


def test_labels_of_a_group_merge_keys_and_list_what_varies_by_seed():
    from grnbench.evaluate.summary import _merge_labels

    a = json.dumps({"encoder": "pretrained-by-us", "selected_epoch": 12})
    b = json.dumps({"encoder": "pretrained-by-us", "selected_epoch": 33})
    assert json.loads(_merge_labels([a, b, a])) == {"encoder": "pretrained-by-us", "selected_epoch": [12, 33]}
    assert _merge_labels([a, a]) == a
    assert _merge_labels(["", ""]) == ""
    assert _merge_labels(["not json", a]) == "not json; " + a
