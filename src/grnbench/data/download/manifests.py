"""The manifests of what we fetch: GENELink's files at the pinned commit, and ``sources.tsv``.

- GENELink files (``resources/genelink_manifest.tsv``): verified against their git blob SHA-1
  (and size where known), fetched into ``<network>/<cell>/<geneset>/<file>``.
- Other sources (``resources/sources.tsv``): a SHA-256 where we know it, else the lock file.

Both tables ship with the package (:mod:`grnbench.package_data`).
"""

from __future__ import annotations

import csv
import logging
import os
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from grnbench.data.download.transfer import _publish, fetch
from grnbench.data.download.verify import _parse_size
from grnbench.errors import InputError
from grnbench.package_data import RESOURCES
from grnbench.utils import temp_beside

log = logging.getLogger(__name__)

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
