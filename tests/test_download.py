"""Downloads against a real HTTP server on 127.0.0.1, the lock file, local copies and the manifest."""

from __future__ import annotations

import csv
import hashlib
import http.server
import logging
import threading
import urllib.request
from pathlib import Path

import pytest

from grnbench.data import download as dl
from grnbench.errors import DownloadError, InputError

GOOD = b"Gene1,Gene2\nTF1,G2\nTF1,G3\n" * 50
FAST = {"retries": 2, "backoff": 0.01, "timeout": 5}


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Server:
    """http.server in a thread: each path answers a scripted list of responses (the last repeats).

    A response is ``(status, body)`` or ``(status, body, declared_length)``; a declared length larger
    than the body simulates a truncated transfer. Bounded: serves at most ``max_requests`` requests,
    polls a stop flag, and is shut down by the fixture.
    """

    def __init__(self, max_requests: int = 50):
        self.routes: dict[str, list[tuple]] = {}
        self.counts: dict[str, int] = {}
        self.max_requests = max_requests
        self._stop = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server naming
                script = server.routes.get(self.path)
                n = server.counts.get(self.path, 0)
                server.counts[self.path] = n + 1
                if script is None:
                    status, body, declared = 404, b"not found", None
                else:
                    status, body, *rest = script[min(n, len(script) - 1)]
                    declared = rest[0] if rest else None
                self.send_response(status)
                self.send_header(
                    "Content-Length", str(declared if declared is not None else len(body))
                )
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.timeout = 0.1
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        served = 0
        while not self._stop.is_set() and served < self.max_requests:
            self.httpd.handle_request()  # returns after one request or the 0.1 s timeout
            served = sum(self.counts.values())

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network used although the file is available locally")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


# ---------------------------------------------------------------------------------------- hashes


def test_git_blob_sha1_matches_git_hash_object(tmp_path):
    f = tmp_path / "hello"
    f.write_bytes(b"hello\n")
    # `printf 'hello\n' | git hash-object --stdin`
    assert dl.file_digests(f).git_sha1 == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert dl.file_digests(f).sha256 == sha256(b"hello\n")


# ---------------------------------------------------------------------------------------- fetch


def test_good_file_git_sha1_and_sha256(server, tmp_path, caplog):
    server.routes["/f.csv"] = [(200, GOOD)]
    caplog.set_level(logging.INFO, logger="grnbench.data.download")
    out = dl.fetch(
        server.url("/f.csv"),
        tmp_path / "a" / "f.csv",
        git_sha1=git_sha1(GOOD),
        size=len(GOOD),
        **FAST,
    )
    assert out.read_bytes() == GOOD
    assert leftovers(tmp_path / "a") == ["f.csv"]
    assert "downloading" in caplog.text
    out2 = dl.fetch(server.url("/f.csv"), tmp_path / "b" / "f.csv", sha256=sha256(GOOD), **FAST)
    assert out2.read_bytes() == GOOD
    assert server.counts["/f.csv"] == 2
    # Already present and verified: no new request.
    dl.fetch(server.url("/f.csv"), out2, sha256=sha256(GOOD), **FAST)
    assert server.counts["/f.csv"] == 2


def test_corrupted_file_is_discarded(server, tmp_path):
    bad = GOOD.replace(b"TF1", b"TFX", 1)
    server.routes["/f.csv"] = [(200, bad)]
    dest = tmp_path / "d" / "f.csv"
    with pytest.raises(DownloadError) as err:
        dl.fetch(server.url("/f.csv"), dest, git_sha1=git_sha1(GOOD), **FAST)
    msg = str(err.value)
    assert server.url("/f.csv") in msg and git_sha1(GOOD) in msg and git_sha1(bad) in msg
    assert leftovers(tmp_path / "d") == []  # nothing at dest, no temp file
    assert server.counts["/f.csv"] == 1  # a complete transfer with the wrong hash is not retried


def test_present_but_wrong_dest_is_replaced(server, tmp_path):
    server.routes["/f.csv"] = [(200, GOOD)]
    dest = tmp_path / "f.csv"
    dest.write_bytes(b"stale")
    dl.fetch(server.url("/f.csv"), dest, sha256=sha256(GOOD), **FAST)
    assert dest.read_bytes() == GOOD


def test_truncated_transfer_is_retried_then_fails(server, tmp_path):
    server.routes["/big.csv"] = [(200, GOOD[:100], len(GOOD))]
    with pytest.raises(DownloadError, match="after 3 attempts.*truncated"):
        dl.fetch(server.url("/big.csv"), tmp_path / "big.csv", sha256=sha256(GOOD), **FAST)
    assert server.counts["/big.csv"] == 3  # first try + retries=2
    assert leftovers(tmp_path) == []


