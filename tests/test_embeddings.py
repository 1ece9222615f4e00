"""Gene-embedding plug-ins (issue 18, item 2): grnbench.data.embeddings and the methods that take
``params.gene_embeddings`` (scTransNet and its GNN / pooling ablations, GNE, GNNLink).

Every embedding here is made in the test (no model is downloaded): an *informative* one built
from the true network of ``tiny_data`` (a TF's vector is its one-hot code, a target's the
indicator of its regulators, plus noise: an oracle, as a foundation model that knows the biology
would be), and random ones.
"""

from __future__ import annotations

import gzip
import hashlib

import anndata as ad
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from grnbench.data.embeddings import (
    embedding_files,
    gene_embedding_matrix,
    masked_pooling_weights,
    read_gene_embeddings,
    spec_problems,
    standardise,
)
from grnbench.errors import InputError
from grnbench.methods import registry
from grnbench.models.sctransnet.attention import PoolAccumulator

EMB_METHODS = ["sctransnet", "sctransnet_no_gnn", "sctransnet_no_attnpool", "gne", "gnnlink", "genelink"]
FAST = {
    "sctransnet": {"progress": False, "pretrain_epochs": 2, "epochs": 200, "patience": None},
    "gne": {"epochs": 20, "patience": None},
    "gnnlink": {},
    "genelink": {},
}


def fast(name):
    return FAST["sctransnet" if name.startswith("sctransnet") else name]


def parts(split):
    return (split[split["Part"] == p].reset_index(drop=True) for p in ("train", "val", "test"))


def write_npy(folder, name, vectors, genes, header=False):
    p = folder / f"{name}.npy"
    np.save(p, np.asarray(vectors))
    (folder / f"{name}.genes.txt").write_text(("gene\n" if header else "") + "\n".join(genes) + "\n")
    return p


def write_text(path, vectors, genes, header=None, sep="\t"):
    lines = [header] if header else []
    lines += [sep.join([g, *(f"{x:.17g}" for x in row)]) for g, row in zip(genes, vectors)]
    text = "\n".join(lines) + "\n"
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def write_h5ad(path, genes, n_cells=3, **slots):
    a = ad.AnnData(np.zeros((n_cells, len(genes)), dtype=np.float32))
    a.var_names = list(genes)
    a.obs_names = [f"c{i}" for i in range(n_cells)]
    for k, v in slots.items():
        slot, key = k.split("__")
        getattr(a, slot)[key] = v
    a.write_h5ad(path)
    return path


def oracle_embedding(data, split, noise=0.1, seed=0):
    """Genes x TFs: TF t -> e_t, target g -> indicator of its true regulators (+ noise)."""
    genes, tfs = list(data.genes), list(data.tfs)
    gi, ti = {g: i for i, g in enumerate(genes)}, {t: i for i, t in enumerate(tfs)}
    e = np.zeros((len(genes), len(tfs)))
    for t in tfs:
        e[gi[t], ti[t]] = 1.0
    pos = split[split["Label"] == 1]
    for t, g in zip(pos["TF"], pos["Target"]):
        e[gi[g], ti[t]] = 1.0
    return e + np.random.default_rng(seed).normal(0, noise, e.shape)


GENES = ["Sox2", "Pou5f1", "Nanog", "Klf4", "Myc"]
VEC = np.arange(15, dtype=np.float64).reshape(5, 3) ** 1.5


# --- formats -------------------------------------------------------------------------------------


def test_every_format_reads_the_same_vectors(tmp_path):
    specs = [
        write_npy(tmp_path, "a", VEC, GENES),
        write_npy(tmp_path, "h", VEC, GENES, header=True),
        write_text(tmp_path / "a.tsv", VEC, GENES, header="gene\td1\td2\td3"),
        write_text(tmp_path / "a.txt", VEC, GENES, header="5 3", sep=" "),  # gene2vec / word2vec layout
        write_text(tmp_path / "a.tsv.gz", VEC, GENES),
        write_h5ad(tmp_path / "a.h5ad", GENES, varm__X_emb=VEC),
        f"{write_h5ad(tmp_path / 'b.h5ad', GENES, varm__X_emb=VEC, varm__other=VEC[:, :2])}#varm/X_emb",
    ]
    for spec in specs:
        e = read_gene_embeddings(spec)
        assert e.genes == GENES, spec
        np.testing.assert_allclose(e.vectors, VEC, rtol=0, atol=1e-12, err_msg=str(spec))


