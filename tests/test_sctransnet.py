"""scTransNet parts: checkpoint key names, tokens, FAVOR+ attention sums, pooling, MLM, GNN graph."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from grnbench.errors import InputError, SplitLeakError
from grnbench.methods.graph import assert_no_leak, training_graph
from grnbench.models.sctransnet.attention import (
    PoolAccumulator,
    explicit_attention,
    extract_gene_embeddings,
    favor_attention_received,
    favor_features,
    pooling_weights,
)
from grnbench.models.sctransnet.encoder import (
    EncoderConfig,
    FavorSelfAttention,
    ScBertEncoder,
    config_from_state_dict,
    load_official_encoder,
)
from grnbench.models.sctransnet.gene2vec import (
    coexpression_embedding,
    panel_embedding,
    read_gene2vec,
)
from grnbench.models.sctransnet.gnn import GRNEncoder, relational_graph
from grnbench.models.sctransnet.pretrain import (
    checkpoint_kind,
    get_encoder,
    load_encoder,
    mlm_mask,
    pretrain_encoder,
)
from grnbench.models.sctransnet.tokenize import (
    counts_from_log,
    data_tokens,
    map_to_panel,
    scbert_tokens,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from performer_pytorch import PerformerLM
    from performer_pytorch.performer_pytorch import linear_attention, softmax_kernel

TINY = dict(dim=8, depth=2, heads=2, dim_head=4, nb_features=6)
TINY_PARAMS = {"enc_dim": 8, "enc_depth": 2, "enc_heads": 2, "enc_dim_head": 4, "enc_features": 6,
               "pretrain_epochs": 2, "pretrain_batch": 64, "pretrain_lr": 1e-3, "extract_batch": 128,
               "progress": False}


def official_tiny_state_dict(seq: int = 11, dim: int = 8, depth: int = 2, inner: int = 8, m: int = 6, dh: int = 4):
    """A state dict written out key by key from scBERT's documented names and shapes."""
    r = torch.randn
    sd = {"token_emb.weight": r(7, dim), "pos_emb.emb.weight": r(seq, dim),
          "performer.calls_since_last_redraw": torch.tensor(17)}
    for i in range(depth):
        p = f"performer.net.layers.{i}"
        sd |= {
            f"{p}.0.norm.weight": r(dim), f"{p}.0.norm.bias": r(dim),
            f"{p}.0.fn.to_q.weight": r(inner, dim), f"{p}.0.fn.to_k.weight": r(inner, dim),
            f"{p}.0.fn.to_v.weight": r(inner, dim),
            f"{p}.0.fn.to_out.weight": r(dim, inner), f"{p}.0.fn.to_out.bias": r(dim),
            f"{p}.0.fn.fast_attention.projection_matrix": r(m, dh),
            f"{p}.1.norm.weight": r(dim), f"{p}.1.norm.bias": r(dim),
            f"{p}.1.fn.fn.w1.weight": r(4 * dim, dim), f"{p}.1.fn.fn.w1.bias": r(4 * dim),
            f"{p}.1.fn.fn.w2.weight": r(dim, 4 * dim), f"{p}.1.fn.fn.w2.bias": r(dim),
        }
    sd |= {"norm.weight": r(dim), "norm.bias": r(dim), "to_out.weight": r(7, dim), "to_out.bias": r(7)}
    return sd


# --- encoder: key names, strict load, equivalence with performer-pytorch ------------------------
def test_official_key_names_load_strict(tmp_path):
    torch.manual_seed(0)
    sd = official_tiny_state_dict()
    path = tmp_path / "panglao_pretrain.pth"
    torch.save({"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": {}}, path)
    model = load_official_encoder(path)  # load_state_dict(strict=True) inside
    assert model.cfg == EncoderConfig(max_seq_len=11, **TINY)
    got = model.state_dict()
    assert set(got) == set(sd)
    for k, v in sd.items():
        assert torch.equal(got[k].to(v.dtype), v), k
    assert checkpoint_kind(path) == "official"
    # DataParallel-style "module." prefix is accepted too
    torch.save({"model_state_dict": {f"module.{k}": v for k, v in sd.items()}}, tmp_path / "ddp.pth")
    assert load_official_encoder(tmp_path / "ddp.pth").cfg == model.cfg


