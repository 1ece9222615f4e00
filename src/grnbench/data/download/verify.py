"""Hashes and the lock file: what a file is, and whether it is what we expect.

- :func:`file_digests`: size, git blob SHA-1 (``sha1(b"blob <size>\\0" + content)``, as ``git
  hash-object``) and SHA-256 in one streaming pass; :func:`verify_file` checks them against
  expectations and names the source of bad bytes.
- The lock file (TSV ``key, sha256, bytes, url``): hashes recorded on first download ("trust on
  first use"), appended under an exclusive lock so parallel jobs never lose each other's entries.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from grnbench.errors import DownloadError, InputError

log = logging.getLogger(__name__)

LOCK_COLUMNS = ("key", "sha256", "bytes", "url")

_CHUNK = 1 << 20


# --------------------------------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digests:
    """What a file actually is: size in bytes, git blob SHA-1 and SHA-256 (hex)."""

    size: int
    git_sha1: str
    sha256: str


def file_digests(path: str | os.PathLike) -> Digests:
    """Size, git blob SHA-1 and SHA-256 of a file in one streaming pass.

    git blob SHA-1 = sha1(b"blob " + str(size) + b"\\0" + content), as ``git hash-object`` computes it.
    """
    path = Path(path)
    size = path.stat().st_size
    git = hashlib.sha1(b"blob %d\0" % size)
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            git.update(chunk)
            sha.update(chunk)
    return Digests(size=size, git_sha1=git.hexdigest(), sha256=sha.hexdigest())


def verify_file(
    path: str | os.PathLike,
    *,
    source: str,
    git_sha1: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
) -> Digests:
    """Check ``path`` against every expectation given; raise DownloadError naming ``source`` if not.

    ``source`` is the URL (or local file) the content came from, so the message says where the bad
    bytes were obtained. Returns the actual digests (used to record a lock entry).
    """
    got = file_digests(path)
    checks = [
        ("size in bytes", None if size is None else int(size), got.size),
        ("git blob SHA-1", _norm_hex(git_sha1), got.git_sha1),
        ("SHA-256", _norm_hex(sha256), got.sha256),
    ]
    for what, expected, actual in checks:
        if expected is not None and expected != actual:
            raise DownloadError(
                f"{source}: {what} mismatch: expected {expected}, got {actual} "
                f"({got.size} bytes received); the file was discarded"
            )
    return got


def _norm_hex(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value or None


# --------------------------------------------------------------------------------------------------
# Lock file: hashes recorded on first download
# --------------------------------------------------------------------------------------------------


def read_lock(lockfile: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Read a lock file (TSV ``key, sha256, bytes, url``) into ``{key: row}``; missing file -> {}."""
    lockfile = Path(lockfile)
    if not lockfile.exists():
        return {}
    entries: dict[str, dict[str, str]] = {}
    with lockfile.open(newline="") as fh:
        for lineno, row in enumerate(csv.DictReader(fh, delimiter="\t"), start=2):
            key = row.get("key")
            if not key or not row.get("sha256"):
                raise InputError(lockfile, "row lacks a key or a sha256", where=f"line {lineno}")
            old = entries.get(key)
            if old is not None and (old["sha256"], old["bytes"]) != (row["sha256"], row["bytes"]):
                raise InputError(
                    lockfile,
                    f"key {key!r} recorded twice with different hashes",
                    where=f"line {lineno}",
                )
            entries[key] = row
    return entries


@contextlib.contextmanager
def _exclusive(fh) -> Iterator[None]:
    """Hold an advisory exclusive lock on an open file (parallel workflow jobs share the lock file)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX: no locking, appends are still line-sized
        yield
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def record_lock(lockfile: str | os.PathLike, key: str, digests: Digests, url: str) -> None:
    """Append ``key -> sha256, bytes`` to the lock file unless the key is already there.

    Append-only under an exclusive lock, so concurrent downloads never lose each other's entries;
    an existing entry with a different hash is an error (the source changed since it was recorded).
    """
    lockfile = Path(lockfile)
    lockfile.parent.mkdir(parents=True, exist_ok=True)
    with lockfile.open("a+", newline="") as fh, _exclusive(fh):
        existing = read_lock(lockfile)
        old = existing.get(key)
        if old is not None:
            if old["sha256"] != digests.sha256:
                raise DownloadError(
                    f"{url}: lock file {lockfile} records sha256 {old['sha256']} for {key!r}, "
                    f"got {digests.sha256}"
                )
            return
        if lockfile.stat().st_size == 0:
            fh.write("\t".join(LOCK_COLUMNS) + "\n")
        fh.write(f"{key}\t{digests.sha256}\t{digests.size}\t{url}\n")
        fh.flush()
        os.fsync(fh.fileno())
    log.info("recorded %s in %s: sha256 %s, %d bytes", key, lockfile, digests.sha256, digests.size)


def _parse_size(value: str | None, source: object) -> int | None:
    value = (value or "").strip()
    if value in ("", "NA"):
        return None
    if not value.isdigit():
        raise InputError(source, f"bytes must be a whole number or NA, got {value!r}")
    return int(value)
