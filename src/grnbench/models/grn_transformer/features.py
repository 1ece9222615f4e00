"""GRN-Transformer's pair features: attention values and their average-product correction,
with out-of-fold features for training pairs (their own edge hidden from the prior).
"""

from __future__ import annotations

import torch
from torch import nn

from grnbench.models.grn_transformer.encoder import AxialEncoder
from grnbench.models.grn_transformer.pretrain import attention_maps


class PairFeatures(nn.Module):
    """Attention values and their average-product correction for pairs (i, j).

    ``set_overrides`` stores precomputed features of given pairs (the out-of-fold features of
    training pairs); ``forward`` returns those for these pairs and computes the rest.
    """

    def __init__(self, maps: torch.Tensor):
        super().__init__()
        self.n_genes = maps.shape[-1]
        self.register_buffer("maps", maps, persistent=False)
        self.register_buffer("row", maps.sum(-1), persistent=False)  # (F, G)
        self.register_buffer("col", maps.sum(-2), persistent=False)  # (F, G)
        self.register_buffer("total", maps.sum((-1, -2)).unsqueeze(-1), persistent=False)  # (F, 1)
        self.register_buffer("codes", torch.zeros(0, dtype=torch.long, device=maps.device), persistent=False)
        self.register_buffer("stored", maps.new_zeros(0, 2 * maps.shape[0]), persistent=False)

    def compute(self, tf: torch.Tensor, tg: torch.Tensor) -> torch.Tensor:
        raw = self.maps[:, tf, tg]  # (F, n)
        apc = raw - self.row[:, tf] * self.col[:, tg] / self.total
        return torch.cat([apc, raw], dim=0).T  # (n, 2F): [corrected || raw], as the paper

    def set_overrides(self, tf: torch.Tensor, tg: torch.Tensor, feats: torch.Tensor) -> None:
        codes = tf * self.n_genes + tg
        order = torch.argsort(codes)
        self.codes, self.stored = codes[order], feats[order]

    def forward(self, tf: torch.Tensor, tg: torch.Tensor) -> torch.Tensor:
        out = self.compute(tf, tg)
        if len(self.codes):
            codes = tf * self.n_genes + tg
            pos = torch.searchsorted(self.codes, codes).clamp(max=len(self.codes) - 1)
            hit = self.codes[pos] == codes
            out[hit] = self.stored[pos[hit]]
        return out


def out_of_fold_features(encoder: AxialEncoder, z: torch.Tensor, prior: torch.Tensor, tf: torch.Tensor,
                         tg: torch.Tensor, y: torch.Tensor, *, folds: int, seed: int,
                         chunk: int | None) -> torch.Tensor:
    """Features of training pairs from attention maps whose network prior lacks their fold's edges.

    Without this, a training positive sees its own edge in the prior (its attention is boosted)
    while a test positive never does, and the classifier learns a feature that is absent at test
    time. Pairs are split into ``folds`` seeded folds; fold k's features come from one more
    extraction pass with fold k's positive edges (both directions) removed from the last
    (network) channel of the prior.
    """
    gen = torch.Generator().manual_seed(seed + 104729)
    assign = (torch.randperm(len(tf), generator=gen) % folds).to(tf.device)
    out = None
    for k in range(folds):
        sel = assign == k
        if not sel.any():
            continue
        pos = sel & (y == 1)
        fold_prior = prior.clone()
        fold_prior[tf[pos], tg[pos], -1] = 0.0
        fold_prior[tg[pos], tf[pos], -1] = 0.0
        feats = PairFeatures(attention_maps(encoder, z, fold_prior, chunk)).compute(tf[sel], tg[sel])
        if out is None:
            out = feats.new_zeros(len(tf), feats.shape[1])
        out[sel] = feats
    return out

