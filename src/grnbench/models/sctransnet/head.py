"""Final output layer (paper 3.4): two MLP channels (TF, target) and a pair decoder.

Each gene's final vector ``z_g = [e_g ; h_g]`` (pooled encoder embedding, GNN output) goes
through a TF channel and a target channel of the same structure (Linear + LeakyReLU per
layer, dropout between layers); the pair score is

- ``dot`` (default): ``s(i, j) = c_TF(z_i) . c_target(z_j)``  (a logit for BCE);
- ``mlp``: a 2-class linear decoder on ``[c_TF(z_i); c_target(z_j)]``; the returned logit is
  ``l_1 - l_0`` so that ``sigmoid(l_1 - l_0)`` equals the 2-class softmax probability.
"""

from __future__ import annotations

import torch
from torch import nn

DECODERS = ("dot", "mlp")


class Channel(nn.Sequential):
    """Linear -> LeakyReLU (-> Dropout between layers), e.g. in_dim -> 128 -> 64."""

    def __init__(self, in_dim: int, dims, dropout: float = 0.0):
        mods: list[nn.Module] = []
        sizes = [in_dim, *dims]
        for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            mods += [nn.Linear(a, b), nn.LeakyReLU()]
            if k < len(dims) - 1 and dropout > 0:
                mods.append(nn.Dropout(dropout))
        super().__init__(*mods)
        self.out_dim = sizes[-1]


class PairHead(nn.Module):
    def __init__(self, in_dim: int, dims=(128, 64), dropout: float = 0.0, decoder: str = "dot"):
        super().__init__()
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
        self.tf_channel = Channel(in_dim, dims, dropout)
        self.target_channel = Channel(in_dim, dims, dropout)
        self.decoder = decoder
        if decoder == "mlp":
            self.classifier = nn.Linear(2 * self.tf_channel.out_dim, 2)

    def forward(self, z_tf: torch.Tensor, z_target: torch.Tensor) -> torch.Tensor:
        a, b = self.tf_channel(z_tf), self.target_channel(z_target)
        if self.decoder == "dot":
            return (a * b).sum(-1)
        logits = self.classifier(torch.cat([a, b], dim=-1))
        return logits[:, 1] - logits[:, 0]
