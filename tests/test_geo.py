"""GEO -> BEELINE-format files -> GRNData, on small seeded GEO-like files made here.

The files imitate the layouts of the real sources (GSE75748: genes x cells expected counts with
the time point in the cell name; GSE81252: cells x genes log2 values with an ``experiment``
column; BEELINE-Networks.zip: ``<prefix>/human-tfs.csv`` and ``<prefix>/Networks/human/...``),
so every count of every step is known in advance.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grnbench.data import geo
from grnbench.data.geo import GeoSpec
from grnbench.errors import InputError

ROOT = Path(__file__).resolve().parents[1]

HESC_TIMES = (0, 12, 24, 36, 72, 96)
HEP_LABELS = ("ipsc", "de", "he1", "he2", "ih1", "mh1", "mh2")
HEP_ORDER = {"ipsc": 0, "de": 1, "he1": 2, "he2": 2, "ih1": 3, "mh1": 4, "mh2": 4}

HESC_SPEC = {
    "orientation": "genes_x_cells", "time_from": "name", "time_pattern": r"^[^.]+\.(\d+)h",
    "normalise": "median_ratio", "min_value": 1, "min_cells": 1, "pseudotime": "dpt",
    "dpt": {"n_neighbors": 15, "n_dcs": 5, "metric": "cosine", "seed": 0},
    "species": "human", "chip_cell": "hESC",
}
HEP_SPEC = {
    "orientation": "cells_x_genes", "meta_columns": ["experiment"], "time_from": "column",
    "time_column": "experiment", "label_map": {"he1": "he", "he2": "he", "mh1": "mh", "mh2": "mh"},
    "time_values": {"ipsc": 0, "de": 6, "he": 8, "ih1": 14, "mh": 21}, "normalise": "none",
    "min_value": 0.1, "min_cells_frac": 0.1, "pseudotime": "time", "species": "human", "chip_cell": "HepG2",
}


# --------------------------------------------------------------------------------------------------
# Synthetic GEO files
# --------------------------------------------------------------------------------------------------


def _trajectory_means(rng, t, n_genes, base=(3.0, 5.5)):
    """Gene means along latent time t in [0, 1]: log-mean = a + b * sigmoid((t - c) / w)."""
    a = rng.uniform(*base, n_genes)
    b = rng.choice([-1.0, 1.0], n_genes) * rng.uniform(0.5, 2.5, n_genes)
    c = rng.uniform(0.2, 0.8, n_genes)
    return np.exp(a + b / (1 + np.exp(-(t[:, None] - c) / 0.1)))


def make_hesc_like(folder: Path, seed: int = 0, n_per_time: int = 20, n_tfs: int = 30,
                   n_targets: int = 120, gz: bool = True) -> dict:
    """GSE75748-like genes x cells expected counts (+ 2 spike-ins, 1 all-zero gene, 1 gene < 1)."""
    rng = np.random.default_rng(seed)
    cells, t = [], []
    for h in HESC_TIMES:
        tag = f"{h:02d}hb4s" if h == 0 else f"{h:02d}h"
        cells += [f"H9.{tag}_{i:03d}" for i in range(1, n_per_time + 1)]
        t += list(np.clip(h / 96 + rng.normal(0, 0.04, n_per_time), 0, 1))
    t = np.asarray(t)
    tfs = [f"TF{i:02d}" for i in range(n_tfs)]
    targets = [f"GENE{i:03d}" for i in range(n_targets)]
    expressed = tfs + targets + ["ERCC-00002", "ERCC-00130"]
    lib = rng.lognormal(0, 0.3, len(cells))
    mu = _trajectory_means(rng, t, len(expressed)) * lib[:, None]
    counts = rng.poisson(mu).astype(float) + rng.uniform(0, 0.99, mu.shape).round(2)  # RSEM-like
    low = np.where(rng.random(len(cells)) < 0.2, 0.4, 0.0)  # never reaches 1 count
    x = np.column_stack([counts, np.zeros(len(cells)), low])
    genes = expressed + ["ZERO1", "LOW1"]
    df = pd.DataFrame(x.T, index=genes, columns=cells)
    path = folder / ("GSE_hesc_like.csv.gz" if gz else "GSE_hesc_like.csv")
    text = df.to_csv(float_format="%.2f")
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return {"path": path, "cells": cells, "t": t, "tfs": tfs, "genes_kept": expressed, "genes": genes}


def make_hep_like(folder: Path, seed: int = 1, n_per_label: int = 12, n_tfs: int = 25, n_targets: int = 80) -> dict:
    """GSE81252-like cells x genes log2 values with an ``experiment`` column (+ 3 rarely expressed genes)."""
    rng = np.random.default_rng(seed)
    cells, labels, t = [], [], []
    for lab in HEP_LABELS:
        cells += [f"{lab}_{i:02d}" for i in range(n_per_label)]
        labels += [lab] * n_per_label
        t += list(np.clip(HEP_ORDER[lab] / 4 + rng.normal(0, 0.05, n_per_label), 0, 1))
    t = np.asarray(t)
    tfs = [f"TF{i:02d}" for i in range(n_tfs)]
    targets = [f"HEPG{i:03d}" for i in range(n_targets)]
    expressed = tfs + targets
    mu = _trajectory_means(rng, t, len(expressed), base=(0.5, 3.0))
    x = np.log2(1 + mu * (rng.random(mu.shape) > 0.3))  # dropout
    n = len(cells)
    rare = np.zeros((n, 3))
    rare[: int(0.05 * n), 0] = 2.0  # in 5% of cells -> filtered (needs >= 10%)
    rare[:, 1] = 0.05  # everywhere, but below 0.1 -> filtered
    rare[: int(np.ceil(0.1 * n)), 2] = 1.0  # exactly 10% -> kept
    genes = expressed + ["RARE1", "FAINT1", "EDGE10PCT"]
    df = pd.DataFrame(np.column_stack([x, rare]), index=cells, columns=genes)
    df.insert(0, "experiment", labels)
    path = folder / "GSE_hep_like.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(df.to_csv(float_format="%.4f"))
    return {"path": path, "cells": cells, "t": t, "labels": labels, "tfs": tfs,
            "genes_kept": expressed + ["EDGE10PCT"], "genes": genes}


def _edges(rng, tfs, genes, n, extra_genes=()):
    pool = list(genes) + list(extra_genes)
    e = [(rng.choice(tfs), rng.choice(pool)) for _ in range(n)]
    return pd.DataFrame(e, columns=["Gene1", "Gene2"])


def make_networks_zip(folder: Path, hesc: dict, hep: dict, seed: int = 2, prefix: str = "BEELINE-Networks/") -> dict:
    """BEELINE-Networks.zip-like archive; each network has edges to absent genes, a self-loop, a duplicate."""
    rng = np.random.default_rng(seed)
    nets = {
        "Networks/human/hESC-ChIP-seq-network.csv": _edges(rng, hesc["tfs"][:8], hesc["genes_kept"], 150, ["ABSENT1"]),
        "Networks/human/HepG2-ChIP-seq-network.csv": _edges(rng, hep["tfs"][:6], hep["genes_kept"], 120, ["ABSENT2"]),
        "Networks/human/Non-specific-ChIP-seq-network.csv": _edges(
            rng, hesc["tfs"] + hep["tfs"], hesc["genes_kept"] + hep["genes_kept"], 300, ["ABSENT3"]),
        "Networks/human/STRING-network.csv": _edges(
            rng, hesc["tfs"] + hep["tfs"], hesc["genes_kept"] + hep["genes_kept"], 250),
        "Networks/mouse/Non-Specific-ChIP-seq-network.csv": _edges(rng, ["Tf1"], ["G1", "G2"], 2),
    }
    for df in nets.values():
        df.loc[len(df)] = [df.iloc[0, 0], df.iloc[0, 0]]  # self-loop
        df.loc[len(df)] = list(df.iloc[1])  # duplicate
    tfs = pd.DataFrame({"TF": sorted(set(hesc["tfs"]) | set(hep["tfs"])) + ["NOTEXPRESSED"],
                        "Source": "synthetic"})
    path = folder / "BEELINE-Networks.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, df in nets.items():
            zf.writestr(prefix + name, df.to_csv(index=False))
        zf.writestr(prefix + "human-tfs.csv", tfs.to_csv(index=False))
        zf.writestr(prefix + "mouse-tfs.csv", "TF\nTf1\n")
    return {"path": path, "nets": nets}


def expected_edges(net: pd.DataFrame, genes) -> set:
    g = set(genes)
    return {(a, b) for a, b in zip(net["Gene1"], net["Gene2"]) if a != b and a in g and b in g}


@pytest.fixture(scope="module")
def geo_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("geo_src")
    hesc = make_hesc_like(d)
    hep = make_hep_like(d)
    z = make_networks_zip(d, hesc, hep)
    return {"dir": d, "hesc": hesc, "hep": hep, "zip": z}


@pytest.fixture(scope="module")
def hesc_raw(geo_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("raw_hesc")
    spec = GeoSpec.from_config(HESC_SPEC)
    summary = geo.geo_to_beeline(geo_files["hesc"]["path"], out, spec, networks_zip=geo_files["zip"]["path"],
                                 ref_network="specific", summary_path=out / "geo_summary.json")
    return out, summary


# --------------------------------------------------------------------------------------------------
# The chain, step by step
# --------------------------------------------------------------------------------------------------


def test_read_geo_matrix_both_layouts(geo_files):
    h = geo_files["hesc"]
    vals, meta = geo.read_geo_matrix(h["path"])
    assert vals.shape == (len(h["cells"]), len(h["genes"]))
    assert list(vals.index) == h["cells"] and list(vals.columns) == h["genes"]
    assert meta.shape == (len(h["cells"]), 0)
    p = geo_files["hep"]
    vals, meta = geo.read_geo_matrix(p["path"], orientation="cells_x_genes", meta_columns=["experiment"])
    assert vals.shape == (len(p["cells"]), len(p["genes"]))
    assert meta["experiment"].tolist() == p["labels"]


def test_header_without_index_name_is_accepted(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("c1,c2,c3\nNA,1,2,3\nB,0,5,1\n")  # a gene named "NA" stays "NA"
    vals, _ = geo.read_geo_matrix(path)
    assert list(vals.index) == ["c1", "c2", "c3"] and list(vals.columns) == ["NA", "B"]
    assert vals.loc["c2", "B"] == 5


def test_cell_labels_and_selection(geo_files):
    h = geo_files["hesc"]
    vals, meta = geo.read_geo_matrix(h["path"])
    spec = GeoSpec.from_config(HESC_SPEC)
    lab = geo.cell_labels(vals.index, meta, spec)
    assert sorted(set(lab)) == sorted(f"{x:02d}" for x in HESC_TIMES)
    times = geo.label_times(lab, spec)
    assert sorted(set(times)) == [float(x) for x in HESC_TIMES]
    p = geo_files["hep"]
    vals, meta = geo.read_geo_matrix(p["path"], orientation="cells_x_genes", meta_columns=["experiment"])
    spec = GeoSpec.from_config({**HEP_SPEC, "keep_labels": ["ipsc", "he", "mh"]})
    lab = geo.cell_labels(vals.index, meta, spec)
    assert set(lab) == {"ipsc", "de", "he", "ih1", "mh"}  # he1/he2 and mh1/mh2 merged, as BEELINE did
    keep = geo.select_cells(lab, spec)
    assert keep.sum() == 12 * 5  # ipsc + he1 + he2 + mh1 + mh2
    with pytest.raises(InputError, match="keep_labels"):
        geo.select_cells(lab, GeoSpec.from_config({**HEP_SPEC, "keep_labels": ["day99"]}))


def test_median_ratio_size_factors_equation():
    # gene 3 has a zero -> excluded; cell 2 is cell 1 doubled -> size factor ratio exactly 2
    x = pd.DataFrame([[10.0, 20, 5, 0], [20, 40, 10, 3], [10, 25, 4, 1]])
    s = geo.median_ratio_size_factors(x)
    g = np.exp(np.log(x.iloc[:, :3]).mean(axis=0))
    expect = np.median(x.iloc[:, :3] / g, axis=1)
    np.testing.assert_allclose(s, expect)
    assert s[1] / s[0] == pytest.approx(2.0)
    logx, _ = geo.log2_median_ratio_normalise(x)
    np.testing.assert_allclose(logx.iloc[1, 0], np.log2(20 / s[1] + 1))
    with pytest.raises(InputError, match="positive value in every cell"):
        geo.median_ratio_size_factors(pd.DataFrame([[0.0, 1], [1, 0]]))


def test_filter_genes_thresholds():
    v = pd.DataFrame({"a": [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], "b": [0.5] * 10, "c": [0.1] + [0] * 9,
                      "ERCC-1": [5] * 10}, dtype=float)
    assert list(geo.filter_genes(v, min_value=1, min_cells=1)) == ["a", "ERCC-1"]
    assert list(geo.filter_genes(v, min_value=0.1, min_cells_frac=0.1)) == ["a", "b", "c", "ERCC-1"]
    assert list(geo.filter_genes(v, min_value=0.1, min_cells_frac=0.11)) == ["b", "ERCC-1"]
    assert list(geo.filter_genes(v, min_value=1, exclude="^ERCC-")) == ["a"]


def test_hesc_chain_counts(geo_files, hesc_raw):
    out, summary = hesc_raw
    h, z = geo_files["hesc"], geo_files["zip"]
    n_cells = len(h["cells"])
    assert summary["cells_read"] == summary["cells_kept"] == n_cells
    assert summary["cells_per_label"] == {f"{x:02d}": 20 for x in HESC_TIMES}
    assert summary["genes_read"] == len(h["genes"])
    assert summary["genes_kept"] == len(h["genes_kept"])  # ZERO1 and LOW1 dropped, spike-ins kept as BEELINE did
    assert summary["tfs_in_data"] == len(h["tfs"]) and summary["tfs_in_list"] == 31  # 30 TFs + NOTEXPRESSED
    expr = pd.read_csv(out / "ExpressionData.csv", index_col=0)
    assert expr.shape == (len(h["genes_kept"]), n_cells)
    assert list(expr.columns) == [c.replace(".", "_") for c in h["cells"]]  # BEELINE's cell names
    assert (expr.to_numpy() >= 0).all() and expr.to_numpy().max() < 20  # log2 scale
    pt = pd.read_csv(out / "PseudoTime.csv", index_col=0)
    assert list(pt.columns) == ["PseudoTime"] and list(pt.index) == list(expr.columns)
    rho = pd.Series(pt["PseudoTime"].to_numpy()).corr(pd.Series(h["t"]), method="spearman")
    assert rho > 0.8, rho
    info = summary["pseudotime"]
    assert info["method"] == "dpt" and info["root_cell"].startswith("H9.00h") and info["n_unreachable"] == 0
    assert pd.read_csv(out / "TFs.csv")["TF"].tolist() == h["tfs"]
    ref = pd.read_csv(out / "refNetwork.csv")
    want = expected_edges(z["nets"]["Networks/human/hESC-ChIP-seq-network.csv"], h["genes_kept"])
    assert set(zip(ref["Gene1"], ref["Gene2"])) == want and len(ref) == len(want)
    assert summary["ref_network"]["edges_written"] == len(want)
    assert json.loads((out / "geo_summary.json").read_text())["genes_kept"] == len(h["genes_kept"])


def test_every_network_name_maps_to_its_member(geo_files, hesc_raw, tmp_path):
    out, _ = hesc_raw
    z, h = geo_files["zip"], geo_files["hesc"]
    spec = GeoSpec.from_config(HESC_SPEC)
    genes = geo.expression_genes(out / "ExpressionData.csv")
    for name, member in [("specific", "hESC-ChIP-seq"), ("nonspecific", "Non-specific-ChIP-seq"), ("string", "STRING")]:
        stats = geo.write_network(name, spec, z["path"], genes, tmp_path / f"network_{name}.csv")
        net = pd.read_csv(tmp_path / f"network_{name}.csv")
        want = expected_edges(z["nets"][f"Networks/human/{member}-network.csv"], h["genes_kept"])
        assert set(zip(net["Gene1"], net["Gene2"])) == want
        assert stats["edges_written"] == len(want) and member in stats["source"]
    with pytest.raises(InputError, match="no member ending with"):  # BEELINE has LOF/GOF only for mESC
        geo.write_network("lofgof", spec, z["path"], genes, tmp_path / "network_lofgof.csv")
    assert not (tmp_path / "network_lofgof.csv").exists()
    assert not list(tmp_path.glob(".extract*"))  # temporary extraction folders are gone


def test_chain_into_grndata(geo_files, hesc_raw, tmp_path):
    """raw BEELINE files -> grnbench.pipeline.load_raw_dataset -> GRNData (the preprocess rule's call)."""
    from grnbench.pipeline import load_raw_dataset

    out, summary = hesc_raw
    h = geo_files["hesc"]
    data = load_raw_dataset(source="geo", geneset="tfs40", name="hESC/specific/tfs40",
                            expression=out / "ExpressionData.csv", network=out / "refNetwork.csv",
                            tfs=out / "TFs.csv", pseudotime=out / "PseudoTime.csv", pvalue=0.01)
    assert data.n_cells == len(h["cells"])
    assert set(data.tfs) <= set(h["tfs"]) and len(data.tfs) >= 1
    assert len(set(data.genes) - set(data.tfs)) <= 40
    assert set(data.genes) <= set(h["genes_kept"])
    ref = pd.read_csv(out / "refNetwork.csv")
    g = set(data.genes)
    want = {(a, b) for a, b in zip(ref["Gene1"], ref["Gene2"]) if a in g and b in g}
    assert set(zip(data.network["Gene1"], data.network["Gene2"])) == want
    assert np.isfinite(data.pseudotime).all()
    # BEELINE's rule: the variance test along pseudotime, Bonferroni, then TFs + 40 most varying
    from grnbench.data.preprocess import select_genes
    from grnbench.data.readers import read_expression, read_pseudotime

    expr = read_expression(out / "ExpressionData.csv")
    want_genes = select_genes(expr, h["tfs"], 40, pvalue=0.01, pseudotime=read_pseudotime(out / "PseudoTime.csv"))
    assert len(want_genes) < expr.shape[1]  # the test rejects some genes of the synthetic data
    assert data.genes == want_genes, "load_raw_dataset must pass the pseudotime to select_genes"


def test_hep_chain_with_time_labels(geo_files, tmp_path):
    p, z = geo_files["hep"], geo_files["zip"]
    spec = GeoSpec.from_config(HEP_SPEC)
    s = geo.geo_to_beeline(p["path"], tmp_path, spec, networks_zip=z["path"], ref_network="specific")
    assert s["cells_read"] == s["cells_kept"] == len(p["cells"])
    assert s["cells_per_label"] == {"de": 12, "he": 24, "ih1": 12, "ipsc": 12, "mh": 24}
    assert s["genes_kept"] == len(p["genes_kept"])  # RARE1 (5%) and FAINT1 (< 0.1) dropped, EDGE10PCT kept
    assert "size_factor_range" not in s  # already log2: values kept as read
    expr = pd.read_csv(tmp_path / "ExpressionData.csv", index_col=0)
    src, _ = geo.read_geo_matrix(p["path"], orientation="cells_x_genes", meta_columns=["experiment"])
    np.testing.assert_allclose(expr.T.to_numpy(), src[p["genes_kept"]].to_numpy(), atol=5e-5)
    pt = pd.read_csv(tmp_path / "PseudoTime.csv", index_col=0)["PseudoTime"]
    days = pd.Series(p["labels"]).map(lambda x: HEP_SPEC["time_values"][HEP_SPEC["label_map"].get(x, x)])
    np.testing.assert_allclose(pt.to_numpy(), days / 21.0, atol=1e-6)
    ref = pd.read_csv(tmp_path / "refNetwork.csv")
    want = expected_edges(z["nets"]["Networks/human/HepG2-ChIP-seq-network.csv"], p["genes_kept"])
    assert set(zip(ref["Gene1"], ref["Gene2"])) == want


def test_same_seed_same_files(geo_files, hesc_raw, tmp_path):
    out, _ = hesc_raw
    geo.geo_to_beeline(geo_files["hesc"]["path"], tmp_path, GeoSpec.from_config(HESC_SPEC),
                       networks_zip=geo_files["zip"]["path"])
    for f in ("ExpressionData.csv", "PseudoTime.csv", "TFs.csv"):
        assert (tmp_path / f).read_bytes() == (out / f).read_bytes(), f


def test_local_files_instead_of_the_zip(geo_files, tmp_path):
    """The new-dataset recipe: a plain CSV matrix, a local TF list and a local network."""
    h = geo_files["hesc"]
    src = geo_files["dir"] / "plain.csv"
    src.write_bytes(gzip.decompress(h["path"].read_bytes()))
    (tmp_path / "tfs.txt").write_text("TF\n" + "\n".join(h["tfs"][:5]) + "\n")
    net = pd.DataFrame({"Gene1": ["TF00", "TF01", "TF00"], "Gene2": ["GENE001", "GENE002", "NOPE"]})
    net.to_csv(tmp_path / "mynet.csv", index=False)
    spec = GeoSpec.from_config({**HESC_SPEC, "pseudotime": "time", "tfs_file": str(tmp_path / "tfs.txt"),
                                "network_files": {"mynet": str(tmp_path / "mynet.csv")}, "exclude_genes": "^ERCC-"})
    out = tmp_path / "raw"
    s = geo.geo_to_beeline(src, out, spec, ref_network="mynet")
    assert s["tfs_in_data"] == 5 and s["genes_kept"] == len(h["genes_kept"]) - 2
    assert s["ref_network"]["edges_written"] == 2


# --------------------------------------------------------------------------------------------------
# Malformed inputs: clear errors, nothing written
# --------------------------------------------------------------------------------------------------


def test_zip_member_escaping_target_is_refused(geo_files, tmp_path):
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../Networks/human/hESC-ChIP-seq-network.csv", "Gene1,Gene2\nTF00,GENE001\n")
        zf.writestr("BEELINE-Networks/human-tfs.csv", "TF\nTF00\n")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputError, match=r"unsafe member refused.*nothing extracted"):
        geo.write_network("specific", GeoSpec.from_config(HESC_SPEC), bad, ["TF00", "GENE001"], out / "net.csv")
    assert list(out.rglob("*")) == [] and not (tmp_path / "Networks").exists()


