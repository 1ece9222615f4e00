"""Verified, resumable-by-retry downloads of the benchmark's raw files.

Every file we fetch is checked against a hash before it is put in place:

- GENELink files: their git blob SHA-1, ``sha1(b"blob <size>\\0" + content)``, listed for every file of
  zpliulab/GENELink at the pinned commit in ``resources/genelink_manifest.tsv``.
- Other sources (``resources/sources.tsv``): a SHA-256 where we know it; where nobody could compute it
  yet, the first download records SHA-256 and size in a lock file (``resources/download.lock``) and
  every later download is verified against that record ("trust on first use").

A download streams into a temporary file beside the destination and is renamed onto it only after
verification, so the destination never holds a partial or unverified file. Connection errors, HTTP 5xx
and truncated transfers are retried with exponential backoff; HTTP 4xx (e.g. 404) fails at once.
Offline/cluster users pass ``local_dir`` (a folder already holding the files); the local file is then
verified and copied instead of downloaded.

Nothing here runs at import time; the workflow's download rules call :func:`fetch_genelink` and
:func:`fetch_source`.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import http.client
import logging
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from grnbench.errors import DownloadError, InputError
from grnbench.utils import temp_beside

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[3] / "resources"
GENELINK_MANIFEST = RESOURCES / "genelink_manifest.tsv"
SOURCES = RESOURCES / "sources.tsv"
DOWNLOAD_LOCK = RESOURCES / "download.lock"

GENELINK_REPO = "zpliulab/GENELink"
GENELINK_COMMIT = "4eb816af27f5fe0cb26f9230286401801b251129"
GENELINK_RAW = f"https://raw.githubusercontent.com/{GENELINK_REPO}/{GENELINK_COMMIT}/"

#: GENELink folder names -> our layout ``<network>/<cell>/<geneset>/<file>``.
GENELINK_NETWORKS = {
    "Specific Dataset": "specific",
    "Non-Specific Dataset": "nonspecific",
    "STRING Dataset": "string",
    "Lofgof Dataset": "lofgof",
}
GENELINK_GENESETS = {"TFs+500": "tfs500", "TFs+1000": "tfs1000"}
GENELINK_FILES = ("BL--ExpressionData.csv", "BL--network.csv", "TF.csv", "Target.csv", "Label.csv")
MANIFEST_COLUMNS = ("network", "cell", "geneset", "file", "path", "git_blob_sha1", "bytes", "url")
SOURCES_COLUMNS = ("key", "url", "file", "sha256", "bytes", "description")
LOCK_COLUMNS = ("key", "sha256", "bytes", "url")

_CHUNK = 1 << 20
_USER_AGENT = "grnbench/0.1 (python urllib)"


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


# --------------------------------------------------------------------------------------------------
# fetch
# --------------------------------------------------------------------------------------------------


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


def _parse_size(value: str | None, source: object) -> int | None:
    value = (value or "").strip()
    if value in ("", "NA"):
        return None
    if not value.isdigit():
        raise InputError(source, f"bytes must be a whole number or NA, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------------------
# GENELink manifest
# --------------------------------------------------------------------------------------------------


def genelink_url(path: str) -> str:
    """Raw URL of a GENELink file at the pinned commit (spaces and '+' percent-encoded)."""
    return GENELINK_RAW + urllib.parse.quote(path, safe="/")


def genelink_layout(path: str) -> tuple[str, str, str, str]:
    """Map a GENELink repository path to ``(network, cell, geneset, file)`` of our layout.

    ``Dataset/Benchmark Dataset/Specific Dataset/hESC/TFs+500/TF.csv`` -> ``specific, hESC, tfs500,
    TF.csv``. Files outside the benchmark folders (e.g. ``Dataset/Human Breast Cancer Metastasis``)
    get empty network/cell/geneset and keep only their file name.
    """
    parts = path.split("/")
    if (
        len(parts) == 6
        and parts[:2] == ["Dataset", "Benchmark Dataset"]
        and parts[2] in GENELINK_NETWORKS
        and parts[4] in GENELINK_GENESETS
    ):
        return GENELINK_NETWORKS[parts[2]], parts[3], GENELINK_GENESETS[parts[4]], parts[5]
    return "", "", "", parts[-1]


def build_genelink_manifest(src: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Write our manifest (``MANIFEST_COLUMNS``) from GENELink's ``path, git_blob_sha1, bytes`` TSV.

    Rows keep the source order; ``bytes`` stays ``NA`` where the source has NA. Written atomically.
    """
    src, dest = Path(src), Path(dest)
    with src.open(newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        missing = {"path", "git_blob_sha1", "bytes"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(
                src, f"missing columns {sorted(missing)}; expected path, git_blob_sha1, bytes"
            )
        rows = []
        for lineno, row in enumerate(reader, start=2):
            sha = (row["git_blob_sha1"] or "").strip().lower()
            if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha):
                raise InputError(
                    src, f"git_blob_sha1 {sha!r} is not 40 hex digits", where=f"line {lineno}"
                )
            size = _parse_size(row["bytes"], f"{src} line {lineno}")
            network, cell, geneset, name = genelink_layout(row["path"])
            rows.append(
                (
                    network,
                    cell,
                    geneset,
                    name,
                    row["path"],
                    sha,
                    "NA" if size is None else str(size),
                    genelink_url(row["path"]),
                )
            )
    with temp_beside(dest) as tmp:
        with tmp.open("w", newline="") as out:
            out.write("\t".join(MANIFEST_COLUMNS) + "\n")
            out.writelines("\t".join(r) + "\n" for r in rows)
        _publish(tmp, dest)
    log.info("wrote %s (%d files)", dest, len(rows))
    return dest


def read_manifest(manifest: str | os.PathLike = GENELINK_MANIFEST) -> list[dict[str, str]]:
    """Rows of our GENELink manifest as dicts (columns ``MANIFEST_COLUMNS``)."""
    manifest = Path(manifest)
    if not manifest.is_file():
        raise InputError(
            manifest, "GENELink manifest not found (regenerate it with build_genelink_manifest)"
        )
    with manifest.open(newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if tuple(reader.fieldnames or ()) != MANIFEST_COLUMNS:
            raise InputError(
                manifest, f"columns {reader.fieldnames}, expected {list(MANIFEST_COLUMNS)}"
            )
        return list(reader)


def genelink_entry(
    network: str,
    cell: str,
    geneset: str,
    file: str,
    manifest: str | os.PathLike = GENELINK_MANIFEST,
) -> dict[str, str]:
    """The manifest row of one GENELink file; InputError listing what exists when it is absent."""
    rows = [r for r in read_manifest(manifest) if r["network"]]
    for r in rows:
        if (r["network"], r["cell"], r["geneset"], r["file"]) == (network, cell, geneset, file):
            return r
    networks = sorted({r["network"] for r in rows})
    cells = sorted({r["cell"] for r in rows if r["network"] == network})
    files = sorted({r["file"] for r in rows if (r["network"], r["cell"]) == (network, cell)})
    raise InputError(
        manifest,
        f"no GENELink file {file!r} for network={network!r} cell={cell!r} geneset={geneset!r}; "
        f"networks: {networks}; cells for {network!r}: {cells or 'none'}; "
        f"files for that cell: {files or 'none'}",
    )


def fetch_genelink(
    cell: str,
    network: str,
    geneset: str,
    dest_dir: str | os.PathLike,
    *,
    local_dir: str | os.PathLike | None = None,
    files: Sequence[str] = GENELINK_FILES,
    manifest: str | os.PathLike = GENELINK_MANIFEST,
    **fetch_kwargs,
) -> list[Path]:
    """Fetch GENELink files of one (cell, network, gene set) into ``dest_dir/<file>``.

    Each file is verified against its git blob SHA-1 (and size, where known) from the manifest.
    ``local_dir`` uses our layout ``<local_dir>/<network>/<cell>/<geneset>/<file>`` (that of
    ``shared/data/genelink``). ``fetch_kwargs`` go to :func:`fetch` (retries, backoff, timeout).
    All manifest entries are looked up before anything is fetched, so a typo fails at once.
    """
    entries = [genelink_entry(network, cell, geneset, f, manifest) for f in files]
    paths = []
    for e in entries:
        paths.append(
            fetch(
                e["url"],
                Path(dest_dir) / e["file"],
                git_sha1=e["git_blob_sha1"],
                size=_parse_size(e["bytes"], manifest),
                local_dir=local_dir,
                local_name=f"{network}/{cell}/{geneset}/{e['file']}",
                **fetch_kwargs,
            )
        )
    return paths


# --------------------------------------------------------------------------------------------------
# Other sources (resources/sources.tsv)
# --------------------------------------------------------------------------------------------------


def read_sources(sources: str | os.PathLike = SOURCES) -> dict[str, dict[str, str]]:
    """``{key: row}`` of the sources table (columns ``SOURCES_COLUMNS``)."""
    sources = Path(sources)
    with sources.open(newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if tuple(reader.fieldnames or ()) != SOURCES_COLUMNS:
            raise InputError(
                sources, f"columns {reader.fieldnames}, expected {list(SOURCES_COLUMNS)}"
            )
        table: dict[str, dict[str, str]] = {}
        for lineno, row in enumerate(reader, start=2):
            if row["key"] in table:
                raise InputError(sources, f"duplicate key {row['key']!r}", where=f"line {lineno}")
            if not row["url"] or not row["file"] or "/" in row["file"]:
                raise InputError(
                    sources, "url and a plain file name are required", where=f"line {lineno}"
                )
            table[row["key"]] = row
    return table


def fetch_source(
    key: str,
    dest_dir: str | os.PathLike,
    local_dir: str | os.PathLike | None = None,
    sources: str | os.PathLike = SOURCES,
    lockfile: str | os.PathLike | None = DOWNLOAD_LOCK,
    filename: str | None = None,
    **fetch_kwargs,
) -> Path:
    """Fetch one ``sources.tsv`` entry to ``dest_dir/<file>`` (or ``dest_dir/<filename>``).

    Verified against its sha256/bytes when the table has them, otherwise against (or recorded into)
    ``lockfile`` under ``key``. ``local_dir`` is a flat folder holding ``<file>`` (the table's name).
    """
    table = read_sources(sources)
    if key not in table:
        raise InputError(sources, f"unknown source key {key!r}; known: {sorted(table)}")
    row = table[key]
    if row["url"].startswith("zenodo:"):  # pinned by version: grnbench.data.zenodo resolves it
        from grnbench.data.zenodo import fetch_pinned

        if row["sha256"]:
            raise InputError(sources, f"{key}: a zenodo: URL takes its hash from Zenodo and the lock "
                             "file; leave sha256 empty or give the record's https URL")
        return fetch_pinned(row["url"], Path(dest_dir) / (filename or row["file"]), key=key,
                            lockfile=lockfile, local_dir=local_dir, local_name=row["file"],
                            **fetch_kwargs)
    return fetch(
        row["url"],
        Path(dest_dir) / (filename or row["file"]),
        sha256=row["sha256"] or None,
        size=_parse_size(row["bytes"], sources),
        local_dir=local_dir,
        local_name=row["file"],
        lockfile=lockfile,
        key=key,
        **fetch_kwargs,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m grnbench.data.download build-manifest SRC DEST`` regenerates the manifest."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m grnbench.data.download")
    sub = parser.add_subparsers(dest="cmd", required=True)
    build = sub.add_parser(
        "build-manifest", help="GENELink MANIFEST.tsv -> resources/genelink_manifest.tsv"
    )
    build.add_argument("src", type=Path)
    build.add_argument("dest", type=Path, nargs="?", default=GENELINK_MANIFEST)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    build_genelink_manifest(args.src, args.dest)


if __name__ == "__main__":
    main()
