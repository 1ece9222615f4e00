"""Readers for the field's file formats, with errors that name the file, row or gene.

- BEELINE: ``ExpressionData.csv`` (genes x cells, first column gene symbol), ``PseudoTime.csv``
  (first column cell, one column per lineage; the header may name the lineages only, R-style), ``refNetwork.csv`` / ``GroundTruthNetwork.csv``
  (``Gene1,Gene2[,Type]``), TF list (one column ``TF``, or GENELink's ``,TF,index``).
- GENELink folder: ``BL--ExpressionData.csv``, ``BL--network.csv``, ``TF.csv`` (``,TF,index``
  with index = row in the expression file), ``Target.csv`` (``,Gene,index``).

All readers return pandas objects or :class:`~grnbench.data.GRNData`; nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.data.dataset import GRNData, make_adata
from grnbench.errors import InputError


def read_table(path: str | os.PathLike, *, short_header: bool = False,
               source: object = None) -> tuple[list[str], np.ndarray]:
    """A CSV as written: ``(header, rows)`` with every field a Python string, nothing coerced.

    Names stay verbatim (``NA``, ``01`` and ``True`` are names, not NaN, 1 or a bool); blank
    lines are skipped and a UTF-8 byte-order mark is dropped; a row whose field count differs
    from the header's is refused, naming its line. With ``short_header`` a header one field
    shorter than the first row is R's ``write.table`` layout (the header names the value columns,
    each row starts with its row name, as BEELINE's example ``PseudoTime.csv``): an empty name
    is put in front of it, and every row must then have that many fields. Errors name ``source``
    (default: ``path``), e.g. ``archive.zip:member`` for a member extracted to a temporary file.
    """
    import csv

    path = Path(path)
    where = path if source is None else source
    if not path.exists():
        raise InputError(where, "file does not exist")
    if path.stat().st_size == 0:
        raise InputError(where, "file is empty")
    rows, width, header = [], None, None
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for line_no, row in enumerate(csv.reader(fh, strict=True), start=1):
                if not row:
                    continue
                if header is None:
                    header, width = row, len(row)
                    _check_delimiter(header, where)
                    continue
                if short_header and not rows and len(row) == width + 1:  # R layout: row names unnamed
                    header, width = ["", *header], width + 1
                if len(row) != width:
                    more = "more" if len(row) > width else "fewer"
                    raise InputError(where, f"{len(row)} fields, {more} than the header's {width}; "
                                           "expected comma-separated rows like the header", where=f"line {line_no}")
                rows.append(row)
    except UnicodeDecodeError as e:
        raise InputError(where, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    except csv.Error as e:
        raise InputError(where, f"malformed CSV ({e})") from e
    if header is None:
        raise InputError(where, "file has no rows or header")
    arr = np.empty((len(rows), width), dtype=object)
    if rows:
        arr[:] = rows
    return header, arr


#: Delimiters other than the comma that a CSV file is sometimes written with.
OTHER_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}


def _check_delimiter(header: list[str], path) -> None:
    """A one-field header holding ``;``, a tab or ``|`` means the file uses that delimiter."""
    if len(header) != 1:
        return
    found = [name for d, name in OTHER_DELIMITERS.items() if d in header[0]]
    if found:
        raise InputError(path, f"the header {header[0]!r} is one field holding {found[0]} characters: the file "
                               f"looks {found[0]}-separated; expected comma-separated values (CSV)", where="line 1")


_NUMBER = r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)"


def _numbers(values: np.ndarray, path, describe) -> np.ndarray:
    """Strings -> float64 with correct rounding; refuse anything that is not a finite number.

    Only plain decimal notation is a number (not ``True``, ``1_0`` or an empty field).
    ``describe(i, j)`` names the offending field (row/gene/cell) for the error message.
    """
    flat = pd.Series(values.ravel(), dtype=object).astype(str).str.strip()
    ok = flat.str.fullmatch(_NUMBER, case=False).to_numpy(bool)
    out = np.zeros(flat.shape)
    out[ok] = flat.to_numpy(dtype=object)[ok].astype(np.float64)
    out = out.reshape(values.shape)
    bad = ~ok.reshape(values.shape) | ~np.isfinite(out)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise InputError(path, f"value {values[i, j]!r} is not a finite number ({int(bad.sum())} such values); "
                               "expected numbers", where=describe(i, j))
    return out


def _is_number(v: str) -> bool:
    import re

    return re.fullmatch(_NUMBER, v.strip(), flags=re.IGNORECASE) is not None


def _check_names(names, path, what: str, line_offset: int = 2) -> None:
    names = pd.Index(names)
    empty = np.flatnonzero(np.asarray(names.str.strip() == ""))
    if len(empty):
        raise InputError(path, f"empty {what} name", where=f"line {int(empty[0]) + line_offset}")
    dup = names[names.duplicated()]
    if len(dup):
        raise InputError(path, f"duplicated {what} {str(dup[0])!r} ({len(dup)} duplicates); {what}s must be unique")


def _looks_like_data(header: list[str]) -> bool:
    """A first line that names a row (non-empty first field) and has only numbers after it is a
    data row: the file has no header."""
    vals = header[1:]
    return bool(header[0].strip()) and bool(vals) and all(_is_number(v) for v in vals)


def _column(header: list[str], rows: np.ndarray, name: str, path) -> np.ndarray:
    if name not in header:
        raise InputError(path, f"expected a column named {name!r}, got {header}")
    return rows[:, header.index(name)]


def read_expression(path: str | os.PathLike) -> pd.DataFrame:
    """BEELINE / GENELink expression (genes x cells) -> cells x genes float frame.

    Raises InputError for an empty or headerless file, ragged rows, no cells, empty or
    duplicated genes or cells, and any value that is not a finite number representable in
    float32 (naming the gene and cell).
    """
    header, rows = read_table(path)
    if len(header) < 2 or len(rows) == 0:
        raise InputError(path, f"expected genes x cells with at least one of each, got {len(rows)} x {len(header) - 1}")
    if _looks_like_data(header):
        raise InputError(path, "the first line looks like data, not a header of cell names (expected ',cell1,cell2,...')")
    genes, cells = rows[:, 0], header[1:]
    _check_names(genes, path, "gene")
    _check_names(cells, path, "cell", line_offset=1)
    x = _numbers(rows[:, 1:], path, lambda i, j: f"gene {genes[i]!r}, cell {cells[j]!r}, line {i + 2}")
    with np.errstate(over="ignore"):
        big = np.isinf(x.astype(np.float32))  # what float32 storage would turn into inf
    if big.any():
        i, j = (int(k) for k in np.argwhere(big)[0])
        raise InputError(path, f"value {rows[i, j + 1]} exceeds the float32 range used for expression",
                         where=f"gene {genes[i]!r}, cell {cells[j]!r}, line {i + 2}")
    return pd.DataFrame(x.T, index=pd.Index(cells), columns=pd.Index(genes))


MISSING = {"", "NA", "NaN", "nan", "N/A"}


def read_pseudotime(path: str | os.PathLike, *, short_header: bool = False) -> pd.Series:
    """BEELINE PseudoTime.csv -> Series indexed by cell (first non-missing lineage per cell).

    Missing values are empty or ``NA``; anything else must be a finite number. ``short_header``:
    see :func:`read_pseudotime_lineages`.
    """
    pt = read_pseudotime_lineages(path, short_header=short_header)
    return pt.bfill(axis=1).iloc[:, 0].rename("pseudotime")


def read_pseudotime_lineages(path: str | os.PathLike, *, short_header: bool = False) -> pd.DataFrame:
    """BEELINE PseudoTime.csv -> cells x lineages frame (NaN where a cell is not on a lineage).

    Columns are the file's lineage names (``PseudoTime1``, ``PseudoTime2``, ...). With
    ``short_header`` the header may name the lineages only, one field short of every row, as
    BEELINE's own example files (``inputs/example/GSD/ex1/PseudoTime.csv``: ``PseudoTime1,PseudoTime2``
    over rows ``cell,t1,t2``), which BEELINE reads with pandas' implicit index; the pipeline
    (:func:`grnbench.pipeline.load_raw_dataset`, :func:`read_beeline`) reads them so. Without it
    such a file is refused as ragged (a row one field longer than the header).
    """
    header, rows = read_table(path, short_header=short_header)
    if len(header) < 2 or len(rows) == 0:
        raise InputError(path, "expected a header, then one row per cell: cell, pseudotime[, more lineages]")
    if _looks_like_data(header):
        raise InputError(path, "the first line looks like data, not a header (expected 'cell,PseudoTime,...')")
    cells = rows[:, 0]
    _check_names(cells, path, "cell")
    vals = rows[:, 1:]
    miss = np.vectorize(lambda v: v in MISSING, otypes=[bool])(vals) if vals.size else np.zeros(vals.shape, bool)
    x = _numbers(np.where(miss, "0", vals), path, lambda i, j: f"cell {cells[i]!r}, column {header[j + 1]!r}, line {i + 2}")
    x[miss] = np.nan
    return pd.DataFrame(x, index=pd.Index(cells), columns=pd.Index([str(h) for h in header[1:]]))


def read_network(path: str | os.PathLike, genes=None) -> pd.DataFrame:
    """``Gene1,Gene2[,...]`` edges, names verbatim. With ``genes``, every gene must be one of them.

    A ``Type`` column (BEELINE's sign of the edge, ``+`` / ``-``) is kept as written.
    """
    header, rows = read_table(path)
    if not {"Gene1", "Gene2"} <= set(header):
        raise InputError(path, f"expected columns Gene1,Gene2, got {header}")
    df = pd.DataFrame({"Gene1": _column(header, rows, "Gene1", path), "Gene2": _column(header, rows, "Gene2", path)})
    if "Type" in header:
        df["Type"] = _column(header, rows, "Type", path)
    for col in ("Gene1", "Gene2"):
        empty = np.flatnonzero((df[col].str.strip() == "").to_numpy())
        if len(empty):
            raise InputError(path, "empty gene name", where=f"line {int(empty[0]) + 2}, column {col}")
    if genes is not None:
        known = set(genes)
        for col in ("Gene1", "Gene2"):
            bad = ~df[col].isin(known)
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(
                    path, f"gene {df[col].iloc[row]!r} is not in the expression data ({int(bad.sum())} such edges)",
                    where=f"row {row + 2}, column {col}",
                )
    return df


def read_tfs(path: str | os.PathLike) -> list[str]:
    """A TF list with a ``TF`` column (BEELINE's ``TF``, GENELink's ``,TF,index``), names verbatim."""
    header, rows = read_table(path)
    tfs = _column(header, rows, "TF", path)
    empty = np.flatnonzero([not t.strip() for t in tfs])
    if len(empty):
        raise InputError(path, "empty TF name", where=f"line {int(empty[0]) + 2}")
    return [str(t) for t in tfs]


def check_tfs(tfs, genes, path) -> list[str]:
    """TFs present in the gene set; raises when none is."""
    gset = set(genes)
    present = [t for t in dict.fromkeys(tfs) if t in gset]
    if not present:
        raise InputError(path, f"none of the {len(tfs)} TFs is in the gene set (e.g. {list(tfs)[:3]})")
    return present


def _case_matches(names, known) -> list[tuple[str, str]]:
    """``(name, known name)`` for names absent from ``known`` that match one when case is ignored."""
    known = set(map(str, known))
    lower = {k.lower(): k for k in known}
    return [(n, lower[n.lower()]) for n in dict.fromkeys(map(str, names)) if n not in known and n.lower() in lower]


def check_expression_tfs(expr: pd.DataFrame, tfs, expression, tfs_path) -> list[str]:
    """:func:`check_tfs` on an expression frame, naming the real cause when no TF is a gene:
    a cells x genes file (the TFs are its cell names) or names that differ only in case."""
    if not set(map(str, tfs)) & set(map(str, expr.columns)):
        as_cells = [t for t in dict.fromkeys(tfs) if t in set(expr.index)]
        if as_cells:
            raise InputError(
                expression, f"the file looks cells x genes: TFs of {tfs_path} (e.g. {as_cells[0]!r}) are in its header, "
                f"where the cells belong; expected genes x cells (first column the gene, one column per cell), "
                f"as BEELINE writes it: transpose the file")
        case = _case_matches(tfs, expr.columns)
        if case:
            raise InputError(
                tfs_path, f"none of the {len(tfs)} TFs is a gene of {expression} as written, but {len(case)} match "
                f"when case is ignored (e.g. TF {case[0][0]!r}, gene {case[0][1]!r}); names are case-sensitive")
    return check_tfs(tfs, expr.columns, tfs_path)


def check_network_genes(network: pd.DataFrame, genes, path, expression) -> None:
    """Refuse a network with no edge, or none whose two genes are in ``genes`` (naming a case
    mismatch when there is one); warn when some names match a gene only when case is ignored."""
    import logging

    if network.empty:
        raise InputError(path, "the network has no edges (a header only); expected one row per edge: Gene1,Gene2")
    names = pd.unique(network[["Gene1", "Gene2"]].to_numpy().ravel())
    case = _case_matches(names, genes)
    gset = set(map(str, genes))
    inside = network["Gene1"].isin(gset) & network["Gene2"].isin(gset)
    if not inside.any():
        hint = (f"; {len(case)} of its genes match one when case is ignored (e.g. {case[0][0]!r}, gene {case[0][1]!r}): "
                "names are case-sensitive") if case else f" (e.g. edge {network['Gene1'].iloc[0]!r} -> {network['Gene2'].iloc[0]!r})"
        raise InputError(path, f"none of its {len(network)} edges has both genes in {expression}{hint}")
    if case:
        logging.getLogger(__name__).warning(
            "%s: %d network genes are not in %s as written but match a gene when case is ignored (e.g. %r, gene %r); "
            "their edges are dropped", path, len(case), expression, case[0][0], case[0][1])


def check_pseudotime_cells(pseudotime: pd.Series, cells, path, expression) -> None:
    """Every expression cell needs a row in the pseudotime file (names as in the expression header)."""
    known = set(pseudotime.index)
    missing = [c for c in cells if c not in known]
    if missing:
        some = f"all {len(cells)} cells" if len(missing) == len(cells) else f"{len(missing)} cells (of {len(cells)})"
        raise InputError(
            path, f"{some} of {expression} have no pseudotime here, e.g. expression cell {missing[0]!r} has no row "
            f"(this file's cells are e.g. {list(pseudotime.index[:2])}); expected one row per expression cell, "
            "named as in the expression file's header")


def read_beeline(
    expression: str | os.PathLike,
    network: str | os.PathLike,
    tfs: str | os.PathLike,
    pseudotime: str | os.PathLike | None = None,
    *,
    name: str = "dataset",
    strict_network: bool = True,
) -> GRNData:
    """A BEELINE-format dataset as :class:`GRNData`.

    With ``strict_network`` every network gene must be in the expression file; otherwise edges
    outside the gene set are dropped (as when restricting a genome-wide network). Edges whose
    regulator (Gene1) is not a TF are dropped (:func:`~grnbench.data.preprocess.restrict_to_tf_regulators`,
    count in the provenance's ``edges_dropped_non_tf``).
    """
    from grnbench.data.preprocess import restrict_to_tf_regulators

    expr = read_expression(expression)
    genes = list(expr.columns)
    tf_list = check_expression_tfs(expr, read_tfs(tfs), expression, tfs)
    net = read_network(network, genes if strict_network else None)
    check_network_genes(net, genes, network, expression)
    if not strict_network:
        gset = set(genes)
        net = net[net["Gene1"].isin(gset) & net["Gene2"].isin(gset)]
    net, dropped = restrict_to_tf_regulators(net, tf_list, source=network, tfs_path=tfs)
    pt = None
    if pseudotime is not None:
        pt = read_pseudotime(pseudotime, short_header=True)
        check_pseudotime_cells(pt, list(expr.index), pseudotime, expression)
    prov = {"source": "beeline", "expression": str(expression), "network": str(network),
            "tfs": str(tfs), "pseudotime": str(pseudotime), "name": name, "edges_dropped_non_tf": dropped}
    return GRNData(make_adata(expr, tf_list, net[["Gene1", "Gene2"]], pseudotime=pt, provenance=prov), name=name)


def read_genelink_folder(folder: str | os.PathLike, *, name: str | None = None) -> GRNData:
    """A GENELink benchmark folder (``BL--ExpressionData.csv``, ``BL--network.csv``, ``TF.csv``)."""
    folder = Path(folder)
    name = name or str(folder)
    expr = read_expression(folder / "BL--ExpressionData.csv")
    genes = list(expr.columns)
    net = read_network(folder / "BL--network.csv", genes)
    tf_path = folder / "TF.csv"
    header, rows = read_table(tf_path)
    if not {"TF", "index"} <= set(header):
        raise InputError(tf_path, f"expected columns ',TF,index', got {header}")
    tf_names = _column(header, rows, "TF", tf_path)
    for row, (tf, idx) in enumerate(zip(tf_names, _column(header, rows, "index", tf_path))):
        k = int(idx) if idx.strip().lstrip("-").isdigit() else None
        if k is None:
            raise InputError(tf_path, f"index {idx!r} of TF {tf!r} is not a whole number", where=f"line {row + 2}")
        if not (0 <= k < len(genes)) or genes[k] != tf:
            raise InputError(
                tf_path, f"TF {tf!r} has index {k} but that row of the expression file is "
                f"{genes[k] if 0 <= k < len(genes) else 'out of range'}",
                where=f"row {row + 2}",
            )
    tf_df = pd.DataFrame({"TF": tf_names})
    tf_list = check_tfs(tf_df["TF"].astype(str).tolist(), genes, tf_path)
    from grnbench.data.preprocess import restrict_to_tf_regulators

    check_network_genes(net, genes, folder / "BL--network.csv", folder / "BL--ExpressionData.csv")
    # GENELink's published networks have TF regulators only (0 dropped in every folder of the
    # pinned commit); a folder of other origin may not
    net, dropped = restrict_to_tf_regulators(net, tf_list, source=folder / "BL--network.csv", tfs_path=tf_path)
    prov = {"source": "genelink", "folder": str(folder), "name": name, "edges_dropped_non_tf": dropped}
    return GRNData(make_adata(expr, tf_list, net[["Gene1", "Gene2"]], provenance=prov), name=name)
