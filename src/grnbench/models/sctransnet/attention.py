"""Attention each gene receives, and attentive pooling of per-cell gene embeddings (paper 3.2).

**Attention received.** With FAVOR+ features ``Q', K'`` (L x m) a head's attention matrix is
``A = D^-1 Q' K'^T`` with ``D = diag(Q' K'^T 1_L)`` (paper eq 4 with V replaced by the identity,
i.e. one-hot position indicators). The paper sums ``A`` over queries to get, per gene j, how much
attention it receives: ``s_j = sum_i A_ij``. Never forming A (L x L)::

    s^T = 1^T D^-1 Q' K'^T = ((D^-1 1)^T Q') K'^T          O(L m) time and memory

``s`` is averaged over heads and layers (the paper's element-wise average of all attention
matrices; averaging is linear, so averaging the column sums is the same).

**Pooling (paper eq 6).** For gene g with per-cell embeddings ``e_{n,g}`` and attention sums
``a_{n,g}`` over cells n = 1..N, the pooled vector is ``sum_n w_{n,g} e_{n,g}`` where the weights
are the attention sums normalised *across cells* (the paper says "normalized" and no more; ours,
parameter ``pooling_norm``):

- ``sum`` (default): ``w_{n,g} = a_{n,g} / sum_n' a_{n',g}`` (attention sums are positive);
- ``softmax``: ``w_{n,g} = exp(a_{n,g}/T) / sum_n' exp(a_{n',g}/T)``;
- ``mean`` (the "w/o attentive pooling" ablation): ``w_{n,g} = 1/N``.

Embeddings are streamed over chunks of cells (online normaliser, as in streaming softmax), so
memory is O(chunk x L x dim + genes x dim), never cells x genes x dim.
"""

from __future__ import annotations

import numpy as np
import torch

POOLINGS = ("sum", "softmax", "mean")


def favor_features(x: torch.Tensor, projection: torch.Tensor, is_query: bool, eps: float = 1e-4) -> torch.Tensor:
    """FAVOR+ positive random features (paper eq 5), as performer-pytorch's ``softmax_kernel``::

        phi(x) = m^-1/2 (exp(w_k . x' - |x'|^2 / 2 - c) + eps),   x' = x d^-1/4,  k = 1..m

    ``projection`` (m, d) holds the random directions ``w_k``; ``c`` is a stabiliser (the row
    maximum for queries, the maximum over the whole sequence for keys) that cancels in the
    normalised attention. Same numbers as performer-pytorch without its per-batch copy of the
    projection.
    """
    dn = x.shape[-1] ** -0.25
    xd = (x * dn) @ projection.t().to(x.dtype)  # (..., L, m)
    diag = (x * x).sum(dim=-1, keepdim=True) * (dn * dn / 2.0)
    if is_query:
        stab = xd.amax(dim=-1, keepdim=True).detach()
    else:
        stab = xd.amax(dim=(-1, -2), keepdim=True).detach()
    return projection.shape[0] ** -0.5 * (torch.exp(xd - diag - stab) + eps)


def favor_attention_received(qp: torch.Tensor, kp: torch.Tensor) -> torch.Tensor:
    """Column sums of ``D^-1 Q' K'^T`` for features (..., L, m) -> (..., L), in O(L m)."""
    d = qp @ kp.sum(dim=-2).unsqueeze(-1)  # (..., L, 1) row normalisers, D = diag(Q' K'^T 1)
    w = (qp / d).sum(dim=-2)  # (..., m)   = 1^T D^-1 Q'
    return (kp @ w.unsqueeze(-1)).squeeze(-1)  # s = K' (Q'^T D^-1 1)


def explicit_attention(qp: torch.Tensor, kp: torch.Tensor) -> torch.Tensor:
    """The full (..., L, L) matrix ``D^-1 Q' K'^T`` (tests and tiny models only)."""
    a = qp @ kp.transpose(-1, -2)
    return a / a.sum(dim=-1, keepdim=True)


