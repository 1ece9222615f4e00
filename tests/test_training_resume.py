"""Resume inside the workflow (issue 8, point 1): a supervised infer job killed mid-training,
run again, resumes from its last saved epoch and ends with the same scores.

``pipeline.run_method`` gives each supervised job a keyed training state
(``<job folder>/train_state.pt``); a "kill" is simulated by an exception derived from
``BaseException`` (not caught as a method failure, like SIGKILL leaves nothing behind but the
files on disk) raised right after the state of epoch k was saved. All on the CPU, seconds each.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
import torch

from grnbench import pipeline as pl
from grnbench.data.dataset import write_h5ad
from grnbench.methods import training
from grnbench.methods.training import TrainConfig, job_checkpoint, train_pair_model
from grnbench.models.grn_transformer import pretrain as grt

EPOCHS, KILL_AT = 6, 3


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the job may catch it."""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_data):
    d = tmp_path_factory.mktemp("resume")
    write_h5ad(tiny_data.adata, d / "data.h5ad")
    pl.make_split(d / "data.h5ad", d / "split.csv", protocol="genelink", seed=0)
    return d / "data.h5ad", d / "split.csv"


def run(inputs, out, method="genelink", seed=0, params=None):
    h5ad, split = inputs
    return pl.run_method(h5ad, split, out / "edges.csv", out / "run.json", method=method, seed=seed,
                         params=params or {"epochs": EPOCHS}, preset="small", checkpoint_interval_s=0)  # fmt: skip


def kill_after_save(monkeypatch, module, name, epoch):
    """Make ``module.name`` (a state writer) raise :class:`Killed` once it has saved ``epoch``."""
    real = getattr(module, name)

    def save(path, *args, **kw):
        real(path, *args, **kw)
        saved = torch.load(path, weights_only=True)["epoch"]
        if saved == epoch:
            raise Killed(f"killed after epoch {saved}")

    monkeypatch.setattr(module, name, save)


def epochs_logged(caplog, pattern=r"^epoch (\d+) loss") -> list[int]:
    return [int(m.group(1)) for r in caplog.records if (m := re.match(pattern, r.getMessage()))]


def epoch_lines(caplog) -> list[str]:
    """The per-epoch lines (loss, validation AUROC/AUPRC) the training loop logged."""
    return [r.getMessage() for r in caplog.records if re.match(r"^epoch \d+ loss", r.getMessage())]


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        if re.match(r"^epoch \d+ loss", record.getMessage()):
            self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def uninterrupted(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("plain")
    logger, handler = logging.getLogger("grnbench.training"), Lines()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        info = run(inputs, out)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return out, info, handler.lines


def test_killed_job_resumes_at_next_epoch_with_same_scores(inputs, uninterrupted, tmp_path, monkeypatch, caplog):
    """GENELink (attention dropout 0.5, so torch's global RNG must be restored too): epochs
    k+1.. log the same loss and validation AUROC/AUPRC as the uninterrupted run's."""
    plain, plain_info, plain_lines = uninterrupted
    out = tmp_path / "job"
    with monkeypatch.context() as m:
        kill_after_save(m, training, "_save_checkpoint", KILL_AT)
        with pytest.raises(Killed):
            run(inputs, out)
    assert (out / "train_state.pt").exists() and not (out / "edges.csv").exists()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="grnbench.training"):
        info = run(inputs, out)
    assert any(f"at epoch {KILL_AT}" in r.getMessage() and "resumed" in r.getMessage() for r in caplog.records)
    assert epochs_logged(caplog) == list(range(KILL_AT + 1, EPOCHS + 1))  # epoch k+1 onwards only
    assert epoch_lines(caplog) == plain_lines[KILL_AT:]
    assert (out / "edges.csv").read_bytes() == (plain / "edges.csv").read_bytes()
    assert info["labels"] == plain_info["labels"]  # best epoch included
    assert not list(out.glob("*train_state*"))  # removed once the results are written


def test_job_state_of_another_configuration_is_ignored(inputs, uninterrupted, tmp_path, monkeypatch, caplog):
    """A state left by seed 1 never seeds a seed-0 job: it starts afresh and overwrites it."""
    plain = uninterrupted[0]
    out = tmp_path / "job"
    with monkeypatch.context() as m:
        kill_after_save(m, training, "_save_checkpoint", KILL_AT)
        with pytest.raises(Killed):
            run(inputs, out, seed=1)
    with caplog.at_level(logging.INFO, logger="grnbench.training"):
        run(inputs, out, seed=0)
    msgs = [r.getMessage() for r in caplog.records]
    assert any("saved for another job configuration" in s for s in msgs)
    assert not any("resumed" in s for s in msgs)
    assert epochs_logged(caplog) == list(range(1, EPOCHS + 1))
    assert (out / "edges.csv").read_bytes() == (plain / "edges.csv").read_bytes()


