"""No hidden network use (issue 8, point 5): the default workflow's non-download rules run with
sockets blocked.

``tests/netblock/sitecustomize.py`` is put first on ``PYTHONPATH``, so Snakemake and every job
it starts (``script:`` rules and the ``grnbench`` console script alike) refuse all sockets but
AF_UNIX, and log each process start and each refused attempt. The run of ``config/test.yaml``
(simulated data: no download rule in its DAG) must succeed, every job must have run under the
block, and nothing may have tried to reach the network, not even an attempt a library caught.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = ROOT / "tests" / "netblock"


def blocked_env(log: Path) -> dict:
    e = {**os.environ, "OMP_NUM_THREADS": "1", "GRNBENCH_NETBLOCK_LOG": str(log)}
    e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BLOCK), e.get("PYTHONPATH")]))
    return e


def attempts(log: Path) -> tuple[set[str], list[str]]:
    """(pids that loaded the block, refused attempts)."""
    lines = log.read_text().splitlines() if log.exists() else []
    loaded = {ln.split()[0] for ln in lines if ln.endswith(" loaded")}
    return loaded, [ln for ln in lines if not ln.endswith(" loaded")]


def test_block_refuses_internet_and_loopback_but_not_unix_sockets(tmp_path):
    log = tmp_path / "net.log"
    code = (
        "import socket\n"
        "a, b = socket.socketpair(); a.sendall(b'x'); assert b.recv(1) == b'x'\n"
        "for target in [('1.1.1.1', 80), ('127.0.0.1', 9)]:\n"
        "    try:\n"
        "        socket.create_connection(target, timeout=2)\n"
        "    except OSError as e:\n"
        "        assert 'blocked' in str(e), e\n"
        "    else:\n"
        "        raise SystemExit('connected')\n"
        "import urllib.request\n"
        "try:\n"
        "    urllib.request.urlopen('https://example.org', timeout=3)\n"
        "except OSError as e:\n"
        "    assert 'blocked' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('fetched')\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], env=blocked_env(log), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    loaded, tried = attempts(log)
    assert len(loaded) == 1 and len(tried) == 3, tried


@pytest.mark.slow
def test_default_workflow_runs_with_sockets_blocked(tmp_path):
    res, log = tmp_path / "results", tmp_path / "net.log"
    args = ["--cores", "2", "--configfile", "config/test.yaml", "--config", f"results={res}"]
    r = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=ROOT, env=blocked_env(log),
                       capture_output=True, text=True, timeout=1200)  # fmt: skip
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-5000:]
    assert not re.search(r"rule download_", out), "a download rule ran"
    n_jobs = int(re.findall(r"(\d+) of \1 steps \(100%\) done", out)[-1])
    loaded, tried = attempts(log)
    assert not tried, f"network use attempted: {tried[:10]}"
    # Snakemake itself plus one process per job (the 'all' target runs in-process)
    assert len(loaded) >= n_jobs, (len(loaded), n_jobs)
    assert (res / "tables" / "metrics.tsv").exists()
