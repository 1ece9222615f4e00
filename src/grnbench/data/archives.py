"""Safe reading of downloaded archives (zip, gzip).

- :func:`safe_extract_zip` checks EVERY selected member before writing anything: a member whose path
  is absolute, contains ``..``, resolves outside the destination, or is a symbolic link is refused and
  nothing is extracted ("zip slip"). Each file is written to a temporary file and renamed into place,
  so an interrupted extraction never leaves a half-written file under its final name.
- :func:`read_gzip_text` / :func:`gunzip_to` turn a truncated or corrupt gzip stream into an
  InputError naming the file, instead of a bare EOFError deep inside pandas.

Every error is an :class:`~grnbench.errors.InputError` naming the archive and, where relevant, the
member.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import stat
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from grnbench.errors import InputError
from grnbench.utils import temp_beside

_CHUNK = 1 << 20


# --------------------------------------------------------------------------------------------------
# zip
# --------------------------------------------------------------------------------------------------


def _unsafe_reason(info: zipfile.ZipInfo, dest: Path) -> str | None:
    """Why extracting ``info`` under ``dest`` would be unsafe, or None when it is safe."""
    name = info.filename
    if "\0" in name:
        return "member name contains a NUL byte"
    # Zip names use '/', but a hostile archive may use '\\' or a drive letter ("C:").
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(norm).parts:
        return "path contains '..'"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symbolic link"
    target = (dest / norm).resolve()
    if target != dest and dest not in target.parents:
        return f"resolves outside {dest}"
    return None


def _select(
    zf: zipfile.ZipFile, zip_path: Path, members: Iterable[str] | None
) -> list[zipfile.ZipInfo]:
    """Members to extract: all, or the named ones (a name ending in '/' selects that folder)."""
    infos = zf.infolist()
    if members is None:
        return infos
    by_name = {i.filename: i for i in infos}
    chosen: dict[str, zipfile.ZipInfo] = {}
    for name in members:
        if name.endswith("/"):
            under = [i for i in infos if i.filename.startswith(name)]
            if not under:
                raise InputError(zip_path, "no member under this folder", where=f"member {name!r}")
            chosen.update((i.filename, i) for i in under)
        elif name in by_name:
            chosen[name] = by_name[name]
        else:
            raise InputError(zip_path, "no such member in the archive", where=f"member {name!r}")
    return list(chosen.values())


def safe_extract_zip(
    zip_path: str | os.PathLike, dest: str | os.PathLike, members: Iterable[str] | None = None
) -> list[Path]:
    """Extract ``members`` (default: all) of ``zip_path`` under ``dest``; return the files written.

    All selected members are validated first; one unsafe member (absolute path, ``..``, symlink,
    escaping ``dest``) refuses the whole extraction with nothing written. Files are written
    atomically (temporary file + rename) and their CRC is checked while reading.
    """
    zip_path = Path(zip_path)
    dest = Path(dest).resolve()
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise InputError(zip_path, f"cannot open as a zip archive: {err}") from err
    with zf:
        selected = _select(zf, zip_path, members)
        for info in selected:
            reason = _unsafe_reason(info, dest)
            if reason is not None:
                raise InputError(
                    zip_path,
                    f"unsafe member refused ({reason}); nothing extracted",
                    where=f"member {info.filename!r}",
                )
        written = []
        for info in selected:
            target = dest / info.filename.replace("\\", "/")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            with temp_beside(target) as tmp:
                try:
                    with zf.open(info) as src, tmp.open("wb") as out:
                        shutil.copyfileobj(src, out, _CHUNK)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
                    raise InputError(
                        zip_path,
                        f"corrupt or truncated member: {err}",
                        where=f"member {info.filename!r}",
                    ) from err
                os.replace(tmp, target)
            written.append(target)
    return written


# --------------------------------------------------------------------------------------------------
# gzip
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _gzip_errors(path: Path) -> Iterator[None]:
    """Translate gzip/zlib failures into an InputError naming ``path``."""
    try:
        yield
    except EOFError as err:
        raise InputError(
            path, f"truncated gzip file (stream ends early: {err}); download it again"
        ) from err
    except gzip.BadGzipFile as err:
        raise InputError(path, f"not a gzip file: {err}") from err
    except zlib.error as err:
        raise InputError(path, f"corrupt gzip data: {err}") from err


def read_gzip_text(path: str | os.PathLike, encoding: str = "utf-8") -> str:
    """Whole decompressed text of a ``.gz`` file; InputError on a truncated or corrupt stream."""
    path = Path(path)
    with _gzip_errors(path), gzip.open(path, "rb") as fh:
        data = fh.read()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise InputError(path, f"decompressed content is not {encoding} text: {err}") from err


def gunzip_to(path: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Decompress ``path`` into ``dest`` (streamed, atomic); InputError on a truncated stream, in
    which case ``dest`` is not created."""
    path, dest = Path(path), Path(dest)
    with temp_beside(dest) as tmp:
        with _gzip_errors(path), gzip.open(path, "rb") as src, tmp.open("wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
        os.replace(tmp, dest)
    return dest
