"""Reliability of the workflow (issue 8, points 1-3): interrupted runs, identical reruns, a
failing method.

Two real runs of ``config/test.yaml`` (simulated data, 3 split protocols x random /
degree_prior / pcc), shared by every test through module fixtures:

- ``interrupted``: ``--cores 1``; Snakemake and its jobs are SIGKILLed (whole process group)
  while an ``infer`` job runs; a plain rerun is refused (the lock stays), so
  ``snakemake --unlock`` and a rerun with ``--rerun-incomplete`` (also set by the default
  profile), the commands the README's Guarantees section gives.
- ``keep_going``: ``--cores 2 --keep-going`` with one more method, ``always_fails`` (the
  ``tests/plugins/failing_method.py`` plugin), which raises; then the same command again (the
  retry).

Their ``metrics.tsv`` (the interrupted run's) and the table ``collect_metrics`` builds from the
other run's jobs must agree byte for byte apart from ``runtime_s`` / ``max_rss_mb``: that one
comparison covers "interrupted = uninterrupted", "two runs with the same seed are identical"
and "--cores 1 = --cores 2". Every prediction file (``edges.csv``) must be byte-identical too.
Plus a unit test: the shared training loop resumed from its checkpoint ends where an
uninterrupted run ends.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import copy_workflow

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
CONFIG = "config/test.yaml"
VOLATILE = ["runtime_s", "max_rss_mb"]  # measured, so they differ between runs
METHODS = ["random", "degree_prior", "label_prior", "pcc"]  # config/test.yaml's methods
UNSUPERVISED = ["random", "pcc"]  # of those, the ones run once per dataset and seed

pytestmark = pytest.mark.slow


def env(plugins: bool = False) -> dict:
    e = {**os.environ, "OMP_NUM_THREADS": "1"}
    if plugins:
        e["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT / "tests" / "plugins"), e.get("PYTHONPATH")])
        )
    return e


_WORK: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def workflow_copy(tmp_path_factory):
    """Run Snakemake in a private copy of the workflow: these tests SIGKILL runs and call
    ``snakemake --unlock``, which must never unlock a run a developer has going in the checkout."""
    d = copy_workflow(tmp_path_factory.mktemp("workflow"))
    _WORK[:] = [d]
    yield d


def workdir() -> Path:
    return _WORK[0] if _WORK else ROOT


def smk(*args, environ=None, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, *args], cwd=workdir(), capture_output=True, text=True, timeout=timeout,
                          env=environ or env())  # fmt: skip


# --- reading Snakemake's log -------------------------------------------------------------------
JOB_HEAD = re.compile(r"^(?:local)?rule (\w+):$")


def jobs_in(log: str) -> dict[str, dict]:
    """jobid -> {'rule', 'output': [paths]} for every job block Snakemake printed."""
    out, cur = {}, None
    for line in log.splitlines():
        m = JOB_HEAD.match(line)
        if m:
            cur = {"rule": m.group(1), "output": []}
            continue
        if cur is not None and line.startswith("    "):
            key, _, val = line.strip().partition(": ")
            if key == "output":
                cur["output"] = [p.strip() for p in val.split(", ")]
            elif key == "jobid":
                out[val.strip()] = cur
        elif cur is not None:
            cur = None
    return out


def finished_ids(log: str) -> set[str]:
    return set(re.findall(r"Finished jobid: (\d+) ", log))


def planned_outputs(dry_run_log: str) -> set[str]:
    return {p for j in jobs_in(dry_run_log).values() for p in j["output"]}


def mtimes(paths) -> dict[str, int]:
    return {p: os.stat(p).st_mtime_ns for p in paths if os.path.exists(p)}


def stable(df: pd.DataFrame) -> pd.DataFrame:
    keys = ["dataset", "network", "geneset", "split", "method", "seed", "scope"]
    return df.drop(columns=VOLATILE).sort_values(keys, kind="mergesort").reset_index(drop=True)


def table_text(df: pd.DataFrame) -> str:
    """The bytes collect_metrics would write for these rows (same float format)."""
    buf = io.StringIO()
    df.to_csv(buf, sep="\t", index=False, float_format="%.6g")
    return buf.getvalue()


def read_tsv(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)  # compare text, not floats


# --- run 1: killed while a job runs, then resumed ----------------------------------------------
@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    res = tmp_path_factory.mktemp("interrupted") / "results"
    args = ["--cores", "1", "--configfile", CONFIG, "--config", f"results={res}"]
    log_path = res.parent / "killed.log"
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*SNAKEMAKE, *args], cwd=workdir(), stdout=log, stderr=subprocess.STDOUT, env=env(),
                                start_new_session=True)  # fmt: skip
    try:
        killed_job = None
        while proc.poll() is None and time.monotonic() - t0 < 600:
            text = log_path.read_text()
            jobs, done = jobs_in(text), finished_ids(text)
            running = [j for j, v in jobs.items() if v["rule"] == "infer" and j not in done]
            if running and any(jobs[j]["rule"] == "infer" for j in done):
                time.sleep(1.0)  # well inside the job, not at its first line
                text = log_path.read_text()
                if running[0] not in finished_ids(text):
                    killed_job = running[0]
                    break
            time.sleep(0.2)
        assert killed_job, f"no infer job to interrupt:\n{log_path.read_text()[-3000:]}"
        os.killpg(proc.pid, signal.SIGKILL)  # Snakemake and every job it started
        proc.wait(timeout=30)
        kill_time = time.time_ns()
        elapsed_killed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = log_path.read_text()
    jobs, done = jobs_in(text), finished_ids(text)
    finished = sorted(p for j in done for p in jobs[j]["output"])
    before = mtimes(finished)
    # what a rerun will do, before it does it (a dry run takes no lock)
    plan = smk("-n", *args)
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]
    # after a hard kill the lock stays and a plain rerun is refused ...
    refused = smk(*args)
    refused_log = refused.stdout + refused.stderr
    # ... so the recovery is the README's (Guarantees, 1): --unlock, then the same command with
    # --rerun-incomplete (also set by the default profile)
    t1 = time.monotonic()
    unlock = smk("--unlock", *args)
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    rerun = smk(*args, "--rerun-incomplete")
    assert rerun.returncode == 0, rerun.stdout[-4000:] + rerun.stderr[-4000:]
    return {
        "res": res, "jobs": jobs, "finished": finished, "killed": jobs[killed_job], "before": before,
        "plan": planned_outputs(plan.stdout + plan.stderr), "rerun_log": rerun.stdout + rerun.stderr,
        "kill_time": kill_time, "seconds": (elapsed_killed, time.monotonic() - t1),
        "refused": (refused.returncode, refused_log),
    }  # fmt: skip


# --- run 2: a method that raises, --keep-going, then the retry ---------------------------------
@pytest.fixture(scope="module")
def keep_going(tmp_path_factory):
    base = tmp_path_factory.mktemp("keep_going")
    res = base / "results"
    cfg = yaml.safe_load((ROOT / CONFIG).read_text())
    cfg["methods"]["always_fails"] = {}
    cfg["plugins"] = ["failing_method"]
    (base / "config.yaml").write_text(yaml.safe_dump(cfg))
    args = [
        "--cores",
        "2",
        "--keep-going",
        "--configfile",
        str(base / "config.yaml"),
        "--config",
        f"results={res}",
    ]
    first = smk(*args, environ=env(plugins=True))
    tables = (
        {p.name: p.read_text() for p in (res / "tables").glob("*.tsv")}
        if (res / "tables").exists()
        else {}
    )
    outputs = sorted(str(p) for p in res.rglob("*") if p.is_file() and "always_fails" not in str(p))
    before = mtimes(outputs)
    # always_fails is unsupervised: one run per dataset and seed, one log (named for every split)
    fail_log = res / "logs/infer/sim/groundtruth/tfs80/unsupervised/always_fails/seed0.log"
    fail_log_mtime = fail_log.stat().st_mtime_ns if fail_log.exists() else None
    retry = smk(*args, environ=env(plugins=True))
    return {"res": res, "first": first, "tables": tables, "before": before, "retry": retry,
            "fail_log": fail_log, "fail_log_mtime": fail_log_mtime}  # fmt: skip


def other_jobs_table(res: Path) -> pd.DataFrame:
    """What collect_metrics makes of the run's jobs of the three working methods."""
    from grnbench.pipeline import collect_metrics

    files = sorted(str(p) for m in METHODS for p in res.glob(f"sim/*/*/*/{m}/seed0/metrics.json"))
    return collect_metrics(files, res.parent / "others_metrics.tsv")


