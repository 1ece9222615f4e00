"""Getting an encoder: masked expression modelling on the dataset's cells, or a checkpoint.

scBERT's pretraining objective (masked expression modelling, as BERT's masked LM): in every
cell choose ``ceil(0.15 * n)`` of its ``n`` *non-zero* tokens (scBERT never masks token 0),
replace 90% of the chosen by the mask token 6 and keep the rest, and minimise the
cross-entropy of the original bins at the chosen positions::

    L = - (1/|M|) sum_{(c,i) in M} log p_theta(x_{c,i} | x_c with M masked)

Checkpoints (:func:`pretrain_encoder`) store the state dict under scBERT's key names
(``model_state_dict``), the full config that made them (``config``: encoder sizes, panel,
token fingerprint of the cells, gene-embedding source, pretraining settings, seed), the panel
gene order and, until complete, the optimiser and random-number states: a rerun with the same
inputs resumes from the last saved epoch, and a finished checkpoint is reused as is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from grnbench.data.dataset import GRNData
from grnbench.errors import InputError
from grnbench.models.sctransnet.config import resolve_params
from grnbench.models.sctransnet.encoder import (
    EncoderConfig,
    ScBertEncoder,
    config_from_state_dict,
    official_state_dict,
)
from grnbench.models.sctransnet.gene2vec import panel_embedding
from grnbench.models.sctransnet.tokenize import MASK_TOKEN, data_tokens, fingerprint, read_panel
from grnbench.utils import atomic_path, file_digest, resolve_device

log = logging.getLogger("grnbench.sctransnet")

FORMAT = "grnbench-scbert-1"
IGNORE = -100  # cross-entropy ignore_index for unmasked positions


@dataclass
class EncoderBundle:
    """An encoder ready for extraction, with the facts needed to label results honestly."""

    model: ScBertEncoder
    panel: list[str]
    source: str  # pretrained-by-us | official-checkpoint | official-checkpoint+fine-tuned-by-us | untrained
    label: str  # e.g. "pretrained-by-us (MLM on 758 cells, 4 epochs)"
    gene_embedding: str
    checkpoint: str | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


# --- masking -------------------------------------------------------------------------------------
def mlm_mask(
    tokens: torch.Tensor, gen: torch.Generator, mask_prob: float = 0.15, replace_prob: float = 0.9,
    mask_token: int = MASK_TOKEN,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, labels): ``ceil(mask_prob * n_nonzero)`` non-zero positions per cell are chosen;
    of those a ``replace_prob`` fraction become ``mask_token``; labels are the original tokens at
    chosen positions and ``-100`` elsewhere."""
    eligible = tokens != 0
    n_choose = torch.ceil(eligible.sum(dim=1, keepdim=True) * mask_prob)
    r = torch.rand(tokens.shape, generator=gen)
    r = torch.where(eligible, r, torch.full_like(r, 2.0))  # ineligible sort last
    rank = r.argsort(dim=1).argsort(dim=1)
    chosen = (rank < n_choose) & eligible
    replace = chosen & (torch.rand(tokens.shape, generator=gen) < replace_prob)
    inputs = torch.where(replace, torch.full_like(tokens, mask_token), tokens)
    labels = torch.where(chosen, tokens, torch.full_like(tokens, IGNORE))
    return inputs, labels


# --- plan: everything that identifies an encoder -----------------------------------------------
def checkpoint_kind(path) -> str:
    """'grnbench' (written by :func:`pretrain_encoder`) or 'official' (scBERT's own file)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "encoder checkpoint does not exist")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        return "grnbench"
    official_state_dict(obj, path)  # raises if it is neither
    return "official"


def _official_init(params: dict) -> tuple[dict, EncoderConfig, list[str]]:
    path = params["encoder_checkpoint"]
    sd = official_state_dict(torch.load(path, map_location="cpu", weights_only=True), path)
    cfg = config_from_state_dict(sd, int(params["enc_redraw_interval"]))
    if not params.get("panel_genes"):
        raise InputError(
            "sctransnet params: panel_genes",
            "an official scBERT checkpoint needs the panel gene list in its sequence order (one symbol per line)",
        )
    panel = read_panel(params["panel_genes"])
    if len(panel) + 1 != cfg.max_seq_len:
        raise InputError(params["panel_genes"], f"{len(panel)} genes, but the checkpoint has {cfg.max_seq_len} positions (panel + 1 expected)")
    return sd, cfg, panel


def _plan(data: GRNData, params: dict, seed: int) -> dict[str, Any]:
    """Tokens, panel, config and the identity dict that names the checkpoint's inputs."""
    x = data.expression()
    init = None
    if params.get("encoder_checkpoint"):
        sd, cfg, panel = _official_init(params)
        gemb, glabel = None, "official checkpoint's gene2vec"
        epochs = int(params["finetune_epochs"])
        init = {"path": str(params["encoder_checkpoint"]), "sha1": file_digest(params["encoder_checkpoint"], "sha1")}
    else:
        sd = None
        panel = list(data.genes)
        cfg = EncoderConfig.from_params(params, len(panel) + 1)
        gemb, glabel = panel_embedding(
            panel, x, data.genes, cfg.dim, gene2vec_path=params.get("gene2vec_path"),
            standin=params["gene_embedding_standin"], seed=seed,
        )
        epochs = int(params["pretrain_epochs"])
    tokens = data_tokens(x, data.genes, panel, params["expression_log_base"])
    ident = {
        "format": FORMAT,
        "encoder": cfg.to_dict(),
        "panel_sha1": hashlib.sha1("\n".join(panel).encode()).hexdigest(),
        "tokens_sha1": fingerprint(tokens),
        "n_cells": int(tokens.shape[0]),
        "gene_embedding": glabel,
        "gene_embedding_sha1": fingerprint(gemb) if gemb is not None else None,
        "init": init,
        "pretrain": {
            "epochs": epochs, "lr": float(params["pretrain_lr"]), "batch": int(params["pretrain_batch"]),
            "mask_prob": float(params["mask_prob"]), "replace_prob": float(params["replace_prob"]),
            "log_base": str(params["expression_log_base"]),
        },
        "seed": int(seed),
    }
    return {"tokens": tokens, "panel": panel, "cfg": cfg, "gemb": gemb, "glabel": glabel, "init_sd": sd,
            "epochs": epochs, "ident": ident}


