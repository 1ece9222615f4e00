"""Supervised baselines: they learn, they are deterministic, their graphs hold no held-out edge.

Each method is fitted once per data set and seed (module-scoped cache) with its ``small``
preset plus the overrides in ``FAST`` (fewer epochs/trees: seconds per fit on one core).

Data: expression-driven methods are tested on ``tiny_data`` (every target is a linear mix of
2-4 of 8 TFs: the signal is in the joint expression). GNNLink and GNE score a pair from the
*training graph* and gene identities; on ``tiny_data``, whose regulators are drawn uniformly,
the training graph carries no information about held-out pairs (measured: AUROC 0.50-0.57
for both), so they are tested on ``hub_data``: the same generator with hub targets (30% of
targets regulated by 7 of the 8 TFs), the structure real ChIP-seq networks have.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from grnbench.data.dataset import GRNData, make_adata
from grnbench.data.splits import genelink_split
from grnbench.errors import SplitLeakError
from grnbench.methods.graph import assert_no_leak, training_graph
from grnbench.methods.registry import get

FAST = {
    "genelink": {"epochs": 60, "batch_size": 64},
    "gnnlink": {},
    "gne": {"epochs": 40, "patience": None},
    "cnnc": {"epochs": 8},
    "deepdrim": {"epochs": 6, "patience": None},
    "grn_transformer": {"epochs": 3, "n_cleaning_forests": 3},
}
DATA_OF = {"gnnlink": "hub", "gne": "hub"}
GRAPH_METHODS = ["genelink", "gnnlink", "gne", "grn_transformer"]


def hub_grn(seed: int = 0, n_tfs: int = 8, n_genes: int = 60, n_cells: int = 300) -> GRNData:
    """``tiny_grn`` with hub targets: 30% of targets have n_tfs - 1 regulators, the rest one."""
    rng = np.random.default_rng(seed)
    genes = [f"G{i:03d}" for i in range(n_genes)]
    x = np.zeros((n_cells, n_genes))
    x[:, :n_tfs] = rng.gamma(2.0, 1.0, size=(n_cells, n_tfs))
    edges = []
    for j in range(n_tfs, n_genes):
        k = n_tfs - 1 if rng.random() < 0.3 else 1
        regs = rng.choice(n_tfs, size=k, replace=False)
        w = rng.choice([-1.0, 1.0], size=k) * rng.uniform(0.5, 1.5, size=k)
        x[:, j] = x[:, regs] @ w + rng.normal(0, 2.0, n_cells)
        edges += [(genes[r], genes[j]) for r in regs]
    x = np.log1p(np.maximum(x - x.min(axis=0), 0))
    expr = pd.DataFrame(x, index=[f"c{i}" for i in range(n_cells)], columns=genes)
    net = pd.DataFrame(edges, columns=["Gene1", "Gene2"])
    return GRNData(make_adata(expr, genes[:n_tfs], net), name="hub")


@pytest.fixture(scope="module")
def datasets(tiny_data, tiny_split):
    hub = hub_grn()
    return {"tiny": (tiny_data, tiny_split), "hub": (hub, genelink_split(hub, seed=0))}


@pytest.fixture(scope="module")
def fitted(datasets):
    """``fitted(name, seed)`` -> (method, test pairs, test scores), cached per module."""
    cache: dict = {}

    def fit(name: str, seed: int = 0):
        if (name, seed) not in cache:
            data, split = datasets[DATA_OF.get(name, "tiny")]
            test = split[split["Part"] == "test"].reset_index(drop=True)
            method = get(name)(preset="small", **FAST[name])
            scores = method.score_pairs(data, split, test, seed=seed, threads=1)
            cache[name, seed] = (method, test, scores)
        return cache[name, seed]

    return fit


@pytest.mark.parametrize("name", list(FAST))
def test_beats_random_on_test_pairs(name, fitted):
    _, test, scores = fitted(name)
    assert scores.shape == (len(test),) and np.all(np.isfinite(scores))
    auroc = roc_auc_score(test["Label"], scores)
    assert auroc > 0.6, f"{name}: test AUROC {auroc:.3f}"


@pytest.mark.parametrize("name", list(FAST))
def test_same_seed_same_scores(name, fitted, datasets):
    method, test, scores = fitted(name)
    data, split = datasets[DATA_OF.get(name, "tiny")]
    again = get(name)(preset="small", **FAST[name]).score_pairs(data, split, test, seed=0, threads=1)
    np.testing.assert_array_equal(scores, again)


def _graph_used(method) -> torch.Tensor:
    """The message-passing / prior graph the fitted model actually holds."""
    if method.name == "grn_transformer":
        adj = method.prior_[..., -1]  # the network channel of the prior tensor
        return torch.stack(torch.nonzero(adj, as_tuple=True)).cpu()
    return method.model_.edge_index.cpu()


@pytest.mark.parametrize("name", GRAPH_METHODS)
def test_graph_holds_training_positives_only(name, fitted, datasets):
    method, _, _ = fitted(name)
    data, split = datasets[DATA_OF.get(name, "tiny")]
    graph = _graph_used(method)
    assert graph.shape[1] > 0
    assert_no_leak(graph, data, split)
    train = split[split["Part"] == "train"]
    expected = training_graph(data, train, symmetric=True)
    assert set(map(tuple, graph.T.tolist())) == set(map(tuple, expected.T.tolist()))


def test_leak_check_sees_a_planted_test_edge(fitted, datasets):
    """Control: the check above fails when a test positive is planted in a model's graph."""
    method, _, _ = fitted("genelink")
    data, split = datasets["tiny"]
    held = split[(split["Part"] == "test") & (split["Label"] == 1)].iloc[0]
    extra = torch.as_tensor(data.gene_idx([held["Target"], held["TF"]])).view(2, 1)
    with pytest.raises(SplitLeakError):
        assert_no_leak(torch.cat([_graph_used(method), extra], dim=1), data, split)