def test_truncated_then_complete_succeeds(server, tmp_path):
    server.routes["/big.csv"] = [(200, GOOD[:100], len(GOOD)), (200, GOOD)]
    out = dl.fetch(server.url("/big.csv"), tmp_path / "big.csv", git_sha1=git_sha1(GOOD), **FAST)
    assert out.read_bytes() == GOOD and server.counts["/big.csv"] == 2


def test_404_fails_at_once_naming_url(server, tmp_path):
    url = server.url("/missing.csv")
    with pytest.raises(DownloadError) as err:
        dl.fetch(url, tmp_path / "missing.csv", sha256=sha256(GOOD), **FAST)
    assert url in str(err.value) and "404" in str(err.value)
    assert server.counts["/missing.csv"] == 1
    assert leftovers(tmp_path) == []


def test_500_then_success(server, tmp_path, caplog):
    server.routes["/f.csv"] = [(500, b"oops"), (503, b"busy"), (200, GOOD)]
    caplog.set_level(logging.WARNING, logger="grnbench.data.download")
    out = dl.fetch(server.url("/f.csv"), tmp_path / "f.csv", sha256=sha256(GOOD), **FAST)
    assert out.read_bytes() == GOOD
    assert server.counts["/f.csv"] == 3
    assert "HTTP 500" in caplog.text and "retrying" in caplog.text


def test_connection_refused_is_retried_then_fails(tmp_path):
    s = Server()
    url = s.url("/f.csv")
    s.stop()  # port closed now
    with pytest.raises(DownloadError, match="after 2 attempts"):
        dl.fetch(url, tmp_path / "f.csv", sha256=sha256(GOOD), retries=1, backoff=0.01, timeout=2)
    assert leftovers(tmp_path) == []


def test_lock_file_records_then_verifies(server, tmp_path):
    server.routes["/s.gz"] = [(200, GOOD)]
    lock = tmp_path / "download.lock"
    dl.fetch(server.url("/s.gz"), tmp_path / "a" / "s.gz", lockfile=lock, key="src", **FAST)
    entry = dl.read_lock(lock)["src"]
    assert entry["sha256"] == sha256(GOOD) and entry["bytes"] == str(len(GOOD))
    # Second download of the same content verifies against the record and appends nothing.
    dl.fetch(server.url("/s.gz"), tmp_path / "b" / "s.gz", lockfile=lock, key="src", **FAST)
    assert len(lock.read_text().splitlines()) == 2
    # The source changes: the recorded hash catches it.
    server.routes["/s.gz"] = [(200, GOOD + b"extra\n")]
    with pytest.raises(DownloadError, match="SHA-256 mismatch|size in bytes mismatch"):
        dl.fetch(server.url("/s.gz"), tmp_path / "c" / "s.gz", lockfile=lock, key="src", **FAST)
    assert leftovers(tmp_path / "c") == []


def test_local_dir_copy_verifies_without_network(tmp_path, no_network):
    local = tmp_path / "mirror"
    (local / "sub").mkdir(parents=True)
    (local / "sub" / "f.csv").write_bytes(GOOD)
    out = dl.fetch(
        "http://127.0.0.1:9/f.csv",
        tmp_path / "dest" / "f.csv",
        git_sha1=git_sha1(GOOD),
        local_dir=local,
        local_name="sub/f.csv",
    )
    assert out.read_bytes() == GOOD
    (local / "sub" / "f.csv").write_bytes(GOOD[:-1])
    with pytest.raises(DownloadError, match="local copy"):
        dl.fetch(
            "http://127.0.0.1:9/f.csv",
            tmp_path / "dest2" / "f.csv",
            git_sha1=git_sha1(GOOD),
            local_dir=local,
            local_name="sub/f.csv",
        )
    assert leftovers(tmp_path / "dest2") == []


def test_local_dir_without_file_falls_back_to_download(server, tmp_path):
    server.routes["/f.csv"] = [(200, GOOD)]
    (tmp_path / "empty").mkdir()
    dl.fetch(
        server.url("/f.csv"),
        tmp_path / "f.csv",
        sha256=sha256(GOOD),
        local_dir=tmp_path / "empty",
        **FAST,
    )
    assert server.counts["/f.csv"] == 1


# ---------------------------------------------------------------------------------------- manifest


def test_genelink_url_encodes_spaces_and_plus():
    url = dl.genelink_url("Dataset/Benchmark Dataset/Specific Dataset/hESC/TFs+500/TF.csv")
    assert url == (
        "https://raw.githubusercontent.com/zpliulab/GENELink/4eb816af27f5fe0cb26f9230286401801b251129/"
        "Dataset/Benchmark%20Dataset/Specific%20Dataset/hESC/TFs%2B500/TF.csv"
    )


