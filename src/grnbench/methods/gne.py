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
20 epochs, early stopping after 2 epochs without validation gain, 128-d embeddings,
alpha = 1, sampled softmax with 10 negatives) and then fits the logistic regression; joint
training keeps model selection on validation in one loop. Choice left open: uniform negative
sampling (TensorFlow's sampled softmax uses a log-uniform sampler over node ids, which has no
meaning for gene ids).

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
        **EMBEDDING_PARAMS,
    }
    presets = {"small": {}}  # the paper recipe trains in seconds at that size

    def fit(self, data: GRNData, train: pd.DataFrame, val: pd.DataFrame, *, seed: int,
            threads: int = 1) -> GNE:
        torch.set_num_threads(threads)
        seed_everything(seed)
        p = self.params
        graph = training_graph(data, train, symmetric=True)
        features, emb_labels = zscore_per_gene(data.expression()), {}
        if p["gene_embeddings"]:  # module docstring: attributes [expression || file vector]
            emb, emb_labels = gene_embedding_matrix(p["gene_embeddings"], data.genes,
                                                    min_coverage=float(p["gene_embeddings_min_coverage"]))
            features = np.concatenate([features, emb], axis=1)
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