@pytest.mark.parametrize("name", list(FAST))
def test_scores_follow_the_pairs_not_their_order(name, fitted, datasets):
    """A pair's score depends on its genes only: shuffled rows give the shuffled scores."""
    method, test, scores = fitted(name)
    data, _ = datasets[DATA_OF.get(name, "tiny")]
    order = np.random.default_rng(0).permutation(len(test))
    np.testing.assert_allclose(method.predict(data, test.iloc[order]), scores[order], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["genelink", "cnnc", "deepdrim"])
def test_tf_and_target_are_not_interchangeable(name, fitted, datasets):
    """Directed models: (TF, target) and (target, TF) get different scores (channels/images wired)."""
    method, test, scores = fitted(name)
    data, _ = datasets[DATA_OF.get(name, "tiny")]
    swapped = method.predict(data, test.rename(columns={"TF": "Target", "Target": "TF"}))
    assert np.mean(~np.isclose(swapped, scores, rtol=1e-6, atol=1e-7)) > 0.5


def test_genelink_genes_without_training_edge_share_one_embedding(tiny_data, tiny_split):
    """GENELink (no self loops, the paper's graph): a gene with no training edge gets no message,
    so every such gene has the same embedding and targets of one TF tie. This is why GENELink
    ranks held-out targets that are isolated in the training graph no better than chance (issue 5).
    With ``self_loops`` each gene's own expression reaches its embedding."""
    train = tiny_split[tiny_split["Part"] == "train"].reset_index(drop=True)
    val = tiny_split[tiny_split["Part"] == "val"].reset_index(drop=True)
    # Drop every training positive of four targets so they are isolated in the graph.
    pos = train.loc[(train["Label"] == 1) & ~train["Target"].isin(tiny_data.tfs), "Target"]
    tgts = pos.drop_duplicates().iloc[:4].tolist()
    train = train[~((train["Label"] == 1) & train["Target"].isin(tgts))].reset_index(drop=True)
    used = set(training_graph(tiny_data, train, symmetric=True).flatten().tolist())
    iso = [i for i in tiny_data.gene_idx(tgts) if i not in used]
    assert len(iso) == 4
    for loops, n_distinct in ((False, 1), (True, 4)):
        m = get("genelink")(preset="small", epochs=2, self_loops=loops).fit(tiny_data, train, val, seed=0)
        with torch.no_grad():
            z = m.model_.eval().encode()[torch.as_tensor(iso)]
        assert len({tuple(np.round(r, 5)) for r in z.numpy()}) == n_distinct



