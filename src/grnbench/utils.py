"""Small helpers shared by every stage: seeding, atomic writes, timing."""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and (if imported) torch; return a NumPy Generator for explicit use."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch = sys.modules.get("torch")  # a job whose method uses no torch never imports it (2 s)
    if torch is not None:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    Nothing half-written is ever left at ``path``: on error the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=suffix or path.suffix or ".tmp", dir=path.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def temp_beside(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary file in ``target``'s folder (same filesystem, so ``os.replace`` onto
    ``target`` is atomic); always removed unless the caller renamed it onto ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes, read in 1 MiB blocks."""
    import hashlib

    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(obj: object, path: str | os.PathLike) -> None:
    """Write JSON atomically with sorted keys (stable bytes for identical content)."""
    with atomic_path(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_csv(df, path: str | os.PathLike, **kwargs) -> None:
    """Write a DataFrame to CSV atomically."""
    kwargs.setdefault("index", False)
    with atomic_path(path, suffix=".csv") as tmp:
        df.to_csv(tmp, **kwargs)


def _json_default(o: object):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux ru_maxrss is KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def resolve_device(device: str = "auto") -> str:
    """'auto' -> 'cuda' when available, else 'cpu'; 'cpu' as is; 'cuda' / 'cuda:<N>' only where
    CUDA (and that device) is available.

    Raises :class:`~grnbench.errors.InputError` (source ``device``) for a CUDA device that is
    not there, rather than running on the CPU under a ``cuda`` label, and for any other value.
    """
    import re

    from grnbench.errors import InputError

    device = str(device)
    if device == "cpu":
        return device
    m = re.fullmatch(r"auto|cuda(?::(\d+))?", device)
    if m is None:
        raise InputError("device", f"unknown device {device!r}; expected auto, cpu, cuda or cuda:<N>")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise InputError("device", f"{device!r} asked for, but CUDA is not available here "
                                   f"(torch {torch.__version__}: torch.cuda.is_available() is False); "
                                   "use device auto or cpu, or run the job on a machine with a GPU")
    index = int(m.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise InputError("device", f"{device!r} asked for, but this machine has {torch.cuda.device_count()} CUDA "
                                   "device(s)")
    return device