def test_extra_or_missing_key_is_refused(tmp_path):
    sd = official_tiny_state_dict()
    sd["performer.proj_updater.calls_since_last_redraw"] = torch.tensor(0)
    torch.save({"model_state_dict": sd}, tmp_path / "x.pth")
    with pytest.raises(RuntimeError, match="Unexpected key"):
        load_official_encoder(tmp_path / "x.pth")
    torch.save({"weights": 1}, tmp_path / "y.pth")
    with pytest.raises(InputError, match="not an scBERT checkpoint"):
        load_official_encoder(tmp_path / "y.pth")


def test_same_keys_and_outputs_as_performer_pytorch():
    """Our tree = performer-pytorch's PerformerLM minus its proj_updater copy; same forward pass."""
    torch.manual_seed(0)
    ref = PerformerLM(num_tokens=7, max_seq_len=11, rotary_position_emb=False, attn_out_bias=True, **TINY).eval()
    ref_sd = ref.state_dict()
    mapped = {k: v for k, v in ref_sd.items() if not k.startswith("performer.proj_updater.")}
    mapped["performer.calls_since_last_redraw"] = ref_sd["performer.proj_updater.calls_since_last_redraw"]
    ours = ScBertEncoder(config_from_state_dict(mapped)).eval()
    ours.load_state_dict(mapped, strict=True)
    tok = torch.randint(0, 7, (3, 11))
    with torch.no_grad():
        assert torch.allclose(ours(tok), ref(tok), atol=1e-5)
        assert torch.allclose(ours.encode(tok)[0], ref(tok, return_encodings=True), atol=1e-5)


# --- tokens --------------------------------------------------------------------------------------
def test_tokens_on_hand_made_counts():
    genes = ["A", "B", "C", "D"]
    counts = np.array([[0, 1, 3, 996], [10, 0, 0, 0], [0, 0, 0, 0]], dtype=float)
    panel = ["D", "X", "A", "B"]  # C is not in the panel (dropped), X is not in the data (0)
    pc = map_to_panel(counts, genes, panel)
    assert pc.tolist() == [[996, 0, 0, 1], [0, 0, 10, 0], [0, 0, 0, 0]]
    tok = scbert_tokens(pc)
    # cell 0: library 997 (panel genes only); D: log2(1 + 9989.97) = 13.3 -> capped 5;
    # B: log2(1 + 10.03) = 3.46 -> 3; appended token 0
    assert tok.tolist() == [[5, 0, 0, 3, 0], [0, 0, 5, 0, 0], [0, 0, 0, 0, 0]]
    # bin edges: x = 1 -> log2(2) = 1 -> 1; x = 2 -> 1.58 -> 1; x = 3 -> 2 -> 2; x = 7 -> 3
    edge = scbert_tokens(np.array([[1.0, 2.0, 3.0, 7.0, 9987.0]]), append_zero=False)
    assert edge.tolist() == [[1, 1, 2, 3, 5]]
    assert tok.dtype == np.int64 and tok.max() <= 5


def test_counts_from_log_inverts_the_projects_log2():
    c = np.array([[0.0, 1.0, 5.0, 100.0]])
    assert np.allclose(counts_from_log(np.log2(1 + c), "2"), c)
    assert np.allclose(counts_from_log(np.log1p(c), "e"), c)
    assert np.allclose(counts_from_log(c, "counts"), c)
    assert counts_from_log(np.array([[-1.0]]), "2").tolist() == [[0.0]]
    with pytest.raises(InputError):
        counts_from_log(c, "3")
    x = np.log2(1 + np.array([[0.0, 1.0, 3.0, 996.0]]))
    assert data_tokens(x, ["A", "B", "C", "D"], ["A", "B", "C", "D"], "2").tolist() == [[0, 3, 4, 5, 0]]


