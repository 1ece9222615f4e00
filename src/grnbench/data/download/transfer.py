"""One verified file in place: from the lock, a local copy or HTTP, atomically.

A download streams into a temporary file beside the destination and is renamed onto it only after
verification, so the destination never holds a partial or unverified file. Connection errors, HTTP 5xx
and truncated transfers are retried with exponential backoff; HTTP 4xx (e.g. 404) fails at once.
Offline/cluster users pass ``local_dir`` (a folder already holding the files); the local file is then
verified and copied instead of downloaded.
"""

from __future__ import annotations

import http.client
import logging
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from grnbench.data.download.verify import (
    _CHUNK,
    Digests,
    _parse_size,
    read_lock,
    record_lock,
    verify_file,
)
from grnbench.errors import DownloadError
from grnbench.utils import temp_beside

log = logging.getLogger(__name__)

_USER_AGENT = "grnbench/0.1 (python urllib)"


class _Retryable(Exception):
    """A transient failure (connection, 5xx, truncated transfer): worth another attempt."""


def fetch(
    url: str,
    dest: str | os.PathLike,
    *,
    git_sha1: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 60,
    local_dir: str | os.PathLike | None = None,
    local_name: str | None = None,
    lockfile: str | os.PathLike | None = None,
    key: str | None = None,
) -> Path:
    """Put the verified content of ``url`` at ``dest`` and return ``dest``.

    Order of work:

    1. Expectations: ``git_sha1``/``sha256``/``size`` as given; when no hash is given and ``lockfile``
       is, the lock entry for ``key`` (default: the URL) supplies sha256 and size.
    2. ``dest`` already present and verified against a hash -> kept (no network). Present but not
       matching -> removed and fetched again.
    3. ``local_dir`` holding ``local_name`` (default: ``dest``'s name; may be a relative path) ->
       copied beside ``dest``, verified, renamed onto ``dest``; a local file that fails verification is
       an error (we never silently fall back to the network for a corrupt local copy). A local_dir
       without the file falls back to the download.
    4. Download with urllib, streamed to a temporary file beside ``dest``; up to ``retries`` further
       attempts after connection errors, HTTP 5xx/429 and truncated transfers (fewer bytes than
       Content-Length or than ``size``), waiting ``backoff * 2**attempt`` seconds; HTTP 4xx fails at
       once. Verified, then ``os.replace``-d onto ``dest`` (atomic).
    5. No hash known and ``lockfile`` given -> sha256 and size are recorded there for next time.

    Raises DownloadError naming the URL (and expected/actual hashes on a mismatch); nothing is left at
    ``dest`` and no temporary file remains.
    """
    dest = Path(dest)
    lock_key = key or url
    if git_sha1 is None and sha256 is None and lockfile is not None:
        entry = read_lock(lockfile).get(lock_key)
        if entry is not None:
            sha256 = entry["sha256"]
            size = size if size is not None else _parse_size(entry.get("bytes"), lockfile)
            log.info("%s: verifying against lock file %s (sha256 %s)", lock_key, lockfile, sha256)
    has_hash = git_sha1 is not None or sha256 is not None
    expect = {"git_sha1": git_sha1, "sha256": sha256, "size": size}

    if dest.exists() and has_hash:
        try:
            verify_file(dest, source=str(dest), **expect)
            log.info("%s already present and verified; not fetched again", dest)
            return dest
        except DownloadError as err:
            log.warning("%s is present but does not verify (%s); fetching it again", dest, err)
            dest.unlink()

    local = Path(local_dir) / (local_name or dest.name) if local_dir is not None else None
    if local is not None and local.is_file():
        log.info("copying %s -> %s (local_dir, no network)", local, dest)
        with temp_beside(dest) as tmp:
            shutil.copyfile(local, tmp)
            digests = verify_file(tmp, source=f"{local} (local copy of {url})", **expect)
            _publish(tmp, dest)
    else:
        if local is not None:
            log.info("%s not found in local_dir; downloading %s", local, url)
        digests = _download_verified(url, dest, expect, retries, backoff, timeout)

    if not has_hash:
        if lockfile is not None:
            try:
                record_lock(lockfile, lock_key, digests, url)
            except DownloadError:
                dest.unlink(missing_ok=True)  # a parallel job recorded other content: trust neither
                raise
        else:
            log.warning(
                "%s: no hash known and no lock file; content NOT verified (sha256 %s)",
                url,
                digests.sha256,
            )
    log.info("%s ready: %d bytes, sha256 %s", dest, digests.size, digests.sha256)
    return dest


def _download_verified(
    url: str, dest: Path, expect: dict, retries: int, backoff: float, timeout: float
) -> Digests:
    """Download with retries into a temp file beside ``dest``; verify; rename. Returns digests."""
    attempts = retries + 1
    last: Exception | None = None
    for attempt in range(attempts):
        if attempt:
            wait = backoff * 2 ** (attempt - 1)
            log.warning(
                "%s: attempt %d/%d failed (%s); retrying in %.2f s",
                url,
                attempt,
                attempts,
                last,
                wait,
            )
            time.sleep(wait)
        log.info("downloading %s -> %s (attempt %d/%d)", url, dest, attempt + 1, attempts)
        with temp_beside(dest) as tmp:
            try:
                _stream(url, tmp, timeout=timeout, expected_size=expect["size"])
            except _Retryable as err:
                last = err
                continue
            digests = verify_file(tmp, source=url, **expect)
            _publish(tmp, dest)
            return digests
    raise DownloadError(f"{url}: download failed after {attempts} attempts; last error: {last}")


def _stream(url: str, tmp: Path, *, timeout: float, expected_size: int | None) -> None:
    """One HTTP GET streamed into ``tmp``; raise _Retryable for transient failures."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp, tmp.open("wb") as out:
            declared = resp.headers.get("Content-Length")
            received = 0
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                received += len(chunk)
    except urllib.error.HTTPError as err:
        if err.code >= 500 or err.code in (408, 429):
            raise _Retryable(f"HTTP {err.code} {err.reason}") from err
        raise DownloadError(f"{url}: HTTP {err.code} {err.reason} (not retried)") from err
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as err:
        raise _Retryable(f"{type(err).__name__}: {err}") from err
    # A server that closes early makes read() return b"" silently: compare lengths ourselves.
    if declared is not None and declared.isdigit() and received != int(declared):
        raise _Retryable(f"truncated transfer: {received} of {declared} bytes (Content-Length)")
    if expected_size is not None and received < int(expected_size):
        raise _Retryable(f"truncated transfer: {received} of {expected_size} expected bytes")


def _publish(tmp: Path, dest: Path) -> None:
    """Give the verified temp file normal permissions (mkstemp makes it 0600) and rename it."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, dest)