# --- 1. interrupted runs -----------------------------------------------------------------------
def test_interrupt_happened_mid_run(interrupted):
    assert interrupted["killed"]["rule"] == "infer"
    finished = set(interrupted["finished"])
    assert finished, "nothing had finished before the kill"
    assert not finished & set(interrupted["killed"]["output"])


def test_rerun_after_kill_needs_unlock(interrupted):
    """SIGKILL leaves Snakemake's lock: a rerun without ``snakemake --unlock`` is refused (and
    changes nothing); the recovery the README gives is ``--unlock``, then the run again."""
    rc, log = interrupted["refused"]
    assert rc != 0 and "cannot be locked" in log and "--unlock" in log, log[-3000:]


def test_rerun_plans_exactly_the_unfinished_jobs(interrupted):
    """The dry run after the kill: the killed job is rerun (its output, partial or not, is not
    taken as a result) and no finished job is."""
    plan, killed = interrupted["plan"], interrupted["killed"]["output"]
    assert set(killed) <= plan, f"killed job not replanned: {killed}"
    assert not plan & set(interrupted["finished"]), sorted(plan & set(interrupted["finished"]))


def test_finished_jobs_not_recomputed(interrupted):
    after = mtimes(interrupted["before"])
    touched = [p for p, t in interrupted["before"].items() if after.get(p) != t]
    assert not touched, f"outputs of finished jobs rewritten by the rerun: {touched}"
    for p in interrupted["killed"]["output"]:  # the killed job ran again, from scratch
        assert os.stat(p).st_mtime_ns > interrupted["kill_time"], p