def _genelink_dense_layer(layer, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
    """GENELink's own ``AttentionLayer.forward`` (zpliulab/GENELink ``Code/scGNN.py``), eval mode,
    re-stated with our layer's weights: dense scores, -9e15 off the graph, softmax per row."""
    c, d = layer.conv, layer.out_dim
    outs = []
    for k in range(layer.heads):
        h = x @ c.lin.weight[k * d:(k + 1) * d].T  # GENELink: x @ W_k
        e = torch.nn.functional.leaky_relu(h @ c.att_dst[0, k][:, None] + (h @ c.att_src[0, k][:, None]).T,
                                           negative_slope=layer.slope)  # a_k = [a_dst || a_src]
        att = torch.softmax(torch.where(adj > 0, e, torch.full_like(e, -9e15)), dim=1)
        out = torch.nn.functional.normalize(torch.nn.functional.leaky_relu(att @ h, layer.slope), p=2, dim=1)
        outs.append(out + layer.bias[k])
    return torch.stack(outs, dim=1)


@pytest.mark.parametrize("isolated", ["bias", "mean"])
def test_genelink_layer_matches_genelink_dense_attention(isolated):
    """``isolated: mean`` (``preset: official``) is GENELink's layer exactly, isolated genes
    included (a row of -9e15 softmaxes to 1/n over all genes); ``bias`` differs only there."""
    from grnbench.methods.genelink import HeadwiseGAT

    torch.manual_seed(0)
    n = 12
    x = torch.randn(n, 5)
    src = torch.tensor([0, 1, 1, 2, 3, 4, 5])
    dst = torch.tensor([1, 2, 3, 4, 4, 5, 6])  # genes 7..11 have no edge
    ei = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    adj = torch.zeros(n, n)
    adj[ei[1], ei[0]] = 1.0
    layer = HeadwiseGAT(5, 4, heads=3, slope=0.2, attn_dropout=0.5, isolated=isolated, init_gain=1.414).eval()
    with torch.no_grad():
        layer.bias.normal_()
        ours, ref = layer(x, ei), _genelink_dense_layer(layer, x, adj)
    lone = torch.arange(n) >= 7
    torch.testing.assert_close(ours[~lone], ref[~lone], rtol=1e-5, atol=1e-5)
    if isolated == "mean":
        torch.testing.assert_close(ours[lone], ref[lone], rtol=1e-5, atol=1e-5)
    else:
        torch.testing.assert_close(ours[lone], layer.bias.detach().expand(int(lone.sum()), -1, -1))
        assert not torch.allclose(ours[lone], ref[lone], atol=1e-3)


def test_genelink_init_gain_uses_genelink_per_head_bounds():
    """``init_gain`` draws each head's W (in x out) and a (2 out x 1) as GENELink's xavier does."""
    from grnbench.methods.genelink import HeadwiseGAT

    torch.manual_seed(0)
    in_dim, out, heads = 200, 64, 3
    default = HeadwiseGAT(in_dim, out, heads, 0.2, 0.5)
    layer = HeadwiseGAT(in_dim, out, heads, 0.2, 0.5, init_gain=1.414)
    w_bound = 1.414 * (6.0 / (in_dim + out)) ** 0.5
    a_bound = 1.414 * (6.0 / (2 * out + 1)) ** 0.5
    for k in range(heads):
        w = layer.conv.lin.weight[k * out:(k + 1) * out]
        assert w.abs().max() <= w_bound and w.abs().max() > 0.95 * w_bound
    for a in (layer.conv.att_src, layer.conv.att_dst):
        assert a.abs().max() <= a_bound and a.abs().max() > 0.9 * a_bound
    # PyG's glorot over all heads at once is narrower: the two initialisations really differ
    assert default.conv.lin.weight.abs().max() < 0.8 * w_bound
    with pytest.raises(ValueError, match="isolated"):
        HeadwiseGAT(in_dim, out, heads, 0.2, 0.5, isolated="zero")


def test_genelink_official_preset_scores_last_epoch_with_eval_dropout(tiny_data, tiny_split):
    """``preset: official``: no model selection (the last epoch is kept) and the 0.01 channel
    dropout stays on at evaluation (two predictions differ); the default is deterministic."""
    train = tiny_split[tiny_split["Part"] == "train"].reset_index(drop=True)
    val = tiny_split[tiny_split["Part"] == "val"].reset_index(drop=True)
    test = tiny_split[tiny_split["Part"] == "test"].reset_index(drop=True)
    off = get("genelink")(preset="official", epochs=3, batch_size=64).fit(tiny_data, train, val, seed=0)
    assert off.labels["best_epoch"] == 3 and off.params["isolated"] == "mean"
    assert not np.allclose(off.predict(tiny_data, test), off.predict(tiny_data, test))
    m = get("genelink")(epochs=3, batch_size=64).fit(tiny_data, train, val, seed=0)
    np.testing.assert_array_equal(m.predict(tiny_data, test), m.predict(tiny_data, test))
    with pytest.raises(ValueError, match="select"):
        get("genelink")(epochs=1, select="best").fit(tiny_data, train, val, seed=0)


# --- building blocks ----------------------------------------------------------------------


def test_pair_images_match_cnnc_histogram():
    """One bincount per pair equals CNNC's ``histogram2d(x_a, x_b).T`` log-scaling."""
    from grnbench.methods.pair_images import PairImages

    rng = np.random.default_rng(3)
    x = np.log1p(rng.gamma(0.5, 2.0, size=(200, 6)) * (rng.random((200, 6)) > 0.3))
    images = PairImages(x, n_bins=32)
    a, b = torch.tensor([0, 2, 5, 1]), torch.tensor([1, 2, 3, 4])
    got = images(a, b)[:, 0].numpy()
    for i, (ga, gb) in enumerate(zip(a.tolist(), b.tolist())):
        h = np.histogram2d(x[:, ga], x[:, gb], bins=32)[0].T
        want = (np.log10(h / len(x) + 1e-4) + 4) / 4
        np.testing.assert_allclose(got[i], want, atol=1e-6)


def test_discretise_edges_and_constant_gene():
    from grnbench.methods.pair_images import discretise

    x = np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 5.0]])
    bins = discretise(x, n_bins=4)
    assert bins[0].tolist() == [0, 2, 3]  # the maximum falls into the last bin
    assert bins[1].tolist() == [2, 2, 2]  # constant gene: middle bin, as NumPy


