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

**Job checkpoints (resume inside the workflow).** A method never has to pass a checkpoint
path itself: the workflow's infer job (:func:`grnbench.pipeline.run_method`) wraps the whole
fit in :func:`job_checkpoint`, and every ``train_pair_model`` call made inside it without an
explicit ``TrainConfig(checkpoint=...)`` saves its state to ``<job folder>/train_state.pt``
(the n-th call of the job, n > 0, to ``train_state.<n>.pt``), atomically, at most every
``interval_s`` seconds and at the last epoch. Each state carries the job's ``key`` (a hash of
method, parameters, seed, data and split); a state with another key, or one that cannot be
read with ``torch.load(weights_only=True)``, is ignored and replaced. The state also holds
torch's global RNG (dropout draws from it), so a resumed run ends exactly where an
uninterrupted one would. ``run_method`` removes the files once the job has succeeded. A
method with a training loop of its own (e.g. GRN-Transformer's self-supervised step) takes a
file from :func:`current_job` and uses :func:`load_training_state` / :func:`save_training_state`.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from grnbench.data.dataset import GRNData
from grnbench.evaluate.ranking import auroc, average_precision

log = logging.getLogger("grnbench.training")


@dataclass
class TrainConfig:
    epochs: int = 100
    lr: float = 3e-3
    batch_size: int | None = 256  # None = full batch
    weight_decay: float = 0.0
    lr_decay: float | None = None  # multiply lr by this after every optimiser step
    patience: int | None = None
    # "bce" on logits; "mse" on raw outputs (GNNLink); "rmse": sqrt(sum of squared errors /
    # loss_count), GNNLink's official loss (its squared errors are averaged over all n^2 entries
    # of the gene x gene matrix, the unlabelled ones being masked to zero)
    loss: str = "bce"
    loss_count: int | None = None  # "rmse"'s denominator; None = the number of pairs in the batch
    select_on: str = "auroc"  # validation metric for model selection: auroc | auprc
    device: str = "cpu"
    progress: bool = False
    checkpoint: str | os.PathLike | None = None
    checkpoint_every: int = 10


@dataclass
class JobCheckpoint:
    """Where the training calls of one workflow job keep their state (see module docstring)."""

    path: Path
    key: str
    interval_s: float = 30.0
    calls: int = 0  # train_pair_model calls made so far in this job

    def next_path(self) -> Path:
        n, self.calls = self.calls, self.calls + 1
        return self.path if n == 0 else self.path.with_suffix(f".{n}{self.path.suffix}")

    def files(self) -> list[Path]:
        """This job's state files and any temporary file a killed write left beside them."""
        stem, d = self.path.stem, self.path.parent
        if not d.is_dir():
            return []
        return sorted(f for f in d.iterdir() if f.name.startswith((f"{stem}.", f".{stem}.")))


_JOB: contextvars.ContextVar[JobCheckpoint | None] = contextvars.ContextVar("grnbench_job_checkpoint", default=None)


def current_job() -> JobCheckpoint | None:
    """The enclosing :func:`job_checkpoint`, for a method's own training loop (e.g. a pretraining
    step): take a file with ``job.next_path()`` and use :func:`load_training_state` /
    :func:`save_training_state` with ``job.key``."""
    return _JOB.get()


@contextlib.contextmanager
def job_checkpoint(path: str | os.PathLike, key: str, interval_s: float = 30.0) -> Iterator[JobCheckpoint]:
    """Give every ``train_pair_model`` call in this block a keyed, resumable state file.

    The files are left in place when the block raises (a rerun resumes from them) and are
    not removed on success either: the caller removes them (``JobCheckpoint.files``) once the
    job's results are written.
    """
    job = JobCheckpoint(Path(path), key, float(interval_s))
    token = _JOB.set(job)
    try:
        yield job
    finally:
        _JOB.reset(token)


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
    return {"auroc": auroc(y, s), "auprc": average_precision(y, s)}  # scikit-learn's, to the bit


@torch.no_grad()
def predict_pairs(model: torch.nn.Module, tf: torch.Tensor, tg: torch.Tensor, batch: int = 8192):
    model.eval()
    out = [model(tf[i : i + batch], tg[i : i + batch]).float().cpu() for i in range(0, len(tf), batch)]
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)