def test_no_partial_or_temporary_files_left(interrupted):
    """atomic_path writes beside the target and renames; after the rerun no temporary
    ('.name.xxxx.ext') file of the killed job is taken for anything, and none is left next to a
    declared output."""
    for p in interrupted["killed"]["output"]:
        d = Path(p).parent
        left = [f.name for f in d.iterdir() if f.name.startswith(f".{Path(p).name}.")]
        assert not left, f"temporary files left by the killed job: {left}"


def test_interrupted_equals_uninterrupted_and_cores_1_equals_cores_2(interrupted, keep_going):
    """Same seed, run 1 (--cores 1, killed + resumed) vs run 2 (--cores 2, uninterrupted):
    identical metrics table bytes (after a stable sort, without runtime/memory)."""
    ours = read_tsv(interrupted["res"] / "tables" / "metrics.tsv")
    # 3 splits x (random, pcc: test, all_tf_gene and beeline scopes; degree_prior, label_prior:
    # test scope) = 24 rows, plus the reverse-edge subgroup scopes where the split has both groups
    main = ours[ours.scope.isin(["test", "all_tf_gene", "beeline"])]
    assert set(ours.method) == set(METHODS) and len(main) == 24
    assert set(ours.scope) - set(main.scope) <= {"test:reverse_in_train", "test:reverse_not_in_train"}
    theirs = read_tsv(io.StringIO(table_text(other_jobs_table(keep_going["res"]))))
    assert table_text(stable(ours)) == table_text(stable(theirs))


def test_prediction_files_byte_identical_across_runs(interrupted, keep_going):
    """Every split's job folder (3 splits x 4 methods; random's and pcc's are links to their one
    run per dataset and seed) and those two shared runs themselves."""
    n = 0
    for m in METHODS:
        for a in sorted(interrupted["res"].glob(f"sim/*/*/*/{m}/seed0/edges.csv")):
            b = keep_going["res"] / a.relative_to(interrupted["res"])
            assert a.read_bytes() == b.read_bytes(), f"{a} differs between runs"
            n += 1
    shared = sorted(interrupted["res"].glob("sim/*/*/unsupervised/*/seed0/edges.csv"))
    assert {p.parts[-3] for p in shared} == set(UNSUPERVISED)
    assert n == 3 * len(METHODS) + len(UNSUPERVISED)