# --- attention sums ------------------------------------------------------------------------------
def test_favor_features_equal_performer_softmax_kernel():
    torch.manual_seed(6)
    P = torch.randn(6, 4)
    x = torch.randn(2, 3, 9, 4) * 2
    for is_query in (True, False):
        assert torch.allclose(favor_features(x, P, is_query), softmax_kernel(x, projection_matrix=P, is_query=is_query), atol=1e-6)


def test_favor_column_sums_match_explicit_attention():
    torch.manual_seed(1)
    att = FavorSelfAttention(dim=8, heads=2, dim_head=4, nb_features=6).eval()
    x = torch.randn(3, 13, 8)
    q, k = att._split(att.to_q(x)), att._split(att.to_k(x))
    P = att.fast_attention.projection_matrix
    qp, kp = favor_features(q, P, is_query=True), favor_features(k, P, is_query=False)
    A = explicit_attention(qp, kp)  # (3, 2, 13, 13), rows sum to one
    assert torch.allclose(A.sum(-1), torch.ones(3, 2, 13), atol=1e-5)
    # Performer's own linear attention with V = identity (one-hot positions) gives the same matrix
    eye = torch.eye(13).expand(3, 2, 13, 13)
    assert torch.allclose(linear_attention(qp, kp, eye), A, atol=1e-5)
    assert torch.allclose(favor_attention_received(qp, kp), A.sum(-2), atol=1e-4)
    _, recv = att(x, received=True)  # what the encoder reports: mean over heads
    assert torch.allclose(recv, A.sum(-2).mean(1), atol=1e-4)
    assert torch.allclose(recv.sum(-1), torch.full((3,), 13.0), atol=1e-3)  # total attention = L


def test_encoder_received_is_mean_over_layers():
    torch.manual_seed(2)
    enc = ScBertEncoder(EncoderConfig(max_seq_len=9, **TINY)).eval()
    tok = torch.randint(0, 6, (2, 9))
    _, recv = enc.encode(tok, received=True)
    per_layer = []
    x = enc.token_emb(tok) + enc.pos_emb(9, "cpu")
    for attn, ff in enc.performer.net.layers:
        a, r = attn.fn(attn.norm(x), received=True)
        per_layer.append(r)
        x = x + a
        x = x + ff(x)
    assert torch.allclose(recv, torch.stack(per_layer).mean(0), atol=1e-6)


# --- pooling -------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm", ["sum", "softmax", "mean"])
def test_pooling_weights_sum_to_one_per_gene(norm):
    a = torch.rand(50, 7) * 3 + 0.1
    w = pooling_weights(a, norm, temperature=0.5)
    assert torch.allclose(w.sum(0), torch.ones(7, dtype=torch.float64))
    assert (w >= 0).all()
    if norm == "sum":  # proportional to the attention each cell gives the gene
        assert torch.allclose(w[:, 0] / w[0, 0], (a[:, 0] / a[0, 0]).double())


@pytest.mark.parametrize("norm", ["sum", "softmax"])
def test_streaming_pool_equals_explicit_weighted_sum(norm):
    torch.manual_seed(3)
    emb, att = torch.randn(23, 5, 4), torch.rand(23, 5) * 4
    acc = PoolAccumulator(5, 4, norm=norm, temperature=0.7)
    for s in range(0, 23, 6):  # uneven chunks over cells
        acc.update(emb[s : s + 6], att[s : s + 6])
    w = pooling_weights(att, norm, 0.7)
    want = torch.einsum("ng,ngd->gd", w, emb.double()).float()
    assert torch.allclose(acc.attentive(), want, atol=1e-5)
    assert torch.allclose(acc.mean(), emb.mean(0), atol=1e-6)


def test_extraction_is_independent_of_chunk_size():
    torch.manual_seed(4)
    enc = ScBertEncoder(EncoderConfig(max_seq_len=6, **TINY)).eval()
    tokens = np.random.default_rng(0).integers(0, 6, size=(10, 6))
    tokens[:, -1] = 0
    pos = np.array([0, 2, 1, -1, 4])  # gene 3 is outside the panel
    a = extract_gene_embeddings(enc, tokens, pos, batch=3)
    b = extract_gene_embeddings(enc, tokens, pos, batch=10)
    for k in ("attentive", "mean", "attention"):
        assert np.allclose(a[k], b[k], atol=1e-5)
    assert np.all(a["attentive"][3] == 0) and np.all(a["attention"][:, 3] == 0)
    assert not np.allclose(a["attentive"], a["mean"])