def encoder_key(data: GRNData, params: dict | None = None, seed: int = 0, preset: str | None = None) -> str:
    """Short hash of everything that determines a pretrained encoder (for cache file names)."""
    p = resolve_params(params, preset)
    ident = _plan(data, p, seed)["ident"]
    return hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def _source(ident: dict) -> tuple[str, str]:
    n, e = ident["n_cells"], ident["pretrain"]["epochs"]
    if ident["init"] is None and e == 0:
        return "untrained", "untrained encoder (random initialisation, no MLM)"
    if ident["init"] is None:
        return "pretrained-by-us", f"pretrained-by-us (MLM on {n} cells, {e} epochs)"
    if e == 0:
        return "official-checkpoint", "official-checkpoint"
    return "official-checkpoint+fine-tuned-by-us", f"official-checkpoint, fine-tuned-by-us (MLM on {n} cells, {e} epochs)"


# --- pretraining ---------------------------------------------------------------------------------
def pretrain_encoder(
    data: GRNData, params: dict | None, seed: int, out_path=None, *, preset: str | None = None,
    threads: int | None = None, device: str = "auto", progress: bool | None = None,
    max_epochs_this_call: int | None = None,
) -> EncoderBundle:
    """Masked expression modelling of the encoder on ``data``'s cells; save to ``out_path``.

    Starts from scratch (frozen gene embedding: gene2vec file or stand-in) or, when
    ``params['encoder_checkpoint']`` is an official scBERT file, fine-tunes it for
    ``finetune_epochs``. ``out_path`` (optional): a finished checkpoint made from the same
    inputs is returned without training; an unfinished one is resumed from its last epoch; one
    made from other inputs is an error. ``max_epochs_this_call`` stops early (for tests of
    resumption and for time-sliced jobs). ``seed`` fixes initialisation, random features,
    shuffling and masks.
    """
    p = resolve_params(params, preset)
    if threads:
        torch.set_num_threads(int(threads))
    progress = p["progress"] if progress is None else progress
    dev = resolve_device(device)
    plan = _plan(data, p, seed)
    ident, cfg, tokens = plan["ident"], plan["cfg"], plan["tokens"]
    source, label = _source(ident)
    out_path = Path(out_path) if out_path else None
    t0 = time.perf_counter()

    state = None
    if out_path is not None and out_path.exists():
        state = torch.load(out_path, map_location="cpu", weights_only=True)
        if state.get("format") != FORMAT or state.get("config") != ident:
            raise InputError(out_path, "a checkpoint made from other inputs/config exists here; remove it or choose another path")
    torch.manual_seed(seed)
    model = ScBertEncoder(cfg, None if plan["gemb"] is None else torch.as_tensor(plan["gemb"]))
    if plan["init_sd"] is not None:
        model.load_state_dict(plan["init_sd"], strict=True)
    bundle = EncoderBundle(model, plan["panel"], source, label, plan["glabel"], str(out_path) if out_path else None)
    if state is not None and state["complete"]:
        model.load_state_dict(state["model_state_dict"], strict=True)
        bundle.history = list(state["history"])
        log.info("reusing finished encoder checkpoint %s", out_path)
        return bundle

    model.to(dev).train()
    opt = torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=ident["pretrain"]["lr"])
    gen = torch.Generator().manual_seed(seed)
    start, history = 0, []
    if state is not None:
        model.load_state_dict(state["model_state_dict"], strict=True)
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if dev == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"])
        start, history = int(state["epoch"]), list(state["history"])
        log.info("resuming encoder pretraining from %s at epoch %d", out_path, start)

    tok_all = torch.as_tensor(tokens)
    n, bs, epochs = tok_all.shape[0], ident["pretrain"]["batch"], plan["epochs"]
    stop = epochs if max_epochs_this_call is None else min(epochs, start + max_epochs_this_call)
    if dev == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for epoch in range(start, stop):
        perm = torch.randperm(n, generator=gen)
        steps = range(0, n, bs)
        if progress:
            from tqdm import tqdm

            steps = tqdm(steps, desc=f"scBERT MLM epoch {epoch + 1}/{epochs}", unit="batch", leave=False)
        tot_loss, tot_n, tot_ok = 0.0, 0, 0
        for i in steps:
            inp, lab = mlm_mask(tok_all[perm[i : i + bs]], gen, ident["pretrain"]["mask_prob"], ident["pretrain"]["replace_prob"])
            inp, lab = inp.to(dev), lab.to(dev)
            logits = model(inp)
            sel = lab != IGNORE
            k = int(sel.sum())
            if k == 0:  # cells without a single expressed gene: nothing to predict
                continue
            loss = F.cross_entropy(logits[sel], lab[sel])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot_loss += float(loss.detach()) * k
            tot_n += k
            tot_ok += int((logits[sel].argmax(-1) == lab[sel]).sum())
        rec = {"epoch": epoch + 1, "loss": tot_loss / max(tot_n, 1), "masked_acc": tot_ok / max(tot_n, 1)}
        history.append(rec)
        log.info("scBERT MLM epoch %d/%d loss %.4f masked-token accuracy %.4f", epoch + 1, epochs, rec["loss"], rec["masked_acc"])
        if out_path is not None:
            _save(out_path, model, opt, gen, ident, plan, data, source, label, epoch + 1, epoch + 1 == epochs, history, dev)
    model.eval()
    bundle.history, bundle.seconds = history, time.perf_counter() - t0
    if stop < epochs:
        bundle.label += f" [INCOMPLETE: {stop} of {epochs} epochs]"
    return bundle


