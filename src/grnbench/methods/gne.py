"""GNE, gene network embedding (Kc et al. 2019): topology + expression -> gene embeddings.

Each gene ``i`` has a learned identity embedding (the one-hot gene ID times a matrix) and an
attribute embedding of its expression profile ``x_i`` (z-scored per gene, over cells):

    u_i = normalize_L2(E_id[i]),  a_i = normalize_L2(ELU(x_i W_attr))
    h_i = tanh(W_h · dropout_0.5([u_i || alpha · a_i]))                    (representation)

GNE learns them with a skip-gram objective on the network: a gene predicts its neighbours
through context ("output") embeddings ``o_j`` and biases ``b_j`` with sampled negatives,

    L_topo = -log sigma(h_i . o_j + b_j) - sum_{n ~ U(genes), 10 draws} log sigma(-(h_i . o_n + b_n))

over the edges of the *training* network (training positives, symmetric: GNE treats the
network as undirected). GNE's final gene embedding is ``e_i = h_i + o_i`` and a logistic
regression on the edge feature ``e_tf * e_target`` (Hadamard product) scores links:

    logit(tf, target) = w . (e_tf * e_target) + c

Here both parts are trained jointly through the shared loop: BCE of that logit on the
training pairs (the split's labelled negatives included) plus ``L_topo`` on a batch of graph
edges at every step. The paper trains the embeddings first (Adam lr 0.005, batch 256, up to
20 epochs, early stopping on validation, 128-d embeddings, alpha = 1, sampled softmax with 10
negatives) and then fits the logistic regression; joint training keeps model selection on
validation in one loop (here: stop after 2 epochs without gain; the public code waits 3).
Choice left open: uniform negative sampling (TensorFlow's sampled softmax uses a log-uniform
sampler over node ids, which has no meaning for gene ids; the official preset uses it anyway).

The official preset (``preset: official``, ``training: two_stage``) follows GNE's public code
(kckishan/GNE aadaa9b: ``run_GNE.py``, ``GNE.py``, ``LoadData.py``, ``evaluation.py``) instead:

1. *Embeddings alone.* The network is the training positives, each edge once per direction
   (``LoadData.read_link``: no deduplication, no self-loop removal); a training example is
   (gene, neighbour) with the gene's expression. Weights as ``_initialize_weights``:
   ``E_id ~ U(-1, 1)``, ``W_attr``, ``W_h`` and ``o ~ N(0, 1)``, biases 0, no bias terms. Loss:
   TensorFlow's ``sampled_softmax_loss`` (10 negatives drawn *once per batch* by its default
   log-uniform sampler over gene ids, ``P(k) = log((k + 2) / (k + 1)) / log(n + 1)``, unique,
   accidental hits removed, logits minus log expected count), Adam lr 0.005. Per epoch the
   examples are permuted and ``len // 256`` batches are taken as 256 consecutive examples from
   a random start (``GNE.train``: windows drawn with replacement, not a partition). After every
   epoch ``e = h + o`` (no dropout) is scored on the validation pairs as
   ``sigmoid(e_tf . e_target)`` (``evaluate_ROC_from_matrix``: ``exp`` in float32, the rest in
   float64; an AUROC below 0.5 counts as 1 - AUROC); the best epoch's ``e`` is kept and
   training stops after 3 epochs without gain (``require_improvement = 2`` with a strict ``>``,
   i.e. ``patience: 3``).
2. *Logistic regression.* ``LogisticRegression`` (scikit-learn defaults: L2, C = 1, lbfgs, 100
   iterations; ``random_state`` = the seed, unused by lbfgs) on the Hadamard features
   ``e_tf * e_target`` of the training pairs (positives, then the split's negatives, rows
   permuted); its ``predict_proba`` scores pairs. Validation pairs only select the epoch.

Every random step (weights, dropout, permutations, batch windows, sampled negatives) draws from
generators seeded by the method's seed (TensorFlow's own streams cannot be reproduced). In the
degenerate case of fewer examples than a batch (the original would crash) one batch of all of
them is taken per epoch. ``topo_weight`` is not used by ``two_stage``.

Measured on GENELink's official mDC TFs+500 splits, 3 split seeds x 32 training runs
(benchmarks/faithfulness/README.md): official -0.001 (specific) / -0.005 (non-specific) test
AUROC from the original; the default +0.124 / +0.079 (joint training learns the classifier from
the labelled pairs with the embeddings and selects on their validation AUROC).

``gene_embeddings`` (a file of gene vectors computed elsewhere, :mod:`grnbench.data.embeddings`;
ours): the attribute input becomes ``[x_i || e_i]``, the expression profile beside the file's
vector (standardised per dimension; zero for a gene the file lacks), as GNE's attributes are
any per-gene features. Unset: expression only, as the paper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from grnbench.data.dataset import GRNData
from grnbench.data.embeddings import PARAMS as EMBEDDING_PARAMS
from grnbench.data.embeddings import gene_embedding_matrix
from grnbench.errors import SplitLeakError
from grnbench.methods.base import SupervisedMethod
from grnbench.methods.genelink import zscore_per_gene
from grnbench.methods.graph import training_graph
from grnbench.methods.registry import register
from grnbench.methods.training import PairModelPredict, TrainConfig, train_pair_model
from grnbench.utils import seed_everything


class GNEModel(nn.Module):
    def __init__(self, features: np.ndarray, edge_index: torch.Tensor, *, id_dim=128, attr_dim=128,
                 rep_dim=128, alpha=1.0, dropout=0.5, n_neg=10, topo_batch=256, seed=0):
        super().__init__()
        n_genes = features.shape[0]
        self.register_buffer("x", torch.as_tensor(features), persistent=False)
        self.register_buffer("edge_index", edge_index, persistent=False)
        self.id_emb = nn.Parameter(torch.empty(n_genes, id_dim).uniform_(-1.0, 1.0))
        self.attr = nn.Linear(features.shape[1], attr_dim, bias=False)
        self.hidden = nn.Linear(id_dim + attr_dim, rep_dim, bias=False)
        self.out_emb = nn.Parameter(torch.randn(n_genes, rep_dim) / rep_dim**0.5)
        self.out_bias = nn.Parameter(torch.zeros(n_genes))
        self.link = nn.Linear(rep_dim, 1)  # logistic regression on Hadamard edge features
        self.alpha, self.dropout, self.n_neg, self.topo_batch = alpha, dropout, n_neg, topo_batch
        # Edge and negative sampling for L_topo draw from their own seeded stream.
        self.gen = torch.Generator().manual_seed(seed + 7919)

    def representation(self, idx: torch.Tensor) -> torch.Tensor:
        """``h_i`` of the module docstring for genes ``idx``."""
        u = F.normalize(self.id_emb[idx], dim=-1)
        a = F.normalize(F.elu(self.attr(self.x[idx])), dim=-1)
        z = F.dropout(torch.cat([u, self.alpha * a], dim=-1), self.dropout, self.training)
        return torch.tanh(self.hidden(z))

    def embedding(self, idx: torch.Tensor) -> torch.Tensor:
        """GNE's final embedding ``e_i = h_i + o_i``."""
        return self.representation(idx) + self.out_emb[idx]

    def forward(self, tf: torch.Tensor, tg: torch.Tensor) -> torch.Tensor:
        return self.link(self.embedding(tf) * self.embedding(tg)).squeeze(-1)

    def topology_loss(self) -> torch.Tensor:
        """Skip-gram loss ``L_topo`` on a random batch of training-graph edges."""
        n_edges = self.edge_index.shape[1]
        if n_edges == 0:
            return torch.zeros((), device=self.out_emb.device)
        pick = torch.randint(n_edges, (min(self.topo_batch, n_edges),), generator=self.gen)
        src, dst = self.edge_index[:, pick.to(self.edge_index.device)]
        neg = torch.randint(len(self.out_bias), (len(src), self.n_neg), generator=self.gen).to(src.device)
        h = self.representation(src)
        pos = (h * self.out_emb[dst]).sum(-1) + self.out_bias[dst]
        negs = torch.einsum("bd,bkd->bk", h, self.out_emb[neg]) + self.out_bias[neg]
        return -(F.logsigmoid(pos) + F.logsigmoid(-negs).sum(-1)).mean()


