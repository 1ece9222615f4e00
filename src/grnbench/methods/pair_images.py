"""Joint-expression images of gene pairs (CNNC, DeepDRIM), built on the fly with torch ops.

CNNC (Yuan & Bar-Joseph 2019) turns a gene pair (a, b) into the 2-D histogram of their
expression over cells, 32 x 32 equal-width bins spanning each gene's [min, max] (NumPy's
``histogram2d`` default range), transposed so rows are ``b``'s bins and columns ``a``'s, and
log-scaled to [0, 1]:

    H_ab[u, v] = #{cells c : bin_b(c) = u, bin_a(c) = v}
    I_ab = (log10(H_ab / n_cells + 1e-4) + 4) / 4                           (CNNC's NEPDF)

Each gene's per-cell bin index is computed once (a ``genes x cells`` uint8 table, ~1 MB for
TFs+1000); an image is then one ``bincount`` over ``bin_b * n_bins + bin_a``. Images are built
per batch inside the model's forward, never for all pairs at once: :func:`chunk_sizes` splits
a batch so that the images and the CNN activations of a chunk stay within a byte budget.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

#: CNN activations per input pixel, summed over the CNNC conv stack (32, 32, 64, 64, 128, 128
#: channels at 32, 30, 15, 13, 6, 4 pixels a side, plus pooling): ~95 floats per input float.
#: Used to turn a memory budget into a number of images per chunk.
ACTIVATION_FACTOR = 100


def discretise(x: np.ndarray, n_bins: int = 32) -> np.ndarray:
    """Per-gene equal-width bin index of every cell, as ``np.histogram2d(..., bins=n_bins)``.

    ``x`` is cells x genes; returns genes x cells uint8. Bin edges span each gene's
    [min, max], the maximum falls into the last bin; a constant gene gets the middle bin
    (NumPy widens a zero range to [v - 0.5, v + 0.5]).
    """
    if not 1 <= n_bins <= 255:
        raise ValueError(f"n_bins must be in 1..255, got {n_bins}")
    x = np.asarray(x, dtype=np.float64)
    lo, hi = x.min(axis=0), x.max(axis=0)
    width = hi - lo
    const = width == 0
    width[const] = 1.0
    idx = np.floor((x - lo) / width * n_bins).astype(np.int64)
    idx = np.clip(idx, 0, n_bins - 1)
    idx[:, const] = n_bins // 2
    return np.ascontiguousarray(idx.T.astype(np.uint8))


def histogram_images(bins: torch.Tensor, a: torch.Tensor, b: torch.Tensor, n_bins: int) -> torch.Tensor:
    """Log-scaled joint histograms ``(len(a), n_bins, n_bins)`` of pairs ``(a[i], b[i])``.

    ``bins`` is the genes x cells table from :func:`discretise`. Row index = ``b``'s bin,
    column index = ``a``'s bin (CNNC's ``histogram2d(x_a, x_b).T``).
    """
    n_pairs, n_cells = len(a), bins.shape[1]
    if n_pairs == 0:
        return torch.zeros(0, n_bins, n_bins, device=bins.device)
    codes = bins[b].long() * n_bins + bins[a].long()  # (pairs, cells)
    offset = torch.arange(n_pairs, device=bins.device).unsqueeze(1) * (n_bins * n_bins)
    counts = torch.bincount((codes + offset).view(-1), minlength=n_pairs * n_bins * n_bins)
    h = counts.view(n_pairs, n_bins, n_bins).float() / n_cells
    return (torch.log10(h + 1e-4) + 4.0) / 4.0


def chunk_sizes(n_pairs: int, images_per_pair: int, n_bins: int, budget_bytes: int) -> int:
    """Pairs per chunk so images plus CNN activations of one chunk fit ``budget_bytes``."""
    per_pair = images_per_pair * n_bins * n_bins * 4 * ACTIVATION_FACTOR
    return max(1, min(n_pairs, int(budget_bytes // per_pair)))


def top_correlated(x: np.ndarray, k: int) -> np.ndarray:
    """For every gene, the ``k`` other genes with the highest Pearson correlation (genes x k).

    DeepDRIM's neighbour genes. Ties are broken by gene index (stable sort) so the table is
    deterministic; constant genes have correlation 0 with everything.
    """
    x = np.asarray(x, dtype=np.float64)
    n_genes = x.shape[1]
    k = min(k, n_genes - 1)
    xc = x - x.mean(axis=0)
    norm = np.sqrt((xc**2).sum(axis=0))
    norm[norm == 0] = np.inf
    z = xc / norm
    corr = z.T @ z
    np.fill_diagonal(corr, -np.inf)  # the self image is added separately
    order = np.argsort(-corr, axis=1, kind="stable")
    return np.ascontiguousarray(order[:, :k])


class PairImages(nn.Module):
    """Holds the per-gene bin table and builds pair images on the device of the model.

    The table is a non-persistent buffer: it moves with ``model.to(device)`` but is not part of
    the ``state_dict`` (it is derived from the data, not learned).
    """

    def __init__(self, expression: np.ndarray, n_bins: int = 32) -> None:
        super().__init__()
        self.n_bins = n_bins
        self.register_buffer("bins", torch.as_tensor(discretise(expression, n_bins)), persistent=False)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``(len(a), 1, n_bins, n_bins)`` images of pairs ``(a[i], b[i])``."""
        return histogram_images(self.bins, a, b, self.n_bins).unsqueeze(1)