def test_top_correlated_excludes_self():
    from grnbench.methods.pair_images import top_correlated

    rng = np.random.default_rng(0)
    base = rng.normal(size=(100, 1))
    x = np.hstack([base, base + 0.1 * rng.normal(size=(100, 1)), rng.normal(size=(100, 2))])
    nb = top_correlated(x, k=2)
    assert nb[0, 0] == 1 and nb[1, 0] == 0
    assert all(i not in row for i, row in enumerate(nb))


def test_image_models_chunk_without_changing_scores(tiny_data):
    """Inference in small memory chunks gives the same logits as one big batch."""
    from grnbench.methods.cnnc import CNNCModel
    from grnbench.methods.deepdrim import DeepDRIMModel

    x = tiny_data.expression()
    tf = torch.arange(8).repeat(10)
    tg = torch.arange(80) % 60
    for model in (CNNCModel(x, channels=(4, 8, 8), dense=16),
                  DeepDRIMModel(x, k=2, channels=(4, 8, 8), embed=8, hidden=(16, 8))):
        model.eval()
        with torch.no_grad():
            whole = model(tf, tg)
            model.budget = 1  # one pair per chunk
            parts = model(tf, tg)
        torch.testing.assert_close(whole, parts, rtol=1e-5, atol=1e-5)


