"""GRN-Transformer's axial transformer (MSA-Transformer style): tied row attention among genes
with the prior-network bias (equations 1 and 2 of :mod:`grnbench.methods.grn_transformer`),
tied column attention among cells, a feed-forward block, and the reconstruction head.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _chunks(n: int, size: int | None):
    size = n if not size else size
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


class RowAttention(nn.Module):
    """Tied row attention among genes with the prior-network bias (equations 1 and 2)."""

    def __init__(self, dim: int, heads: int, gen: torch.Generator):
        super().__init__()
        self.heads, self.d = heads, dim // heads
        self.q, self.k, self.v, self.out = (nn.Linear(dim, dim) for _ in range(4))
        self.u = nn.Parameter(torch.randn(self.d, generator=gen) / math.sqrt(self.d))
        self.beta = nn.Parameter(torch.zeros(()))
        self.lam = nn.Parameter(torch.randn(heads, 1, 1, generator=gen))  # public code: randn

    def forward(self, x: torch.Tensor, prior: torch.Tensor, chunk: int | None = None):
        n_rows, n_genes, _ = x.shape
        h, d = self.heads, self.d
        scale = d**-0.5 / math.sqrt(n_rows)
        logits = x.new_zeros(h, n_genes, n_genes)
        gate = x.new_zeros(n_genes, n_genes)
        for rows in _chunks(n_rows, chunk):
            q = (self.q(x[rows]) * scale).view(-1, n_genes, h, d)
            k = self.k(x[rows]).view(-1, n_genes, h, d)
            logits = logits + torch.einsum("rihd,rjhd->hij", q, k)
            gate = gate + torch.einsum("rihd,rjhd->ij", q * self.u, k)
        gate = gate / h + self.beta
        weights = torch.softmax(prior * gate.unsqueeze(-1), dim=-1)  # over the M channels
        merged = (weights * prior).sum(-1)
        logits = logits + self.lam * merged
        eye = torch.eye(n_genes, dtype=torch.bool, device=x.device)
        attn = torch.softmax(logits.masked_fill(eye, float("-inf")), dim=-1)
        out = torch.empty_like(x)
        for rows in _chunks(n_rows, chunk):
            v = self.v(x[rows]).view(-1, n_genes, h, d)
            out[rows] = self.out(torch.einsum("hij,rjhd->rihd", attn, v).reshape(v.shape[0], n_genes, -1))
        return out, attn


class ColumnAttention(nn.Module):
    """Tied column attention among cells (one cell x cell map per head for all genes)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.d = heads, dim // heads
        self.q, self.k, self.v, self.out = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        n_rows, n_genes, _ = x.shape
        h, d = self.heads, self.d
        scale = d**-0.5 / math.sqrt(n_genes)
        logits = x.new_zeros(h, n_rows, n_rows)
        for cols in _chunks(n_genes, chunk):
            q = (self.q(x[:, cols]) * scale).view(n_rows, -1, h, d)
            k = self.k(x[:, cols]).view(n_rows, -1, h, d)
            logits = logits + torch.einsum("ighd,jghd->hij", q, k)
        attn = torch.softmax(logits, dim=-1)
        out = torch.empty_like(x)
        for cols in _chunks(n_genes, chunk):
            v = self.v(x[:, cols]).view(n_rows, -1, h, d)
            out[:, cols] = self.out(torch.einsum("hij,jghd->ighd", attn, v).reshape(n_rows, v.shape[1], -1))
        return out


class AxialLayer(nn.Module):
    def __init__(self, dim: int, ffn_dim: int, heads: int, gen: torch.Generator):
        super().__init__()
        self.row_norm, self.col_norm, self.ffn_norm = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.row = RowAttention(dim, heads, gen)
        self.col = ColumnAttention(dim, heads)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.GELU(), nn.Linear(ffn_dim, dim))

    def forward(self, x, prior, chunk=None):
        out, attn = self.row(self.row_norm(x), prior, chunk)
        x = x + out
        x = x + self.col(self.col_norm(x), chunk)
        return x + self.ffn(self.ffn_norm(x)), attn


class AxialEncoder(nn.Module):
    """Token embedding, ``layers`` axial layers and the reconstruction head."""

    def __init__(self, *, dim=64, ffn_dim=64, heads=4, layers=5, seed=0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.embed_value = nn.Sequential(nn.Linear(1, dim), nn.ReLU(), nn.Linear(dim, dim // 2))
        self.embed_zero = nn.Linear(1, dim - dim // 2)
        self.norm_in, self.norm_out = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.layers = nn.ModuleList(AxialLayer(dim, ffn_dim, heads, gen) for _ in range(layers))
        self.head = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.LayerNorm(dim), nn.Linear(dim, 1))

    def forward(self, values: torch.Tensor, prior: torch.Tensor, chunk: int | None = None):
        """Reconstruction ``(cells, genes)`` and the row attention of every layer ``[(H, G, G)]``."""
        zero = (values == 0).float().unsqueeze(-1)
        x = torch.cat([self.embed_value(values.unsqueeze(-1)), self.embed_zero(zero)], dim=-1)
        x = self.norm_in(x)
        maps = []
        for layer in self.layers:
            x, attn = layer(x, prior, chunk)
            maps.append(attn)
        return self.head(self.norm_out(x)).squeeze(-1), maps