TRAINING = ("joint", "two_stage")
_FLT_MAX = float(np.finfo(np.float32).max)


def gne_links(data: GRNData, train: pd.DataFrame) -> np.ndarray:
    """(2, 2E) gene indices of GNE's training network: each training positive (TF, target) then
    (target, TF), in file order, as ``LoadData.read_link`` (no deduplication)."""
    if "Part" in train and (train["Part"] != "train").any():
        raise SplitLeakError("gne_links got rows that are not Part == 'train'")
    pos = train[train["Label"] == 1]
    src = data.gene_idx(pos["TF"].to_numpy())
    dst = data.gene_idx(pos["Target"].to_numpy())
    return np.stack([np.stack([src, dst], 1).ravel(), np.stack([dst, src], 1).ravel()]).astype(np.int64)


def log_uniform_candidates(n_classes: int, n_sampled: int, rng: np.random.Generator):
    """TensorFlow's ``log_uniform_candidate_sampler(unique=True)``: ``n_sampled`` distinct ids
    drawn as ``floor(exp(u log(n + 1))) - 1``; returns them, the number of draws it took and the
    log-expected-count function ``log(1 - (1 - p)^tries)`` (``p * n_sampled`` when no repeat)."""
    n_sampled = min(n_sampled, n_classes)
    log_range = np.log(n_classes + 1.0)
    picked: dict[int, None] = {}
    tries = 0
    while len(picked) < n_sampled:
        tries += 1
        picked.setdefault((int(np.exp(rng.random() * log_range)) - 1) % n_classes, None)
    ids = np.fromiter(picked, dtype=np.int64, count=len(picked))

    def log_expected(k: np.ndarray) -> np.ndarray:
        p = np.log((k + 2.0) / (k + 1.0)) / log_range
        if tries == n_sampled:
            return np.log(p * n_sampled)
        return np.log(-np.expm1(tries * np.log1p(-p)))

    return ids, tries, log_expected


