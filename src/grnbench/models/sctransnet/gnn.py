"""GRN encoder: QA-GNN-style relational graph attention over the prior network (paper 3.3).

Graph: nodes = the dataset's genes; edges = the split's *training positives* only
(:func:`grnbench.methods.graph.training_graph`). Each TF -> target edge ``s -> t`` yields two
typed messages, ``regulates`` (TF to target) and ``regulated_by`` (target to TF), and every node
gets a ``self`` message (the paper sums over ``N_t`` including ``t``; this is also what keeps
genes without any training edge informative). Node types: TF / non-TF.

Per layer l (paper eqs 7-13; QA-GNN, Yasunaga et al. 2021)::

    u_t   = f_u(one-hot type_t)                      node-type embedding (Linear + GELU)
    r_st  = f_r([one-hot rel_st; u_s; u_t])          relation embedding (2-layer MLP)
    m_st  = f_m([h_s; u_s; r_st])                    message (linear)                  eq 9-10
    q_s   = f_q([h_s; u_s]),  k_t = f_k([h_t; u_t; r_st])   (linear)                   eq 11-12
    a_st  = softmax_{s in N_t} (q_s . k_t / sqrt(D/H))  per head                       eq 13
    h_t'  = f_n(sum_s a_st m_st) + W_skip h_t        f_n: 2-layer MLP; W_skip = identity when
                                                     sizes agree (QA-GNN), else linear (ours)  eq 8

Linears over concatenations are computed as node-level projections plus edge-level terms
(``W [h_s; u_s; r_st] = W_n [h_s; u_s] + W_r r_st``), the same map at O(N) instead of O(E) cost
for the wide expression features. Between layers: GELU and dropout.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import softmax

RELATIONS = ("regulates", "regulated_by", "self")
NODE_TYPES = ("non_tf", "tf")


def relational_graph(edge_index: torch.Tensor, n_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Directed TF -> target edges -> (edge_index with both directions and self-loops, relation ids)."""
    src, dst = edge_index[0], edge_index[1]
    loops = torch.arange(n_nodes, dtype=torch.long)
    ei = torch.stack([torch.cat([src, dst, loops]), torch.cat([dst, src, loops])])
    et = torch.cat([
        torch.full((len(src),), 0, dtype=torch.long),  # s regulates t
        torch.full((len(src),), 1, dtype=torch.long),  # s is regulated by t
        torch.full((n_nodes,), 2, dtype=torch.long),  # self
    ])
    return ei, et


def _mlp2(i: int, h: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.GELU(), nn.Linear(h, o))


class QAGNNLayer(MessagePassing):
    """One relational attention layer (eqs 8-13 in the module docstring)."""

    def __init__(self, in_dim: int, out_dim: int, type_dim: int, rel_dim: int, heads: int = 1):
        super().__init__(aggr="add", node_dim=0)
        if out_dim % heads:
            raise ValueError(f"GNN layer size {out_dim} is not divisible by gnn_heads={heads}")
        self.heads, self.out_dim = heads, out_dim
        node_in = in_dim + type_dim
        self.m_node = nn.Linear(node_in, out_dim)  # f_m, node part
        self.m_rel = nn.Linear(rel_dim, out_dim, bias=False)  # f_m, relation part
        self.q = nn.Linear(node_in, out_dim)  # f_q
        self.k_node = nn.Linear(node_in, out_dim)  # f_k, node part
        self.k_rel = nn.Linear(rel_dim, out_dim, bias=False)  # f_k, relation part
        self.f_n = _mlp2(out_dim, out_dim, out_dim)
        self.skip = nn.Identity() if in_dim == out_dim else nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, h, u, rel, edge_index):
        hu = torch.cat([h, u], dim=-1)
        H, D = self.heads, self.out_dim // self.heads
        m_node = self.m_node(hu).view(-1, H, D)
        q = self.q(hu).view(-1, H, D)
        k_node = self.k_node(hu).view(-1, H, D)
        m_rel = self.m_rel(rel).view(-1, H, D)
        k_rel = self.k_rel(rel).view(-1, H, D)
        agg = self.propagate(edge_index, m_node=m_node, q=q, k_node=k_node, m_rel=m_rel, k_rel=k_rel)
        return self.f_n(agg.reshape(-1, H * D)) + self.skip(h)

    def message(self, m_node_j, q_j, k_node_i, m_rel, k_rel, index, ptr, size_i):
        # j = source s, i = target t (flow source_to_target)
        msg = m_node_j + m_rel  # m_st
        key = k_node_i + k_rel  # k_t (depends on r_st)
        gamma = (q_j * key).sum(-1) / math.sqrt(q_j.shape[-1])  # (E, H)
        alpha = softmax(gamma, index, ptr, size_i)  # over s in N_t
        return msg * alpha.unsqueeze(-1)


class GRNEncoder(nn.Module):
    """Stack of :class:`QAGNNLayer` (paper: 2 layers of 256 and 128 units)."""

    def __init__(self, in_dim: int, dims=(256, 128), type_dim: int = 32, rel_dim: int = 32, heads: int = 1, dropout: float = 0.0):
        super().__init__()
        self.f_u = nn.Sequential(nn.Linear(len(NODE_TYPES), type_dim), nn.GELU())
        self.f_r = _mlp2(len(RELATIONS) + 2 * type_dim, rel_dim, rel_dim)
        sizes = [in_dim, *dims]
        self.layers = nn.ModuleList(
            QAGNNLayer(a, b, type_dim, rel_dim, heads) for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.act, self.dropout = nn.GELU(), nn.Dropout(dropout)
        self.out_dim = sizes[-1]

    def forward(self, x, node_type, edge_index, edge_type):
        u = self.f_u(nn.functional.one_hot(node_type, len(NODE_TYPES)).float())
        e = nn.functional.one_hot(edge_type, len(RELATIONS)).float()
        rel = self.f_r(torch.cat([e, u[edge_index[0]], u[edge_index[1]]], dim=-1))  # r_st
        h = x
        for i, layer in enumerate(self.layers):
            h = layer(h, u, rel, edge_index)
            if i < len(self.layers) - 1:
                h = self.dropout(self.act(h))
        return h
