"""Zenodo files pinned by version (``zenodo:<concept>@<version>/<file>``), against a server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading

import pytest

from grnbench.data import zenodo
from grnbench.errors import DownloadError

BODY = b"PK-not-really-a-zip" * 100
FAST = {"retries": 1, "backoff": 0.01, "timeout": 5}


@pytest.fixture
def api(monkeypatch):
    """A fake Zenodo API on 127.0.0.1: ``routes[path] = (status, bytes)``."""
    routes: dict[str, tuple[int, bytes]] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server naming
            status, body = routes.get(self.path, (404, b"{}"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    monkeypatch.setenv("GRNBENCH_ZENODO_API", base + "/api")
    yield base, routes
    srv.shutdown()
    srv.server_close()


def listing(base: str, versions: dict[str, str], *, rdm: bool = False, md5: str | None = None) -> bytes:
    """A ``/versions`` answer: ``{record id: version}``, each record holding BEELINE-data.zip."""
    hits = []
    for rid, version in versions.items():
        entry = {"key": "BEELINE-data.zip", "size": len(BODY),
                 "checksum": f"md5:{md5 or hashlib.md5(BODY).hexdigest()}"}
        link = f"{base}/records/{rid}/files/BEELINE-data.zip"
        if rdm:
            files = {"entries": {"BEELINE-data.zip": {**entry, "links": {"content": link}}}}
        else:
            files = [{**entry, "links": {"self": link}}]
        hits.append({"id": int(rid), "metadata": {"version": version}, "files": files})
    return json.dumps({"hits": {"hits": hits, "total": len(hits)}}).encode()


VERSIONS = "/api/records/3378975/versions?allversions=true&size=100"


@pytest.mark.parametrize("rdm", [False, True], ids=["legacy", "invenio-rdm"])
def test_resolve_picks_the_named_version(api, rdm):
    base, routes = api
    routes[VERSIONS] = (200, listing(base, {"3701939": "v3", "15000004": "v4", "9999": "2"}, rdm=rdm))
    found = zenodo.resolve("zenodo:3378975@v4/BEELINE-data.zip", **FAST)
    assert found.record_id == "15000004"
    assert found.url == f"{base}/records/15000004/files/BEELINE-data.zip"
    assert found.size == len(BODY) and found.md5 == hashlib.md5(BODY).hexdigest()
    # "4" and "v4" name the same version
    assert zenodo.resolve("zenodo:3378975@2/BEELINE-data.zip", **FAST).record_id == "9999"
    assert zenodo.resolve("zenodo:3378975@v2/BEELINE-data.zip", **FAST).record_id == "9999"


def test_missing_version_names_the_listed_ones(api):
    base, routes = api
    routes[VERSIONS] = (200, listing(base, {"3701939": "v3"}))
    with pytest.raises(DownloadError, match=r"no version 'v4'.*3701939.*v3"):
        zenodo.resolve("zenodo:3378975@v4/BEELINE-data.zip", **FAST)


def test_missing_file_names_the_record_files(api):
    base, routes = api
    routes[VERSIONS] = (200, listing(base, {"15000004": "v4"}))
    with pytest.raises(DownloadError, match=r"no file 'BEELINE-Networks.zip'.*BEELINE-data.zip"):
        zenodo.resolve("zenodo:3378975@v4/BEELINE-Networks.zip", **FAST)


def test_api_errors_are_named(api):
    base, routes = api
    with pytest.raises(DownloadError, match="HTTP 404 from Zenodo"):
        zenodo.resolve("zenodo:3378975@v4/BEELINE-data.zip", **FAST)
    routes[VERSIONS] = (200, b"<html>maintenance</html>")
    with pytest.raises(DownloadError, match="did not answer JSON"):
        zenodo.resolve("zenodo:3378975@v4/BEELINE-data.zip", **FAST)
    routes[VERSIONS] = (503, b"{}")
    with pytest.raises(DownloadError, match="failed after 2 attempts"):
        zenodo.resolve("zenodo:3378975@v4/BEELINE-data.zip", **FAST)


@pytest.mark.parametrize("bad", ["zenodo:3378975/BEELINE-data.zip", "zenodo:abc@v4/x.zip",
                                 "zenodo:3378975@v4/sub/x.zip"])
def test_malformed_spec(bad):
    with pytest.raises(DownloadError, match="expected zenodo:<concept record id>@<version>/<file name>"):
        zenodo.parse(bad)


def test_fetch_pinned_verifies_md5_and_locks_the_record(api, tmp_path, caplog):
    from grnbench.data import download as dl

    base, routes = api
    routes[VERSIONS] = (200, listing(base, {"3701939": "v3", "15000004": "v4"}))
    routes["/records/15000004/files/BEELINE-data.zip"] = (200, BODY)
    routes["/records/3701939/files/BEELINE-data.zip"] = (200, b"the v3 bytes")
    lock = tmp_path / "lock.tsv"
    dest = tmp_path / "out" / "BEELINE-data.zip"
    dest.parent.mkdir()
    zenodo.fetch_pinned("zenodo:3378975@v4/BEELINE-data.zip", dest, key="beeline_data", lockfile=lock, **FAST)
    assert dest.read_bytes() == BODY
    entry = dl.read_lock(lock)["beeline_data"]
    assert entry["sha256"] == hashlib.sha256(BODY).hexdigest()
    assert entry["url"] == f"{base}/records/15000004/files/BEELINE-data.zip"  # the record id, pinned
    # later runs: the lock alone says where and what; Zenodo's API is not asked again
    dest.unlink()
    del routes[VERSIONS]
    zenodo.fetch_pinned("zenodo:3378975@v4/BEELINE-data.zip", dest, key="beeline_data", lockfile=lock, **FAST)
    assert dest.read_bytes() == BODY
    # the record now serves other bytes: refused against the lock
    dest.unlink()
    routes["/records/15000004/files/BEELINE-data.zip"] = (200, b"x" * len(BODY))
    with pytest.raises(DownloadError, match="SHA-256"):
        zenodo.fetch_pinned("zenodo:3378975@v4/BEELINE-data.zip", dest, key="beeline_data", lockfile=lock, **FAST)
    assert not dest.exists() and sorted(p.name for p in dest.parent.iterdir()) == []


def test_fetch_pinned_refuses_bytes_that_differ_from_zenodos_md5(api, tmp_path):
    base, routes = api
    routes[VERSIONS] = (200, listing(base, {"15000004": "v4"}, md5="0" * 32))
    routes["/records/15000004/files/BEELINE-data.zip"] = (200, BODY)
    lock = tmp_path / "lock.tsv"
    with pytest.raises(DownloadError, match=r"md5 .*Zenodo records md5 0{32}"):
        zenodo.fetch_pinned("zenodo:3378975@v4/BEELINE-data.zip", tmp_path / "BEELINE-data.zip",
                            key="beeline_data", lockfile=lock, **FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing published, no temp file, no lock


def test_fetch_pinned_offline_copy_is_recorded_with_a_warning(tmp_path, caplog, monkeypatch):
    from grnbench.data import download as dl

    monkeypatch.setenv("GRNBENCH_ZENODO_API", "http://127.0.0.1:9/api")  # nothing listens there
    local = tmp_path / "offline"
    local.mkdir()
    (local / "BEELINE-data.zip").write_bytes(BODY)
    lock = tmp_path / "lock.tsv"
    dest = tmp_path / "BEELINE-data.zip"
    with caplog.at_level("WARNING"):
        zenodo.fetch_pinned("zenodo:3378975@v4/BEELINE-data.zip", dest, key="beeline_data",
                            lockfile=lock, local_dir=local, **FAST)
    assert dest.read_bytes() == BODY
    assert "nothing here can confirm that it is version v4" in caplog.text
    assert dl.read_lock(lock)["beeline_data"]["sha256"] == hashlib.sha256(BODY).hexdigest()


def test_fetch_source_routes_zenodo_urls(api, tmp_path):
    """A sources.tsv row with a zenodo: URL is fetched by version; a sha256 beside it is refused."""
    from grnbench.data import download as dl
    from grnbench.errors import InputError

    base, routes = api
    routes[VERSIONS] = (200, listing(base, {"15000004": "v4"}))
    routes["/records/15000004/files/BEELINE-data.zip"] = (200, BODY)
    sources = tmp_path / "sources.tsv"
    head = "key\turl\tfile\tsha256\tbytes\tdescription\n"
    sources.write_text(head + "bd\tzenodo:3378975@v4/BEELINE-data.zip\tBEELINE-data.zip\t\t\tv4\n")
    lock = tmp_path / "lock.tsv"
    out = dl.fetch_source("bd", tmp_path / "raw", sources=sources, lockfile=lock, **FAST)
    assert out.read_bytes() == BODY and "records/15000004" in dl.read_lock(lock)["bd"]["url"]
    sources.write_text(head + f"bd\tzenodo:3378975@v4/BEELINE-data.zip\tBEELINE-data.zip\t{'a' * 64}\t\tv4\n")
    with pytest.raises(InputError, match="takes its hash from Zenodo"):
        dl.fetch_source("bd", tmp_path / "raw2", sources=sources, lockfile=lock, **FAST)
