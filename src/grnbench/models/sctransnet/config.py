"""scTransNet hyperparameters: the paper's settings (defaults) and named presets.

One table serves the registered methods (``grnbench.methods.sctransnet``) and the standalone
pretraining entry point (:func:`grnbench.models.sctransnet.pretrain.pretrain_encoder`), so a
workflow rule that pretrains the encoder and the method that later loads it agree on every size.

Where the paper is silent the choice is marked "ours" and is a parameter.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from grnbench.methods.registry import merge_params  # torch-free: planning imports this module

#: Paper / scBERT settings. Keys prefixed ``enc_`` size the Performer, ``pretrain_`` the masked
#: expression modelling, ``gnn_`` the graph encoder, ``head_`` the output layer.
DEFAULTS: dict[str, Any] = {
    # --- encoder source ---------------------------------------------------------------------
    "encoder_checkpoint": None,  # path: official scBERT file or one written by pretrain_encoder
    "panel_genes": None,  # text file, one symbol per line (the official 16906-gene panel order)
    "gene2vec_path": None,  # text file: symbol then the vector (gene2vec's release format)
    "gene_embedding_standin": "coexpression",  # ours, used when gene2vec_path is None: coexpression | random
    "expression_log_base": "2",  # how data.expression() was logged (project: log2(1+x)): e | 2 | 10 | counts
    # file of gene vectors computed elsewhere (Geneformer, scGPT, gene2vec, ...) used in place of
    # the encoder's pooled vectors: no pretraining, no extraction (grnbench.data.embeddings)
    "gene_embeddings": None,
    "gene_embeddings_min_coverage": 0.5,  # fewer of the dataset's genes in the file: an error
    # --- Performer (scBERT: dim 200, depth 6, 10 heads x 64, 266 random features) ----------
    "enc_dim": 200,
    "enc_depth": 6,
    "enc_heads": 10,
    "enc_dim_head": 64,
    "enc_features": 266,
    "enc_redraw_interval": 1000,
    # --- masked expression modelling (scBERT: 15% masked, 90% of those -> mask token) ------
    "pretrain_epochs": 10,  # ours: scBERT pretrained on >1M cells; we pretrain on the dataset
    "pretrain_lr": 1e-4,  # scBERT
    "pretrain_batch": 8,
    "pretrain_seed": 0,  # separate from the fit seed so one encoder serves every seed
    "mask_prob": 0.15,
    "replace_prob": 0.9,
    "finetune_epochs": 0,  # MLM epochs on the dataset when starting from an official checkpoint
    "pretrain_cache": None,  # folder: reuse checkpoints keyed by their full config
    # --- extraction + attentive pooling ------------------------------------------------------
    "extract_batch": 8,  # cells per forward pass (bounds memory)
    "pooling_norm": "sum",  # ours (paper silent): sum | softmax, across cells, per gene
    "pooling_temperature": 1.0,  # softmax only
    # --- GNN (paper: 2 layers, 256 and 128) ----------------------------------------------------
    "node_features": "zscore",  # zscore | log (expression across cells; authors' code z-scores)
    "gnn_dims": [256, 128],
    "gnn_heads": 4,  # ours (QA-GNN's GATConvE uses multi-head attention)
    "gnn_type_dim": 32,  # ours
    "gnn_rel_dim": 32,  # ours
    "gnn_dropout": 0.2,  # ours (authors' later code: 0.2)
    # --- output layer ------------------------------------------------------------------------
    "head_dims": [128, 64],  # ours (paper: "MLPs")
    "head_dropout": 0.2,
    "decoder": "dot",  # dot | mlp (2-class MLP decoder)
    # --- training (paper: 100 iterations, lr 0.003) ------------------------------------------
    "epochs": 100,
    "lr": 3e-3,
    "batch_size": 256,  # GENELink's; None = full batch
    "weight_decay": 0.0,
    "patience": None,
    "progress": True,
}

PRESETS: dict[str, dict[str, Any]] = {
    # Default workflow run (~40 TFs, ~240 genes, ~300 cells) on one CPU core.
    "small": {
        "enc_dim": 32,
        "enc_depth": 2,
        "enc_heads": 2,
        "enc_dim_head": 16,
        "enc_features": 32,
        "pretrain_epochs": 10,
        "pretrain_lr": 1e-3,
        "pretrain_batch": 16,
        "extract_batch": 64,
        "gnn_dims": [64, 32],
        "gnn_heads": 2,
        "gnn_type_dim": 16,
        "gnn_rel_dim": 16,
        "head_dims": [64, 32],
        "batch_size": 512,
        "patience": 25,
    },
    # hESC TFs+1000 size (1410 genes x 758 cells) in < 15 min and < 8 GiB on 2 CPU cores
    # (benchmarks/bench_sctransnet.py).
    "cpu": {
        "enc_dim": 64,
        "enc_depth": 3,
        "enc_heads": 4,
        "enc_dim_head": 16,
        "enc_features": 32,
        "pretrain_epochs": 6,
        "pretrain_lr": 1e-3,
        "pretrain_batch": 16,
        "extract_batch": 32,
        "batch_size": None,  # full batch: 100 epochs = the paper's "100 iterations"
    },
    "paper": {},
}

ENCODER_KEYS = (
    "enc_dim", "enc_depth", "enc_heads", "enc_dim_head", "enc_features", "enc_redraw_interval",
)

#: Every setting that determines a pretrained encoder (the identity of
#: :func:`grnbench.models.sctransnet.pretrain.encoder_key`, besides the data): the Performer's
#: sizes, where it starts (official checkpoint and panel, gene embedding) and the masked
#: expression training. The GNN, head, extraction and training settings are not among them, so
#: variants that differ only there share one encoder.
PRETRAIN_KEYS = (
    *ENCODER_KEYS,
    "encoder_checkpoint", "panel_genes", "finetune_epochs",
    "gene2vec_path", "gene_embedding_standin", "expression_log_base",
    "pretrain_epochs", "pretrain_lr", "pretrain_batch", "pretrain_seed", "mask_prob", "replace_prob",
)


def resolve_params(params: dict[str, Any] | None = None, preset: str | None = None) -> dict[str, Any]:
    """Defaults, then the preset, then explicit ``params`` (unknown keys are an error): the one
    resolution of :func:`grnbench.methods.registry.merge_params`; ``device`` is dropped."""
    params = dict(params or {})
    params.pop("device", None)
    return merge_params("sctransnet", DEFAULTS, PRESETS, preset, params)


def pretrain_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The :data:`PRETRAIN_KEYS` of resolved ``params``: what one pretrained encoder is made from."""
    return {k: params[k] for k in PRETRAIN_KEYS}


def pretrain_key(params: dict[str, Any]) -> str:
    """Short hash of the resolved ``params``' encoder settings (:func:`pretrain_settings`).

    Torch-free, for planning: the workflow pretrains one encoder per dataset and key
    (``pretrain/scbert_<key>.pt``), shared by every variant, seed and split with these settings.
    """
    blob = json.dumps(pretrain_settings(params), sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:10]