def test_deepdrim_shares_neighbour_images_exactly(tiny_data):
    """Per-gene computation of the neighbour stream equals DeepDRIM's per-pair layout."""
    from grnbench.methods.deepdrim import DeepDRIMModel

    model = DeepDRIMModel(tiny_data.expression(), k=2, channels=(4, 8, 8), embed=8, hidden=(16, 8)).eval()
    tf, tg = torch.tensor([0, 0, 3, 5]), torch.tensor([10, 20, 10, 0])
    nb = model.nbrs
    with torch.no_grad():
        fast = model(tf, tg)
        slow = []
        for a, b in zip(tf.tolist(), tg.tolist()):
            pairs = [(a, b), (a, a), (b, b)] + [(a, int(n)) for n in nb[a]] + [(int(n), b) for n in nb[b]]
            img = model.images(torch.tensor([p[0] for p in pairs]), torch.tensor([p[1] for p in pairs]))
            img = img.contiguous(memory_format=torch.channels_last)
            prim = model.primary_dense(model.primary(img[:1]))
            nbr = model.neighbour_dense(model.neighbour(img[1:])).reshape(1, -1)
            slow.append(model.head(torch.cat([prim, nbr], dim=1)).squeeze(-1))
    torch.testing.assert_close(fast, torch.cat(slow), rtol=1e-5, atol=1e-5)


def test_deepdrim_training_draws_dropout_in_a_fixed_order(tiny_data):
    """In training the towers' dropout masks come from one generator: stream A (the pairs'
    primary images) draws first, then stream B for the distinct TFs, then the distinct targets,
    then the head. A refactor that reorders the streams changes every trained model (df4e727
    did, silently: DeepDRIM's default-run AUROCs moved by up to 0.02 until it was put back)."""
    from grnbench.methods.deepdrim import DeepDRIMModel

    model = DeepDRIMModel(tiny_data.expression(), k=2, channels=(4, 8, 8), embed=8, hidden=(16, 8),
                          conv_dropout=0.5, dense_dropout=0.5).train()
    tf, tg = torch.tensor([0, 0, 3, 5]), torch.tensor([10, 20, 10, 0])
    torch.manual_seed(11)
    got = model(tf, tg)
    torch.manual_seed(11)
    img = model.images(tf, tg).contiguous(memory_format=torch.channels_last)
    primary = model.primary_dense(model.primary(img))
    utf, itf = torch.unique(tf, return_inverse=True)
    utg, itg = torch.unique(tg, return_inverse=True)
    a = model._side(utf, True)[itf]
    b = model._side(utg, False)[itg]
    nbr = torch.cat([a[:, 0], b[:, 0], a[:, 1:].flatten(1), b[:, 1:].flatten(1)], dim=1)
    want = model.head(torch.cat([primary, nbr], dim=1)).squeeze(-1)
    torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_chunk_budget_bounds_tfs1000_inference():
    """At TFs+1000 size an 8192-pair inference batch is cut into bounded chunks."""
    from grnbench.methods.pair_images import ACTIVATION_FACTOR, chunk_sizes

    budget = 512 * 2**20
    chunk = chunk_sizes(8192, 23, 32, budget)
    assert 1 <= chunk < 8192
    assert chunk * 23 * 32 * 32 * 4 * ACTIVATION_FACTOR <= budget