# --- 3. a failing method -----------------------------------------------------------------------
def test_failing_method_fails_the_run_and_names_its_log(keep_going):
    r = keep_going["first"]
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "always_fails" in out and str(keep_going["fail_log"]) in out, out[-3000:]
    assert keep_going["fail_log"].exists()


def test_every_other_method_finishes(keep_going):
    res = keep_going["res"]
    for split in ("genelink", "tf_holdout", "degree_matched"):
        for m in METHODS:
            job = res / f"sim/groundtruth/tfs80/{split}/{m}/seed0"
            assert (job / "edges.csv").exists() and (job / "metrics.json").exists(), job


def test_tables_mark_the_failure(keep_going):
    tables = keep_going["tables"]
    assert "metrics.tsv" in tables, f"no metrics table after the run: {sorted(tables)}"
    m = pd.read_csv(io.StringIO(tables["metrics.tsv"]), sep="\t")
    failed = m[m.method == "always_fails"]
    assert len(failed) == 3 and (failed.status == "failed").all()
    assert (m[m.method != "always_fails"].status == "ok").all()
    assert "summary.tsv" in tables and "failed" in tables["summary.tsv"]


def test_rerun_retries_the_failed_job_only(keep_going):
    r = keep_going["retry"]
    out = r.stdout + r.stderr
    assert r.returncode != 0  # it fails again, and says so
    assert re.search(r"wildcards: .*method=always_fails", out), "the failed job was not retried"
    assert keep_going["fail_log"].stat().st_mtime_ns > keep_going["fail_log_mtime"]
    ran_others = [
        j
        for j in jobs_in(out).values()
        if j["rule"] in ("infer", "infer_unsupervised", "link_unsupervised")
        and "always_fails" not in j["output"][0]
    ]
    assert not ran_others, f"working methods rerun: {ran_others}"
    after = mtimes(keep_going["before"])
    infer_outputs = [p for p in keep_going["before"] if p.endswith(("edges.csv", "run.json"))]
    assert infer_outputs and all(after[p] == keep_going["before"][p] for p in infer_outputs)


# --- 1b. the shared training loop resumes where it stopped -----------------------------------
def test_training_resumes_from_checkpoint_to_the_same_weights(tiny_data, tiny_split, tmp_path):
    """4 epochs in one go == 2 epochs, 'killed', then resumed to 4 from the checkpoint."""
    import torch

    from grnbench.methods.training import TrainConfig, train_pair_model

    train, val = tiny_split[tiny_split.Part == "train"], tiny_split[tiny_split.Part == "val"]

    def model():
        torch.manual_seed(0)
        return torch.nn.Embedding(tiny_data.n_genes, 8)

    class Dot(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = model()

        def forward(self, a, b):
            return (self.emb(a) * self.emb(b)).sum(-1)

    full = Dot()
    r_full = train_pair_model(
        full, tiny_data, train, val, TrainConfig(epochs=4, batch_size=64), seed=3
    )
    ckpt = tmp_path / "ckpt.pt"
    train_pair_model(Dot(), tiny_data, train, val, TrainConfig(epochs=2, batch_size=64, checkpoint=ckpt,
                                                               checkpoint_every=1), seed=3)  # fmt: skip
    resumed = Dot()
    r_res = train_pair_model(resumed, tiny_data, train, val,
                             TrainConfig(epochs=4, batch_size=64, checkpoint=ckpt, checkpoint_every=1), seed=3)  # fmt: skip
    assert [h["epoch"] for h in r_res.history] == [1, 2, 3, 4]
    assert r_res.history == r_full.history and r_res.best_epoch == r_full.best_epoch
    assert torch.equal(resumed.emb.weight, full.emb.weight)
