"""The prior graph given to graph-based methods: training positives only, never val/test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from grnbench.data.dataset import GRNData
from grnbench.errors import SplitLeakError


def training_graph(
    data: GRNData, train: pd.DataFrame, *, symmetric: bool = False, self_loops: bool = False
) -> torch.Tensor:
    """``edge_index`` (2, E) of TF -> target edges from the *training positives* of a split.

    ``train`` must hold only training rows (``Part == "train"`` when a Part column exists).
    With ``symmetric`` both directions are included (GENELink, GNNLink, scRegNet).
    """
    if "Part" in train and (train["Part"] != "train").any():
        raise SplitLeakError("training_graph got rows that are not Part == 'train'")
    pos = train[train["Label"] == 1]
    src = data.gene_idx(pos["TF"].to_numpy())
    dst = data.gene_idx(pos["Target"].to_numpy())
    keep = src != dst
    src, dst = src[keep], dst[keep]
    if symmetric:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    if self_loops:
        n = data.n_genes
        src, dst = np.concatenate([src, np.arange(n)]), np.concatenate([dst, np.arange(n)])
    ei = np.unique(np.stack([src, dst]), axis=1) if len(src) else np.zeros((2, 0), np.int64)
    return torch.as_tensor(ei, dtype=torch.long)


def assert_no_leak(edge_index: torch.Tensor, data: GRNData, split: pd.DataFrame) -> None:
    """Raise :class:`SplitLeakError` if any validation or test positive is an edge (either way)."""
    held = split[(split["Part"] != "train") & (split["Label"] == 1)]
    if held.empty or edge_index.numel() == 0:
        return
    n = data.n_genes
    ei = edge_index.cpu().numpy()
    edges = set((ei[0] * n + ei[1]).tolist())
    a = data.gene_idx(held["TF"].to_numpy())
    b = data.gene_idx(held["Target"].to_numpy())
    bad = [(i, j) for i, j in zip(a, b) if i * n + j in edges or j * n + i in edges]
    if bad:
        g = data.genes
        raise SplitLeakError(
            f"{len(bad)} held-out positive(s) are edges of the message-passing graph, "
            f"e.g. {g[bad[0][0]]} -> {g[bad[0][1]]}"
        )