def test_channel_attention_equals_public_code_form():
    """Equation (2): softmax_m(t_ij N_ijm) equals the code's attention over prior channels."""
    from grnbench.models.grn_transformer.encoder import RowAttention

    gen = torch.Generator().manual_seed(0)
    r, g, h, d, m, e = 5, 7, 2, 4, 3, 8
    q, k = torch.randn(r, g, h, d, generator=gen), torch.randn(r, g, h, d, generator=gen)
    net = torch.randn(g, g, m, generator=gen)
    w_q, b_q = torch.randn(d, e, generator=gen), torch.randn(e, generator=gen)
    w_k, b_k = torch.randn(e, generator=gen), torch.randn(e, generator=gen)
    # Public code: Q = mean_h(Linear_d->8(sum_r q * k)), K = Linear_1->8(N); softmax_m(Q . K)
    big_q = (torch.einsum("rihd,rjhd->hijd", q, k) @ w_q + b_q).mean(0)
    big_k = net.unsqueeze(-1) * w_k + b_k
    want = torch.softmax(torch.einsum("ije,ijme->ijm", big_q, big_k), dim=-1)
    # Ours: u = W_q w_k, beta = b_q . w_k
    row = RowAttention(h * d, h, torch.Generator().manual_seed(1))
    u, beta = w_q @ w_k, b_q @ w_k
    t = torch.einsum("rihd,rjhd->ij", q * u, k) / h + beta
    got = torch.softmax(net * t.unsqueeze(-1), dim=-1)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    assert row.u.shape == u.shape and row.beta.shape == beta.shape


def test_weak_label_cleaning_drops_doubtful_pairs():
    from grnbench.models.grn_transformer import clean_weak_labels

    rng = np.random.default_rng(0)
    y = np.array([1] * 20 + [0] * 20)
    scores = np.where(y == 1, 0.9, 0.1)[None, :] + rng.normal(0, 0.01, size=(10, 40))
    scores[:, 0] = 0.1  # a positive every forest doubts
    scores[:, 25] = np.linspace(0.0, 0.6, 10)  # a negative the forests disagree on
    keep = clean_weak_labels(scores, y)
    assert not keep[0] and not keep[25]
    assert keep.sum() == 38


def test_registered_with_paper_defaults_and_small_preset():
    for name in FAST:
        cls = get(name)
        assert cls.kind == "supervised" and cls.description
        method = cls(preset="small")
        assert set(method.params) == set(cls.defaults)


def test_out_of_fold_features_hide_each_pairs_own_edge():
    """Leave-one-out folds: a training positive's features come from a prior without its edge."""
    from grnbench.models.grn_transformer import (
        AxialEncoder,
        PairFeatures,
        attention_maps,
        out_of_fold_features,
    )

    gen = torch.Generator().manual_seed(0)
    z = torch.randn(12, 6, generator=gen)
    prior = torch.rand(6, 6, 3, generator=gen)
    prior[..., -1] = 0.0
    tf, tg, y = torch.tensor([0, 0, 1, 2]), torch.tensor([3, 4, 5, 3]), torch.tensor([1.0, 0.0, 1.0, 1.0])
    for a, b in zip(tf[y == 1], tg[y == 1]):
        prior[a, b, -1] = prior[b, a, -1] = 1.0
    enc = AxialEncoder(dim=8, ffn_dim=8, heads=2, layers=1, seed=0)
    oof = out_of_fold_features(enc, z, prior, tf, tg, y, folds=len(tf), seed=0, chunk=None)
    for i in range(len(tf)):
        p = prior.clone()
        if y[i] == 1:
            p[tf[i], tg[i], -1] = p[tg[i], tf[i], -1] = 0.0
        want = PairFeatures(attention_maps(enc, z, p, None)).compute(tf[i : i + 1], tg[i : i + 1])
        torch.testing.assert_close(oof[i : i + 1], want)
    full = PairFeatures(attention_maps(enc, z, prior, None))
    assert not torch.allclose(full.compute(tf[:1], tg[:1]), oof[:1])  # the own edge mattered
    full.set_overrides(tf, tg, oof)
    torch.testing.assert_close(full(tf, tg), oof)
    torch.testing.assert_close(full(tg, tf), full.compute(tg, tf))  # other pairs: computed