def pooling_weights(att: np.ndarray | torch.Tensor, norm: str = "sum", temperature: float = 1.0):
    """Cells x genes attention sums -> weights that sum to one over cells for every gene."""
    a = torch.as_tensor(att, dtype=torch.float64)
    if norm == "sum":
        return a / a.sum(dim=0, keepdim=True)
    if norm == "softmax":
        return torch.softmax(a / temperature, dim=0)
    if norm == "mean":
        return torch.full_like(a, 1.0 / a.shape[0])
    raise ValueError(f"pooling_norm must be one of {POOLINGS}, got {norm!r}")


class PoolAccumulator:
    """Streams (cells, genes, dim) chunks into attentive (chosen ``norm``) and mean pooled vectors."""

    def __init__(self, n_genes: int, dim: int, norm: str = "sum", temperature: float = 1.0):
        if norm not in ("sum", "softmax"):
            raise ValueError(f"attentive pooling_norm must be 'sum' or 'softmax', got {norm!r}")
        self.norm, self.t = norm, float(temperature)
        z = torch.zeros
        self.num = z(n_genes, dim, dtype=torch.float64)  # sum_n u_{n,g} e_{n,g}
        self.den = z(n_genes, dtype=torch.float64)  # sum_n u_{n,g}
        self.ref = torch.full((n_genes,), -torch.inf, dtype=torch.float64)  # running max (softmax)
        self.mean_sum = z(n_genes, dim, dtype=torch.float64)
        self.n = 0

    def update(self, emb: torch.Tensor, att: torch.Tensor) -> None:
        """``emb`` (b, genes, dim), ``att`` (b, genes) attention sums of the same cells."""
        e = emb.detach().to("cpu", torch.float64)
        a = att.detach().to("cpu", torch.float64)
        if self.norm == "sum":
            u = a
        else:  # online softmax: rescale what was accumulated under the old maximum
            new_ref = torch.maximum(self.ref, (a / self.t).max(dim=0).values)
            scale = torch.exp(self.ref - new_ref)
            scale = torch.where(torch.isfinite(scale), scale, torch.zeros_like(scale))
            self.num *= scale[:, None]
            self.den *= scale
            self.ref = new_ref
            u = torch.exp(a / self.t - new_ref)
        self.num += torch.einsum("bg,bgd->gd", u, e)
        self.den += u.sum(dim=0)
        self.mean_sum += e.sum(dim=0)
        self.n += e.shape[0]

    def attentive(self) -> torch.Tensor:
        return (self.num / self.den[:, None]).float()

    def mean(self) -> torch.Tensor:
        return (self.mean_sum / max(self.n, 1)).float()


@torch.no_grad()
def extract_gene_embeddings(
    encoder, tokens: np.ndarray, positions: np.ndarray, *, batch: int = 8, norm: str = "sum",
    temperature: float = 1.0, device: str = "cpu", progress: bool = False,
) -> dict[str, np.ndarray]:
    """Run the encoder over all cells in chunks; pool per gene.

    Args:
        encoder: a :class:`~grnbench.models.sctransnet.encoder.ScBertEncoder`.
        tokens: cells x (panel + 1) token matrix.
        positions: each data gene's position in the sequence (-1 = not in the panel: zero vector).

    Returns ``attentive`` and ``mean`` (genes x dim) pooled embeddings and ``attention``
    (cells x genes, attention received averaged over heads and layers).
    """
    encoder.eval().to(device)
    positions = np.asarray(positions)
    have = positions >= 0
    pos_t = torch.as_tensor(positions[have], device=device)
    n_genes, dim = len(positions), encoder.cfg.dim
    acc = PoolAccumulator(int(have.sum()), dim, norm=norm, temperature=temperature)
    att_all = np.zeros((tokens.shape[0], n_genes), dtype=np.float32)
    starts = range(0, tokens.shape[0], batch)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="scBERT embeddings", unit="batch")
    for s in starts:
        tok = torch.as_tensor(tokens[s : s + batch], device=device)
        emb, recv = encoder.encode(tok, received=True)
        emb, recv = emb[:, pos_t], recv[:, pos_t]
        acc.update(emb, recv)
        att_all[s : s + len(tok), have] = recv.float().cpu().numpy()
    out_att = np.zeros((n_genes, dim), dtype=np.float32)
    out_mean = np.zeros((n_genes, dim), dtype=np.float32)
    out_att[have] = acc.attentive().numpy()
    out_mean[have] = acc.mean().numpy()
    return {"attentive": out_att, "mean": out_mean, "attention": att_all}
