"""scTransNet (scBERT encoder + attentive pooling + QA-GNN-style GNN) and its three ablations.

Pipeline of :meth:`ScTransNet.fit` (paper section 3; modules in ``grnbench.models.sctransnet``):

1. encoder: with ``gene_embeddings`` set, a file of gene vectors computed elsewhere (Geneformer,
   scGPT, scFoundation, gene2vec; :mod:`grnbench.data.embeddings`: per-gene, or per-cell and pooled
   as in step 2) replaces steps 1-2: no pretraining, no extraction; the labels name the file and
   its SHA-256. Otherwise the checkpoint in ``encoder_checkpoint`` (official scBERT file, optionally
   fine-tuned by MLM for ``finetune_epochs``; or one written by ``pretrain_encoder``), else
   masked-expression pretraining on the dataset's cells (seed ``pretrain_seed``, shared by every
   fit seed; cached under ``pretrain_cache`` when set). Labels say which, never more.
2. extraction: per cell, gene embeddings and the attention each gene receives (FAVOR+ column
   sums, never a genes x genes matrix), streamed over chunks of cells; per gene, pooling over
   cells with attention weights normalised across cells (or the mean, for the ablation).
3. GNN over the prior graph of *training positives only*; node features = expression across cells.
4. concatenation -> TF / target MLP channels -> dot (or 2-class MLP) decoder; BCE, Adam, trained
   by :func:`grnbench.methods.training.train_pair_model` (model selection on validation only).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import torch

from grnbench.data.dataset import GRNData
from grnbench.methods.base import SupervisedMethod
from grnbench.methods.graph import training_graph
from grnbench.methods.registry import register
from grnbench.methods.training import PairModelPredict, TrainConfig, train_pair_model
from grnbench.models.sctransnet.attention import extract_gene_embeddings
from grnbench.models.sctransnet.config import DEFAULTS, PRESETS
from grnbench.models.sctransnet.gnn import GRNEncoder, relational_graph
from grnbench.models.sctransnet.model import ScTransNetModel
from grnbench.models.sctransnet.pretrain import get_encoder
from grnbench.models.sctransnet.tokenize import data_tokens, gene_positions
from grnbench.utils import peak_rss_mb, resolve_device, seed_everything


def node_features(data: GRNData, how: str = "zscore") -> torch.Tensor:
    """(genes, cells): each gene's expression across cells, z-scored per gene (or as is)."""
    x = data.expression(np.float64).T
    if how == "zscore":
        sd = x.std(axis=1, keepdims=True)
        x = np.divide(x - x.mean(axis=1, keepdims=True), sd, out=np.zeros_like(x), where=sd > 0)
    elif how != "log":
        raise ValueError(f"node_features must be 'zscore' or 'log', got {how!r}")
    return torch.as_tensor(x, dtype=torch.float32)