class GNEEmbedding(nn.Module):
    """The embedding stage of GNE's public code (module docstring, "The official preset")."""

    def __init__(self, features: np.ndarray, *, id_dim=128, attr_dim=128, rep_dim=128, alpha=1.0,
                 dropout=0.5, gen: torch.Generator):
        super().__init__()
        n_genes, n_attr = features.shape
        self.register_buffer("x", torch.as_tensor(features), persistent=False)
        self.in_emb = nn.Parameter(torch.rand(n_genes, id_dim, generator=gen) * 2.0 - 1.0)
        self.attr_w = nn.Parameter(torch.randn(n_attr, attr_dim, generator=gen))
        self.out_emb = nn.Parameter(torch.randn(n_genes, rep_dim, generator=gen))
        self.bias = nn.Parameter(torch.zeros(n_genes))
        self.hidden_w = nn.Parameter(torch.randn(id_dim + attr_dim, rep_dim, generator=gen))
        self.alpha, self.keep = float(alpha), 1.0 - float(dropout)
        self.gen = gen

    def representation(self, idx: torch.Tensor, x: torch.Tensor, train: bool) -> torch.Tensor:
        u = F.normalize(self.in_emb[idx], dim=-1)
        a = F.normalize(F.elu(x @ self.attr_w), dim=-1)
        z = torch.cat([u, self.alpha * a], dim=-1)
        if train and self.keep < 1.0:  # tf.nn.dropout(keep_prob): x / keep * floor(keep + U)
            mask = torch.floor(self.keep + torch.rand(z.shape, generator=self.gen)).to(z.device)
            z = z / self.keep * mask
        return torch.tanh(z @ self.hidden_w)

    def sampled_softmax_loss(self, src: torch.Tensor, dst: torch.Tensor, n_neg: int,
                             rng: np.random.Generator) -> torch.Tensor:
        """``tf.nn.sampled_softmax_loss`` with its default sampler, mean over the batch."""
        h = self.representation(src, self.x[src], train=True)
        ids, _, log_q = log_uniform_candidates(self.out_emb.shape[0], n_neg, rng)
        dev = h.device
        sampled = torch.as_tensor(ids, device=dev)
        true_logit = (h * self.out_emb[dst]).sum(-1) + self.bias[dst]
        true_logit = true_logit - torch.as_tensor(log_q(dst.cpu().numpy()), dtype=h.dtype, device=dev)
        samp = h @ self.out_emb[sampled].T + self.bias[sampled]
        samp = samp - torch.as_tensor(log_q(ids), dtype=h.dtype, device=dev)
        hits = dst[:, None] == sampled[None, :]  # remove_accidental_hits: logit - FLT_MAX
        samp = samp + hits.to(h.dtype) * -_FLT_MAX
        logits = torch.cat([true_logit[:, None], samp], dim=1)
        return (torch.logsumexp(logits, dim=1) - true_logit).mean()

    @torch.no_grad()
    def embeddings(self) -> np.ndarray:
        """GNE's ``Embeddings_out + Embeddings_in`` (float32), no dropout."""
        idx = torch.arange(self.x.shape[0], device=self.x.device)
        return (self.out_emb + self.representation(idx, self.x, train=False)).cpu().numpy()


