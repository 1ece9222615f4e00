"""Zenodo files pinned by *version*, not by record id: ``zenodo:<concept>@<version>/<file>``.

BEELINE v1.1 asks for "Zenodo dataset version v4" of concept DOI 10.5281/zenodo.3378975
without naming the record id of that version. A ``resources/sources.tsv`` URL of the form
``zenodo:3378975@v4/BEELINE-data.zip`` is resolved at download time (download rules are the
only place with network) through Zenodo's REST API:

1. ``GET {api}/records/<concept>/versions?allversions=true&size=100`` lists every version of
   the concept record (``<concept>`` may be the concept id or any version's id);
2. the one hit whose ``metadata.version`` equals ``<version>`` (exactly, or with a leading
   ``v`` added/removed: ``v4`` matches ``4``) is taken; none, or more than one, is an error
   naming the versions Zenodo lists;
3. its file entry named ``<file>`` gives the download URL, the size and Zenodo's own checksum
   (``md5:<hex>``), against which the download is verified before it is published. The lock
   file then records the file's sha256 under the source key, and the resolved record id in the
   lock's URL column, so every later run verifies the same bytes without asking Zenodo again.

The API base is ``https://zenodo.org/api`` (``GRNBENCH_ZENODO_API`` overrides it, which is how
the tests point it at a server on 127.0.0.1). Both shapes of Zenodo's answer are read: the legacy
``files: [{key, size, checksum, links: {self}}]`` and InvenioRDM's
``files: {entries: {key: {size, checksum, links: {content}}}}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from grnbench.errors import DownloadError

log = logging.getLogger(__name__)

API = "https://zenodo.org/api"
SCHEME = "zenodo:"
_SPEC = re.compile(r"^zenodo:(?P<concept>\d+)@(?P<version>[^/]+)/(?P<file>[^/]+)$")


@dataclass(frozen=True)
class ZenodoFile:
    """One file of one version of a Zenodo record, as Zenodo's API describes it."""

    record_id: str
    version: str
    key: str
    url: str
    size: int | None
    md5: str | None


def is_zenodo(url: str) -> bool:
    return url.startswith(SCHEME)


def parse(url: str) -> tuple[str, str, str]:
    """``zenodo:<concept>@<version>/<file>`` -> ``(concept, version, file)``."""
    m = _SPEC.match(url)
    if m is None:
        raise DownloadError(
            f"{url}: expected zenodo:<concept record id>@<version>/<file name>, "
            "e.g. zenodo:3378975@v4/BEELINE-data.zip"
        )
    return m["concept"], m["version"], m["file"]


def api_base() -> str:
    return os.environ.get("GRNBENCH_ZENODO_API", API).rstrip("/")


def _same_version(a: str, b: str) -> bool:
    norm = lambda v: v.strip().lower().removeprefix("v")  # noqa: E731
    return norm(a) == norm(b)


def _get_json(url: str, *, retries: int, backoff: float, timeout: float) -> dict:
    last: Exception | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            if err.code < 500 and err.code != 429:
                raise DownloadError(f"{url}: HTTP {err.code} from Zenodo's API") from err
            last = err
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            last = err
        except json.JSONDecodeError as err:
            raise DownloadError(f"{url}: Zenodo's API did not answer JSON ({err})") from err
    raise DownloadError(f"{url}: Zenodo's API failed after {retries + 1} attempts; last error: {last}")


def _files(hit: dict) -> dict[str, dict]:
    """``{key: {size, md5, url}}`` from either shape of a record's ``files``."""
    files = hit.get("files")
    if isinstance(files, dict):  # InvenioRDM: {"entries": {key: {...}}}
        entries = files.get("entries") or {}
        items = [dict(v, key=k) for k, v in entries.items()]
    else:
        items = list(files or [])
    out = {}
    for item in items:
        links = item.get("links") or {}
        url = links.get("content") or links.get("self") or links.get("download")
        checksum = str(item.get("checksum") or "")
        md5 = checksum.split(":", 1)[1] if checksum.startswith("md5:") else None
        out[item.get("key") or item.get("filename")] = {"size": item.get("size"), "md5": md5, "url": url}
    return out