# --- gene embeddings -----------------------------------------------------------------------------
def test_gene2vec_file_and_standin(tmp_path):
    f = tmp_path / "gene2vec.txt"
    f.write_text("3 4\nA 1 2 3 4\nB\t0.5 0.5 0.5 0.5\nC 0 0 0 1\n")
    vecs = read_gene2vec(f)
    assert sorted(vecs) == ["A", "B", "C"] and vecs["B"].tolist() == [0.5] * 4
    w, label = panel_embedding(["B", "Z", "A"], np.zeros((2, 3)), ["A", "B", "Z"], 4, gene2vec_path=f)
    assert w.shape == (4, 4) and w[1].sum() == 0 and w[3].sum() == 0 and w[2].tolist() == [1, 2, 3, 4]
    assert "1 of 3 panel genes absent" in label
    with pytest.raises(InputError, match="encoder dimension"):
        panel_embedding(["A"], np.zeros((2, 1)), ["A"], 8, gene2vec_path=f)
    (tmp_path / "bad.txt").write_text("A 1 2\nB 1 x\n")
    with pytest.raises(InputError, match="line 2"):
        read_gene2vec(tmp_path / "bad.txt")


def test_coexpression_standin_reflects_correlation():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(200, 3))
    x = np.concatenate([base, base[:, :1] + 0.1 * rng.normal(size=(200, 1))], axis=1)  # gene 3 ~ gene 0
    e = coexpression_embedding(x, 4)
    cos = e @ e.T / np.outer(np.linalg.norm(e, axis=1), np.linalg.norm(e, axis=1))
    assert cos[0, 3] > 0.95 and abs(cos[0, 1]) < 0.3
    assert np.allclose(np.linalg.norm(e, axis=1), 2.0, atol=1e-5)  # sqrt(dim)
    assert np.array_equal(e, coexpression_embedding(x, 4))


# --- masked expression modelling -----------------------------------------------------------------
def test_mlm_mask_follows_scbert():
    gen = torch.Generator().manual_seed(0)
    tok = torch.randint(0, 6, (200, 101))
    tok[:, -1] = 0
    inp, lab = mlm_mask(tok, gen, 0.15, 0.9)
    chosen = lab != -100
    assert torch.equal(chosen.sum(1), torch.ceil((tok != 0).sum(1) * 0.15).long())
    assert not (chosen & (tok == 0)).any()  # scBERT never masks token 0
    assert torch.equal(lab[chosen], tok[chosen])
    replaced = (inp == 6) & chosen
    assert torch.equal(inp[~chosen], tok[~chosen])
    frac = replaced.sum().item() / chosen.sum().item()
    assert 0.86 < frac < 0.94


def test_pretraining_resumes_reuses_and_refuses(tiny_data, tmp_path):
    full = pretrain_encoder(tiny_data, TINY_PARAMS, seed=0, out_path=tmp_path / "a.pt")
    part = pretrain_encoder(tiny_data, TINY_PARAMS, seed=0, out_path=tmp_path / "b.pt", max_epochs_this_call=1)
    assert "INCOMPLETE" in part.label
    with pytest.raises(InputError, match="unfinished"):
        load_encoder(tmp_path / "b.pt", TINY_PARAMS)
    resumed = pretrain_encoder(tiny_data, TINY_PARAMS, seed=0, out_path=tmp_path / "b.pt")
    sa, sb = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # resuming == never interrupted
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in full.history]
    assert full.history[-1]["loss"] < full.history[0]["loss"] or full.history[-1]["masked_acc"] > full.history[0]["masked_acc"]
    again = pretrain_encoder(tiny_data, TINY_PARAMS, seed=0, out_path=tmp_path / "a.pt")  # finished: reused
    assert again.seconds == 0.0 and again.label == f"pretrained-by-us (MLM on {tiny_data.n_cells} cells, 2 epochs)"
    with pytest.raises(InputError, match="other inputs"):
        pretrain_encoder(tiny_data, {**TINY_PARAMS, "pretrain_lr": 5e-4}, seed=0, out_path=tmp_path / "a.pt")
    loaded = load_encoder(tmp_path / "a.pt")
    assert loaded.source == "pretrained-by-us" and loaded.panel == tiny_data.genes
    assert checkpoint_kind(tmp_path / "a.pt") == "grnbench"
    obj = torch.load(tmp_path / "a.pt", weights_only=True)
    assert obj["config"]["encoder"]["dim"] == 8 and obj["complete"] and obj["optimizer"] is None
    assert set(obj["model_state_dict"]) == set(ScBertEncoder(EncoderConfig(max_seq_len=61, **TINY)).state_dict())
    untrained = pretrain_encoder(tiny_data, {**TINY_PARAMS, "pretrain_epochs": 0}, seed=0)
    assert untrained.source == "untrained" and not untrained.history