def test_truncated_gzip_is_a_clear_error(geo_files, tmp_path):
    data = geo_files["hesc"]["path"].read_bytes()
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    with pytest.raises(InputError, match="truncated gzip"):
        geo.geo_to_beeline(cut, out, GeoSpec.from_config(HESC_SPEC), networks_zip=geo_files["zip"]["path"])
    assert not out.exists() or list(out.iterdir()) == []


def test_wrong_delimiter_is_a_clear_error(geo_files, tmp_path):
    df = pd.read_csv(geo_files["hesc"]["path"], index_col=0)
    tsv = tmp_path / "matrix.tsv"
    df.to_csv(tsv, sep="\t")
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"single column with delimiter ','.*tabs"):
        geo.geo_to_beeline(tsv, out, GeoSpec.from_config(HESC_SPEC), networks_zip=geo_files["zip"]["path"])
    assert not out.exists()
    vals, _ = geo.read_geo_matrix(tsv, sep="\t")  # right delimiter: reads
    assert vals.shape == (df.shape[1], df.shape[0])


def test_bad_values_and_names_are_named(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text(",c1,c2\nA,1,2\nB,x,3\n")
    with pytest.raises(InputError, match=r"cell 'c1', gene 'B'.*'x' is not a finite number"):
        geo.read_geo_matrix(p)
    p.write_text(",c1,c2\nA,1,2\nA,2,3\n")
    with pytest.raises(InputError, match="duplicated gene 'A'"):
        geo.read_geo_matrix(p)
    vals, _ = geo.read_geo_matrix(p, duplicate_genes="first")
    assert vals["A"].tolist() == [1, 2]
    p.write_text(",c1,c2\nA,1,2,9\n")
    with pytest.raises(InputError, match="header has 3 fields but the first data row has 4"):
        geo.read_geo_matrix(p)


def test_config_errors_name_the_key():
    with pytest.raises(InputError, match="unknown keys"):
        GeoSpec.from_config({"time_pattern": "(x)", "pseudotim": "dpt"})
    with pytest.raises(InputError, match="time_pattern"):
        GeoSpec.from_config({"time_from": "name"})
    with pytest.raises(InputError, match="normalise"):
        GeoSpec.from_config({"time_pattern": "(x)", "normalise": "tpm"})
    with pytest.raises(InputError, match="chip_cell"):
        geo.network_member("specific", "human", None)


# --------------------------------------------------------------------------------------------------
# Comparison with published inputs
# --------------------------------------------------------------------------------------------------


def _genelink_folder(data, folder: Path, expression: bool = True) -> None:
    """Write ``data`` as a GENELink folder (Target/TF/network/expression), as GENELink published them."""
    folder.mkdir(parents=True)
    genes = data.genes
    pd.DataFrame({"Gene": genes, "index": range(len(genes))}).to_csv(folder / "Target.csv")
    pd.DataFrame({"TF": data.tfs, "index": [genes.index(t) for t in data.tfs]}).to_csv(folder / "TF.csv")
    data.network.to_csv(folder / "BL--network.csv", index=False)
    if expression:
        expr = pd.DataFrame(data.expression(np.float64).T, index=genes, columns=data.adata.obs_names)
        expr.to_csv(folder / "BL--ExpressionData.csv")


def test_compare_with_published(hesc_raw, tmp_path):
    from grnbench.data import compare
    from grnbench.data.dataset import write_h5ad
    from grnbench.data.readers import read_beeline

    out, _ = hesc_raw
    data = read_beeline(out / "ExpressionData.csv", out / "refNetwork.csv", out / "TFs.csv", out / "PseudoTime.csv")
    write_h5ad(data.adata, tmp_path / "data.h5ad")
    _genelink_folder(data, tmp_path / "same")
    row = compare.compare_to_genelink(tmp_path / "data.h5ad", tmp_path / "same", dataset="hESC")
    assert row["jaccard_genes"] == row["jaccard_tfs"] == row["jaccard_edges"] == 1.0
    assert row["pearson_expression"] == pytest.approx(1.0, abs=1e-6)
    assert row["n_cells_shared"] == data.n_cells and row["n_genes_expr_shared"] == data.n_genes

    # theirs: 10 genes fewer, one gene renamed as R's make.names does, half the edges, no expression
    sub = data.adata[:, data.genes[10:]].copy()
    sub.var_names = [g.replace("ERCC-", "ERCC.") for g in sub.var_names]
    from grnbench.data.dataset import GRNData
    net = data.network
    keep = net["Gene1"].isin(sub.var_names) & net["Gene2"].isin(sub.var_names)
    sub.uns["network"] = {k: v.to_numpy() for k, v in net[keep].iloc[::2].items()}
    _genelink_folder(GRNData(sub), tmp_path / "other", expression=False)
    row = compare.compare_to_genelink(tmp_path / "data.h5ad", tmp_path / "other", dataset="hESC")
    n_ercc = sum(g.startswith("ERCC-") for g in data.genes[10:])
    shared = data.n_genes - 10 - n_ercc
    assert row["n_genes_shared"] == shared and row["jaccard_genes"] == pytest.approx(shared / (data.n_genes + n_ercc))
    assert row["jaccard_genes_rnames"] == pytest.approx((data.n_genes - 10) / data.n_genes)
    n_net = int(keep.sum())
    assert row["n_edges_theirs"] == len(range(0, n_net, 2))
    assert row["jaccard_edges"] == pytest.approx(row["n_edges_shared"] / len(net))
    assert np.isnan(row["pearson_expression"]) and "not compared" in row["note"]
    df = compare.write_comparison([row], tmp_path / "c.tsv", tmp_path / "c.json")
    assert list(df.columns) == compare.COLUMNS
    assert json.loads((tmp_path / "c.json").read_text())["rows"][0]["pearson_expression"] is None


def test_compare_raw_with_beeline_data_zip(hesc_raw, tmp_path):
    from grnbench.data import compare

    out, _ = hesc_raw
    expr = pd.read_csv(out / "ExpressionData.csv", index_col=0)
    pt = pd.read_csv(out / "PseudoTime.csv", index_col=0)
    theirs = expr.iloc[5:] * 1.0  # 5 genes fewer, same values
    theirs.columns = [c.replace("_", ".", 1) for c in theirs.columns]  # cell names written differently
    z = tmp_path / "BEELINE-data.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("BEELINE-data/inputs/scRNA-Seq/hESC/ExpressionData.csv", theirs.to_csv())
        zf.writestr("BEELINE-data/inputs/scRNA-Seq/hESC/PseudoTime.csv", (pt[::-1] * -1).to_csv())
    row = compare.compare_raw_to_beeline_zip(z, "hESC", out / "ExpressionData.csv", out / "PseudoTime.csv",
                                             tmp_path / "scratch", dataset="hESC")
    assert row["n_genes_shared"] == len(expr) - 5 and row["n_cells_shared"] == expr.shape[1]
    assert row["pearson_expression"] == pytest.approx(1.0, abs=1e-9)
    assert row["median_gene_pearson"] == pytest.approx(1.0, abs=1e-9)
    assert row["spearman_pseudotime"] == pytest.approx(-1.0)  # reversed, and matched by cell name
    assert row["reference"] == "beeline_data:BEELINE-data.zip:BEELINE-data/inputs/scRNA-Seq/hESC/ExpressionData.csv"
    assert not list((tmp_path / "scratch").iterdir())  # extraction folder removed


def test_r_make_names():
    from grnbench.data.compare import r_make_names

    assert [r_make_names(x) for x in ["HLA-DRB5", "APOC4-APOC2", "7SK", "_x", "ok.1", ".5a"]] == [
        "HLA.DRB5", "APOC4.APOC2", "X7SK", "X_x", "ok.1", "X.5a"]


# --------------------------------------------------------------------------------------------------
# The workflow plans the GEO chain
# --------------------------------------------------------------------------------------------------


def _planned_jobs(text: str) -> list[tuple[str, dict, str]]:
    """(rule, wildcards, input line) of every job in a ``snakemake -n`` listing."""
    jobs = []
    for block in text.split("\n\n"):
        lines = [ln.strip() for ln in block.strip().splitlines()]
        head = [ln for ln in lines if ln.startswith(("rule ", "localrule ")) and ln.endswith(":")]
        if not head:
            continue
        rule = head[0].split()[1].rstrip(":")
        wc = next((ln[len("wildcards: "):] for ln in lines if ln.startswith("wildcards: ")), "")
        inp = next((ln for ln in lines if ln.startswith("input: ")), "")
        jobs.append((rule, dict(kv.split("=", 1) for kv in wc.split(", ") if "=" in kv), inp))
    return jobs


@pytest.mark.slow
def test_snakemake_plans_geo_chain(tmp_path):
    """``snakemake -n --configfile config/geo.yaml`` plans download -> geo -> preprocess -> split -> infer."""
    import yaml

    snakefile = (ROOT / "Snakefile").read_text()
    assert 'include: "rules/geo.smk"' in snakefile, "the Snakefile does not include rules/geo.smk yet"
    cfg = yaml.safe_load((ROOT / "config" / "geo.yaml").read_text())
    cfg.update(results=str(tmp_path / "results"), seeds=[0])  # one seed: same chain, fewer jobs to list
    small = tmp_path / "geo.yaml"
    small.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(small), "--cores", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = _planned_jobs(proc.stdout)
    by_rule: dict[str, list] = {}
    for rule, wc, inp in jobs:
        by_rule.setdefault(rule, []).append((wc, inp))
    keys = {wc["key"] for wc, _ in by_rule.get("download_source", [])}
    assert {"geo_hesc_timecourse", "geo_hhep_lineage", "beeline_networks"} <= keys
    for ds, key in (("hESC", "geo_hesc_timecourse"), ("hHEP", "geo_hhep_lineage")):
        (geo_job,) = [inp for wc, inp in by_rule["geo_to_beeline"] if wc["dataset"] == ds]
        assert f"downloads/sources/{key}/" in geo_job and "BEELINE-Networks.zip" in geo_job
        nets = {wc["network"] for wc, _ in by_rule["geo_network"] if wc["dataset"] == ds}
        assert nets == {"specific", "nonspecific", "string"}
        pre = [(wc, inp) for wc, inp in by_rule["preprocess"] if wc["dataset"] == ds]
        assert {(wc["network"], wc["geneset"]) for wc, _ in pre} == {
            (n, g) for n in ("specific", "nonspecific", "string") for g in ("tfs500", "tfs1000")}
        assert all(f"raw/{ds}/network_{wc['network']}.csv" in inp for wc, inp in pre)
        assert {wc["split"] for wc, _ in by_rule["split"] if wc["dataset"] == ds} == {
            "genelink", "tf_holdout", "degree_matched"}
        # supervised methods run per split (rule infer), unsupervised ones once per dataset and
        # seed (rule infer_unsupervised), linked into each split's job folder
        assert {wc["method"] for wc, _ in by_rule["infer"] if wc["dataset"] == ds} == {"degree_prior"}
        assert {wc["method"] for wc, _ in by_rule["infer_unsupervised"] if wc["dataset"] == ds} == {"random", "pcc"}
        assert {wc["method"] for wc, _ in by_rule["link_unsupervised"] if wc["dataset"] == ds} == {"random", "pcc"}
        assert any(wc["dataset"] == ds for wc, _ in by_rule["compare_published"])
