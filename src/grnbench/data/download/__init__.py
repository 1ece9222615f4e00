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
:func:`fetch_source`. Modules: :mod:`.verify` (hashes, lock file), :mod:`.transfer` (one verified
file from a local copy or HTTP, with retries), :mod:`.manifests` (GENELink manifest, ``sources.tsv``);
this package re-exports their public names.
"""

from grnbench.data.download.manifests import (
    DOWNLOAD_LOCK,
    GENELINK_COMMIT,
    GENELINK_FILES,
    GENELINK_GENESETS,
    GENELINK_MANIFEST,
    GENELINK_NETWORKS,
    GENELINK_RAW,
    GENELINK_REPO,
    MANIFEST_COLUMNS,
    SOURCES,
    SOURCES_COLUMNS,
    build_genelink_manifest,
    fetch_genelink,
    fetch_source,
    genelink_entry,
    genelink_layout,
    genelink_url,
    read_manifest,
    read_sources,
)
from grnbench.data.download.transfer import fetch
from grnbench.data.download.verify import (
    LOCK_COLUMNS,
    Digests,
    file_digests,
    read_lock,
    record_lock,
    verify_file,
)
from grnbench.package_data import RESOURCES

__all__ = [
    "DOWNLOAD_LOCK", "GENELINK_COMMIT", "GENELINK_FILES", "GENELINK_GENESETS", "GENELINK_MANIFEST",
    "GENELINK_NETWORKS", "GENELINK_RAW", "GENELINK_REPO", "LOCK_COLUMNS", "MANIFEST_COLUMNS",
    "RESOURCES", "SOURCES", "SOURCES_COLUMNS", "Digests", "build_genelink_manifest", "fetch",
    "fetch_genelink", "fetch_source", "file_digests", "genelink_entry", "genelink_layout",
    "genelink_url", "read_lock", "read_manifest", "read_sources", "record_lock", "verify_file",
]
