"""Zip-slip refusal, atomic extraction and truncated-gzip errors."""

from __future__ import annotations

import gzip
import stat
import zipfile
from pathlib import Path

import pytest

from grnbench.data.archives import gunzip_to, read_gzip_text, safe_extract_zip
from grnbench.errors import InputError

TEXT = "Gene1,Gene2\n" + "TF1,G2\n" * 200


def make_zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def all_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_normal_extraction_and_member_selection(tmp_path):
    z = make_zip(
        tmp_path / "a.zip",
        {"data/hESC/Expr.csv": TEXT.encode(), "data/hHep/Expr.csv": b"x", "README": b"r"},
    )
    out = tmp_path / "out"
    written = safe_extract_zip(z, out)
    assert (out / "data" / "hESC" / "Expr.csv").read_text() == TEXT
    assert len(written) == 3
    out2 = tmp_path / "out2"
    written = safe_extract_zip(z, out2, members=["data/hESC/"])
    assert all_files(out2) == ["data", "data/hESC", "data/hESC/Expr.csv"]
    with pytest.raises(InputError, match="nope.*no such member"):
        safe_extract_zip(z, tmp_path / "out3", members=["nope"])


@pytest.mark.parametrize(
    "bad", ["../evil.txt", "ok/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt"]
)
def test_zip_slip_refused_and_nothing_extracted(tmp_path, bad):
    # The good member comes FIRST: it must not be extracted either.
    z = make_zip(tmp_path / "slip.zip", {"good.txt": b"fine", bad: b"pwned"})
    out = tmp_path / "sub" / "out"
    with pytest.raises(InputError) as err:
        safe_extract_zip(z, out)
    assert "slip.zip" in str(err.value) and bad in str(err.value)
    assert all_files(out) == []
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "sub" / "evil.txt").exists()


def test_symlink_member_refused(tmp_path):
    z = make_zip(tmp_path / "link.zip", {"good.txt": b"fine"}, symlinks={"link": "/etc/passwd"})
    with pytest.raises(InputError, match="symbolic link.*nothing extracted"):
        safe_extract_zip(z, tmp_path / "out")
    assert all_files(tmp_path / "out") == []


def test_not_a_zip_names_the_file(tmp_path):
    f = tmp_path / "fake.zip"
    f.write_bytes(b"<html>rate limited</html>")
    with pytest.raises(InputError, match="fake.zip.*cannot open as a zip"):
        safe_extract_zip(f, tmp_path / "out")


def test_gzip_roundtrip_and_truncation(tmp_path):
    blob = gzip.compress(TEXT.encode())
    good = tmp_path / "good.csv.gz"
    good.write_bytes(blob)
    assert read_gzip_text(good) == TEXT
    assert gunzip_to(good, tmp_path / "good.csv").read_text() == TEXT

    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InputError, match="cut.csv.gz.*truncated gzip"):
        read_gzip_text(cut)
    with pytest.raises(InputError, match="truncated gzip"):
        gunzip_to(cut, tmp_path / "cut.csv")
    assert not (tmp_path / "cut.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.csv.gz", "good.csv", "good.csv.gz"]

    notgz = tmp_path / "plain.gz"
    notgz.write_text(TEXT)
    with pytest.raises(InputError, match="not a gzip file"):
        read_gzip_text(notgz)


def test_member_through_existing_symlink_in_dest_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "link").symlink_to(outside, target_is_directory=True)
    z = make_zip(tmp_path / "via.zip", {"link/x.txt": b"y"})
    with pytest.raises(InputError, match="resolves outside"):
        safe_extract_zip(z, dest)
    assert list(outside.iterdir()) == []