def resolve(url: str, *, retries: int = 4, backoff: float = 1.0, timeout: float = 60) -> ZenodoFile:
    """The file that ``zenodo:<concept>@<version>/<file>`` names (see the module docstring)."""
    concept, version, name = parse(url)
    listing = f"{api_base()}/records/{concept}/versions?allversions=true&size=100"
    answer = _get_json(listing, retries=retries, backoff=backoff, timeout=timeout)
    hits = (answer.get("hits") or {}).get("hits") or []
    versions = {str(h.get("id")): str((h.get("metadata") or {}).get("version")) for h in hits}
    chosen = [h for h in hits if _same_version(str((h.get("metadata") or {}).get("version", "")), version)]
    if len(chosen) != 1:
        what = "no version" if not chosen else f"{len(chosen)} versions"
        raise DownloadError(
            f"{url}: Zenodo lists {what} {version!r} of record {concept} ({listing}); "
            f"versions listed (record id: version): {versions or 'none'}"
        )
    hit = chosen[0]
    files = _files(hit)
    if name not in files:
        raise DownloadError(
            f"{url}: version {version} of Zenodo record {concept} (record {hit.get('id')}) has no "
            f"file {name!r}; its files: {sorted(files)}"
        )
    entry = files[name]
    if not entry["url"]:
        raise DownloadError(f"{url}: Zenodo gives no download link for {name!r} in record {hit.get('id')}")
    size = int(entry["size"]) if entry["size"] is not None else None
    found = ZenodoFile(str(hit.get("id")), version, name, entry["url"], size, entry["md5"])
    log.info("%s -> Zenodo record %s (version %s): %s, %s bytes, md5 %s",
             url, found.record_id, version, found.url, size, found.md5)
    return found


def _md5(path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_pinned(
    spec: str,
    dest,
    *,
    key: str,
    lockfile=None,
    local_dir=None,
    local_name: str | None = None,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 60,
) -> Path:
    """Put the file that ``spec`` (``zenodo:<concept>@<version>/<file>``) names at ``dest``.

    1. The lock file already records ``key`` -> that sha256 and size, and the URL it came from,
       verify ``dest`` / the local copy / a fresh download against them (no API call).
    2. Else a copy in ``local_dir`` -> copied, and its sha256 recorded in the lock under ``key``;
       offline, nothing can confirm that it is version ``<version>``: a warning says so.
    3. Else Zenodo's API names the record and the file (:func:`resolve`); the download is
       verified against Zenodo's size and md5 before it is renamed onto ``dest``, and its sha256
       and the resolved URL (which names the record id) are recorded in the lock under ``key``.
    """
    from grnbench.data import download as dl
    from grnbench.utils import temp_beside

    dest = Path(dest)
    kw = {"retries": retries, "backoff": backoff, "timeout": timeout}
    entry = dl.read_lock(lockfile).get(key) if lockfile is not None else None
    if entry is not None:
        url = entry.get("url") or spec
        size = int(entry["bytes"]) if entry.get("bytes") else None
        if is_zenodo(url) and not dest.exists() and not (
                local_dir is not None and (Path(local_dir) / (local_name or dest.name)).is_file()):
            url = resolve(spec, **kw).url  # recorded from an offline copy: ask Zenodo where it is
        return dl.fetch(url, dest, sha256=entry["sha256"], size=size, local_dir=local_dir,
                        local_name=local_name, key=key, **kw)
    local = Path(local_dir) / (local_name or dest.name) if local_dir is not None else None
    if local is not None and local.is_file():
        log.warning("%s: %s is an offline copy; nothing here can confirm that it is version %s of "
                    "the Zenodo record (its sha256 is recorded in %s and checked from now on)",
                    spec, local, parse(spec)[1], lockfile)
        return dl.fetch(spec, dest, local_dir=local_dir, local_name=local_name, lockfile=lockfile,
                        key=key, **kw)
    found = resolve(spec, **kw)
    with temp_beside(dest) as tmp:
        dl.fetch(found.url, tmp, size=found.size, **kw)
        if found.md5 is not None:
            got = _md5(tmp)
            if got != found.md5:
                raise DownloadError(f"{found.url} ({spec}): md5 {got}, Zenodo records md5 {found.md5}; "
                                    "the download is discarded")
        else:
            log.warning("%s: Zenodo gives no md5 for %s; verified by size only", spec, found.url)
        digests = dl.file_digests(tmp)
        os.replace(tmp, dest)
    if lockfile is not None:
        dl.record_lock(lockfile, key, digests, found.url)
    log.info("%s ready: Zenodo record %s, %d bytes, sha256 %s", dest, found.record_id, digests.size,
             digests.sha256)
    return dest

