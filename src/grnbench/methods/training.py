"""One training loop for every supervised link-prediction model.

A model is any ``torch.nn.Module`` whose ``forward(tf_idx, target_idx)`` takes two LongTensors
of gene indices (columns of the dataset) and returns one logit per pair. The loop:

- shuffles training pairs with a seeded generator and trains with Adam (optional per-step
  exponential decay, as GENELink's schedule);
- evaluates AUROC/AUPRC on the validation pairs after every epoch and keeps the best state
  (model selection on validation only; the test pairs never reach this function);
- stops early after ``patience`` epochs without improvement (``None`` = never);
- logs one line per epoch (loss, validation AUROC/AUPRC) and shows a tqdm bar;
- checkpoints atomically every ``checkpoint_every`` epochs and resumes from the last one.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from grnbench.data.dataset import GRNData

log = logging.getLogger("grnbench.training")


@dataclass
class TrainConfig:
    epochs: int = 100
    lr: float = 3e-3
    batch_size: int | None = 256  # None = full batch
    weight_decay: float = 0.0
    lr_decay: float | None = None  # multiply lr by this after every optimiser step
    patience: int | None = None
    loss: str = "bce"  # "bce" on logits, or "mse" on raw outputs (GNNLink)
    select_on: str = "auroc"  # validation metric for model selection: auroc | auprc
    device: str = "cpu"
    progress: bool = False
    checkpoint: str | os.PathLike | None = None
    checkpoint_every: int = 10


@dataclass
class TrainResult:
    best_epoch: int
    best_val: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)


def pair_tensors(data: GRNData, pairs: pd.DataFrame, device: str = "cpu"):
    """(tf_idx, target_idx, labels) tensors for a pairs frame with TF, Target[, Label]."""
    tf = torch.as_tensor(data.gene_idx(pairs["TF"].to_numpy()), dtype=torch.long, device=device)
    tg = torch.as_tensor(data.gene_idx(pairs["Target"].to_numpy()), dtype=torch.long, device=device)
    y = None
    if "Label" in pairs:
        y = torch.as_tensor(pairs["Label"].to_numpy(np.float32), device=device)
    return tf, tg, y


def val_metrics(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    if len(y) == 0 or len(np.unique(y)) < 2 or not np.all(np.isfinite(s)):
        return {"auroc": float("nan"), "auprc": float("nan")}
    return {"auroc": float(roc_auc_score(y, s)), "auprc": float(average_precision_score(y, s))}


@torch.no_grad()
def predict_pairs(model: torch.nn.Module, tf: torch.Tensor, tg: torch.Tensor, batch: int = 8192):
    model.eval()
    out = [model(tf[i : i + batch], tg[i : i + batch]).float().cpu() for i in range(0, len(tf), batch)]
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)


def train_pair_model(
    model: torch.nn.Module,
    data: GRNData,
    train: pd.DataFrame,
    val: pd.DataFrame,
    cfg: TrainConfig,
    *,
    seed: int,
    extra_loss: Callable[[torch.nn.Module], torch.Tensor] | None = None,
) -> TrainResult:
    """Train ``model`` in place and load its best-on-validation weights before returning."""
    dev = cfg.device
    model.to(dev)
    tf, tg, y = pair_tensors(data, train, dev)
    vtf, vtg, vy = pair_tensors(data, val, dev)
    vy_np = vy.cpu().numpy() if vy is not None else np.zeros(0)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = (
        torch.optim.lr_scheduler.ExponentialLR(opt, gamma=cfg.lr_decay) if cfg.lr_decay else None
    )
    gen = torch.Generator().manual_seed(seed)
    n = len(tf)
    bs = n if not cfg.batch_size else cfg.batch_size
    start, best_state, best_score, best_epoch, best_val, history, stale = 0, None, -np.inf, -1, {}, [], 0

    ckpt = Path(cfg.checkpoint) if cfg.checkpoint else None
    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, map_location=dev, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if sched is not None and state.get("scheduler"):
            sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        start, best_state, best_score = state["epoch"], state["best_state"], state["best_score"]
        best_epoch, best_val, history, stale = (
            state["best_epoch"], state["best_val"], state["history"], state["stale"],
        )
        log.info("resumed from %s at epoch %d", ckpt, start)

    epochs = range(start, cfg.epochs)
    if cfg.progress:
        from tqdm import tqdm

        epochs = tqdm(epochs, desc=f"train {type(model).__name__}", initial=start, total=cfg.epochs)
    for epoch in epochs:
        model.train()
        perm = torch.randperm(n, generator=gen).to(dev)
        total = 0.0
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            out = model(tf[idx], tg[idx])
            if cfg.loss == "mse":
                loss = torch.nn.functional.mse_loss(out, y[idx])
            else:
                loss = torch.nn.functional.binary_cross_entropy_with_logits(out, y[idx])
            if extra_loss is not None:
                loss = loss + extra_loss(model)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += float(loss.detach()) * len(idx)
        vm = val_metrics(vy_np, predict_pairs(model, vtf, vtg)) if len(vtf) else {}
        score = vm.get(cfg.select_on, float("nan"))
        if not np.isfinite(score):  # no usable validation set: keep the last epoch
            score = epoch
        rec = {"epoch": epoch + 1, "loss": total / max(n, 1), **{f"val_{k}": v for k, v in vm.items()}}
        history.append(rec)
        log.info(
            "epoch %d loss %.4f val_auroc %.4f val_auprc %.4f",
            epoch + 1, rec["loss"], vm.get("auroc", float("nan")), vm.get("auprc", float("nan")),
        )
        if score > best_score:
            best_score, best_epoch, best_val, stale = score, epoch + 1, vm, 0
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
        else:
            stale += 1
        if ckpt is not None and ((epoch + 1) % cfg.checkpoint_every == 0 or epoch + 1 == cfg.epochs):
            _save_checkpoint(ckpt, model, opt, sched, gen, epoch + 1, best_state, best_score,
                             best_epoch, best_val, history, stale)
        if cfg.patience is not None and stale >= cfg.patience:
            log.info("early stop at epoch %d (best %d)", epoch + 1, best_epoch)
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return TrainResult(best_epoch=best_epoch, best_val=best_val, history=history)


def _save_checkpoint(path, model, opt, sched, gen, epoch, best_state, best_score, best_epoch,
                     best_val, history, stale) -> None:
    from grnbench.utils import atomic_path

    state = {
        "model": model.state_dict(), "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict() if sched is not None else None,
        "generator": gen.get_state(), "epoch": epoch, "best_state": best_state,
        "best_score": best_score, "best_epoch": best_epoch, "best_val": best_val,
        "history": history, "stale": stale,
    }
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)
