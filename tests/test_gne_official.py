"""GNE's ``preset: official``: the public code's two stages (kckishan/GNE aadaa9b).

Stage 1 trains the embeddings alone on the training network (sampled softmax, log-uniform
negatives, validation AUROC of ``e e^T`` selects the epoch); stage 2 fits a logistic regression on
Hadamard features of the training pairs. The default (joint training) must stay as it was.
All on ``tiny_data`` (conftest) with small dimensions: seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import grnbench.methods.gne as gne_mod
from grnbench.errors import InputError, SplitLeakError
from grnbench.methods.registry import get

SMALL = {"id_dim": 16, "attr_dim": 16, "rep_dim": 16, "batch_size": 64}


def parts(split):
    train = split[split["Part"] == "train"].reset_index(drop=True)
    val = split[split["Part"] == "val"].reset_index(drop=True)
    test = split[split["Part"] == "test"].reset_index(drop=True)
    return train, val, test


def pair_set(data, frame):
    return set(zip(data.gene_idx(frame["TF"].to_numpy()).tolist(), data.gene_idx(frame["Target"].to_numpy()).tolist()))


@pytest.fixture(scope="module")
def official_fit(tiny_data, tiny_split):
    train, val, test = parts(tiny_split)
    m = get("gne")(preset="official", **SMALL)
    scores = m.score_pairs(tiny_data, tiny_split, test, seed=0, threads=1)
    return m, scores


def test_official_preset_is_two_stage_with_the_originals_stop():
    p = get("gne")(preset="official").params
    assert p["training"] == "two_stage"
    assert p["patience"] == 3  # require_improvement = 2 with a strict '>'
    assert (p["lr"], p["batch_size"], p["epochs"], p["n_neg"], p["alpha"], p["dropout"]) == (5e-3, 256, 20, 10, 1.0, 0.5)
    assert get("gne")().params["training"] == "joint"


def test_unknown_training_value_is_refused(tiny_data, tiny_split):
    train, val, _ = parts(tiny_split)
    with pytest.raises(ValueError, match=r"GNE training must be one of joint, two_stage, got 'alone'"):
        get("gne")(training="alone", **SMALL).fit(tiny_data, train, val, seed=0)
    with pytest.raises(InputError, match="unknown parameter"):
        get("gne")(preset="official", stages=2)
    with pytest.raises(InputError, match="unknown preset"):
        get("gne")(preset="originall")


def test_default_is_unchanged(tiny_data, tiny_split):
    """Pinned from the joint code path before the official preset existed (commit 62f9d2d)."""
    _, _, test = parts(tiny_split)
    m = get("gne")(epochs=3, patience=None, **SMALL)
    s = m.score_pairs(tiny_data, tiny_split, test, seed=0, threads=1)
    np.testing.assert_allclose(s[[0, 1, 2, 60, 121]],
                               [0.0790067837, -0.0018013585, 0.120740518, 0.0488017276, 0.0051842793], atol=2e-6)
    assert m.labels == {"best_epoch": 1, "graph_edges": 208}
    assert m.classifier_ is None


def test_embedding_stage_sees_only_training_edges(tiny_data, tiny_split, monkeypatch):
    train, val, _ = parts(tiny_split)
    pos = train[train["Label"] == 1]
    allowed = pair_set(tiny_data, pos)
    allowed |= {(b, a) for a, b in allowed}
    held_out = pair_set(tiny_data, tiny_split[(tiny_split["Part"] != "train") & (tiny_split["Label"] == 1)])
    seen: list[tuple[int, int]] = []
    original = gne_mod.GNEEmbedding.sampled_softmax_loss

    def spy(self, src, dst, n_neg, rng):
        assert len(src) <= SMALL["batch_size"]
        seen.extend(zip(src.tolist(), dst.tolist()))
        return original(self, src, dst, n_neg, rng)

    monkeypatch.setattr(gne_mod.GNEEmbedding, "sampled_softmax_loss", spy)
    m = get("gne")(preset="official", **SMALL).fit(tiny_data, train, val, seed=0)
    assert seen and set(seen) <= allowed
    assert not (set(seen) & (held_out - allowed))
    # LoadData.read_link: every training positive once per direction, no deduplication
    assert m.links_.shape == (2, 2 * len(pos)) and m.labels["graph_edges"] == 2 * len(pos)
    assert set(zip(*m.links_.tolist())) == allowed
    with pytest.raises(SplitLeakError):
        gne_mod.gne_links(tiny_data, tiny_split)  # validation / test rows never reach stage 1


def test_logistic_regression_is_fit_on_training_pairs_only(tiny_data, tiny_split, monkeypatch):
    from sklearn import linear_model

    train, val, test = parts(tiny_split)
    calls = []

    class Spy(linear_model.LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            calls.append((np.array(X), np.array(y)))
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(linear_model, "LogisticRegression", Spy)
    m = get("gne")(preset="official", **SMALL).fit(tiny_data, train, val, seed=0)
    assert len(calls) == 1
    x, y = calls[0]
    e = m.embeddings_.astype(np.float64)
    tf, tg = tiny_data.gene_idx(train["TF"].to_numpy()), tiny_data.gene_idx(train["Target"].to_numpy())
    expected = e[tf] * e[tg]  # Hadamard features of exactly the training pairs (rows permuted)
    assert x.shape == expected.shape and sorted(y.tolist()) == sorted(train["Label"].tolist())
    order_x, order_e = np.lexsort(x.T), np.lexsort(expected.T)
    np.testing.assert_array_equal(x[order_x], expected[order_e])
    np.testing.assert_array_equal(y[order_x], train["Label"].to_numpy()[order_e])
    assert m.classifier_.get_params()["C"] == 1.0 and m.classifier_.get_params()["solver"] == "lbfgs"
    # the scores are its probabilities on the Hadamard features of the asked pairs
    s = m.predict(tiny_data, test)
    f = e[tiny_data.gene_idx(test["TF"].to_numpy())] * e[tiny_data.gene_idx(test["Target"].to_numpy())]
    np.testing.assert_allclose(s, m.classifier_.predict_proba(f)[:, 1])


def test_validation_selects_the_epoch_and_stops_after_three_without_gain(official_fit):
    m, _ = official_fit
    hist = m.result_["history"]
    roc = [h["val_auroc"] for h in hist]
    assert all(r >= 0.5 for r in roc)  # an AUROC below 0.5 is folded, as evaluate_ROC_from_matrix
    best = int(np.argmax(roc)) + 1
    assert m.labels["best_epoch"] == best
    assert m.labels["epochs_run"] == min(20, best + 3)


def test_same_seed_same_scores_other_seed_other_scores(tiny_data, tiny_split, official_fit):
    _, scores = official_fit
    _, _, test = parts(tiny_split)
    again = get("gne")(preset="official", **SMALL).score_pairs(tiny_data, tiny_split, test, seed=0, threads=1)
    np.testing.assert_array_equal(scores, again)
    other = get("gne")(preset="official", **SMALL).score_pairs(tiny_data, tiny_split, test, seed=1, threads=1)
    assert not np.allclose(scores, other)
    assert np.all((scores >= 0) & (scores <= 1))


def test_log_uniform_sampler_is_tensorflows():
    rng = np.random.default_rng(0)
    n = 10
    p = np.log((np.arange(n) + 2.0) / (np.arange(n) + 1.0)) / np.log(n + 1.0)
    assert np.isclose(p.sum(), 1.0)
    draws = [gne_mod.log_uniform_candidates(n, 1, rng)[0][0] for _ in range(20000)]
    freq = np.bincount(draws, minlength=n) / len(draws)
    np.testing.assert_allclose(freq, p, atol=0.01)
    ids, tries, log_q = gne_mod.log_uniform_candidates(n, 5, rng)
    assert len(set(ids.tolist())) == 5 and tries >= 5 and ids.min() >= 0 and ids.max() < n
    k = np.arange(n)
    expected = np.log(p * 5) if tries == 5 else np.log(1 - (1 - p) ** tries)
    np.testing.assert_allclose(log_q(k), expected)


def test_validation_score_saturates_like_the_original():
    """exp in float32, the division in float64 (NumPy 1.x scalars): dots of 20 and 30 still rank;
    a float32 sigmoid would tie them at 1.0."""
    emb = np.zeros((4, 2), np.float32)
    emb[0], emb[1], emb[2], emb[3] = [np.sqrt(20), 0], [np.sqrt(20), 0], [np.sqrt(30), 0], [np.sqrt(30), 0]
    tf, tg = np.array([0, 2]), np.array([1, 3])
    assert gne_mod._val_roc(emb, tf, tg, np.array([0, 1])) == 1.0
    assert gne_mod._val_roc(emb, tf, tg, np.array([1, 0])) == 1.0  # folded: 1 - 0


def test_embedding_init_and_dropout_follow_the_original(tiny_data):
    x = np.random.default_rng(0).normal(size=(tiny_data.n_genes, 30)).astype(np.float32)
    g = torch.Generator().manual_seed(0)
    model = gne_mod.GNEEmbedding(x, id_dim=64, attr_dim=64, rep_dim=64, gen=g)
    assert model.in_emb.abs().max() <= 1.0 and model.bias.abs().max() == 0
    for w in (model.attr_w, model.out_emb, model.hidden_w):  # tf.random_normal: sd 1
        assert abs(float(w.detach().std()) - 1.0) < 0.1
    idx = torch.arange(5)
    h_eval = model.representation(idx, model.x[idx], train=False)
    assert torch.equal(h_eval, model.representation(idx, model.x[idx], train=False))
    assert not torch.equal(h_eval, model.representation(idx, model.x[idx], train=True))