def test_unreadable_job_state_is_ignored_not_unpickled(inputs, uninterrupted, tmp_path, caplog):
    """A pickle posing as the job's state is refused by weights_only and never executed."""
    import pickle

    plain = uninterrupted[0]
    out = tmp_path / "job"
    out.mkdir()
    flag = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(flag), "w"))

    (out / "train_state.pt").write_bytes(pickle.dumps({"epoch": 3, "x": Evil()}))
    with caplog.at_level(logging.WARNING, logger="grnbench.training"):
        run(inputs, out)
    assert not flag.exists()
    assert any("ignoring unreadable training state" in r.getMessage() for r in caplog.records)
    assert (out / "edges.csv").read_bytes() == (plain / "edges.csv").read_bytes()


def test_failed_job_keeps_its_state_for_the_retry(inputs, tmp_path, monkeypatch):
    """A recorded method failure (not a kill) leaves the state, so the retry resumes."""
    out = tmp_path / "job"
    h5ad, split = inputs

    def boom(self, data, pairs):
        raise RuntimeError("predict failed")

    monkeypatch.setattr("grnbench.methods.genelink.GENELink.predict", boom)
    info = pl.run_method(h5ad, split, out / "edges.csv", out / "run.json", method="genelink", seed=0,
                         params={"epochs": 2}, preset="small", record_failure=True, checkpoint_interval_s=0)  # fmt: skip
    assert info["status"] == "failed" and (out / "train_state.pt").exists()


def test_grn_transformer_pretraining_resumes(inputs, tmp_path, monkeypatch, caplog):
    """GRN-Transformer's own self-supervised loop resumes too (its longest step)."""
    params = {"epochs": 4, "layers": 1, "n_trees": 10, "n_cleaning_forests": 2, "prior_folds": 2}
    plain = tmp_path / "plain"
    run(inputs, plain, method="grn_transformer", params=params)
    out = tmp_path / "job"
    with monkeypatch.context() as m:
        kill_after_save(m, grt, "save_training_state", 2)
        with pytest.raises(Killed):
            run(inputs, out, method="grn_transformer", params=params)
    assert (out / "train_state.pt").exists()
    with caplog.at_level(logging.INFO, logger="grnbench.grn_transformer"):
        info = run(inputs, out, method="grn_transformer", params=params)
    assert any("pretrain resumed" in r.getMessage() for r in caplog.records)
    assert epochs_logged(caplog, r"^grn_transformer pretrain epoch (\d+)") == [3, 4]
    assert (out / "edges.csv").read_bytes() == (plain / "edges.csv").read_bytes()
    assert info["labels"] == json.loads((plain / "run.json").read_text())["labels"]
    assert not list(out.glob("*train_state*"))


# --- the training loop's job hook --------------------------------------------------------------
class Dot(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        torch.manual_seed(0)
        self.emb = torch.nn.Embedding(n, 8)
        self.drop = torch.nn.Dropout(0.3)  # draws from torch's global RNG

    def forward(self, a, b):
        return (self.drop(self.emb(a)) * self.emb(b)).sum(-1)


def test_each_training_call_of_a_job_has_its_own_state(tiny_data, tiny_split, tmp_path):
    train, val = tiny_split[tiny_split.Part == "train"], tiny_split[tiny_split.Part == "val"]
    cfg = TrainConfig(epochs=2, batch_size=64)
    with job_checkpoint(tmp_path / "train_state.pt", key="k", interval_s=0) as job:
        train_pair_model(Dot(tiny_data.n_genes), tiny_data, train, val, cfg, seed=0)
        train_pair_model(Dot(tiny_data.n_genes), tiny_data, train, val, cfg, seed=1)
    assert [f.name for f in job.files()] == ["train_state.1.pt", "train_state.pt"]
    assert training.current_job() is None  # the hook ends with its block
    # explicit TrainConfig.checkpoint wins over the job's file
    with job_checkpoint(tmp_path / "other.pt", key="k", interval_s=0) as job:
        train_pair_model(Dot(tiny_data.n_genes), tiny_data, train, val,
                         TrainConfig(epochs=1, batch_size=64, checkpoint=tmp_path / "mine.pt"), seed=0)  # fmt: skip
    assert job.files() == [] and (tmp_path / "mine.pt").exists()


def test_resume_restores_dropout_rng(tiny_data, tiny_split, tmp_path, monkeypatch):
    """Unit level: killed after epoch 2 of 5 with dropout; the resumed model equals the plain one."""
    train, val = tiny_split[tiny_split.Part == "train"], tiny_split[tiny_split.Part == "val"]
    cfg = TrainConfig(epochs=5, batch_size=64)
    full = Dot(tiny_data.n_genes)  # seeds torch with 0, as a method's fit seeds it
    r_full = train_pair_model(full, tiny_data, train, val, cfg, seed=0)
    state = tmp_path / "train_state.pt"
    with monkeypatch.context() as m:
        kill_after_save(m, training, "_save_checkpoint", 2)
        with pytest.raises(Killed), job_checkpoint(state, key="k", interval_s=0):
            train_pair_model(Dot(tiny_data.n_genes), tiny_data, train, val, cfg, seed=0)
    resumed = Dot(tiny_data.n_genes)  # the global RNG is now where a fresh fit starts, not at epoch 2
    with job_checkpoint(state, key="k", interval_s=0):
        r_res = train_pair_model(resumed, tiny_data, train, val, cfg, seed=0)
    assert r_res.history == r_full.history and r_res.best_val == r_full.best_val
    assert torch.equal(resumed.emb.weight, full.emb.weight)
