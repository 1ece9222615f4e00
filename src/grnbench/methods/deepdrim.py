"""DeepDRIM (Chen et al. 2021): CNNC's pair image plus neighbour images, two-stream network.

For a pair (a, b) = (TF, target) the input is

- the primary image ``I_ab`` (CNNC's joint histogram, :mod:`grnbench.methods.pair_images`);
- ``2k + 2`` neighbour images: ``I_aa``, ``I_bb``, ``I_a n`` for the ``k`` genes ``n`` most
  co-expressed with ``a`` and ``I_n b`` for the ``k`` genes most co-expressed with ``b``
  (k = 10: 22 neighbour images). They let the network tell a direct edge from one explained
  by a shared neighbour (transitive interactions).

Network::

    stream A:  CNNC conv stack -> Dense 512 (linear)                 on I_ab
    stream B:  one shared CNNC conv stack -> Dense 512 (linear)      on each neighbour image
    [A || B_1 || ... || B_{2k+2}] -> Dropout 0.5 -> Dense 512 -> ReLU -> Dropout 0.5
        -> Dense 128 -> ReLU -> Dropout 0.5 -> Dense 1 (logit)

DeepDRIM trains with SGD (lr 0.01, Nesterov momentum 0.9), batch 32, up to 200 epochs,
early stopping after 10 epochs without validation gain, best epoch kept. Here: the shared loop
(Adam, lr 1e-3 as the stand-in for SGD), batch 32, 200 epochs, patience 10, selection on the
split's validation pairs.

Choices the paper leaves open or that differ here: neighbours are ranked by Pearson correlation
of expression (the public code's alternative ``top_corr``; its default ranks by covariance,
which favours high-variance genes and usually ranks the gene itself first), excluding the gene
itself (its self image is already an input). Expression is binned as CNNC's images here
(already log-normalised). Images are built per batch inside ``forward``, in chunks bounded by
``memory_budget_mb``; the neighbour images of a batch are computed once per distinct TF and
target (in training the conv dropout mask is then shared by the pairs of one gene).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from grnbench.data.dataset import GRNData
from grnbench.methods.base import SupervisedMethod
from grnbench.methods.cnnc import chunked, conv_tower, flat_size
from grnbench.methods.pair_images import PairImages, chunk_sizes, top_correlated
from grnbench.methods.registry import register
from grnbench.methods.training import PairModelPredict, TrainConfig, train_pair_model
from grnbench.utils import seed_everything


def gene_side_pairs(genes: torch.Tensor, nbrs: torch.Tensor, as_tf: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Gene indices ``(n_genes, k + 1)`` of one side's neighbour images.

    As TF ``a``: (a, a), then (a, n) for a's k neighbours. As target ``b``: (b, b), then (n, b).
    A pair's neighbour images are its TF's side followed by its target's side, so they are
    computed once per distinct gene of a batch rather than once per pair (same outputs).
    """
    nb = nbrs[genes]
    own = genes[:, None].expand(-1, nb.shape[1] + 1)
    other = torch.cat([genes[:, None], nb], dim=1)
    return (own, other) if as_tf else (other, own)


