"""The cross_dataset split protocol (issue 18.1): label transfer from one dataset or network to
another, genes matched by upper-cased symbol, unseen-gene subgroups, the simulator's pair of
datasets sharing part of one network, planning checks, and the protocol end to end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grnbench import pipeline as pl
from grnbench.data import splits as sp
from grnbench.data.dataset import GRNData
from grnbench.data.simulate import simulate_dataset, write_beeline
from grnbench.errors import InputError, SplitLeakError
from grnbench.evaluate import subgroups as sg
from grnbench.plancheck import config_problems, cross_dataset_jobs

ROOT = Path(__file__).resolve().parents[1]
SIM = {"n_tfs": 16, "n_genes": 120, "n_cells": 150, "mean_indegree": 3}


def _sim_pair(shared=0.5):
    a = simulate_dataset(seed=3, **SIM)
    b = simulate_dataset(seed=4, network_seed=3, shared_edges=shared, **SIM)
    return a, b


@pytest.fixture(scope="module")
def pair():
    a, b = _sim_pair()
    return GRNData(a.to_adata(), name="simA"), GRNData(b.to_adata(), name="simB")


def _edges(data):
    return set(zip(data.network["Gene1"], data.network["Gene2"]))


def _pairs(df):
    return set(zip(df["TF"], df["Target"]))


# --------------------------------------------------------------------------------------------
# the simulator: two datasets on part of one network


def test_simulator_shares_part_of_one_network():
    a, b = _sim_pair(0.5)
    ea, eb = set(zip(a.network.Gene1, a.network.Gene2)), set(zip(b.network.Gene1, b.network.Gene2))
    assert list(a.counts.index) == list(b.counts.index) and a.tfs == b.tfs  # same genes, same names
    assert (a.roles == b.roles).all()
    assert len(ea) == len(eb)  # an edge moves to another regulator of the same target
    moved = int(b.stats["edges_moved"])
    # half the edges are drawn to move; one whose target has no other candidate regulator stays
    want = len(ea) - round(0.5 * len(ea))
    assert len(ea & eb) == len(ea) - moved and 0.75 * want <= moved <= want
    assert not np.allclose(a.counts.to_numpy(), b.counts.to_numpy())  # other kinetics and cells
    c = simulate_dataset(seed=4, network_seed=3, **SIM)  # everything shared
    assert set(zip(c.network.Gene1, c.network.Gene2)) == ea


def test_simulator_defaults_are_unchanged():
    """network_seed None and shared_edges 1 draw exactly what the simulator drew before."""
    a = simulate_dataset(seed=3, **SIM)
    b = simulate_dataset(seed=3, shared_edges=1.0, network_seed=None, **SIM)
    pd.testing.assert_frame_equal(a.counts, b.counts)
    assert b.stats["edges_moved"] == 0
    with pytest.raises(InputError, match="shared_edges"):
        simulate_dataset(seed=3, shared_edges=1.5, **SIM)


# --------------------------------------------------------------------------------------------
# the split function


@pytest.mark.parametrize("mode", ["hard", "density"])
def test_cross_dataset_split_is_clean(pair, mode):
    a, b = pair
    s = sp.cross_dataset_split(b, a, 0, mode=mode, train_mode=mode)
    tv, te = s[s.Part != "test"], s[s.Part == "test"]
    assert not _pairs(tv) & _pairs(te)  # no (TF, target) pair in training and test
    ea, eb = sp.mapped_network(a, b), _edges(b)
    assert _pairs(tv[tv.Label == 1]) <= ea and _pairs(te[te.Label == 1]) <= eb  # each part: its own network
    assert not _pairs(s[s.Label == 0]) & (ea | eb)  # a negative is an edge of neither
    assert len(te) and te.Label.sum() and tv.Label.sum() and (s.Part == "val").any()
    summary = sp.check_split(s, b, train_network=ea, verbose=False)
    assert summary["test"]["positives"] == int(te.Label.sum())
    with pytest.raises(SplitLeakError, match="positives are not in the network"):
        sp.check_split(s, b, verbose=False)  # against the test network alone, transferred labels are wrong
    c = s.attrs["cross_dataset"]
    assert c["train"] == "simA" and c["negatives"] == {"train": mode, "test": mode}
    assert c["train_positives"] == len(_edges(a))
    # the test share: about test_frac of the pairs; shared edges appear as test positives too
    assert 0.1 < len(te) / len(s) < 0.5 if mode == "hard" else len(te) > 0
    assert _pairs(te[te.Label == 1]) & _edges(a)
    # seeded
    pd.testing.assert_frame_equal(s, sp.cross_dataset_split(b, a, 0, mode=mode, train_mode=mode))
    assert not s.equals(sp.cross_dataset_split(b, a, 1, mode=mode, train_mode=mode))


def test_cross_dataset_split_density_trains_on_one_to_one_negatives(pair):
    a, b = pair
    s = sp.cross_dataset_split(b, a, 0, mode="hard", train_mode="density")
    tv = s[s.Part != "test"]
    per_tf = tv.groupby("TF")["Label"].agg(["sum", "count"])
    assert ((per_tf["count"] - per_tf["sum"]) <= per_tf["sum"]).all()


def test_genes_match_by_upper_cased_symbol_and_missing_genes_are_dropped(pair):
    a, b = pair
    # the training dataset spells its genes in lower case (mouse vs human style) and lacks some
    ad = a.adata.copy()
    keep = [g for i, g in enumerate(ad.var_names) if i % 7 != 3 or g.startswith("TF")]
    ad = ad[:, keep].copy()
    lower = {g: g.lower() for g in ad.var_names}
    ad.var_names = [lower[g] for g in ad.var_names]
    net = a.network
    net = net[net.Gene1.isin(lower) & net.Gene2.isin(lower)]
    ad.uns["network"] = {"Gene1": net.Gene1.map(lower).to_numpy(str), "Gene2": net.Gene2.map(lower).to_numpy(str)}
    a2 = GRNData(ad, name="simA_lower")
    s = sp.cross_dataset_split(b, a2, 0)
    assert set(s.TF) | set(s.Target) <= set(b.genes)  # every row in the test dataset's names
    c = s.attrs["cross_dataset"]
    assert c["genes"]["shared"] == len(keep) < b.n_genes
    tv = s[s.Part != "test"]
    want = {(x.upper(), y.upper()) for x, y in zip(a2.network.Gene1, a2.network.Gene2)}
    assert _pairs(tv[tv.Label == 1]) <= want
    sp.check_split(s, b, train_network=sp.mapped_network(a2, b), verbose=False)
    # genes of the test dataset absent from training: their pairs can only be test pairs, and
    # they make the unseen-target subgroup
    missing = set(b.genes) - {g.upper() for g in a2.genes}
    assert missing and not (set(tv.Target) & missing)
    groups = sg.unseen_subgroups(s)
    te = s[s.Part == "test"]
    assert te.Target[groups["unseen_target"]].isin(missing).all() and groups["unseen_target"].any()


def test_ambiguous_symbols_are_refused(pair):
    a, b = pair
    ad = a.adata.copy()
    names = list(ad.var_names)
    names[-1] = names[-2].lower()  # G0119 and g0118 -> G0118 twice after upper-casing
    ad.var_names = names
    with pytest.raises(InputError, match="same symbol"):
        sp.cross_dataset_split(b, GRNData(ad, name="dup"), 0)


def test_keep_together_puts_a_pair_and_its_reverse_in_one_share(pair):
    a, b = pair
    s = sp.cross_dataset_split(b, a, 0, reciprocal="keep_together")
    tv, te = s[s.Part != "test"], s[s.Part == "test"]
    assert not {(y, x) for x, y in _pairs(te)} & _pairs(tv)
    assert sp.check_split(s, b, train_network=sp.mapped_network(a, b), verbose=False)["reciprocal"]["mode"] == "keep_together"


def test_bad_parameters_are_refused(pair):
    a, b = pair
    with pytest.raises(InputError, match="mode"):
        sp.cross_dataset_split(b, a, 0, mode="soft")
    with pytest.raises(InputError, match="test_frac"):
        sp.cross_dataset_split(b, a, 0, test_frac=1.0)


# --------------------------------------------------------------------------------------------
# subgroups


def test_unseen_subgroups_by_role():
    split = pd.DataFrame({
        "TF": ["A", "A", "B", "A", "C", "B", "A"],
        "Target": ["x", "y", "x", "z", "x", "w", "A"],
        "Label": [1, 0, 1, 0, 1, 0, 0],
        "Part": ["train", "train", "val", "test", "test", "test", "test"],
    })
    g = sg.unseen_subgroups(split)
    # test rows: A->z (target z unseen), C->x (TF C unseen), B->w (w unseen), A->A (A never a target)
    assert g["unseen_tf"].tolist() == [False, True, False, False]
    assert g["unseen_target"].tolist() == [True, False, True, True]
    assert g["both_seen"].tolist() == [False, False, False, False]
    assert sg.subgroup_counts(split)["unseen_target"] == {"pairs": 3, "positives": 0}
    # scored only for cross_dataset splits, and only groups with both labels
    assert sg.subgroup_scopes(split) == {}
    assert sg.subgroup_scopes(split, protocol="cross_dataset") == {}
    split.loc[3, "Label"] = 1  # A->z now a positive: unseen_target has both labels
    assert set(sg.subgroup_scopes(split, protocol="cross_dataset")) == {"test:unseen_target"}


# --------------------------------------------------------------------------------------------
# planning


def _config(**cd):
    return {
        "seeds": [0],
        "datasets": {"simA": {"source": "simulate", "networks": ["g"], "genesets": ["tfs80"]},
                     "simB": {"source": "simulate", "networks": ["g", "h"], "genesets": ["tfs80", "tfs40"]}},
        "splits": ["genelink", "cross_dataset"],
        "split_params": {"cross_dataset": cd},
        "methods": {},
    }


def test_planning_lists_the_cells_and_refuses_impossible_ones():
    ok = _config(train={"dataset": "simA", "network": "g"})
    assert config_problems(ok, {}) == []
    assert cross_dataset_jobs(ok) == {("simB", "g", "tfs80"): ("simA", "g", "tfs80"),
                                      ("simB", "h", "tfs80"): ("simA", "g", "tfs80")}
    only = _config(train={"dataset": "simA", "network": "g"}, test=[{"dataset": "simB", "network": "h"}])
    assert list(cross_dataset_jobs(only)) == [("simB", "h", "tfs80")]
    # an explicit test cell with a gene set the training dataset lacks (tfs40) is refused
    assert any("['tfs40']" in p for p in config_problems(only, {}))
    cases = {
        "split_params.cross_dataset.train:": _config(),
        "is not a dataset of the config": _config(train={"dataset": "nope", "network": "g"}),
        "is not a network of datasets.simA": _config(train={"dataset": "simA", "network": "h"}),
        "is the training cell itself": _config(train={"dataset": "simA", "network": "g"},
                                               test=[{"dataset": "simA", "network": "g"}]),
        "is not a cell of the config": _config(train={"dataset": "simA", "network": "g"},
                                               test=[{"dataset": "simC", "network": "g"}]),
    }
    for want, cfg in cases.items():
        problems = config_problems(cfg, {})
        assert any(want in p for p in problems), (want, problems)
    alone = _config(train={"dataset": "simA", "network": "g"})
    del alone["datasets"]["simB"]
    assert any("no cell to test on" in p for p in config_problems(alone, {}))


def test_dry_run_refuses_a_training_cell_outside_the_config(tmp_path):
    import subprocess

    cfg = (ROOT / "config" / "cross-dataset-sim.yaml").read_text().replace("dataset: simA, network: groundtruth",
                                                                            "dataset: simZ, network: groundtruth")
    (tmp_path / "c.yaml").write_text(cfg)
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(tmp_path / "c.yaml"),
                        "--config", f"results={tmp_path}/res"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "split_params.cross_dataset.train.dataset: 'simZ'" in r.stdout + r.stderr


def test_dry_run_plans_cross_dataset_for_the_tested_cell_only(tmp_path):
    import subprocess

    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", "config/cross-dataset-sim.yaml",
                        "--config", f"results={tmp_path}/res"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "simB/groundtruth/tfs80/cross_dataset/degree_prior/seed1/edges.csv" in r.stdout
    assert "simA/groundtruth/tfs80/cross_dataset" not in r.stdout


def test_dry_run_plans_the_mdc_config(shared_data, tmp_path):
    import subprocess

    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", "config/cross-dataset.yaml",
                        "--config", f"results={tmp_path}/res"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "mDC/nonspecific/tfs500/cross_dataset/genelink/seed2/edges.csv" in r.stdout
    assert "mDC/specific/tfs500/cross_dataset" not in r.stdout


# --------------------------------------------------------------------------------------------
# end to end on the simulator, through the workflow's stage functions (fast)


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    root = tmp_path_factory.mktemp("cross")
    a, b = _sim_pair()
    h5 = {}
    for name, res in (("simA", a), ("simB", b)):
        files = write_beeline(res, root / "raw" / name, counts=False)
        data = pl.load_raw_dataset(source="simulate", geneset="tfs60", name=name, expression=files["expression"],
                                   network=files["network"], tfs=files["tfs"], pseudotime=files["pseudotime"],
                                   pvalue=0)  # every TF and the 60 most-varying genes: not the same in both
        h5[name] = root / name / "data.h5ad"
        pl.save_dataset(data, h5[name], root / name / "stats.json")
    cell = root / "simB" / "groundtruth" / "tfs60" / "cross_dataset"
    split = cell / "split_seed0.csv"
    summary = pl.make_split(h5["simB"], split, protocol="cross_dataset", seed=0, network="groundtruth",
                            train_data={"h5ad": str(h5["simA"]), "network": "groundtruth", "name": "simA/groundtruth/tfs60"})
    metrics = {}
    for method in ("random", "degree_prior", "pcc"):
        d = cell / method / "seed0"
        pl.run_method(h5["simB"], split, d / "edges.csv", d / "run.json", method=method, seed=0)
        metrics[method] = pl.evaluate(h5["simB"], split, d / "edges.csv", d / "metrics.json", run_path=d / "run.json",
                                      ids={"dataset": "simB", "network": "groundtruth", "geneset": "tfs60",
                                           "split": "cross_dataset", "method": method, "seed": 0})
    return root, h5, split, summary, metrics


def test_end_to_end_on_the_simulator(e2e):
    root, h5, split_path, summary, metrics = e2e
    assert summary["status"] == "ok" and summary["cross_dataset"]["train"] == "simA/groundtruth/tfs60"
    sub = summary["cross_dataset"]["subgroups"]
    assert sub["unseen_target"]["pairs"] > 0  # the two datasets selected different genes
    split = pl.read_split(split_path)
    g = sg.unseen_subgroups(split)
    assert (g["unseen_tf"] | g["unseen_target"] | g["both_seen"]).all()
    assert not (g["both_seen"] & (g["unseen_tf"] | g["unseen_target"])).any()
    assert not _pairs(split[split.Part != "test"]) & _pairs(split[split.Part == "test"])
    for method, m in metrics.items():
        assert m["status"] == "ok", (method, m.get("error"))
        test = m["scopes"]["test"]
        assert test["n_pairs"] == summary["test"]["pairs"] and test["coverage"] == 1.0
        scored = [s for s in m["scopes"] if s.startswith("test:") and s[5:] in sg.UNSEEN_SUBGROUPS]
        assert scored, m["scopes"].keys()
        for s in scored:
            assert m["scopes"][s]["n_pairs"] == sub[s[5:]]["pairs"]
    # degree_prior knows training labels only: an unseen TF gets no TF term, so it ranks by target
    assert metrics["degree_prior"]["scopes"]["test"]["auroc"] > 0.5
    assert abs(metrics["random"]["scopes"]["test"]["auroc"] - 0.5) < 0.15
    # the prior graph a GNN gets is the training positives only
    from grnbench.data.dataset import read_h5ad
    from grnbench.data.views import method_view

    view = method_view(read_h5ad(h5["simB"]), split, "supervised")
    tr = split[(split.Part == "train") & (split.Label == 1)]
    assert set(zip(view.network.Gene1, view.network.Gene2)) == _pairs(tr)
    assert summary == json.loads(json.dumps(summary))  # the summary is JSON as written by rule split


def test_a_missing_training_dataset_is_refused(tmp_path, e2e):
    _, h5, _, _, _ = e2e
    with pytest.raises(InputError, match="cross_dataset.train"):
        pl.make_split(h5["simB"], tmp_path / "s.csv", protocol="cross_dataset", seed=0, network="groundtruth")


@pytest.mark.slow
def test_workflow_runs_cross_dataset_on_the_simulator(tmp_path):
    """config/cross-dataset-sim.yaml end to end, tables included, trimmed for the suite's time
    (one seed; genelink beside cross_dataset, for the generalization table): about 30 jobs."""
    import subprocess

    from conftest import copy_workflow

    wf = copy_workflow(tmp_path / "wf")
    res = tmp_path / "res"
    import yaml

    cfg = yaml.safe_load((wf / "config" / "cross-dataset-sim.yaml").read_text())
    cfg.update(seeds=[0], splits=["genelink", "cross_dataset"])
    (wf / "trimmed.yaml").write_text(yaml.safe_dump(cfg))
    r = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "trimmed.yaml",
                        "--config", f"results={res}"], cwd=wf, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    m = pd.read_csv(res / "tables" / "metrics.tsv", sep="\t")
    cd = m[(m.split == "cross_dataset")]
    assert set(cd.dataset) == {"simB"} and (cd.status == "ok").all()
    assert {"test", "test:unseen_target"} <= set(cd.scope)
    g = pd.read_csv(res / "tables" / "generalization.tsv", sep="\t")
    assert "cross_dataset" in set(g.split) and (res / "figures" / "generalization.png").exists()


# --------------------------------------------------------------------------------------------
# real data: mDC TFs+500, cell-type-specific ChIP-seq labels -> non-specific pairs


def test_mdc_specific_to_nonspecific(shared_data):
    from grnbench.data.readers import read_genelink_folder
    from grnbench.methods import get

    root = shared_data / "genelink"
    a = read_genelink_folder(root / "specific" / "mDC" / "tfs500", name="mDC/specific")
    b = read_genelink_folder(root / "nonspecific" / "mDC" / "tfs500", name="mDC/nonspecific")
    s = sp.cross_dataset_split(b, a, 0, mode=pl.split_mode("nonspecific"), train_mode=pl.split_mode("specific"))
    summary = sp.check_split(s, b, train_network=sp.mapped_network(a, b), verbose=False)
    c = s.attrs["cross_dataset"]
    assert c["genes"]["shared"] == 821 and c["negatives"] == {"train": "hard", "test": "density"}
    assert summary["reciprocal"]["mode"] == "keep_together"  # 42% of non-specific edges reciprocal
    groups = sg.unseen_subgroups(s)
    assert groups["unseen_tf"].sum() > groups["both_seen"].sum()  # specific has few TFs with edges
    seen, test = s[s.Part != "test"], s[s.Part == "test"]
    dp = get("degree_prior")()
    score = dp.score_pairs(b, seen, test[["TF", "Target"]].reset_index(drop=True), seed=0)
    from sklearn.metrics import roc_auc_score

    y = test.Label.to_numpy()
    assert 0.5 < roc_auc_score(y, score) < 0.8
