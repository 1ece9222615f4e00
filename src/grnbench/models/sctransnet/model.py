"""scTransNet's supervised model: frozen pooled encoder vectors + GNN -> two channels -> score.

``forward(tf_idx, target_idx)`` follows the contract of
:func:`grnbench.methods.training.train_pair_model` (gene column indices in, one logit per pair
out). Either part can be switched off for the ablations: ``gene_vectors=None`` (w/o scBERT) or
``gnn=None`` (w/o GNN). The encoder vectors are fixed inputs (extracted once per dataset); the
GNN and the head are trained.
"""

from __future__ import annotations

import torch
from torch import nn

from grnbench.models.sctransnet.gnn import GRNEncoder
from grnbench.models.sctransnet.head import PairHead


class ScTransNetModel(nn.Module):
    def __init__(
        self,
        gene_vectors: torch.Tensor | None,
        gnn: GRNEncoder | None,
        node_features: torch.Tensor | None,
        node_type: torch.Tensor | None,
        edge_index: torch.Tensor | None,
        edge_type: torch.Tensor | None,
        head_dims=(128, 64),
        head_dropout: float = 0.0,
        decoder: str = "dot",
    ):
        super().__init__()
        if gene_vectors is None and gnn is None:
            raise ValueError("scTransNet needs the encoder vectors, the GNN, or both")
        in_dim = 0
        self.register_buffer("gene_vectors", None if gene_vectors is None else gene_vectors.float())
        if gene_vectors is not None:
            in_dim += gene_vectors.shape[1]
        self.gnn = gnn
        if gnn is not None:
            self.register_buffer("node_features", node_features.float())
            self.register_buffer("node_type", node_type.long())
            self.register_buffer("edge_index", edge_index.long())
            self.register_buffer("edge_type", edge_type.long())
            in_dim += gnn.out_dim
        self.head = PairHead(in_dim, head_dims, head_dropout, decoder)

    def gene_representations(self) -> torch.Tensor:
        """(genes, d) = [pooled encoder vector ; GNN output] (paper 3.4)."""
        parts = []
        if self.gene_vectors is not None:
            parts.append(self.gene_vectors)
        if self.gnn is not None:
            parts.append(self.gnn(self.node_features, self.node_type, self.edge_index, self.edge_type))
        return torch.cat(parts, dim=-1)

    def forward(self, tf_idx: torch.Tensor, target_idx: torch.Tensor) -> torch.Tensor:
        z = self.gene_representations()
        return self.head(z[tf_idx], z[target_idx])