class DeepDRIMModel(nn.Module):
    def __init__(self, expression: np.ndarray, *, n_bins=32, k=10, channels=(32, 64, 128), embed=512,
                 hidden=(512, 128), conv_dropout=0.25, dense_dropout=0.5, memory_budget_mb=512):
        super().__init__()
        self.images = PairImages(expression, n_bins)
        self.register_buffer("nbrs", torch.as_tensor(top_correlated(expression, k)), persistent=False)
        self.n_nbr_images = 2 * self.nbrs.shape[1] + 2
        self.primary = conv_tower(channels, conv_dropout)
        self.neighbour = conv_tower(channels, conv_dropout)  # shared over the neighbour images
        flat = flat_size(self.primary, n_bins)
        self.primary_dense = nn.Linear(flat, embed)
        self.neighbour_dense = nn.Linear(flat, embed)
        self.head = nn.Sequential(
            nn.Dropout(dense_dropout), nn.Linear(embed * (1 + self.n_nbr_images), hidden[0]), nn.ReLU(inplace=True),
            nn.Dropout(dense_dropout), nn.Linear(hidden[0], hidden[1]), nn.ReLU(inplace=True),
            nn.Dropout(dense_dropout), nn.Linear(hidden[1], 1),
        )
        self.to(memory_format=torch.channels_last)  # ~3x faster convolutions on CPU
        self.budget = int(memory_budget_mb * 2**20)

    def _side(self, genes: torch.Tensor, as_tf: bool) -> torch.Tensor:
        """Stream-B embeddings ``(n_genes, k + 1, embed)`` of distinct genes' neighbour images."""
        left, right = gene_side_pairs(genes, self.nbrs, as_tf)
        img = self.images(left.reshape(-1), right.reshape(-1)).contiguous(memory_format=torch.channels_last)
        return self.neighbour_dense(self.neighbour(img)).view(len(genes), left.shape[1], -1)

    def _sides(self, genes: torch.Tensor, as_tf: bool) -> torch.Tensor:
        """:meth:`_side` of many genes, in chunks of genes bounded by the memory budget."""
        per_gene = self.nbrs.shape[1] + 1
        chunk = chunk_sizes(len(genes), per_gene, self.images.n_bins, self.budget)
        return torch.cat([self._side(genes[i : i + chunk], as_tf) for i in range(0, len(genes), chunk)])

    def _primary(self, tf: torch.Tensor, tg: torch.Tensor) -> torch.Tensor:
        """Stream A: the embedding of each pair's primary image."""
        img = self.images(tf, tg).contiguous(memory_format=torch.channels_last)
        return self.primary_dense(self.primary(img))

    def _head(self, primary: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Logits of pairs from their primary embeddings and their sides' embeddings ``a``, ``b``."""
        # DeepDRIM's order: I_aa, I_bb, the a-neighbour images, the b-neighbour images.
        nbr = torch.cat([a[:, 0], b[:, 0], a[:, 1:].flatten(1), b[:, 1:].flatten(1)], dim=1)
        return self.head(torch.cat([primary, nbr], dim=1)).squeeze(-1)

    def _logits(self, tf: torch.Tensor, tg: torch.Tensor) -> torch.Tensor:
        # stream A before stream B, as before df4e727: in training the towers' dropout draws
        # from one generator in this order, so the order is part of the result
        primary = self._primary(tf, tg)
        utf, itf = torch.unique(tf, return_inverse=True)
        utg, itg = torch.unique(tg, return_inverse=True)
        a = self._side(utf, True)[itf]
        b = self._side(utg, False)[itg]
        return self._head(primary, a, b)

    def forward(self, tf: torch.Tensor, tg: torch.Tensor) -> torch.Tensor:
        chunk = chunk_sizes(len(tf), 1 + self.n_nbr_images, self.images.n_bins, self.budget)
        if self.training or torch.is_grad_enabled() or len(tf) == 0:
            # training: per chunk, each distinct gene's side once (its dropout mask shared)
            return chunked(self._logits, tf, tg, chunk)
        # inference (eval, no gradient): a gene's side does not depend on the pair, so each
        # distinct gene's side images go through stream B once per call, not once per chunk
        utf, itf = torch.unique(tf, return_inverse=True)
        utg, itg = torch.unique(tg, return_inverse=True)
        a, b = self._sides(utf, True), self._sides(utg, False)
        # (no dropout in eval mode, so the order of the streams draws nothing here)
        return torch.cat([self._head(self._primary(tf[i : i + chunk], tg[i : i + chunk]), a[itf[i : i + chunk]],
                                     b[itg[i : i + chunk]]) for i in range(0, len(tf), chunk)])


@register
class DeepDRIM(PairModelPredict, SupervisedMethod):
    name = "deepdrim"
    display_name = "DeepDRIM"
    family = "supervised"
    order = 14
    color = "#9467bd"
    # cost measured with the 'small' preset at G400/C600/T40 (16,000 pairs) on a loaded 2-core
    # machine: seconds / (epochs x pairs), the preset's epochs, peak RSS above the bare process
    cost = {"model": "deep", "per_pair_epoch_s": 242.0 / (3 * 16000), "measured_epochs": 3, "extra_mb": 380,
            "bytes_per_pair": 21 * 32 * 32 * 4}  # 21 32 x 32 float32 images a pair
    description = "DeepDRIM: two-stream CNN on the pair image and top-k co-expression neighbour images."
    defaults = {
        "n_bins": 32, "k": 10, "channels": [32, 64, 128], "embed": 512, "hidden": [512, 128],
        "conv_dropout": 0.25, "dense_dropout": 0.5, "lr": 1e-3, "batch_size": 32, "epochs": 200,
        "patience": 10, "memory_budget_mb": 512,
    }
    presets = {
        # Narrower network, 2 neighbours, 3 epochs: seconds at the workflow's default size.
        "small": {"k": 2, "channels": [8, 16, 32], "embed": 32, "hidden": [64, 32],
                  "dense_dropout": 0.2, "batch_size": 32, "epochs": 3, "patience": 2},
        # Half-width network, 5 neighbours, larger batches (more shared neighbour images),
        # 4 epochs, no early stop (learning starts slowly): < 10 min for TFs+1000 on 2 cores.
        "cpu": {"k": 5, "channels": [16, 32, 64], "embed": 128, "hidden": [256, 64],
                "batch_size": 128, "epochs": 4, "patience": None},
    }

    def fit(self, data: GRNData, train: pd.DataFrame, val: pd.DataFrame, *, seed: int,
            threads: int = 1) -> DeepDRIM:
        torch.set_num_threads(threads)
        seed_everything(seed)
        p = self.params
        self.model_ = DeepDRIMModel(
            data.expression(), n_bins=p["n_bins"], k=p["k"], channels=tuple(p["channels"]),
            embed=p["embed"], hidden=tuple(p["hidden"]), conv_dropout=p["conv_dropout"],
            dense_dropout=p["dense_dropout"], memory_budget_mb=p["memory_budget_mb"],
        )
        cfg = TrainConfig(epochs=p["epochs"], lr=p["lr"], batch_size=p["batch_size"],
                          patience=p["patience"], device=self.device)
        self.result_ = train_pair_model(self.model_, data, train, val, cfg, seed=seed)
        self.labels = {"best_epoch": self.result_.best_epoch}
        return self