@register
class ScTransNet(PairModelPredict, SupervisedMethod):
    """Full model; subclasses switch parts off for the ablations."""

    name = "sctransnet"
    display_name = "scTransNet"
    family = "sctransnet"
    order = 16
    color = "#d62728"
    table1_variant = "scTransNet"  # its column in the paper's Table 1
    cost = {"model": "sctransnet"}
    description = "scTransNet: scBERT (Performer) gene embeddings with attentive pooling + QA-GNN-style GNN on the training GRN."
    defaults = DEFAULTS
    presets = PRESETS
    use_encoder = True
    use_gnn = True
    attentive = True

    # --- parts -------------------------------------------------------------------------------
    def _file_vectors(self, data: GRNData) -> np.ndarray:
        """The ``gene_embeddings`` file's vectors in place of the encoder's (module docstring, step 1)."""
        from grnbench.data.embeddings import gene_embedding_matrix

        p = self.params
        t0 = time.perf_counter()
        vectors, labels = gene_embedding_matrix(
            p["gene_embeddings"], data.genes, min_coverage=float(p["gene_embeddings_min_coverage"]),
            attentive=self.attentive, pooling=p["pooling_norm"], temperature=float(p["pooling_temperature"]),
        )
        self.resources["gene_embeddings_s"] = round(time.perf_counter() - t0, 2)
        self.labels.update({
            "encoder": f"external gene embeddings ({labels['gene_embeddings']})",
            "encoder_source": "file",
            "gene_embedding": "none (the file's vectors replace the encoder output)",
            "pooling": labels.get("gene_embeddings_pooling", "none (per-gene file)"),
            **labels,
        })
        return vectors

    def _encoder_vectors(self, data: GRNData, dev: str, threads: int) -> np.ndarray:
        p = self.params
        t0 = time.perf_counter()
        bundle = get_encoder(data, p, device=dev, threads=threads)
        self.resources["pretrain_s"] = round(time.perf_counter() - t0, 2)
        self.resources["encoder_checkpoint_path"] = str(bundle.checkpoint) if bundle.checkpoint else None
        tokens = data_tokens(data.expression(), data.genes, bundle.panel, p["expression_log_base"])
        pos = gene_positions(data.genes, bundle.panel)
        t0 = time.perf_counter()
        ext = extract_gene_embeddings(
            bundle.model, tokens, pos, batch=int(p["extract_batch"]), norm=p["pooling_norm"],
            temperature=float(p["pooling_temperature"]), device=dev, progress=bool(p["progress"]),
        )
        self.resources["extract_s"] = round(time.perf_counter() - t0, 2)
        cfg = bundle.model.cfg
        self.labels.update({
            "encoder": bundle.label,
            "encoder_source": bundle.source,
            # file name only (it carries the config hash): labels must not change with the folder
            "encoder_checkpoint": os.path.basename(bundle.checkpoint) if bundle.checkpoint else None,
            "encoder_size": f"dim={cfg.dim} depth={cfg.depth} heads={cfg.heads}x{cfg.dim_head} features={cfg.nb_features} seq={cfg.max_seq_len}",
            "gene_embedding": bundle.gene_embedding,
            "genes_outside_panel": int((pos < 0).sum()),
            "pooling": (f"attentive (attention received, normalised across cells: {p['pooling_norm']})"
                        if self.attentive else "mean over cells"),
        })
        self.extraction_ = ext
        return ext["attentive"] if self.attentive else ext["mean"]

    def _gnn(self, data: GRNData, train: pd.DataFrame):
        p = self.params
        directed = training_graph(data, train)  # TF -> target, training positives only
        ei, et = relational_graph(directed, data.n_genes)
        x = node_features(data, p["node_features"])
        gnn = GRNEncoder(x.shape[1], tuple(p["gnn_dims"]), int(p["gnn_type_dim"]), int(p["gnn_rel_dim"]),
                         int(p["gnn_heads"]), float(p["gnn_dropout"]))
        node_type = torch.as_tensor(data.tf_mask.astype(np.int64))
        self.labels["gnn"] = (f"QA-GNN-style relational attention, layers {tuple(p['gnn_dims'])}, "
                              f"graph = {directed.shape[1]} training-positive edges (+reverse, +self)")
        self.graph_edge_index_ = ei
        return gnn, x, node_type, ei, et

    # --- contract ------------------------------------------------------------------------------
    def fit(self, data: GRNData, train: pd.DataFrame, val: pd.DataFrame, *, seed: int, threads: int = 1):
        torch.set_num_threads(max(1, int(threads)))
        dev = resolve_device(self.device)
        self.device_ = dev
        p = self.params
        self.labels, self.resources = {}, {}
        if dev == "cuda":
            torch.cuda.reset_peak_memory_stats()
        vectors = None
        if self.use_encoder and p.get("gene_embeddings"):
            vectors = torch.as_tensor(self._file_vectors(data))
        elif self.use_encoder:
            vectors = torch.as_tensor(self._encoder_vectors(data, dev, threads))
        else:
            self.labels.update({"encoder": "none", "encoder_source": "none", "gene_embedding": "none", "pooling": "none"})
        seed_everything(seed)  # after pretraining, which reseeds with pretrain_seed
        gnn = x = node_type = ei = et = None
        if self.use_gnn:
            gnn, x, node_type, ei, et = self._gnn(data, train)
        else:
            self.labels["gnn"] = "none"
        model = ScTransNetModel(vectors, gnn, x, node_type, ei, et, tuple(p["head_dims"]),
                                float(p["head_dropout"]), p["decoder"])
        cfg = TrainConfig(
            epochs=int(p["epochs"]), lr=float(p["lr"]), batch_size=p["batch_size"],
            weight_decay=float(p["weight_decay"]), patience=p["patience"], device=dev,
            progress=bool(p["progress"]),
        )
        t0 = time.perf_counter()
        res = train_pair_model(model, data, train, val, cfg, seed=seed)
        self.resources["train_s"] = round(time.perf_counter() - t0, 2)
        self.resources["peak_rss_mb"] = round(peak_rss_mb(), 1)
        if dev == "cuda":
            self.resources["gpu_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        self.labels.update({"decoder": p["decoder"], "selected_epoch": int(res.best_epoch),
                            "selection": "best validation AUROC"})
        self.model_, self.train_result_ = model, res
        return self



@register
class ScTransNetNoGNN(ScTransNet):
    name = "sctransnet_no_gnn"
    display_name = "scTransNet w/o GNN"
    family = "sctransnet"
    order = 17
    color = "#ff9896"
    table1_variant = "w/o GNN encoder"  # its column in the paper's Table 1
    description = "scTransNet ablation without the GNN: attentively pooled scBERT gene embeddings -> two channels."
    use_gnn = False


@register
class ScTransNetNoEncoder(ScTransNet):
    name = "sctransnet_no_encoder"
    display_name = "scTransNet w/o scBERT"
    family = "sctransnet"
    order = 18
    color = "#e377c2"
    table1_variant = "w/o scBERT encoder"  # its column in the paper's Table 1
    # the GNN alone: the generic supervised model
    cost = {"model": "deep", "per_pair_epoch_s": 2e-5, "measured_epochs": 100, "extra_mb": 300}
    description = "scTransNet ablation without scBERT: QA-GNN-style GNN on the training GRN -> two channels."
    use_encoder = False
    # no encoder vectors, so no file in their place: the parameters are unknown here (refused at planning)
    defaults = {k: v for k, v in DEFAULTS.items() if not k.startswith("gene_embeddings")}


@register
class ScTransNetNoAttnPool(ScTransNet):
    name = "sctransnet_no_attnpool"
    display_name = "scTransNet w/o att. pooling"
    family = "sctransnet"
    order = 19
    color = "#a50f15"
    table1_variant = "w/o Attentive Pooling"  # its column in the paper's Table 1
    description = "scTransNet ablation with mean pooling of scBERT gene embeddings across cells instead of attentive pooling."
    attentive = False