def test_gnnlink_official_preset_is_the_public_codes_maths(tiny_data, tiny_split):
    """``preset: official`` reproduces GNNLink's TensorFlow code (inits.py, gcn.py, utils.py),
    written here densely with NumPy: A = directed training positives (row = TF) + I, then
    preprocess_graph adds I again and normalises D^-1/2 (A + I) D^-1/2 with D = row sums;
    H = LeakyReLU(A_hat X W1), Z = LeakyReLU(A_hat H W2), S = ReLU(Z Z^T); loss =
    sqrt(mean over all n^2 entries of mask * (S - Y)^2)."""
    import torch

    from grnbench.methods import get
    from grnbench.methods.gnnlink import gnnlink_features
    from grnbench.methods.training import pair_tensors

    train = tiny_split[tiny_split.Part == "train"]
    m = get("gnnlink")(preset="official", epochs=1)
    assert m.params["graph"] == "directed" and m.params["self_loop_weight"] == 2
    m.fit(tiny_data, train, tiny_split[tiny_split.Part == "val"], seed=0)
    model = m.model_
    n = tiny_data.n_genes
    a = np.zeros((n, n))
    pos = train[train.Label == 1]
    a[tiny_data.gene_idx(pos.TF.to_numpy()), tiny_data.gene_idx(pos.Target.to_numpy())] = 1
    a_ = a + np.eye(n) + np.eye(n)
    d = a_.sum(1) ** -0.5
    a_hat = d[:, None] * a_ * d[None, :]
    x = gnnlink_features(tiny_data.expression()).astype(np.float64)
    w1 = model.conv1.lin.weight.detach().numpy().T.astype(np.float64)
    w2 = model.conv2.lin.weight.detach().numpy().T.astype(np.float64)

    def leaky(v):
        return np.where(v > 0, v, 0.2 * v)

    z = leaky(a_hat @ leaky(a_hat @ (x @ w1)) @ w2)
    with torch.no_grad():
        ours = model.encode().numpy()
    np.testing.assert_allclose(ours, z, rtol=1e-4, atol=1e-5)
    # the loss the loop minimises, on the same weights
    tf, tg, y = pair_tensors(tiny_data, train, "cpu")
    s = np.maximum(z @ z.T, 0)
    err = (s[tf.numpy(), tg.numpy()] - y.numpy()) ** 2
    expected = np.sqrt(err.sum() / n**2)
    from grnbench.methods.training import TrainConfig

    cfg = TrainConfig(loss="rmse", loss_count=n**2)
    with torch.no_grad():
        sq = torch.nn.functional.mse_loss(model(tf, tg), y, reduction="sum")
    assert cfg.loss_count == n**2
    assert float(torch.sqrt(sq / cfg.loss_count)) == pytest.approx(expected, rel=1e-4)
    # and the default (symmetric graph, single self loops) is a different operator
    default = get("gnnlink")(epochs=1).fit(tiny_data, train, tiny_split[tiny_split.Part == "val"], seed=0)
    directed = set(map(tuple, model.edge_index.T.tolist()))
    assert all((tg, tf) in directed for tf, tg in zip(a.nonzero()[0], a.nonzero()[1]))  # target -> TF
    assert set(map(tuple, default.model_.edge_index.T.tolist())) == directed | {(j, i) for i, j in directed}


def test_gnnlink_rejects_unknown_options(tiny_data, tiny_split):
    train, val = tiny_split[tiny_split.Part == "train"], tiny_split[tiny_split.Part == "val"]
    for bad in ({"graph": "both"}, {"select": "best"}, {"loss": "bce"}, {"self_loop_weight": 3}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            get("gnnlink")(epochs=1, **bad).fit(tiny_data, train, val, seed=0)
