"""Reading a GEO supplementary matrix, and the cells: time labels, selection, names."""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.data.archives import read_gzip_text
from grnbench.data.geo.spec import GeoSpec
from grnbench.errors import InputError

log = logging.getLogger(__name__)


def read_text(path: str | os.PathLike) -> str:
    """Whole text of a ``.csv`` / ``.txt`` (optionally ``.gz``) file; clear errors when unreadable."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file does not exist")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty")
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    if gz or path.suffix == ".gz":
        return read_gzip_text(path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputError(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from e


def _check_delimiter(first_line: str, sep: str, path) -> None:
    """One column in the header means the delimiter is wrong; say which one the file seems to use."""
    if first_line.count(sep) >= 1:
        return
    seen = [name for name, ch in (("tab", "\t"), ("comma", ","), ("semicolon", ";"), ("space", " "))
            if ch != sep and first_line.count(ch) >= 1]
    hint = f"; the header contains {seen[0]}s -- set 'sep' accordingly" if seen else ""
    raise InputError(path, f"header has a single column with delimiter {sep!r}{hint}", where="line 1")


def _unique(names: pd.Index, path, what: str, policy: str) -> np.ndarray:
    """Boolean mask keeping unique names; duplicates raise (policy 'error') or keep the first."""
    dup = names.duplicated(keep="first")
    if dup.any():
        first = names[dup][0]
        if policy == "error":
            raise InputError(path, f"duplicated {what} {first!r} ({int(dup.sum())} duplicates); "
                                   "set duplicate_genes: first to keep the first occurrence")
        log.warning("%s: %d duplicated %ss (e.g. %r); keeping the first occurrence", path, int(dup.sum()), what, first)
    return ~np.asarray(dup)


def read_geo_matrix(
    path: str | os.PathLike, *, orientation: str = "genes_x_cells", sep: str = ",",
    meta_columns=(), duplicate_genes: str = "error",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A GEO supplementary matrix -> (values cells x genes float64, metadata cells x columns).

    ``genes_x_cells``: first column gene names, header cell names (GSE75748 layout).
    ``cells_x_genes``: first column cell names, then ``meta_columns``, then one column per gene
    (GSE81252 layout). Row and column names are read as written (no NA conversion, no renaming
    of duplicates: those are detected). A header one field shorter than the rows (no name for
    the first column) is accepted.
    """
    path = Path(path)
    text = read_text(path)
    lines = text.split("\n", 2)
    _check_delimiter(lines[0].rstrip("\r"), sep, path)
    header = next(csv.reader([lines[0].rstrip("\r")], delimiter=sep))
    if len(lines) < 2 or not lines[1].strip():
        raise InputError(path, "expected a header and at least one data row")
    n_fields = len(next(csv.reader([lines[1].rstrip("\r")], delimiter=sep)))
    if n_fields == len(header) + 1 and header[0] != "":
        header = [""] + header
    elif n_fields != len(header):
        raise InputError(path, f"header has {len(header)} fields but the first data row has {n_fields} "
                               f"(delimiter {sep!r})", where="line 2")
    try:
        names = pd.read_csv(io.StringIO(text), sep=sep, header=None, skiprows=1, usecols=[0], dtype=str,
                            keep_default_na=False).iloc[:, 0]
        body = pd.read_csv(io.StringIO(text), sep=sep, header=None, skiprows=1, index_col=0)
    except (pd.errors.ParserError, ValueError) as e:
        raise InputError(path, f"malformed table with delimiter {sep!r} ({e})") from e
    del text
    body.index, body.columns = pd.Index(names.astype(str)), pd.Index(header[1:], dtype=str)
    if body.shape[0] == 0 or body.shape[1] == 0:
        raise InputError(path, f"expected at least one row and one value column, got {body.shape}")
    if orientation == "genes_x_cells":
        if meta_columns:
            raise InputError(path, "meta_columns only apply to orientation cells_x_genes")
        _unique(body.columns, path, "cell", "error")
        values = body.iloc[_unique(body.index, path, "gene", duplicate_genes)].T
        meta = pd.DataFrame(index=values.index)
    elif orientation == "cells_x_genes":
        missing = [c for c in meta_columns if c not in body.columns]
        if missing:
            raise InputError(path, f"metadata column(s) {missing} not in the header (first columns: {list(body.columns[:5])})")
        _unique(body.index, path, "cell", "error")
        meta = body[list(meta_columns)].astype(str)
        values = body.drop(columns=list(meta_columns))
        values = values.loc[:, _unique(values.columns, path, "gene", duplicate_genes)]
    else:
        raise InputError(path, f"orientation {orientation!r}; expected genes_x_cells or cells_x_genes")
    if all(pd.api.types.is_numeric_dtype(d) for d in values.dtypes):
        arr = values.to_numpy(dtype=float)
    else:  # some column holds text: coerce to find (and name) the first bad value
        arr = values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise InputError(
            path, f"value {values.iat[i, j]!r} is not a finite number ({int(bad.sum())} such values); "
                  "expected numeric expression",
            where=f"cell {values.index[i]!r}, gene {values.columns[j]!r}",
        )
    out = pd.DataFrame(arr, index=pd.Index(values.index.astype(str)), columns=pd.Index(values.columns.astype(str)))
    meta.index = out.index
    return out, meta


def cell_labels(cells: pd.Index, meta: pd.DataFrame, spec: GeoSpec, source="matrix") -> pd.Series:
    """Experimental time label of every cell (after ``label_map``)."""
    if spec.time_from == "name":
        rx = re.compile(spec.time_pattern)
        labels = []
        for c in cells:
            m = rx.search(c)
            if m is None:
                raise InputError(source, f"cell name {c!r} does not match time_pattern {spec.time_pattern!r}")
            labels.append(m.group(1))
        lab = pd.Series(labels, index=cells, dtype=str)
    else:
        if spec.time_column not in meta.columns:
            raise InputError(source, f"no metadata column {spec.time_column!r} (have {list(meta.columns)}); "
                                     "list it in meta_columns")
        lab = meta[spec.time_column].astype(str)
    return lab.map(lambda x: str(spec.label_map.get(x, x))).rename("label")


def label_times(labels: pd.Series, spec: GeoSpec, source="config: geo") -> pd.Series:
    """Numeric time of every cell: ``time_values[label]``, or the label read as a number."""
    out = {}
    for lab in pd.unique(labels):
        if lab in spec.time_values:
            out[lab] = float(spec.time_values[lab])
            continue
        try:
            out[lab] = float(lab)
        except ValueError:
            raise InputError(source, f"time label {lab!r} is not a number and not in time_values "
                                     f"{sorted(spec.time_values)}") from None
    return labels.map(out).astype(float).rename("time")


def select_cells(labels: pd.Series, spec: GeoSpec, source="config: geo") -> np.ndarray:
    """Boolean mask of the cells kept (all, or those whose label is in ``keep_labels``)."""
    if spec.keep_labels is None:
        return np.ones(len(labels), dtype=bool)
    unknown = set(spec.keep_labels) - set(labels)
    if unknown:
        raise InputError(source, f"keep_labels {sorted(unknown)} match no cell; labels are {sorted(set(labels))}")
    return labels.isin(spec.keep_labels).to_numpy()


def beeline_cell_names(cells: pd.Index) -> pd.Index:
    """BEELINE's notebooks wrote cell names with '.' replaced by '_' (``H9.00hb4s_001`` -> ``H9_00hb4s_001``)."""
    return pd.Index([c.replace(".", "_") for c in cells])
