"""GNNLink (Mao et al. 2023): a two-layer GCN over the training network, matrix-completion decoder.

Features: expression z-scored per gene, then each gene's row L2-normalised (genes x cells).
The graph is the split's *training positives* (symmetric) plus self loops, normalised
symmetrically:

    A_hat = D^-1/2 (A + I) D^-1/2                                  (Kipf & Welling normalisation)
    H = LeakyReLU_0.2(A_hat X W1)    (cells -> 128; slope = TensorFlow's default)
    Z = LeakyReLU_0.2(A_hat H W2)    (128 -> 64)
    S = ReLU(Z Z^T),  score(tf, target) = S[tf, target]

Loss: squared error between S and the 0/1 labels over the training pairs only (the masked
loss of the paper), Adam lr 1e-3, 100 full-batch epochs. Model selection on validation (the
public code trains a fixed 100 epochs and reports the last). No bias and no dropout, as in the
public code (its dropout argument is unused).

``gene_embeddings`` (a file of gene vectors computed elsewhere, :mod:`grnbench.data.embeddings`;
ours, not in the paper): each gene's feature row becomes ``[x_i || e_i / |e_i|]``, the
expression row above beside the file's standardised vector scaled to unit L2 norm (zero for a
gene the file lacks), so both parts weigh alike in ``A_hat X W1``. Unset: the paper's features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GCNConv

from grnbench.data.dataset import GRNData
from grnbench.data.embeddings import PARAMS as EMBEDDING_PARAMS
from grnbench.data.embeddings import gene_embedding_matrix
from grnbench.methods.base import SupervisedMethod
from grnbench.methods.genelink import zscore_per_gene
from grnbench.methods.graph import training_graph
from grnbench.methods.registry import register
from grnbench.methods.training import PairModelPredict, TrainConfig, train_pair_model
from grnbench.utils import seed_everything


def _unit_rows(z: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(z, axis=1, keepdims=True)
    norm[norm == 0] = 1.0
    return (z / norm).astype(np.float32)


def gnnlink_features(x: np.ndarray) -> np.ndarray:
    """Genes x cells: per-gene z-scores, each gene's row scaled to unit L2 norm."""
    return _unit_rows(zscore_per_gene(x))


class GNNLinkModel(nn.Module):
    def __init__(self, features: np.ndarray, edge_index: torch.Tensor, *, hidden=(128, 64), slope=0.2):
        super().__init__()
        self.register_buffer("x", torch.as_tensor(features), persistent=False)
        self.register_buffer("edge_index", edge_index, persistent=False)
        self.conv1 = GCNConv(self.x.shape[1], hidden[0], add_self_loops=True, normalize=True, bias=False)
        self.conv2 = GCNConv(hidden[0], hidden[1], add_self_loops=True, normalize=True, bias=False)
        self.slope = slope

    def encode(self) -> torch.Tensor:
        h = F.leaky_relu(self.conv1(self.x, self.edge_index), self.slope)
        return F.leaky_relu(self.conv2(h, self.edge_index), self.slope)

    def forward(self, tf: torch.Tensor, tg: torch.Tensor) -> torch.Tensor:
        z = self.encode()
        return F.relu((z[tf] * z[tg]).sum(-1))  # entries of ReLU(Z Z^T)


@register
class GNNLink(PairModelPredict, SupervisedMethod):
    name = "gnnlink"
    display_name = "GNNLink"
    family = "supervised"
    order = 11
    color = "#fdbf6f"
    # cost measured with the 'small' preset at G400/C600/T40 (16,000 pairs) on a loaded 2-core
    # machine: seconds / (epochs x pairs), the preset's epochs, peak RSS above the bare process
    cost = {"model": "deep", "per_pair_epoch_s": 6.94 / (100 * 16000), "measured_epochs": 100, "extra_mb": 240}
    description = "GNNLink: two-layer GCN over training edges, ReLU(Z Z^T) scores, masked MSE."
    defaults = {"hidden": [128, 64], "slope": 0.2, "lr": 1e-3, "epochs": 100, "patience": None,
                **EMBEDDING_PARAMS}
    presets = {"small": {}}  # the paper recipe trains in seconds at that size

    def fit(self, data: GRNData, train: pd.DataFrame, val: pd.DataFrame, *, seed: int,
            threads: int = 1) -> GNNLink:
        torch.set_num_threads(threads)
        seed_everything(seed)
        p = self.params
        graph = training_graph(data, train, symmetric=True)  # GCNConv adds the self loops
        features, emb_labels = gnnlink_features(data.expression()), {}
        if p["gene_embeddings"]:  # module docstring: [expression row || unit-norm file vector]
            emb, emb_labels = gene_embedding_matrix(p["gene_embeddings"], data.genes,
                                                    min_coverage=float(p["gene_embeddings_min_coverage"]))
            features = np.concatenate([features, _unit_rows(emb)], axis=1)
        self.model_ = GNNLinkModel(features, graph, hidden=tuple(p["hidden"]), slope=p["slope"])
        cfg = TrainConfig(epochs=p["epochs"], lr=p["lr"], batch_size=None, loss="mse",
                          patience=p["patience"], device=self.device)
        self.result_ = train_pair_model(self.model_, data, train, val, cfg, seed=seed)
        self.labels = {"best_epoch": self.result_.best_epoch, "graph_edges": int(graph.shape[1]), **emb_labels}
        return self
