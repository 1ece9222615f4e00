"""scBERT's Performer language model with scBERT's exact module tree (and state-dict keys).

Key names (what an official checkpoint's ``model_state_dict`` holds)::

    token_emb.weight                                   [7, dim]   expression-bin embedding
    pos_emb.emb.weight                                 [L, dim]   frozen gene2vec (+ zero row)
    performer.calls_since_last_redraw                  []         random-feature redraw counter
    performer.net.layers.{i}.0.norm.{weight,bias}      [dim]      pre-LayerNorm of attention
    performer.net.layers.{i}.0.fn.to_{q,k,v}.weight    [heads*dim_head, dim]  (no bias)
    performer.net.layers.{i}.0.fn.to_out.{weight,bias} [dim, heads*dim_head], [dim]
    performer.net.layers.{i}.0.fn.fast_attention.projection_matrix  [features, dim_head]
    performer.net.layers.{i}.1.norm.{weight,bias}      [dim]      pre-LayerNorm of feed-forward
    performer.net.layers.{i}.1.fn.fn.w1.{weight,bias}  [4*dim, dim], [4*dim]  (GELU)
    performer.net.layers.{i}.1.fn.fn.w2.{weight,bias}  [dim, 4*dim], [dim]
    norm.{weight,bias}                                 [dim]
    to_out.{weight,bias}                               [7, dim], [7]   MLM logits

performer-pytorch 1.1.4's ``PerformerLM`` produces the same layer keys but adds a second copy of
every layer under ``performer.proj_updater.instance.*`` and no gene2vec embedding, so we build
the tree ourselves from its pieces (``PreLayerNorm``, ``Chunk``, ``FeedForward``,
``FastAttention`` for the random-feature buffer and its redraw, ``linear_attention``); the
FAVOR+ features are ours (:func:`~grnbench.models.sctransnet.attention.favor_features`, the
same numbers as its ``softmax_kernel``, tested).
Our attention computes the features itself so it can also return the attention each gene
*receives* (:mod:`grnbench.models.sctransnet.attention`) without forming the L x L matrix.

Paper eq 1: token representation ``E_i = emb_gene2vec(g_i) + emb_expr(x_i)``.
Paper eq 4 (Performer): ``Att(Q, K, V) = D^-1 (Q' ((K')^T V))``, ``D = diag(Q' ((K')^T 1_L))``,
with ``Q' = phi(Q)``, ``K' = phi(K)`` (eq 5, positive random features, ``softmax_kernel``).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from grnbench.errors import InputError
from grnbench.models.sctransnet.attention import favor_attention_received, favor_features
from grnbench.models.sctransnet.tokenize import NUM_TOKENS

with warnings.catch_warnings():  # performer-pytorch imports distutils / torch.cuda.amp (deprecated)
    warnings.simplefilter("ignore")
    from performer_pytorch.performer_pytorch import (
        Chunk,
        FastAttention,
        FeedForward,
        PreLayerNorm,
        linear_attention,
    )


@dataclass(frozen=True)
class EncoderConfig:
    """Sizes of the Performer (scBERT: 200, 6, 10, 64, 266 features, 16906 + 1 positions)."""

    max_seq_len: int
    dim: int = 200
    depth: int = 6
    heads: int = 10
    dim_head: int = 64
    nb_features: int = 266
    ff_mult: int = 4
    num_tokens: int = NUM_TOKENS
    feature_redraw_interval: int = 1000

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict, max_seq_len: int) -> EncoderConfig:
        return cls(
            max_seq_len=int(max_seq_len), dim=int(params["enc_dim"]), depth=int(params["enc_depth"]),
            heads=int(params["enc_heads"]), dim_head=int(params["enc_dim_head"]),
            nb_features=int(params["enc_features"]),
            feature_redraw_interval=int(params["enc_redraw_interval"]),
        )


class FavorSelfAttention(nn.Module):
    """Bidirectional FAVOR+ self-attention (paper eqs 4-5); keys ``to_q/k/v``, ``to_out``, ``fast_attention``."""

    def __init__(self, dim: int, heads: int, dim_head: int, nb_features: int):
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.fast_attention = FastAttention(dim_head, nb_features)  # holds projection_matrix [m, dim_head]
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_k = nn.Linear(dim, inner, bias=False)
        self.to_v = nn.Linear(dim, inner, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=True)

    def _split(self, t: torch.Tensor) -> torch.Tensor:  # b n (h d) -> b h n d
        b, n, _ = t.shape
        return t.view(b, n, self.heads, -1).transpose(1, 2)

    def forward(self, x: torch.Tensor, received: bool = False):
        q, k, v = self._split(self.to_q(x)), self._split(self.to_k(x)), self._split(self.to_v(x))
        proj = self.fast_attention.projection_matrix
        qp = favor_features(q, proj, is_query=True)  # Q' = phi(Q), eq 5
        kp = favor_features(k, proj, is_query=False)  # K' = phi(K)
        out = linear_attention(qp, kp, v)  # D^-1 Q' (K'^T V), eq 4
        b, h, n, d = out.shape
        out = self.to_out(out.transpose(1, 2).reshape(b, n, h * d))
        recv = favor_attention_received(qp, kp).mean(dim=1) if received else None  # mean over heads
        return out, recv


class _Layers(nn.Module):
    """Holds ``layers`` (the name performer-pytorch's SequentialSequence gives it)."""

    def __init__(self, layers: nn.ModuleList):
        super().__init__()
        self.layers = layers


class Performer(nn.Module):
    """Pre-LayerNorm Performer blocks: ``x += Attn(LN(x)); x += FF(LN(x))``."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        layers = nn.ModuleList()
        for _ in range(cfg.depth):
            attn = PreLayerNorm(cfg.dim, FavorSelfAttention(cfg.dim, cfg.heads, cfg.dim_head, cfg.nb_features))
            ff = PreLayerNorm(cfg.dim, Chunk(1, FeedForward(cfg.dim, mult=cfg.ff_mult), along_dim=1))
            layers.append(nn.ModuleList([attn, ff]))
        self.net = _Layers(layers)
        self.feature_redraw_interval = cfg.feature_redraw_interval
        self.register_buffer("calls_since_last_redraw", torch.tensor(0))

    def check_redraw_projections(self) -> None:
        """Redraw every layer's random features once per ``feature_redraw_interval`` training calls."""
        if not self.training or not self.feature_redraw_interval:
            return
        if int(self.calls_since_last_redraw) >= self.feature_redraw_interval:
            dev = self.calls_since_last_redraw.device
            for m in self.modules():
                if isinstance(m, FastAttention):
                    m.redraw_projection_matrix(dev)
            self.calls_since_last_redraw.zero_()
            return
        self.calls_since_last_redraw += 1

    def forward(self, x: torch.Tensor, received: bool = False):
        self.check_redraw_projections()
        recv_sum = None
        for attn, ff in self.net.layers:
            a, r = attn.fn(attn.norm(x), received=received)
            x = x + a
            x = x + ff(x)
            if received:
                recv_sum = r if recv_sum is None else recv_sum + r
        recv = recv_sum / len(self.net.layers) if received else None  # mean over layers
        return x, recv


class GenePositionEmbedding(nn.Module):
    """Frozen gene embedding added per position (scBERT's ``Gene2VecPositionalEmbedding``)."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.emb = nn.Embedding.from_pretrained(weight.float(), freeze=True)

    def forward(self, n: int, device) -> torch.Tensor:
        return self.emb(torch.arange(n, device=device))


class ScBertEncoder(nn.Module):
    """scBERT's PerformerLM (``return_encodings`` -> per-gene embeddings; else MLM logits)."""

    def __init__(self, cfg: EncoderConfig, gene_embedding: torch.Tensor | None = None):
        super().__init__()
        self.cfg = cfg
        if gene_embedding is None:
            gene_embedding = torch.zeros(cfg.max_seq_len, cfg.dim)
        if tuple(gene_embedding.shape) != (cfg.max_seq_len, cfg.dim):
            raise InputError("gene embedding", f"expected shape {(cfg.max_seq_len, cfg.dim)}, got {tuple(gene_embedding.shape)}")
        self.token_emb = nn.Embedding(cfg.num_tokens, cfg.dim)
        self.pos_emb = GenePositionEmbedding(torch.as_tensor(gene_embedding))
        self.performer = Performer(cfg)
        self.norm = nn.LayerNorm(cfg.dim)
        self.to_out = nn.Linear(cfg.dim, cfg.num_tokens)

    def encode(self, tokens: torch.Tensor, received: bool = False):
        """(embeddings (b, n, dim) after the final LayerNorm, attention received (b, n) or None)."""
        x = self.token_emb(tokens) + self.pos_emb(tokens.shape[1], tokens.device)  # eq 1
        x, recv = self.performer(x, received=received)
        return self.norm(x), recv

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """MLM logits (b, n, num_tokens)."""
        return self.to_out(self.encode(tokens)[0])


# --- checkpoints ---------------------------------------------------------------------------------
_LAYER_KEY = re.compile(r"^performer\.net\.layers\.(\d+)\.")


def official_state_dict(obj, source="checkpoint") -> dict[str, torch.Tensor]:
    """The state dict inside an official scBERT file (``model_state_dict``), ``module.`` prefix removed."""
    sd = obj.get("model_state_dict", obj) if isinstance(obj, dict) else None
    if not isinstance(sd, dict) or "token_emb.weight" not in {k.removeprefix("module.") for k in sd}:
        raise InputError(source, "not an scBERT checkpoint (expected a dict with 'model_state_dict' holding 'token_emb.weight')")
    return {k.removeprefix("module."): v for k, v in sd.items()}


def config_from_state_dict(sd: dict[str, torch.Tensor], feature_redraw_interval: int = 1000) -> EncoderConfig:
    """Infer every size from tensor shapes (heads = inner width / projection width)."""
    num_tokens, dim = sd["token_emb.weight"].shape
    max_seq_len = sd["pos_emb.emb.weight"].shape[0]
    depth = 1 + max(int(m.group(1)) for k in sd if (m := _LAYER_KEY.match(k)))
    nb_features, dim_head = sd["performer.net.layers.0.0.fn.fast_attention.projection_matrix"].shape
    inner = sd["performer.net.layers.0.0.fn.to_q.weight"].shape[0]
    ff_hidden = sd["performer.net.layers.0.1.fn.fn.w1.weight"].shape[0]
    return EncoderConfig(
        max_seq_len=int(max_seq_len), dim=int(dim), depth=depth, heads=int(inner // dim_head),
        dim_head=int(dim_head), nb_features=int(nb_features), ff_mult=int(ff_hidden // dim),
        num_tokens=int(num_tokens), feature_redraw_interval=feature_redraw_interval,
    )


def load_official_encoder(path, feature_redraw_interval: int = 1000) -> ScBertEncoder:
    """Build an encoder from an official scBERT checkpoint and load it with ``strict=True``."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "encoder checkpoint does not exist")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    sd = official_state_dict(obj, path)
    cfg = config_from_state_dict(sd, feature_redraw_interval)
    model = ScBertEncoder(cfg)
    model.load_state_dict(sd, strict=True)
    return model