def test_matching_exact_then_case_normalised_with_zero_fill(tmp_path):
    p = write_npy(tmp_path, "e", VEC, ["SOX2", "Pou5f1", "NANOG", "KLF4", "Myc"])
    genes = ["Pou5f1", "Sox2", "Nanog", "Zfp42", "Myc", "Esrrb"]  # mouse symbols, two absent
    m, lab = gene_embedding_matrix(p, genes, min_coverage=0.5)
    assert m.shape == (6, 3) and m.dtype == np.float32
    rows = [1, 0, 2, 4]  # Pou5f1 exact, Sox2 -> SOX2, Nanog -> NANOG, Myc exact
    np.testing.assert_allclose(m[[0, 1, 2, 4]], standardise(VEC[rows]), atol=1e-6)
    assert not m[[3, 5]].any()  # missing -> zeros
    assert (lab["gene_embeddings_exact"], lab["gene_embeddings_case_normalised"], lab["gene_embeddings_missing"]) == (2, 2, 2)
    assert lab["gene_embeddings"] == "e.npy" and lab["gene_embeddings_dim"] == 3
    assert lab["gene_embeddings_sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
    assert lab["gene_embeddings_genes_sha256"] == hashlib.sha256((tmp_path / "e.genes.txt").read_bytes()).hexdigest()
    # an exact match wins over a case-normalised one
    p2 = write_npy(tmp_path, "f", VEC[:2], ["SOX2", "Sox2"])
    with pytest.raises(InputError, match=r"'sox2' matches \['SOX2', 'Sox2'\]"):
        gene_embedding_matrix(p2, ["sox2"], min_coverage=0)
    m2, lab2 = gene_embedding_matrix(p2, ["Sox2", "Myc"], min_coverage=0)
    assert lab2["gene_embeddings_exact"] == 1 and lab2["gene_embeddings_case_normalised"] == 0


def test_too_few_genes_covered_names_file_and_missing_genes(tmp_path):
    p = write_npy(tmp_path, "e", VEC, GENES)
    genes = ["Sox2"] + [f"Gm{i}" for i in range(30)]
    with pytest.raises(InputError) as e:
        gene_embedding_matrix(p, genes, min_coverage=0.5)
    msg = str(e.value)
    assert str(p) in msg and "covers 1 of the dataset's 31 genes" in msg and "at least 16" in msg
    assert "Gm0, Gm1" in msg and "(10 more)" in msg
    with pytest.raises(InputError, match="covers 0"):
        gene_embedding_matrix(p, ["Gm1"], min_coverage=0.0)  # nothing covered: never accepted
    with pytest.raises(InputError, match="between 0 and 1"):
        gene_embedding_matrix(p, GENES, min_coverage=2)


# --- hostile files -------------------------------------------------------------------------------


def hostile_cases(tmp_path):
    nan = VEC.copy()
    nan[2, 1] = np.nan
    pc = np.ones((3, 5, 2))
    pc[1, 3, 0] = np.nan  # partly NaN: not "absent"
    yield write_npy(tmp_path, "flat", np.ones(5), GENES), r"shape \(5,\); expected 2-D"
    yield write_npy(tmp_path, "cube", np.ones((5, 3, 2)), GENES), r"shape \(5, 3, 2\); expected 2-D"
    yield write_npy(tmp_path, "short", VEC, GENES[:4]), r"4 gene symbols for the 5 rows of short.npy"
    yield write_npy(tmp_path, "nan", nan, GENES), r"\(row 3\): value nan in dimension 2 of gene 'Nanog'"
    yield write_npy(tmp_path, "dup", VEC, ["A", "B", "A", "C", "D"]), r"gene 'A' appears twice \(rows 1 and 3\)"
    np.save(tmp_path / "lone.npy", VEC)
    yield tmp_path / "lone.npy", r"no gene list beside it; expected lone.genes.txt"
    yield write_text(tmp_path / "nan.tsv", nan, GENES), r"\(line 3\): value nan in dimension 2 of gene 'Nanog'"
    yield write_text(tmp_path / "dup.tsv", VEC, ["A", "B", "C", "B", "D"]), r"\(line 4\): gene 'B' appears twice \(lines 2 and 4\)"
    (tmp_path / "ragged.tsv").write_text("A\t1\t2\nB\t1\n")
    yield tmp_path / "ragged.tsv", r"\(line 2\): gene 'B' has 1 numbers; expected 2"
    (tmp_path / "word.tsv").write_text("A\t1\t2\nB\t1\tx\n")
    yield tmp_path / "word.tsv", r"\(line 2\): 'x' after gene 'B' is not a number"
    yield write_h5ad(tmp_path / "two.h5ad", GENES, varm__a=VEC, varm__b=VEC), r"2 varm entries \(\['a', 'b'\]\); name one"
    yield f"{tmp_path / 'two.h5ad'}#varm/c", r"no varm\['c'\]"
    yield f"{tmp_path / 'two.h5ad'}#uns/a", r"selector 'uns/a'; expected varm/KEY"
    yield f"{write_h5ad(tmp_path / 'pc.h5ad', GENES, layers__e=pc)}#layers/e", (
        r"value nan in dimension 1 of gene 'Klf4' in cell 2; expected finite numbers, or an all-NaN vector")
    yield f"{write_h5ad(tmp_path / 'pc2.h5ad', GENES, obsm__e=np.ones((3, 4, 2)))}#obsm/e", (
        r"obsm\['e'\] has shape \(3, 4, 2\); expected per-cell gene embeddings \(3, 5 genes, dims\)")
    neg = -np.ones((3, 5))
    yield f"{write_h5ad(tmp_path / 'pc3.h5ad', GENES, layers__e=np.ones((3, 5, 2)), layers__e_attention=neg)}#layers/e", (
        r"attention -1.0 for gene 'Sox2' in cell 1; expected finite non-negative weights")
    yield tmp_path / "e.csv", "unknown gene-embedding format"
    yield f"{tmp_path / 'nan.tsv'}#varm/x", "selector .* is for .h5ad files only"
    yield tmp_path / "absent.tsv", "gene-embedding file does not exist"


def test_hostile_files_name_the_file_the_place_and_what_was_expected(tmp_path):
    (tmp_path / "e.csv").write_text("A,1\n")
    n = 0
    for spec, pattern in hostile_cases(tmp_path):
        with pytest.raises(InputError, match=pattern) as e:
            gene_embedding_matrix(spec, GENES, min_coverage=0)
        assert str(spec).split("#")[0].replace(".npy", "") in str(e.value), str(e.value)
        n += 1
    assert n == 19


def test_spec_problems_for_planning(tmp_path):
    write_npy(tmp_path, "ok", VEC, GENES)
    (tmp_path / "nolist.npy").write_bytes((tmp_path / "ok.npy").read_bytes())
    assert spec_problems("ok.npy", "k", tmp_path) == []
    assert embedding_files("d/ok.npy") == ["d/ok.npy", "d/ok.genes.txt"]
    assert embedding_files("d/x.h5ad#varm/a") == ["d/x.h5ad"]
    (p,) = spec_problems("nolist.npy", "k", tmp_path)
    assert p.startswith("k: gene list of the .npy embedding 'nolist.genes.txt' does not exist")
    (p,) = spec_problems("no/such.tsv", "methods.gne.params.gene_embeddings", tmp_path)
    assert "methods.gne.params.gene_embeddings: gene-embedding file 'no/such.tsv' does not exist" in p
    assert "unknown gene-embedding format" in spec_problems("x.parquet", "k", tmp_path)[0]
    assert "must be varm/KEY" in spec_problems("x.h5ad#obsp/a", "k", tmp_path)[0]


# --- per-cell embeddings: our attentive pooling ---------------------------------------------------------


@pytest.mark.parametrize("norm", ["sum", "softmax"])
def test_per_cell_pooling_is_scTransNets_attentive_pooling(tmp_path, norm):
    rng = np.random.default_rng(1)
    cells, dim = 7, 4
    e = rng.normal(size=(cells, len(GENES), dim))
    a = rng.uniform(0.1, 2.0, size=(cells, len(GENES)))
    spec = f"{write_h5ad(tmp_path / 'pc.h5ad', GENES, n_cells=cells, layers__e=e, layers__e_attention=a)}#layers/e"
    acc = PoolAccumulator(len(GENES), dim, norm=norm, temperature=0.5)
    for s in range(0, cells, 3):
        acc.update(torch.as_tensor(e[s : s + 3]), torch.as_tensor(a[s : s + 3]))
    got = read_gene_embeddings(spec, pooling=norm, temperature=0.5, batch_cells=2)
    np.testing.assert_allclose(got.vectors, acc.attentive().double().numpy(), rtol=1e-5)
    assert got.pooling.startswith(f"attentive over {cells} cells (the file's 'e_attention', normalised across cells: {norm}")
    mean = read_gene_embeddings(spec, attentive=False)  # scTransNet's mean-pooling ablation
    np.testing.assert_allclose(mean.vectors, e.mean(axis=0), rtol=1e-12)
    assert mean.pooling == f"mean over {cells} cells (mean-pooling ablation)"


def test_per_cell_absent_genes_get_no_weight(tmp_path):
    rng = np.random.default_rng(2)
    e = rng.normal(size=(4, len(GENES), 3))
    a = rng.uniform(0.5, 1.0, size=(4, len(GENES)))
    e[0, 1] = np.nan  # Pou5f1 absent from cell 1's input
    e[:, 4] = np.nan  # Myc absent everywhere: not covered
    spec = f"{write_h5ad(tmp_path / 'pc.h5ad', GENES, n_cells=4, obsm__e=e, obsm__e_attention=a)}#obsm/e"
    got = read_gene_embeddings(spec).vectors
    w = a[1:, 1] / a[1:, 1].sum()
    np.testing.assert_allclose(got[1], (w[:, None] * e[1:, 1]).sum(axis=0), rtol=1e-12)
    assert np.isnan(got[4]).all()
    m, lab = gene_embedding_matrix(spec, GENES)
    assert lab["gene_embeddings_missing"] == 1 and not m[4].any()
    w_all = masked_pooling_weights(a, ~np.isnan(e).all(axis=2), "softmax")
    np.testing.assert_allclose(w_all[:, :4].sum(axis=0), 1.0)
    assert w_all[0, 1] == 0 and not w_all[:, 4].any()
    no_att = f"{write_h5ad(tmp_path / 'pc2.h5ad', GENES, n_cells=4, layers__e=e)}#layers/e"
    emb = read_gene_embeddings(no_att)
    assert emb.pooling == "mean over 4 cells (no attention matrix in the file)"
    np.testing.assert_allclose(emb.vectors[1], e[1:, 1].mean(axis=0), rtol=1e-12)


# --- methods -----------------------------------------------------------------------------------------


def test_informative_embedding_raises_test_auroc(tiny_data, tiny_split, tmp_path):
    """An oracle embedding of the true network lifts scTransNet (no GNN) from chance on tiny_data
    (measured, seed 0: 0.50 -> 0.97, this random file 0.41), GNNLink (0.56 -> 0.65, random 0.47) and
    GENELink (0.58 -> 0.63, random 0.50; other splits of tiny_grn: 0.47 -> 0.66, 0.48 -> 0.55)."""
    train, val, test = parts(tiny_split)
    genes = list(tiny_data.genes)
    inf = write_npy(tmp_path, "oracle", oracle_embedding(tiny_data, tiny_split), genes)
    rnd = write_npy(tmp_path, "random", np.random.default_rng(5).normal(size=(len(genes), 8)), genes)
    for name, margin in (("sctransnet_no_gnn", 0.3), ("gnnlink", 0.05), ("genelink", 0.03)):
        auc = {}
        for key, spec in (("none", None), ("oracle", inf), ("random", rnd)):
            extra = {"gene_embeddings": str(spec)} if spec else {}
            m = registry.get(name)(preset="small", pretrain_cache=str(tmp_path), **fast(name), **extra) \
                if name.startswith("sctransnet") else registry.get(name)(preset="small", **fast(name), **extra)
            m.fit(tiny_data, train, val, seed=0)
            auc[key] = roc_auc_score(test["Label"], m.predict(tiny_data, test))
        assert auc["oracle"] > auc["none"] + margin, (name, auc)
        assert auc["oracle"] > auc["random"] + margin, (name, auc)


@pytest.mark.parametrize("name", EMB_METHODS)
def test_random_embedding_is_accepted_and_recorded(name, tiny_data, tiny_split, tmp_path):
    train, val, test = parts(tiny_split)
    genes = [g.lower() for g in tiny_data.genes[:50]]  # 50 of 60 genes, all case-normalised
    rng = np.random.default_rng(3)
    if name == "sctransnet_no_attnpool":  # per-cell file: the ablation mean-pools it
        e = rng.normal(size=(6, 50, 5))
        spec = f"{write_h5ad(tmp_path / 'cells.h5ad', genes, n_cells=6, layers__X_cell=e, layers__X_cell_attention=np.ones((6, 50)))}#layers/X_cell"
        path = tmp_path / "cells.h5ad"
    else:
        path = write_text(tmp_path / "rand.tsv", rng.normal(size=(50, 5)), genes)
        spec = str(path)
    kw = {**fast(name), "epochs": 3} if name != "gnnlink" else {"epochs": 3}
    m = registry.get(name)(preset="small", gene_embeddings=spec, **kw)
    m.fit(tiny_data, train, val, seed=0)
    s = m.predict(tiny_data, test)
    assert s.shape == (len(test),) and np.isfinite(s).all()
    lab = m.labels
    assert lab["gene_embeddings"] == path.name
    assert lab["gene_embeddings_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (lab["gene_embeddings_exact"], lab["gene_embeddings_case_normalised"], lab["gene_embeddings_missing"]) == (0, 50, 10)
    assert lab["gene_embeddings_dim"] == 5
    if name.startswith("sctransnet"):
        assert lab["encoder"] == f"external gene embeddings ({path.name})" and lab["encoder_source"] == "file"
        assert "pretrain_s" not in m.resources  # no encoder was pretrained
        want = "mean over 6 cells (mean-pooling ablation)" if name == "sctransnet_no_attnpool" else "none (per-gene file)"
        assert lab["pooling"] == want
        width = m.model_.gene_vectors.shape[1]
        assert width == 5
    # same file, same seed: the same scores (the file enters deterministically)
    m2 = registry.get(name)(preset="small", gene_embeddings=spec, **kw)
    m2.fit(tiny_data, train, val, seed=0)
    np.testing.assert_array_equal(m2.predict(tiny_data, test), s)


def test_methods_without_a_place_for_embeddings_refuse_the_parameter():
    for name in ("sctransnet_no_encoder", "genie3", "grn_transformer"):
        with pytest.raises(InputError, match=r"unknown parameter\(s\) \['gene_embeddings'\]"):
            registry.get(name)(gene_embeddings="x.npy")


def test_default_params_leave_embeddings_off():
    for name in EMB_METHODS:
        d = registry.get(name).defaults
        assert d["gene_embeddings"] is None and d["gene_embeddings_min_coverage"] == 0.5


# --- through the pipeline and the workflow -------------------------------------------------------------


def test_run_json_and_metrics_record_the_file(tiny_data, tmp_path):
    import grnbench.pipeline as pl
    from grnbench.data import write_h5ad as save

    save(tiny_data.adata, tmp_path / "data.h5ad")
    pl.make_split(tmp_path / "data.h5ad", tmp_path / "split.csv", protocol="genelink", seed=0)
    spec = write_npy(tmp_path, "emb", np.random.default_rng(0).normal(size=(60, 4)), list(tiny_data.genes))
    d = tmp_path / "gnnlink"
    info = pl.run_method(tmp_path / "data.h5ad", tmp_path / "split.csv", d / "edges.csv", d / "run.json",
                         method="gnnlink", seed=0, params={"gene_embeddings": str(spec), "epochs": 3})
    m = pl.evaluate(tmp_path / "data.h5ad", tmp_path / "split.csv", d / "edges.csv", d / "metrics.json",
                    run_path=d / "run.json", ids={"method": "gnnlink", "seed": 0})
    digest = hashlib.sha256(spec.read_bytes()).hexdigest()
    for labels in (info["labels"], m["labels"]):
        assert labels["gene_embeddings"] == "emb.npy" and labels["gene_embeddings_sha256"] == digest
    assert info["params"]["gene_embeddings"] == str(spec)


def test_workflow_refuses_a_missing_file_and_tracks_an_existing_one(tmp_path):
    """``snakemake -n`` names the key of a path that does not exist; with the file there the infer
    job reads it (and the .npy's gene list) as inputs, and scTransNet plans no encoder pretraining."""
    import subprocess
    import sys

    import yaml
    from conftest import ROOT

    spec = write_npy(tmp_path, "emb", VEC, GENES)
    cfg = {"seeds": [0], "splits": ["genelink"],
           "datasets": {"sim": {"source": "simulate", "simulate": {"n_tfs": 24, "n_genes": 200, "n_cells": 250, "seed": 3},
                                "networks": ["groundtruth"], "genesets": ["tfs80"]}},
           "methods": {"gne": {"params": {"gene_embeddings": str(tmp_path / "absent.tsv")}},
                       "sctransnet": {"preset": "small", "params": {"gene_embeddings": str(spec)}}}}

    def dry(c):
        (tmp_path / "c.yaml").write_text(yaml.safe_dump(c))
        return subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(tmp_path / "c.yaml"),
                               "--config", f"results={tmp_path}/res"], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)

    r = dry(cfg)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert f"methods.gne.params.gene_embeddings: gene-embedding file '{tmp_path / 'absent.tsv'}' does not exist" in out
    cfg["methods"]["gne"]["params"]["gene_embeddings"] = str(spec)
    r = dry(cfg)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    infer_inputs = [ln for ln in out.splitlines() if ln.strip().startswith("input:") and "split_seed0.csv, " in ln and "stats.json" in ln]
    assert len(infer_inputs) == 2 and all(f"{spec}, {tmp_path / 'emb.genes.txt'}" in ln for ln in infer_inputs)
    assert "pretrain_sctransnet" not in out
