"""Wall time of an interrupted-and-resumed workflow run against an uninterrupted one.

    python benchmarks/bench_interrupt.py [--configfile config/config.yaml] [--cores 2]
                                         [--after N] [--out /tmp/bench_interrupt]

(a) an uninterrupted run into ``OUT/plain``; (b) a run into ``OUT/killed`` that is SIGKILLed
(Snakemake and its jobs, the whole process group) one second into the infer job that starts
after ``N`` infer jobs have finished, then ``snakemake --unlock`` and a rerun with
``--rerun-incomplete`` (the README's recovery; the default profile sets it too). A supervised
job killed mid-training resumes from its ``train_state.pt`` (saved at most every 30 s). Prints the seconds of (a), of (b) before the kill, of the
resume, (b)'s total and its overhead over (a), how many jobs the resume ran against the whole
run's, the CPU seconds of each (less sensitive to other load than wall time), and whether the
two ``metrics.tsv`` agree apart from the runtime and memory columns (naming the columns and
methods that differ when they do not). Run on a quiet machine: other load inflates both timings.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
JOB_HEAD = re.compile(r"^(?:local)?rule (\w+):$")


def jobs_in(log: str) -> dict[str, str]:
    """jobid -> rule of every job block Snakemake printed."""
    out, rule = {}, None
    for line in log.splitlines():
        m = JOB_HEAD.match(line)
        if m:
            rule = m.group(1)
        elif rule and line.strip().startswith("jobid: "):
            out[line.split(": ", 1)[1].strip()] = rule
    return out


def finished(log: str) -> set[str]:
    return set(re.findall(r"Finished jobid: (\d+) ", log))


def cpu_children() -> float:
    """User + system CPU seconds of finished child processes (less sensitive to other load)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(args, env) -> tuple[float, str]:
    t0 = time.monotonic()
    r = subprocess.run([*SNAKEMAKE, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(
            f"snakemake {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        )
    return time.monotonic() - t0, r.stdout + r.stderr


def killed_run(args, env, log_path: Path, after: int) -> float:
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        p = subprocess.Popen([*SNAKEMAKE, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)  # fmt: skip
    try:
        while p.poll() is None:
            text = log_path.read_text()
            jobs, done = jobs_in(text), finished(text)
            running = [j for j, r in jobs.items() if r == "infer" and j not in done]
            if running and sum(jobs[j] == "infer" for j in done) >= after:
                time.sleep(1.0)
                if running[0] not in finished(log_path.read_text()):
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
                    return time.monotonic() - t0
            time.sleep(0.2)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    raise SystemExit(f"the run ended before {after} infer jobs finished; nothing was interrupted")


def differences(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """'column: methods' for every column whose values differ between the two tables."""
    out = []
    for c in a.columns:
        diff = a[c] != b[c]
        if diff.any():
            out.append(f"{c}: {sorted(set(a.loc[diff, 'method']))}")
    return out


def volatile_free(path: Path) -> pd.DataFrame:
    keys = ["dataset", "network", "geneset", "split", "method", "seed", "scope"]
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False).drop(
        columns=["runtime_s", "max_rss_mb"]
    )
    return df.sort_values(keys, kind="mergesort").reset_index(drop=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", default="config/config.yaml")
    ap.add_argument("--cores", default="2")
    ap.add_argument("--after", type=int, default=3, help="infer jobs finished before the kill")
    ap.add_argument("--out", default="/tmp/bench_interrupt")
    a = ap.parse_args(argv)
    out = Path(a.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def args(name):
        return [
            "--cores",
            a.cores,
            "--configfile",
            a.configfile,
            "--config",
            f"results={out / name}",
        ]

    c0 = cpu_children()
    plain_s, plain_log = run(args("plain"), env)
    plain_cpu, c1 = cpu_children() - c0, cpu_children()
    n_total = len(jobs_in(plain_log))
    before_s = killed_run(args("killed"), env, out / "killed.log", a.after)
    n_done = len(finished((out / "killed.log").read_text()))
    t0 = time.monotonic()
    run(["--unlock", *args("killed")], env)
    _, resume_log = run([*args("killed"), "--rerun-incomplete"], env)
    resume_s = time.monotonic() - t0
    killed_cpu = cpu_children() - c1
    n_resumed = len(jobs_in(resume_log))
    ta, tb = (
        volatile_free(out / "plain/tables/metrics.tsv"),
        volatile_free(out / "killed/tables/metrics.tsv"),
    )
    same = ta.shape == tb.shape and ta.equals(tb)
    total = before_s + resume_s
    print(f"config {a.configfile}, --cores {a.cores}, killed after {a.after} infer jobs")
    print(f"uninterrupted:            {plain_s:7.1f} s  ({n_total} jobs)")
    print(f"interrupted, until kill:  {before_s:7.1f} s  ({n_done} jobs finished)")
    print(f"resume (unlock + rerun):  {resume_s:7.1f} s  ({n_resumed} jobs)")
    print(
        f"interrupted total:        {total:7.1f} s  (overhead {total - plain_s:+.1f} s, {total / plain_s:.2f}x)"
    )
    print(
        f"CPU seconds (all processes): uninterrupted {plain_cpu:.0f}, interrupted + resumed {killed_cpu:.0f}"
    )
    print(f"metrics.tsv identical apart from runtime/memory: {same}")
    if not same:
        print(
            "differing columns:",
            *(differences(ta, tb) if ta.shape == tb.shape else ["row count"]),
            sep="\n  ",
        )
        raise SystemExit(1)


if __name__ == "__main__":
    main()