def test_pretrain_cache_is_shared(tiny_data, tmp_path):
    from grnbench.models.sctransnet.config import resolve_params

    p = resolve_params({**TINY_PARAMS, "pretrain_cache": str(tmp_path)})
    a = get_encoder(tiny_data, p)
    files = list(tmp_path.glob("scbert-*.pt"))
    assert len(files) == 1
    b = get_encoder(tiny_data, p)
    assert b.seconds == 0.0 and a.checkpoint == b.checkpoint == str(files[0])


# --- GNN graph -----------------------------------------------------------------------------------
def test_relational_graph_and_gnn_shapes(tiny_data, tiny_split):
    train = tiny_split[tiny_split["Part"] == "train"]
    directed = training_graph(tiny_data, train)
    ei, et = relational_graph(directed, tiny_data.n_genes)
    e = directed.shape[1]
    assert ei.shape[1] == 2 * e + tiny_data.n_genes
    assert torch.equal(ei[:, e : 2 * e], directed.flip(0)) and (et[e : 2 * e] == 1).all()
    assert (ei[0, 2 * e :] == ei[1, 2 * e :]).all() and (et[2 * e :] == 2).all()
    assert_no_leak(ei, tiny_data, tiny_split)
    gnn = GRNEncoder(tiny_data.n_cells, (16, 8), 4, 4, heads=2)
    x = torch.randn(tiny_data.n_genes, tiny_data.n_cells)
    out = gnn(x, torch.as_tensor(tiny_data.tf_mask.astype(np.int64)), ei, et)
    assert out.shape == (tiny_data.n_genes, 8) and torch.isfinite(out).all()
    held = tiny_split[(tiny_split["Part"] == "test") & (tiny_split["Label"] == 1)].iloc[:1]
    leaky = torch.cat([ei, torch.as_tensor(tiny_data.gene_idx(list(held[["TF", "Target"]].iloc[0])))[:, None]], 1)
    with pytest.raises(SplitLeakError):
        assert_no_leak(leaky, tiny_data, tiny_split)


def test_attention_over_neighbours_is_a_softmax():
    """With all messages equal to one vector, attention-weighted sums return that vector."""
    from grnbench.models.sctransnet.gnn import QAGNNLayer

    torch.manual_seed(5)
    layer = QAGNNLayer(4, 4, 2, 2, heads=2)
    ei = torch.tensor([[0, 1, 2, 3, 0, 1, 2, 3], [1, 1, 1, 2, 0, 1, 2, 3]])
    with torch.no_grad():
        layer.m_node.weight.zero_()
        layer.m_rel.weight.zero_()
        layer.m_node.bias.copy_(torch.arange(4.0))
        agg = layer.propagate(
            ei, m_node=layer.m_node(torch.randn(4, 6)).view(-1, 2, 2), q=torch.randn(4, 2, 2),
            k_node=torch.randn(4, 2, 2), m_rel=torch.zeros(8, 2, 2), k_rel=torch.randn(8, 2, 2),
        )
    assert torch.allclose(agg.reshape(4, 4), torch.arange(4.0).expand(4, 4), atol=1e-6)
    assert math.isfinite(float(agg.sum()))