class PairModelPredict:
    """Mixin for supervised methods whose fitted ``self.model_`` scores (TF, target) index pairs:
    the one ``predict`` they share (batched, no gradient, on the device the model was fitted on)."""

    uses_device = True

    def predict(self, data: GRNData, pairs: pd.DataFrame) -> np.ndarray:
        tf, tg, _ = pair_tensors(data, pairs, getattr(self, "device_", None) or self.device)
        return predict_pairs(self.model_, tf, tg).astype(np.float64)


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
    if cfg.loss not in ("bce", "mse", "rmse"):
        raise ValueError(f"TrainConfig.loss must be bce, mse or rmse, got {cfg.loss!r}")
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

    job = _JOB.get() if not cfg.checkpoint else None
    ckpt = Path(cfg.checkpoint) if cfg.checkpoint else (job.next_path() if job is not None else None)
    key = job.key if job is not None else None
    state = load_training_state(ckpt, key, model) if ckpt is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if sched is not None and state.get("scheduler"):
            sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        if state.get("torch_rng") is not None:  # dropout's draws continue where they stopped
            torch.set_rng_state(state["torch_rng"])
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(list(state["cuda_rng"]))
        start, best_state, best_score = state["epoch"], state["best_state"], state["best_score"]
        best_epoch, best_val, history, stale = (
            state["best_epoch"], state["best_val"], state["history"], state["stale"],
        )
        log.info("resumed from %s at epoch %d", ckpt, start)
    last_save = time.monotonic()

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
            elif cfg.loss == "rmse":
                sq = torch.nn.functional.mse_loss(out, y[idx], reduction="sum")
                loss = torch.sqrt(sq / (cfg.loss_count or len(idx)))
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
        if job is not None:  # workflow job: by elapsed time (results do not depend on it)
            due = time.monotonic() - last_save >= job.interval_s or epoch + 1 == cfg.epochs
        else:
            due = (epoch + 1) % cfg.checkpoint_every == 0 or epoch + 1 == cfg.epochs
        if ckpt is not None and due:
            _save_checkpoint(ckpt, model, opt, sched, gen, epoch + 1, best_state, best_score,
                             best_epoch, best_val, history, stale, key=key)
            last_save = time.monotonic()
        if cfg.patience is not None and stale >= cfg.patience:
            log.info("early stop at epoch %d (best %d)", epoch + 1, best_epoch)
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return TrainResult(best_epoch=best_epoch, best_val=best_val, history=history)


def load_training_state(path: Path, key: str | None, model: torch.nn.Module) -> dict | None:
    """A saved training state, or ``None`` when there is none to resume from.

    With a job ``key`` (workflow job checkpoints), a state saved under another key (the
    method, its parameters, the seed, the data or the split changed) or a file that cannot be
    read as plain tensors is ignored, with a warning, and will be overwritten. Without a key
    (an explicit ``TrainConfig.checkpoint``) an unreadable file raises.
    """
    if not path.exists():
        return None
    try:
        # on the CPU: RNG states must stay there; load_state_dict moves the rest to the device
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # weights_only refuses pickled code; a damaged file also lands here
        if key is None:
            raise
        log.warning("ignoring unreadable training state %s (%s: %s); starting from epoch 0",
                    path, type(e).__name__, e)
        return None
    if key is not None and (not isinstance(state, dict) or state.get("key") != key
                            or _shapes(state.get("model", {})) != _shapes(model.state_dict())):
        log.warning("ignoring training state %s: saved for another job configuration or model; "
                    "starting from epoch 0", path)
        return None
    return state


def _shapes(state_dict) -> dict:
    return {k: tuple(v.shape) for k, v in state_dict.items()} if isinstance(state_dict, dict) else {}


def _save_checkpoint(path, model, opt, sched, gen, epoch, best_state, best_score, best_epoch,
                     best_val, history, stale, key=None) -> None:
    state = {
        "model": model.state_dict(), "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict() if sched is not None else None,
        "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
        "epoch": epoch, "best_state": best_state,
        "best_score": best_score, "best_epoch": best_epoch, "best_val": best_val,
        "history": history, "stale": stale, "key": key,
    }
    save_training_state(path, state)


def save_training_state(path, state: dict) -> None:
    """Write a state dict (tensors, numbers, strings, lists, dicts only) atomically."""
    from grnbench.utils import atomic_path

    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)