def _save(path, model, opt, gen, ident, plan, data, source, label, epoch, complete, history, dev) -> None:
    state = {
        "format": FORMAT, "config": ident, "panel": plan["panel"], "source": source, "label": label,
        "gene_embedding": plan["glabel"], "dataset": data.name, "n_cells": ident["n_cells"],
        "model_state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "epoch": epoch, "complete": complete, "history": history,
        "optimizer": None if complete else opt.state_dict(),
        "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state() if dev == "cuda" else None,
    }
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


# --- loading -------------------------------------------------------------------------------------
def load_encoder(path, params: dict | None = None) -> EncoderBundle:
    """An encoder from a finished :func:`pretrain_encoder` checkpoint or an official scBERT file.

    Official files need ``params['panel_genes']`` (sequence order of the checkpoint's genes).
    """
    p = resolve_params(params)
    path = Path(path)
    if checkpoint_kind(path) == "official":
        sd, cfg, panel = _official_init({**p, "encoder_checkpoint": path})
        model = ScBertEncoder(cfg)
        model.load_state_dict(sd, strict=True)
        return EncoderBundle(model.eval(), panel, "official-checkpoint", "official-checkpoint",
                             "official checkpoint's gene2vec", str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not state["complete"]:
        raise InputError(path, f"encoder pretraining is unfinished (epoch {state['epoch']} of "
                               f"{state['config']['pretrain']['epochs']}); rerun pretraining to resume it")
    cfg = EncoderConfig(**state["config"]["encoder"])
    model = ScBertEncoder(cfg)
    model.load_state_dict(state["model_state_dict"], strict=True)
    return EncoderBundle(model.eval(), list(state["panel"]), state["source"], state["label"],
                         state["gene_embedding"], str(path), list(state["history"]))


def get_encoder(data: GRNData, params: dict, *, device: str = "cpu", threads: int | None = None) -> EncoderBundle:
    """What the method uses: a given checkpoint (fine-tuned first if asked), else pretrain.

    With ``pretrain_cache`` set, a pretrained (or fine-tuned) encoder is saved there under a
    name that hashes all its inputs and reused by later calls (other seeds, other ablations).
    """
    ck = params.get("encoder_checkpoint")
    if ck and (checkpoint_kind(ck) == "grnbench" or int(params["finetune_epochs"]) == 0):
        return load_encoder(ck, params)
    seed = int(params["pretrain_seed"])
    out = None
    if params.get("pretrain_cache"):
        key = hashlib.sha1(json.dumps(_plan(data, params, seed)["ident"], sort_keys=True).encode()).hexdigest()[:16]
        out = Path(params["pretrain_cache"]) / f"scbert-{key}.pt"
    return pretrain_encoder(data, params, seed, out, threads=threads, device=device)


def n_masked(n_nonzero: int, mask_prob: float = 0.15) -> int:
    """How many tokens :func:`mlm_mask` chooses in a cell with ``n_nonzero`` expressed genes."""
    return int(math.ceil(n_nonzero * mask_prob))


__all__ = [
    "EncoderBundle", "checkpoint_kind", "encoder_key", "get_encoder", "load_encoder", "mlm_mask",
    "n_masked", "pretrain_encoder",
]