def test_committed_manifest_matches_source(shared_data, tmp_path):
    rebuilt = dl.build_genelink_manifest(
        shared_data / "genelink" / "MANIFEST.tsv", tmp_path / "m.tsv"
    )
    assert rebuilt.read_bytes() == dl.GENELINK_MANIFEST.read_bytes()


def test_manifest_rows_cover_the_benchmark():
    rows = [r for r in dl.read_manifest() if r["network"]]
    assert {r["network"] for r in rows} == {"specific", "nonspecific", "string", "lofgof"}
    assert {r["geneset"] for r in rows} == {"tfs500", "tfs1000"}
    keys = [(r["network"], r["cell"], r["geneset"], r["file"]) for r in rows]
    assert len(keys) == len(set(keys))
    hesc = dl.genelink_entry("specific", "hESC", "tfs500", "BL--ExpressionData.csv")
    assert hesc["bytes"] == "NA" and len(hesc["git_blob_sha1"]) == 40


def test_missing_manifest_entry_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no GENELink file.*cells for 'specific'.*hESC"):
        dl.fetch_genelink("hESX", "specific", "tfs500", tmp_path)
    assert leftovers(tmp_path) == []


@pytest.mark.shared_data
def test_fetch_genelink_mdc_from_shared_data(shared_data, tmp_path, no_network):
    src = shared_data / "genelink"
    paths = dl.fetch_genelink("mDC", "specific", "tfs500", tmp_path / "mDC", local_dir=src)
    assert [p.name for p in paths] == list(dl.GENELINK_FILES)
    for p in paths:
        e = dl.genelink_entry("specific", "mDC", "tfs500", p.name)
        assert dl.file_digests(p).git_sha1 == e["git_blob_sha1"]
        assert p.read_bytes() == (src / "specific" / "mDC" / "tfs500" / p.name).read_bytes()


def test_fetch_genelink_wrong_manifest_hash_fails(tmp_path, no_network):
    local = tmp_path / "mirror" / "specific" / "X" / "tfs500"
    local.mkdir(parents=True)
    (local / "TF.csv").write_bytes(GOOD)
    manifest = tmp_path / "m.tsv"
    with manifest.open("w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(dl.MANIFEST_COLUMNS)
        w.writerow(
            ["specific", "X", "tfs500", "TF.csv", "p", "0" * 40, "NA", "http://127.0.0.1:9/x"]
        )
    with pytest.raises(DownloadError, match="git blob SHA-1 mismatch"):
        dl.fetch_genelink(
            "X",
            "specific",
            "tfs500",
            tmp_path / "out",
            local_dir=tmp_path / "mirror",
            files=("TF.csv",),
            manifest=manifest,
        )


# ---------------------------------------------------------------------------------------- sources


def test_sources_table_is_well_formed():
    table = dl.read_sources()
    assert {"beeline_data", "beeline_networks", "geo_hesc_timecourse", "geo_hhep_lineage"} <= set(
        table
    )
    for row in table.values():
        assert row["url"].startswith(("https://", "zenodo:"))
        assert row["file"] in row["url"]
    # BEELINE v1.1 needs dataset version v4 of the concept record (pinned by version)
    assert table["beeline_data"]["url"] == "zenodo:3378975@v4/BEELINE-data.zip"
    assert table["beeline_networks"]["url"] == "zenodo:3378975@v4/BEELINE-Networks.zip"


def test_fetch_source_from_local_dir_records_lock(tmp_path, no_network):
    local = tmp_path / "mirror"
    local.mkdir()
    (local / "GSE75748_sc_time_course_ec.csv.gz").write_bytes(GOOD)
    lock = tmp_path / "lock.tsv"
    out = dl.fetch_source("geo_hesc_timecourse", tmp_path / "raw", local_dir=local, lockfile=lock)
    assert out.name == "GSE75748_sc_time_course_ec.csv.gz"
    assert dl.read_lock(lock)["geo_hesc_timecourse"]["sha256"] == sha256(GOOD)
    # Saved under another name (a workflow output), verified against the same lock entry.
    other = dl.fetch_source(
        "geo_hesc_timecourse", tmp_path / "raw2", local_dir=local, lockfile=lock, filename="hesc.gz"
    )
    assert other.name == "hesc.gz" and other.read_bytes() == GOOD
    with pytest.raises(InputError, match="unknown source key"):
        dl.fetch_source("nope", tmp_path, lockfile=lock)
