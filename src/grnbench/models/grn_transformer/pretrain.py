"""GRN-Transformer's self-supervised step: masked-entry reconstruction, then attention maps.

Its own loop (its objective is reconstruction, no pair labels): a fixed number of epochs, no
validation or test data involved. Inside a workflow job it saves its state like the shared
loop (:func:`grnbench.methods.training.current_job`) and a rerun resumes from it.
"""

from __future__ import annotations

import logging
import time

import torch

from grnbench.methods.training import JobCheckpoint, load_training_state, save_training_state
from grnbench.models.grn_transformer.encoder import AxialEncoder

log = logging.getLogger("grnbench.grn_transformer")


def masked_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Squared error over masked, originally non-zero entries."""
    return (((pred - target) * mask) ** 2).sum() / (mask.sum() + 1e-5)


def pretrain_encoder(encoder: AxialEncoder, z: torch.Tensor, nonzero: torch.Tensor, prior: torch.Tensor, *,
                     epochs: int, batch_cells: int, mask_frac: float, lr: float, weight_decay: float,
                     grad_clip: float, genes_per_step: int | None, seed: int,
                     job: JobCheckpoint | None = None) -> list[float]:
    """The self-supervised step (masked-entry reconstruction); returns the loss per epoch.

    Inside a workflow job (``job``, see :func:`grnbench.methods.training.job_checkpoint`) the
    state is saved at most every ``job.interval_s`` seconds and a rerun resumes from it.
    """
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(encoder.parameters(), lr=lr, betas=(0.9, 0.999), weight_decay=weight_decay)
    n_cells, n_genes = z.shape
    drop_last = n_cells >= batch_cells
    start, losses = 0, []
    path = job.next_path() if job is not None else None
    state = load_training_state(path, job.key, encoder) if job is not None else None
    if state is not None:
        encoder.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        start, losses = int(state["epoch"]), list(state["losses"])
        log.info("grn_transformer pretrain resumed from %s at epoch %d", path, start)
    last_save = time.monotonic()
    encoder.train()
    for epoch in range(start, epochs):
        perm = torch.randperm(n_cells, generator=gen)
        stop = n_cells - n_cells % batch_cells if drop_last else n_cells
        total, steps = 0.0, 0
        for i in range(0, stop, batch_cells):
            cells = perm[i : i + batch_cells].to(z.device)
            genes = torch.arange(n_genes)
            if genes_per_step and genes_per_step < n_genes:
                genes = torch.randperm(n_genes, generator=gen)[:genes_per_step].sort().values
            genes = genes.to(z.device)
            target, nz = z[cells][:, genes], nonzero[cells][:, genes]
            pick = torch.randint(target.numel(), (int(target.numel() * mask_frac),), generator=gen)
            mask = torch.zeros(target.numel(), device=z.device)
            mask[pick.to(z.device)] = 1.0
            mask = mask.view_as(target)
            loss_mask = mask * nz
            if loss_mask.sum() == 0:  # nothing to reconstruct in this batch
                continue
            pred, _ = encoder(target.masked_fill(mask.bool(), 0.0), prior[genes][:, genes])
            loss = masked_loss(pred, target, loss_mask)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_value_(encoder.parameters(), grad_clip)
            opt.step()
            total, steps = total + float(loss.detach()), steps + 1
        losses.append(total / max(steps, 1))
        log.info("grn_transformer pretrain epoch %d loss %.4f", epoch + 1, losses[-1])
        if job is not None and (time.monotonic() - last_save >= job.interval_s or epoch + 1 == epochs):
            save_training_state(path, {
                "model": encoder.state_dict(), "optimizer": opt.state_dict(), "generator": gen.get_state(),
                "torch_rng": torch.get_rng_state(), "epoch": epoch + 1, "losses": losses, "key": job.key,
            })
            last_save = time.monotonic()
    return losses


@torch.no_grad()
def attention_maps(encoder: AxialEncoder, z: torch.Tensor, prior: torch.Tensor, chunk: int | None) -> torch.Tensor:
    """Row attention of every layer and head over all cells, ``(L * H, genes, genes)``."""
    encoder.eval()
    _, maps = encoder(z, prior, chunk)
    return torch.cat(maps, dim=0)

