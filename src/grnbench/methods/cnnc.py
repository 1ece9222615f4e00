"""CNNC (Yuan & Bar-Joseph 2019): a CNN classifies the joint-expression image of a gene pair.

Input: the 32 x 32 log-scaled joint histogram of (TF, target) expression over cells
(:mod:`grnbench.methods.pair_images`). Network (CNNC's VGG-like stack)::

    [Conv3x3(c, same) -> ReLU -> Conv3x3(c, valid) -> ReLU -> MaxPool2 -> Dropout 0.25]
        for c in (32, 64, 128)
    -> Flatten -> Dense 512 -> ReLU -> Dropout 0.5 -> Dense 1 (logit)

CNNC trains with SGD (lr 0.01, Nesterov momentum 0.9), batch 1024, 20 epochs (200 for KEGG
and Reactome), keeping the best epoch on a validation split. Here: the shared loop, which uses
Adam (lr 1e-3 as the default stand-in for CNNC's SGD), batch 1024, 20 epochs, best epoch on the
split's validation pairs.

Choices the paper leaves open or that differ here: CNNC bins ``log10(x + 0.01)`` of raw
counts/RPKM; our expression is already log-normalised, so it is binned as is (bins are
equal-width per gene, so only the transform inside each gene's range matters). Images are built
inside ``forward`` per batch; at inference the batch is cut into chunks bounded by
``memory_budget_mb`` (images plus activations).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from grnbench.data.dataset import GRNData
from grnbench.methods.base import SupervisedMethod
from grnbench.methods.pair_images import PairImages, chunk_sizes
from grnbench.methods.registry import register
from grnbench.methods.training import PairModelPredict, TrainConfig, train_pair_model
from grnbench.utils import seed_everything


def conv_tower(channels=(32, 64, 128), dropout: float = 0.25) -> nn.Sequential:
    """CNNC's convolution stack: per width, same-padded and valid 3x3 convs, pool, dropout.

    ReLU and dropout work in place (a conv's and a max-pool's backward do not read their
    output): the same values, gradients and random draws as out-of-place, fewer large buffers.
    """
    layers: list[nn.Module] = []
    c_in = 1
    for c in channels:
        layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(c, c, 3),
                   nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Dropout(dropout, inplace=True)]
        c_in = c
    layers.append(nn.Flatten())
    return nn.Sequential(*layers)


def flat_size(tower: nn.Module, n_bins: int) -> int:
    with torch.no_grad():
        out = tower(torch.zeros(1, 1, n_bins, n_bins))
    if out.shape[1] == 0:
        raise ValueError(f"{n_bins} bins are too few for this convolution stack")
    return int(out.shape[1])


def chunked(fn, tf: torch.Tensor, tg: torch.Tensor, chunk: int) -> torch.Tensor:
    """``fn`` over consecutive chunks of the pairs, concatenated (bounds peak memory)."""
    if len(tf) <= chunk:
        return fn(tf, tg)
    return torch.cat([fn(tf[i : i + chunk], tg[i : i + chunk]) for i in range(0, len(tf), chunk)])


class CNNCModel(nn.Module):
    def __init__(self, expression: np.ndarray, *, n_bins=32, channels=(32, 64, 128), dense=512,
                 conv_dropout=0.25, dense_dropout=0.5, memory_budget_mb=512):
        super().__init__()
        self.images = PairImages(expression, n_bins)
        self.tower = conv_tower(channels, conv_dropout)
        self.head = nn.Sequential(nn.Linear(flat_size(self.tower, n_bins), dense), nn.ReLU(inplace=True),
                                  nn.Dropout(dense_dropout), nn.Linear(dense, 1))
        self.to(memory_format=torch.channels_last)  # ~3x faster convolutions on CPU
        self.budget = int(memory_budget_mb * 2**20)

    def _logits(self, tf: torch.Tensor, tg: torch.Tensor) -> torch.Tensor:
        x = self.images(tf, tg).contiguous(memory_format=torch.channels_last)
        return self.head(self.tower(x)).squeeze(-1)

    def forward(self, tf: torch.Tensor, tg: torch.Tensor) -> torch.Tensor:
        return chunked(self._logits, tf, tg, chunk_sizes(len(tf), 1, self.images.n_bins, self.budget))


@register
class CNNC(PairModelPredict, SupervisedMethod):
    name = "cnnc"
    display_name = "CNNC"
    family = "supervised"
    order = 13
    color = "#c49c94"
    # cost measured with the 'small' preset at G400/C600/T40 (16,000 pairs) on a loaded 2-core
    # machine: seconds / (epochs x pairs), the preset's epochs, peak RSS above the bare process
    cost = {"model": "deep", "per_pair_epoch_s": 93.8 / (8 * 16000), "measured_epochs": 8, "extra_mb": 320,
            "bytes_per_pair": 32 * 32 * 4}  # one 32 x 32 float32 image a pair
    description = "CNNC: CNN on the 32x32 joint-expression histogram of the (TF, target) pair."
    defaults = {
        "n_bins": 32, "channels": [32, 64, 128], "dense": 512, "conv_dropout": 0.25,
        "dense_dropout": 0.5, "lr": 1e-3, "batch_size": 1024, "epochs": 20, "patience": None,
        "memory_budget_mb": 512,
    }
    presets = {
        # Narrower convolutions and fewer epochs: trains in seconds at the workflow's default size.
        "small": {"channels": [8, 16, 32], "dense": 128, "batch_size": 32, "epochs": 8},
        # Half-width convolutions, 8 epochs: aims at < 10 min for TFs+1000 on 2 CPU cores.
        "cpu": {"channels": [16, 32, 64], "dense": 256, "batch_size": 256, "epochs": 8},
    }

    def fit(self, data: GRNData, train: pd.DataFrame, val: pd.DataFrame, *, seed: int,
            threads: int = 1) -> CNNC:
        torch.set_num_threads(threads)
        seed_everything(seed)
        p = self.params
        self.model_ = CNNCModel(
            data.expression(), n_bins=p["n_bins"], channels=tuple(p["channels"]), dense=p["dense"],
            conv_dropout=p["conv_dropout"], dense_dropout=p["dense_dropout"],
            memory_budget_mb=p["memory_budget_mb"],
        )
        cfg = TrainConfig(epochs=p["epochs"], lr=p["lr"], batch_size=p["batch_size"],
                          patience=p["patience"], device=self.device)
        self.result_ = train_pair_model(self.model_, data, train, val, cfg, seed=seed)
        self.labels = {"best_epoch": self.result_.best_epoch}
        return self