def _val_roc(emb: np.ndarray, tf: np.ndarray, tg: np.ndarray, y: np.ndarray) -> float:
    """``evaluate_ROC_from_matrix``: AUROC of ``1 / (1 + exp(-e_tf . e_target))``, folded above 0.5.

    As there (NumPy 1.x scalars): the dot product and ``exp`` in float32, the rest in float64, so
    scores saturate only where float32 ``exp`` underflows (dot > ~87), not at float32's 1.0."""
    from grnbench.evaluate.ranking import auroc

    dot = np.einsum("ij,ij->i", emb[tf], emb[tg]).astype(np.float32)
    with np.errstate(over="ignore"):
        s = 1.0 / (1.0 + np.exp(-dot).astype(np.float64))
    roc = auroc(y, s)  # scikit-learn's roc_auc_score, to the bit
    return 1.0 - roc if roc < 0.5 else roc


def train_gne_embeddings(model: GNEEmbedding, links: np.ndarray, val_tf: np.ndarray, val_tg: np.ndarray,
                         val_y: np.ndarray, *, n_neg: int, lr: float, batch_size: int, epochs: int,
                         patience: int | None, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """``GNE.train``: the best-on-validation epoch's embeddings and facts about the run."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    dev = model.x.device
    src_all, dst_all = links
    n = len(src_all)
    usable_val = len(val_y) > 0 and len(np.unique(val_y)) == 2
    best, best_emb, best_epoch, stale, epoch, history = -np.inf, None, 0, 0, 0, []
    for epoch in range(1, epochs + 1):
        perm = rng.permutation(n)
        src_all, dst_all = src_all[perm], dst_all[perm]
        n_batches = max(n // batch_size, 1) if n else 0
        total = 0.0
        for _ in range(n_batches):
            start = int(rng.integers(0, n - batch_size)) if n > batch_size else 0
            sl = slice(start, start + batch_size)
            src = torch.as_tensor(src_all[sl], device=dev)
            dst = torch.as_tensor(dst_all[sl], device=dev)
            loss = model.sampled_softmax_loss(src, dst, n_neg, rng)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) / n_batches
        emb = model.embeddings()
        roc = _val_roc(emb, val_tf, val_tg, val_y) if usable_val else float(epoch)
        history.append({"epoch": epoch, "loss": total, "val_auroc": roc if usable_val else float("nan")})
        if roc > best:
            best, best_emb, best_epoch, stale = roc, emb.copy(), epoch, 0
        else:
            stale += 1
        if patience is not None and stale >= patience:
            break
    if best_emb is None:  # epochs = 0
        best_emb = model.embeddings()
    return best_emb, {"best_epoch": best_epoch, "epochs_run": epoch, "history": history}


@register
class GNE(PairModelPredict, SupervisedMethod):
    name = "gne"
    display_name = "GNE"
    family = "supervised"
    order = 12
    color = "#8c564b"
    # cost measured with the 'small' preset at G400/C600/T40 (16,000 pairs) on a loaded 2-core
    # machine: seconds / (epochs x pairs), the preset's epochs, peak RSS above the bare process
    cost = {"model": "deep", "per_pair_epoch_s": 21.0 / (20 * 16000), "measured_epochs": 20, "extra_mb": 250}
    description = "GNE: gene-ID topology embedding + expression attributes, skip-gram + link classifier."
    defaults = {
        "id_dim": 128, "attr_dim": 128, "rep_dim": 128, "alpha": 1.0, "dropout": 0.5,
        "n_neg": 10, "topo_weight": 1.0, "lr": 5e-3, "batch_size": 256, "epochs": 20, "patience": 2,
        "training": "joint", **EMBEDDING_PARAMS,
    }
    # small: the paper recipe trains in seconds at that size; official: what GNE's public code
    # does (module docstring, "The official preset")
    presets = {"small": {}, "official": {"training": "two_stage", "patience": 3}}

    def fit(self, data: GRNData, train: pd.DataFrame, val: pd.DataFrame, *, seed: int,
            threads: int = 1) -> GNE:
        torch.set_num_threads(threads)
        seed_everything(seed)
        p = self.params
        if p["training"] not in TRAINING:
            raise ValueError(f"GNE training must be one of {', '.join(TRAINING)}, got {p['training']!r}")
        features, emb_labels = zscore_per_gene(data.expression()), {}
        if p["gene_embeddings"]:  # module docstring: attributes [expression || file vector]
            emb, emb_labels = gene_embedding_matrix(p["gene_embeddings"], data.genes,
                                                    min_coverage=float(p["gene_embeddings_min_coverage"]))
            features = np.concatenate([features, emb], axis=1)
        if p["training"] == "two_stage":
            return self._fit_two_stage(data, train, val, features, emb_labels, seed)
        self.embeddings_ = self.classifier_ = None
        graph = training_graph(data, train, symmetric=True)
        self.model_ = GNEModel(
            features, graph, id_dim=p["id_dim"], attr_dim=p["attr_dim"],
            rep_dim=p["rep_dim"], alpha=p["alpha"], dropout=p["dropout"], n_neg=p["n_neg"],
            topo_batch=p["batch_size"], seed=seed,
        )
        cfg = TrainConfig(epochs=p["epochs"], lr=p["lr"], batch_size=p["batch_size"],
                          patience=p["patience"], device=self.device)
        weight = float(p["topo_weight"])
        extra = (lambda m: weight * m.topology_loss()) if weight else None
        self.result_ = train_pair_model(self.model_, data, train, val, cfg, seed=seed, extra_loss=extra)
        self.labels = {"best_epoch": self.result_.best_epoch, "graph_edges": int(graph.shape[1]), **emb_labels}
        return self

    def _fit_two_stage(self, data: GRNData, train: pd.DataFrame, val: pd.DataFrame, features: np.ndarray,
                       emb_labels: dict, seed: int) -> GNE:
        """The official preset's two stages (module docstring, "The official preset")."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        p = self.params
        rng = np.random.default_rng(seed)
        gen = torch.Generator().manual_seed(seed)
        links = gne_links(data, train)
        self.links_ = links
        self.model_ = GNEEmbedding(features, id_dim=p["id_dim"], attr_dim=p["attr_dim"], rep_dim=p["rep_dim"],
                                   alpha=p["alpha"], dropout=p["dropout"], gen=gen).to(self.device)
        vtf, vtg = data.gene_idx(val["TF"].to_numpy()), data.gene_idx(val["Target"].to_numpy())
        self.embeddings_, run = train_gne_embeddings(
            self.model_, links, vtf, vtg, val["Label"].to_numpy(), n_neg=int(p["n_neg"]), lr=float(p["lr"]),
            batch_size=int(p["batch_size"]), epochs=int(p["epochs"]), patience=p["patience"], rng=rng)
        # run_GNE.py: positives, then negatives, rows permuted; LogisticRegression's defaults
        pos, neg = train[train["Label"] == 1], train[train["Label"] == 0]
        pairs = pd.concat([pos, neg], ignore_index=True)
        x = self._edge_features(data, pairs)
        y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
        order = rng.permutation(len(y))
        self.classifier_ = LogisticRegression(random_state=seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.classifier_.fit(x[order], y[order])
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        self.result_ = run
        self.labels = {"best_epoch": run["best_epoch"], "epochs_run": run["epochs_run"],
                       "graph_edges": int(links.shape[1]), "lr_converged": converged, **emb_labels}
        return self

    def _edge_features(self, data: GRNData, pairs: pd.DataFrame) -> np.ndarray:
        """``get_edge_embeddings``: ``e_tf * e_target`` (float64, as GNE reads its checkpoint)."""
        e = self.embeddings_.astype(np.float64)
        return e[data.gene_idx(pairs["TF"].to_numpy())] * e[data.gene_idx(pairs["Target"].to_numpy())]

    def predict(self, data: GRNData, pairs: pd.DataFrame) -> np.ndarray:
        if getattr(self, "classifier_", None) is None:
            return super().predict(data, pairs)
        return self.classifier_.predict_proba(self._edge_features(data, pairs))[:, 1].astype(np.float64)
