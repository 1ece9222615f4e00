"""Hostile and malformed inputs (issue 8, point 4): property tests with hypothesis.

Every reader (and the metrics) is fed random tables, well-formed or broken on purpose: wrong
delimiters, missing headers, ragged rows, mixed types, NaN/inf, empty files, huge values,
duplicated names, non-UTF-8 bytes. The contract checked on every example:

- the call returns a clean parse equal to what the generator wrote (names verbatim, numbers
  equal to Python's ``float`` of the written text), or
- it raises :class:`~grnbench.errors.InputError` whose message names the file;
- any other exception type, a refused valid file or an accepted broken one fails the test.

The generator knows the right answer by construction (it wrote the table), so no reader is its
own oracle; metrics are checked against independent O(n^2) implementations. Each test is
parametrised by one *hazard* (a kind of damage), so every hazard gets its share of examples.

Bug classes these tests found were all fixed; each keeps one example test at the end of this
file (``test_known_*``: the inputs that showed it, now refused or read right). ``GRNBENCH_HYPOTHESIS_EXAMPLES``
sets the examples per hazard (default 20: the module runs in well under a minute); the module
prints how many examples ran.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grnbench.data.dataset import GRNData, make_adata, write_h5ad
from grnbench.data.readers import (
    read_beeline,
    read_expression,
    read_genelink_folder,
    read_network,
    read_pseudotime,
    read_tfs,
)
from grnbench.errors import InputError
from grnbench.evaluate.metrics import score_ranking
from grnbench.pipeline import evaluate, read_edges

# Bug classes these tests found (all fixed; one regression example each at the end of the file):
# - ragged_rows: rows one field longer than the header shift every column (pandas' implicit index)
# - name_coercion: names "NA", "01", "" become "nan", "1", NaN
# - bool_values: "True"/"False" read as 1/0
# - float32_overflow: |x| > 3.4e38 becomes inf in GRNData (float32)
# - missing_header: a headerless TF / pseudotime / expression file loses its first record
# - pseudotime_values: text and inf pseudotimes accepted (text silently back-filled)
# - tf_index: GENELink TF.csv index "abc"/"" -> ValueError, "0.5" -> truncated
# - duplicate_edges: a prediction file scoring one pair twice: the first is silently used
# - label_coercion: score_ranking: label 0.5 -> 0; NaN/text -> ValueError
# - float_parsing: pandas' default float parser is not correctly rounded: 1-ULP ties change AUROC

N = int(os.environ.get("GRNBENCH_HYPOTHESIS_EXAMPLES", "20"))
PROP = settings(
    max_examples=N,
    deadline=None,  # the machine is shared; timing is not the property
    derandomize=True,  # reproducible suite; raise GRNBENCH_HYPOTHESIS_EXAMPLES for a wider search
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
RAN: Counter = Counter()  # examples run per test, printed at the end of the module
ERROR = "error"  # expected outcome: an InputError naming the file


def hazards(table: dict[str, str | None]) -> list:
    """Parametrise over hazards (the values name the bug class a hazard once exposed)."""
    return list(table)


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    yield
    total = sum(RAN.values())
    line = f"\nhostile inputs: {total} examples ran ({', '.join(f'{k} {v}' for k, v in sorted(RAN.items()))})"
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        with capman.global_and_fixture_disabled():
            print(line)
    else:  # pragma: no cover
        print(line)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


_counter = itertools.count()


def put(folder: Path, data: bytes, name: str = "table.csv") -> Path:
    """A fresh file per example (hypothesis reuses the module folder)."""
    p = folder / f"{next(_counter)}_{name}"
    p.write_bytes(data)
    return p


def outcome(fn, path, *args, **kwargs):
    """('ok', value) or ('error', InputError); any other exception propagates and fails."""
    try:
        return "ok", fn(path, *args, **kwargs)
    except InputError as e:
        assert str(path) in str(e), f"InputError does not name the file: {e}"
        return ERROR, e


def check(fn, path, expected, compare, *args, **kwargs):
    status, got = outcome(fn, path, *args, **kwargs)
    if expected is ERROR:
        assert status == ERROR, f"accepted a malformed file {path.read_bytes()[:300]!r}: {got!r}"
    else:
        assert status == "ok", f"refused a valid file {path.read_bytes()[:300]!r}: {got}"
        compare(got, expected)


# --- building blocks ---------------------------------------------------------------------------
NA_LIKE = {"na", "nan", "null", "none", "true", "false", "inf", "infinity", "n/a", "nat"}
PLAIN = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,5}", fullmatch=True).filter(
    lambda x: x.lower() not in NA_LIKE
)
QUOTED = st.sampled_from(["a,b", "x y", 'q"t', " lead", "Gene1 ", "g-1.2_b"])
COERCED = st.sampled_from(["NA", "nan", "NaN", "null", "None", "01", "1", "1.0", "2e3", "TRUE"])


def finite_token():
    """(text, value) of a valid number (within float32 range while that bug is open)."""
    lim = 1e38  # larger is refused (float32 storage)
    floats = st.floats(-lim, lim, allow_nan=False, allow_infinity=False)
    return st.one_of(
        floats.map(lambda x: (repr(x), x)),
        floats.map(lambda x: (f"{x:.4g}", float(f"{x:.4g}"))),
        st.integers(-(10**6), 10**6).map(lambda i: (str(i), float(i))),
        st.sampled_from(
            [("-0", 0.0), ("+1.5E3", 1500.0), (".5", 0.5), ("5.", 5.0), ("1e-400", 0.0)]
        ),
    )


BAD_NUMBERS = [
    "abc",
    "",
    "NA",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "-1e400",
    "0x10",
    "1_0",
    "--1",
]


def to_csv(rows, delimiter=",", newline="\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buf.getvalue()


def unique(names) -> bool:
    return len(set(names)) == len(names)


NON_UTF8 = [b"\xff", b"\xb5", b"\xc3\x28", b"\xe9t\xe9"]
FILE_FAULTS = (
    "delimiter",
    "no_header",
    "ragged_short",
    "ragged_long",
    "non_utf8",
    "empty",
    "bom",
    "blank_lines",
)


@st.composite
def encode(draw, rows, hazard: str):
    """Serialise rows (first = header), applying a file-level fault; return (bytes, still_valid)."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    if hazard == "delimiter":
        return to_csv(rows, draw(st.sampled_from([";", "\t", "|"])), newline).encode(), False
    if hazard == "no_header":
        return to_csv(rows[1:], newline=newline).encode(), False
    if hazard == "ragged_short":
        i = draw(st.integers(1, len(rows) - 1))
        return to_csv(
            [r if k != i else r[:-1] for k, r in enumerate(rows)], newline=newline
        ).encode(), False
    if hazard == "ragged_long":  # every data row one field longer: pandas reads an index column
        return to_csv([rows[0]] + [[*r, "7"] for r in rows[1:]], newline=newline).encode(), False
    if hazard == "non_utf8":
        text = to_csv(rows, newline=newline).encode()
        pos = draw(st.integers(0, len(text)))
        return text[:pos] + draw(st.sampled_from(NON_UTF8)) + text[pos:], False
    if hazard == "empty":
        return b"", False
    text = to_csv(rows, newline=newline)
    if hazard == "bom":
        return b"\xef\xbb\xbf" + text.encode(), True
    if hazard == "blank_lines":
        lines = text.split(newline)
        at = draw(st.integers(1, max(1, len(lines) - 1)))
        return newline.join(lines[:at] + ["", ""] + lines[at:]).encode(), True
    return text.encode(), True


def names(draw, n, hazard, *, unique_names=True):
    """n names; 'quoted' mixes in names that need CSV quoting, 'coerced_name' NA-like/numeric ones."""
    pool = {"quoted": st.one_of(PLAIN, QUOTED), "coerced_name": st.one_of(PLAIN, COERCED)}.get(
        hazard, PLAIN
    )
    out = draw(st.lists(pool, min_size=n, max_size=n, unique=unique_names))
    if hazard == "coerced_name":
        out[draw(st.integers(0, n - 1))] = draw(COERCED.filter(lambda x: x not in out))
    return out


# --- expression ------------------------------------------------------------------------------
EXPRESSION_HAZARDS = {
    "none": None, "quoted": None, "bad_value": None, "dup_gene": None, "dup_cell": None,
    "header_only": None, "delimiter": None, "non_utf8": None, "empty": None, "bom": None,
    "blank_lines": None, "ragged_short": None, "ragged_long": "ragged_rows", "header_short": "ragged_rows",
    "empty_name": "name_coercion", "coerced_name": "name_coercion", "no_header": "missing_header",
    "bool_value": "bool_values", "huge_value": "float32_overflow",
}  # fmt: skip


@st.composite
def expression_case(draw, hazard):
    """(bytes, expected cells x genes frame or ERROR)."""
    n_genes, n_cells = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    genes, cells = names(draw, n_genes, hazard), names(draw, n_cells, hazard)
    vals = [[draw(finite_token()) for _ in range(n_cells)] for _ in range(n_genes)]
    bad = True
    i, j = draw(st.integers(0, n_genes - 1)), draw(st.integers(0, n_cells - 1))
    if hazard == "bad_value":
        vals[i][j] = (draw(st.sampled_from(BAD_NUMBERS)), None)
    elif hazard == "bool_value":
        vals[i][j] = (draw(st.sampled_from(["True", "False", "TRUE"])), None)
    elif hazard == "huge_value":
        vals[i][j] = (draw(st.sampled_from(["1e39", "-4e38", "1e300"])), None)
    elif hazard == "dup_gene":
        genes.append(genes[0])
        vals.append(vals[0])
    elif hazard == "dup_cell":
        cells.append(cells[0])
        vals = [[*r, r[0]] for r in vals]
    elif hazard == "empty_name":
        genes[i] = ""
    else:
        bad = False
    rows = [["", *cells]] + [[g, *(t for t, _ in row)] for g, row in zip(genes, vals)]
    if hazard == "header_only":
        rows, bad = rows[:1], True
    if hazard == "header_short":
        rows, bad = [rows[0][:-1], *rows[1:]], True
    data, ok = draw(encode(rows, hazard))
    if bad or not ok:
        return data, ERROR
    return data, pd.DataFrame([[v for _, v in row] for row in vals], index=genes, columns=cells).T


def same_expression(got: pd.DataFrame, want: pd.DataFrame):
    assert list(got.index) == list(want.index), "cell names changed"
    assert list(got.columns) == list(want.columns), "gene names changed"
    assert got.dtypes.eq(np.float64).all()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12, atol=0)
    # what the methods see (float32 in GRNData) is the same numbers, all finite
    x = GRNData(make_adata(got, [], pd.DataFrame({"Gene1": [], "Gene2": []}))).expression()
    assert np.all(np.isfinite(x)), "a finite input value became inf in GRNData (float32 overflow)"
    np.testing.assert_allclose(x, want.to_numpy(np.float32), rtol=1e-6)


@pytest.mark.parametrize("hazard", hazards(EXPRESSION_HAZARDS))
@PROP
@given(data=st.data())
def test_read_expression_property(workdir, hazard, data):
    RAN["read_expression"] += 1
    raw, expected = data.draw(expression_case(hazard))
    check(read_expression, put(workdir, raw), expected, same_expression)


# --- networks (read_network) and prediction files (read_edges) -------------------------------
NETWORK_HAZARDS = {
    "none": None, "quoted": None, "with_type": None, "dup_edge": None, "header_only": None,
    "unknown_gene": None, "delimiter": None, "no_header": None, "non_utf8": None, "empty": None,
    "bom": None, "blank_lines": None, "ragged_short": "ragged_rows", "ragged_long": "ragged_rows",
    "empty_name": "name_coercion", "coerced_name": "name_coercion",
}  # fmt: skip
EDGES_HAZARDS = {
    "none": None, "quoted": None, "bad_weight": None, "header_only": None, "delimiter": None,
    "no_header": None, "non_utf8": None, "empty": None, "bom": None, "blank_lines": None,
    "ragged_short": None, "ragged_long": "ragged_rows", "dup_pair": "duplicate_edges",
    "empty_name": "name_coercion", "coerced_name": "name_coercion", "bool_value": "bool_values",
}  # fmt: skip


@st.composite
def network_case(draw, hazard, *, weights: bool):
    """Gene1,Gene2[,Type] networks or Gene1,Gene2,EdgeWeight predictions; (bytes, rows or ERROR)."""
    n = draw(st.integers(1, 6))
    pool = names(draw, 6, hazard)
    pairs = [(draw(st.sampled_from(pool)), draw(st.sampled_from(pool))) for _ in range(n)]
    if weights:
        pairs = list(dict.fromkeys(pairs))
    bad = hazard in ("empty_name", "bad_weight", "bool_value", "dup_pair")
    if hazard == "empty_name":
        pairs[0] = (pairs[0][0], "")
    if hazard in ("dup_edge", "dup_pair"):
        pairs.append(pairs[0])
    if hazard == "unknown_gene":
        pairs[0] = (pool[0], pairs[0][1])  # pool[0] is left out of the expression genes
    w = [draw(finite_token()) for _ in pairs]
    if hazard == "bad_weight":
        w[0] = (draw(st.sampled_from(BAD_NUMBERS)), None)
    elif hazard == "bool_value":
        w[0] = ("True", None)
    if weights:
        rows = [["Gene1", "Gene2", "EdgeWeight"]] + [[a, b, t] for (a, b), (t, _) in zip(pairs, w)]
    else:
        typed = hazard == "with_type"
        rows = [["Gene1", "Gene2", *(["Type"] if typed else [])]] + [
            [a, b, *(["+"] if typed else [])] for a, b in pairs
        ]
    if hazard == "header_only":
        rows, pairs = rows[:1], []
    raw, ok = draw(encode(rows, hazard))
    if bad or not ok:
        return raw, ERROR, pool
    return raw, [(a, b, v) for (a, b), (_, v) in zip(pairs, w)] if weights else pairs, pool


def same_edges(got: pd.DataFrame, want):
    assert list(got["Gene1"]) == [p[0] for p in want] and list(got["Gene2"]) == [p[1] for p in want]
    if want and len(want[0]) == 3:
        np.testing.assert_allclose(
            got["EdgeWeight"].to_numpy(float), [p[2] for p in want], rtol=1e-12
        )


@pytest.mark.parametrize("hazard", hazards(NETWORK_HAZARDS))
@PROP
@given(data=st.data())
def test_read_network_property(workdir, hazard, data):
    RAN["read_network"] += 1
    raw, expected, pool = data.draw(network_case(hazard, weights=False))
    if hazard == "unknown_gene":  # the network names a gene the expression data lacks
        check(read_network, put(workdir, raw), ERROR, same_edges, pool[1:])
    else:
        check(
            read_network,
            put(workdir, raw),
            expected,
            same_edges,
            pool if expected is not ERROR else None,
        )


@pytest.mark.parametrize("hazard", hazards(EDGES_HAZARDS))
@PROP
@given(data=st.data())
def test_read_edges_property(workdir, hazard, data):
    RAN["read_edges"] += 1
    raw, expected, _ = data.draw(network_case(hazard, weights=True))
    check(read_edges, put(workdir, raw), expected, same_edges)


# --- TF lists ----------------------------------------------------------------------------------
TFS_HAZARDS = {
    "none": None, "quoted": None, "dup_tf": None, "non_utf8": None, "empty": None, "bom": None,
    "blank_lines": None, "no_header": "missing_header", "delimiter": "missing_header",
    "coerced_name": "name_coercion",
}  # fmt: skip


@st.composite
def tfs_case(draw, hazard):
    n = draw(st.integers(1, 6))
    tfs = names(draw, n, hazard)
    if hazard == "dup_tf":  # a repeated TF is kept as written (check_tfs drops repeats)
        tfs.append(tfs[0])
    genelink = hazard == "delimiter" or draw(st.booleans())  # ",TF,index" or a single "TF" column
    if genelink:
        rows = [["", "TF", "index"]] + [[str(i), t, str(i)] for i, t in enumerate(tfs)]
    else:
        rows = [["TF"]] + [[t] for t in tfs]
    raw, ok = draw(encode(rows, hazard))
    return raw, tfs if ok else ERROR


@pytest.mark.parametrize("hazard", hazards(TFS_HAZARDS))
@PROP
@given(data=st.data())
def test_read_tfs_property(workdir, hazard, data):
    RAN["read_tfs"] += 1
    raw, expected = data.draw(tfs_case(hazard))

    def same(got, want):
        assert got == want

    check(read_tfs, put(workdir, raw), expected, same)


# --- pseudotime --------------------------------------------------------------------------------
PSEUDOTIME_HAZARDS = {
    "none": None, "quoted": None, "dup_cell": None, "delimiter": None, "non_utf8": None,
    "empty": None, "bom": None, "blank_lines": None, "bad_value": "pseudotime_values",
    "ragged_short": "ragged_rows", "ragged_long": "ragged_rows", "no_header": "missing_header",
    "coerced_name": "name_coercion",
}  # fmt: skip
MISSING_PT = ["", "NA", "nan"]


@st.composite
def pseudotime_case(draw, hazard):
    """BEELINE PseudoTime.csv: one column per lineage, missing where a cell is not on it."""
    n, k = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    cells = names(draw, n, hazard)
    num_or_missing = st.one_of(
        finite_token(), finite_token(), st.sampled_from(MISSING_PT).map(lambda t: (t, np.nan))
    )
    vals = [[draw(num_or_missing) for _ in range(k)] for _ in range(n)]
    bad = hazard in ("bad_value", "dup_cell")
    if hazard == "bad_value":
        vals[0][draw(st.integers(0, k - 1))] = (
            draw(st.sampled_from(["abc", "inf", "-inf", "1e400", "True"])),
            None,
        )
    if hazard == "dup_cell":
        cells.append(cells[0])
        vals.append(vals[0])
    rows = [["cell", *[f"PseudoTime{i + 1}" for i in range(k)]]] + [
        [c, *(t for t, _ in r)] for c, r in zip(cells, vals)
    ]
    raw, ok = draw(encode(rows, hazard))
    if bad or not ok:
        return raw, ERROR
    first = [
        next((v for _, v in r if not np.isnan(v)), np.nan) for r in vals
    ]  # first lineage with a value
    return raw, pd.Series(first, index=cells, dtype=float)


@pytest.mark.parametrize("hazard", hazards(PSEUDOTIME_HAZARDS))
@PROP
@given(data=st.data())
def test_read_pseudotime_property(workdir, hazard, data):
    RAN["read_pseudotime"] += 1
    raw, expected = data.draw(pseudotime_case(hazard))

    def same(got, want):
        assert list(got.index) == list(want.index)
        np.testing.assert_allclose(
            got.to_numpy(float), want.to_numpy(float), rtol=1e-12, equal_nan=True
        )

    check(read_pseudotime, put(workdir, raw), expected, same)


# --- GENELink folder ---------------------------------------------------------------------------
GENELINK_HAZARDS = {
    "none": None, "mismatch": None, "range": None, "columns": None, "missing_net_gene": None,
    "bad_expression": None, "nonint_index": "tf_index",
}  # fmt: skip


@st.composite
def genelink_case(draw, hazard):
    n_genes = draw(st.integers(2, 5))
    genes = names(draw, n_genes, "none")
    n_tf = draw(st.integers(1, n_genes - 1))
    idx = [str(i) for i in range(n_tf)]
    net = [[genes[0], genes[-1]]]
    expr = [["", "c1", "c2"]] + [[g, "1.5", "0"] for g in genes]
    if hazard == "mismatch":
        idx[0] = str(n_tf)  # the row of a gene that is not this TF
    elif hazard == "range":
        idx[-1] = draw(st.sampled_from([str(n_genes), "-1", "999"]))
    elif hazard == "nonint_index":
        idx[0] = draw(st.sampled_from(["abc", "", "0.5", "nan"]))
    elif hazard == "missing_net_gene":
        net.append([genes[0], "NOT_A_GENE"])
    elif hazard == "bad_expression":
        expr[1][1] = "abc"
    tf_rows = [["", "TF", "index"]] + [[str(i), genes[i], x] for i, x in enumerate(idx)]
    if hazard == "columns":
        tf_rows = [r[:2] for r in tf_rows]
    files = {"BL--ExpressionData.csv": to_csv(expr), "BL--network.csv": to_csv([["Gene1", "Gene2"], *net]),
             "TF.csv": to_csv(tf_rows)}  # fmt: skip
    return files, genes[:n_tf] if hazard == "none" else ERROR


@pytest.mark.parametrize("hazard", hazards(GENELINK_HAZARDS))
@PROP
@given(data=st.data())
def test_read_genelink_folder_property(workdir, hazard, data):
    RAN["read_genelink_folder"] += 1
    files, expected = data.draw(genelink_case(hazard))
    folder = workdir / f"gl{next(_counter)}"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    try:
        d = read_genelink_folder(folder)
    except InputError as e:
        assert str(folder) in str(e), f"InputError does not name the file: {e}"
        assert expected is ERROR, f"refused a valid folder: {e}"
        return
    assert expected is not ERROR, f"accepted a broken folder (TF.csv {files['TF.csv']!r})"
    assert d.tfs == expected


# --- metrics: independent implementations ------------------------------------------------------
def auroc_oracle(y, s) -> float:
    """P(score of a positive > score of a negative), ties 1/2: Mann-Whitney U / (P N)."""
    pos, neg = s[y == 1], s[y == 0]
    gt = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return gt / (len(pos) * len(neg))


def ap_oracle(y, s) -> float:
    """Average precision: sum over distinct thresholds t (high to low) of (R_t - R_prev) P_t."""
    ap, prev_r = 0.0, 0.0
    for t in np.unique(s)[::-1]:
        sel = s >= t
        tp = y[sel].sum()
        r = tp / y.sum()
        ap += (r - prev_r) * tp / sel.sum()
        prev_r = r
    return float(ap)


def epr_oracle(y, s) -> float:
    """Precision of the k = #positives best non-zero scores (ties with the k-th kept) / density."""
    k = int(y.sum())
    scored = sorted((v for v in s if v != 0), reverse=True)
    if not scored:
        return 0.0
    kth = scored[min(k, len(scored)) - 1]
    top = [yy for yy, v in zip(y, s) if v != 0 and v >= kth]
    return float(np.mean(top) / (k / len(y)))


def per_tf_oracle(tf, y, s) -> float:
    vals = []
    for t in sorted(set(tf)):
        m = np.asarray([x == t for x in tf])
        if 0 < y[m].sum() < m.sum():
            vals.append(auroc_oracle(y[m], s[m]))
    return float(np.mean(vals)) if vals else float("nan")


def check_metrics(out, y, s, tf=None):
    y, s = np.asarray(y, int), np.asarray(s, float)
    assert out["n_pairs"] == len(y) and out["n_pos"] == int(y.sum())
    if 0 < y.sum() < len(y):
        assert out["auroc"] == pytest.approx(auroc_oracle(y, s), abs=1e-9)
        assert out["auprc"] == pytest.approx(ap_oracle(y, s), abs=1e-9)
        assert out["auprc_ratio"] == pytest.approx(ap_oracle(y, s) / y.mean(), rel=1e-9)
        assert out["epr"] == pytest.approx(epr_oracle(y, s), rel=1e-9)
        if tf is not None:
            assert out["per_tf_auroc"] == pytest.approx(
                per_tf_oracle(list(tf), y, s), abs=1e-9, nan_ok=True
            )
    else:
        assert np.isnan(out["auroc"]) and np.isnan(out["auprc"])


RANKING_HAZARDS = {
    "none": None, "ties": None, "extremes": None, "bool_labels": None, "one_class": None,
    "nan_score": None, "inf_score": None, "length": None, "label_out_of_range": None,
    "label_other": "label_coercion",
}  # fmt: skip


@st.composite
def ranking_case(draw, hazard):
    n = draw(st.integers(2, 40))
    y = draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n))
    score = {
        "ties": st.sampled_from([0.0, 1.0, 0.5]),
        "extremes": st.sampled_from([0.0, 1e308, -1e308, 5e-324, -5e-324, 1.7976931348623157e308]),
    }.get(hazard, st.floats(allow_nan=False, allow_infinity=False))
    s = draw(st.lists(score, min_size=n, max_size=n))
    tf = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=n, max_size=n))
    i = draw(st.integers(0, n - 1))
    bad = hazard in ("nan_score", "inf_score", "length", "label_out_of_range", "label_other")
    if hazard == "nan_score":
        s[i] = float("nan")
    elif hazard == "inf_score":
        s[i] = draw(st.sampled_from([np.inf, -np.inf]))
    elif hazard == "length":
        s = [*s, 0.0]
    elif hazard == "label_out_of_range":
        y[i] = draw(st.sampled_from([2, -1]))
    elif hazard == "label_other":
        y[i] = draw(st.sampled_from([0.5, float("nan"), "yes"]))
    elif hazard == "bool_labels":
        y = [bool(v) for v in y]
    elif hazard == "one_class":
        y = [y[0]] * n
    return y, s, tf, bad


@pytest.mark.parametrize("hazard", hazards(RANKING_HAZARDS))
@PROP
@given(data=st.data())
def test_score_ranking_property(hazard, data):
    RAN["score_ranking"] += 1
    y, s, tf, bad = data.draw(ranking_case(hazard))
    try:
        out = score_ranking(y, s, tf)
    except InputError:
        assert bad, f"refused valid labels/scores {y} {s}"
        return
    assert not bad, f"accepted bad labels/scores {y} {s}: {out}"
    check_metrics(out, y, s, tf)


# --- evaluate: a prediction file against a real split ------------------------------------------
@pytest.fixture(scope="module")
def eval_inputs(tmp_path_factory):
    from conftest import tiny_grn

    from grnbench.data.splits import genelink_split

    d = tiny_grn(seed=1, n_tfs=4, n_genes=20, n_cells=40)
    folder = tmp_path_factory.mktemp("eval")
    write_h5ad(d.adata, folder / "d.h5ad")
    split = genelink_split(d, seed=0)
    split.to_csv(folder / "split.csv", index=False)
    return folder, split[split.Part == "test"].reset_index(drop=True)


EVALUATE_HAZARDS = {
    "none": None, "missing_pairs": None, "extra_pairs": None, "ties": None, "bad_weight": None,
    "no_header": None, "empty": None, "header_only": None,
}  # fmt: skip


@st.composite
def prediction_case(draw, test: pd.DataFrame, hazard: str):
    """A prediction file over (a subset of) the test pairs, maybe with pairs outside them."""
    keep = [True] * len(test)
    if hazard == "missing_pairs":
        keep = draw(st.lists(st.booleans(), min_size=len(test), max_size=len(test)))
    w = (
        st.sampled_from([0.0, 1.0, 0.25])
        if hazard == "ties"
        else st.floats(-1e30, 1e30, allow_nan=False)
    )
    fmt = "{!r}"  # repr round-trips exactly (our reader parses floats correctly rounded)
    w = w.map(lambda x: float(fmt.format(x)))
    rows = [(a, b, draw(w)) for a, b, k in zip(test.TF, test.Target, keep) if k]
    if hazard == "extra_pairs":
        rows += [(f"X{i}", "G001", draw(w)) for i in range(draw(st.integers(1, 3)))]
    rows = draw(st.permutations(rows))
    body = [[a, b, fmt.format(x)] for a, b, x in rows]
    if hazard == "bad_weight":
        body[draw(st.integers(0, len(body) - 1))][2] = draw(
            st.sampled_from(["nan", "inf", "abc", ""])
        )
    if hazard == "header_only":
        rows, body = [], []
    table = [["Gene1", "Gene2", "EdgeWeight"], *body]
    raw, ok = draw(encode(table, hazard))
    return raw, rows, not ok or hazard == "bad_weight"


@pytest.mark.parametrize("hazard", hazards(EVALUATE_HAZARDS))
@PROP
@given(data=st.data())
def test_evaluate_property(workdir, eval_inputs, hazard, data):
    RAN["evaluate"] += 1
    folder, test = eval_inputs
    raw, rows, bad = data.draw(prediction_case(test, hazard))
    edges = put(workdir, raw, "edges.csv")
    try:
        out = evaluate(
            folder / "d.h5ad", folder / "split.csv", edges, workdir / f"{next(_counter)}.json",
            allow_partial=True,  # partial files are scored here; their refusal: tests/test_integrity.py
        )
    except InputError as e:
        assert bad, f"refused a valid prediction file: {e}"
        assert str(edges) in str(e), f"InputError does not name the file: {e}"
        return
    assert not bad, f"accepted a broken prediction file {raw[:200]!r}"
    # oracle: look each test pair up; a pair the file lacks ranks below every predicted pair
    lookup = {(a, b): x for a, b, x in rows}
    floor = (min(lookup.values()) if lookup else 0.0) - 1.0
    s = np.array([lookup.get((a, b), floor) for a, b in zip(test.TF, test.Target)], float)
    got = out["scopes"]["test"]
    assert got["n_missing"] == sum((a, b) not in lookup for a, b in zip(test.TF, test.Target))
    check_metrics(got, test.Label.to_numpy(), s, test.TF.to_numpy())


# --- random bytes: whatever arrives, nothing but InputError ------------------------------------
READERS = {"read_expression": read_expression, "read_network": read_network, "read_tfs": read_tfs,
           "read_pseudotime": read_pseudotime, "read_edges": read_edges}  # fmt: skip
TOKENS = [
    "a",
    "1",
    "",
    "nan",
    "-inf",
    "1e999",
    '"',
    "x,y",
    "\xe9",
    "Gene1",
    "Gene2",
    "EdgeWeight",
    "TF",
    "True",
]
GARBAGE = st.one_of(
    st.binary(max_size=200),
    st.lists(st.lists(st.sampled_from(TOKENS), max_size=5), max_size=6).map(
        lambda rows: "\n".join(",".join(r) for r in rows).encode()
    ),
)


@pytest.mark.parametrize("reader", sorted(READERS))
@PROP
@given(raw=GARBAGE)
def test_random_bytes_only_input_error(workdir, reader, raw):
    RAN["random_bytes"] += 1
    status, got = outcome(READERS[reader], put(workdir, raw))
    if status == "ok" and reader == "read_expression":
        assert np.all(np.isfinite(got.to_numpy())) and got.index.is_unique and got.columns.is_unique
    if status == "ok" and reader == "read_edges":
        assert np.all(np.isfinite(got["EdgeWeight"].to_numpy()))


# --- fixed bug classes: the example inputs that showed each, now refused or read right ---------
def _refused(fn, tmp_path, text: str | bytes, *args):
    p = tmp_path / "f.csv"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InputError) as e:
        fn(p, *args)
    assert str(p) in str(e.value)


@pytest.mark.parametrize(
    "reader, text",
    [
        (read_expression, ",a,b\ng,1,2,3\nh,1,2,3\n"),  # ValueError: Length mismatch
        (read_expression, ",a\ng,1,2\n"),  # short header: ValueError
        (read_network, "Gene1,Gene2\nA,B,C\n"),  # read as index A, Gene1=B, Gene2=C
        (read_edges, "Gene1,Gene2,EdgeWeight\nA,B,1,2\n"),  # Gene1=B, Gene2='1', weight 2
        (read_pseudotime, "cell,p1,p2\nc1,0.5\n"),  # short row read as a missing lineage
    ],
)
def test_known_ragged_rows(tmp_path, reader, text):
    _refused(reader, tmp_path, text)


@pytest.mark.parametrize(
    "reader, text, want",
    [
        (read_tfs, "TF\nNA\n01\n", ["NA", "01"]),  # read as ['nan', '1.0']
        (read_network, "Gene1,Gene2\n01,NA\n", [("01", "NA")]),  # read as ('1', 'nan')
        (read_expression, ",c1\n01,1\n1.0,2\n", ["01", "1.0"]),  # refused: duplicated gene '1.0'
    ],
)
def test_known_names_verbatim(tmp_path, reader, text, want):
    p = tmp_path / "f.csv"
    p.write_text(text)
    got = reader(p)
    if isinstance(got, pd.DataFrame) and "Gene1" in got:
        got = list(zip(got.Gene1, got.Gene2))
    elif isinstance(got, pd.DataFrame):
        got = list(got.columns)
    assert got == want


@pytest.mark.parametrize(
    "reader, text",
    [
        (read_network, "Gene1,Gene2\nA,\n"),  # edge A -> 'nan'
        (read_expression, ",a\ng,1\n,2\n"),  # gene 'nan'
        (read_edges, "Gene1,Gene2,EdgeWeight\nA,,1\n"),  # Gene2 NaN kept
    ],
)
def test_known_empty_names(tmp_path, reader, text):
    _refused(reader, tmp_path, text)


@pytest.mark.parametrize(
    "reader, text",
    [(read_expression, ",a\ng,True\n"), (read_edges, "Gene1,Gene2,EdgeWeight\nA,B,True\n")],
)
def test_known_bool_values(tmp_path, reader, text):
    _refused(reader, tmp_path, text)


def test_known_float32_overflow(tmp_path):
    (tmp_path / "e.csv").write_text(",c1,c2\nTF1,1e39,1\nG1,2,3\n")
    (tmp_path / "n.csv").write_text("Gene1,Gene2\nTF1,G1\n")
    (tmp_path / "t.csv").write_text("TF\nTF1\n")
    try:
        d = read_beeline(tmp_path / "e.csv", tmp_path / "n.csv", tmp_path / "t.csv")
    except InputError:
        return
    assert np.all(np.isfinite(d.expression())), "1e39 became inf"


@pytest.mark.parametrize(
    "reader, text",
    [
        (read_tfs, "Sox2\nPou5f1\nNanog\n"),  # returns ['Pou5f1', 'Nanog']: Sox2 lost
        (read_tfs, ";TF;index\n0;Sox2;0\n"),  # wrong delimiter: returns ['0;Sox2;0']
        (read_pseudotime, "c1,0.1\nc2,0.5\n"),  # c1 lost, lineage named '0.1'
        (read_expression, "g1,1,2\ng2,3,4\n"),  # g1 lost, cells named '1', '2'
    ],
)
def test_known_missing_header(tmp_path, reader, text):
    _refused(reader, tmp_path, text)


@pytest.mark.parametrize("text", ["cell,p1,p2\nc1,abc,5\n", "cell,p1\nc1,inf\n"])
def test_known_pseudotime_values(tmp_path, text):
    _refused(read_pseudotime, tmp_path, text)


@pytest.mark.parametrize("index", ["abc", "", "0.5"])
def test_known_tf_index(tmp_path, index):
    (tmp_path / "BL--ExpressionData.csv").write_text(",a,b\nT1,1,2\nG1,3,4\n")
    (tmp_path / "BL--network.csv").write_text("Gene1,Gene2\nT1,G1\n")
    (tmp_path / "TF.csv").write_text(f",TF,index\n0,T1,{index}\n")
    with pytest.raises(InputError, match="TF.csv"):
        read_genelink_folder(tmp_path)


def test_known_duplicate_edges(tmp_path):
    _refused(read_edges, tmp_path, "Gene1,Gene2,EdgeWeight\nA,B,1\nA,B,2\n")


@pytest.mark.parametrize(
    "y, s",
    [
        ([0.5, 1], [1, 2]),
        ([np.nan, 1], [1, 2]),
        (["a", 1], [1, 2]),
        ([1, 0], ["x", 1]),
        ([[1, 0]], [[1, 0]]),
    ],
)
def test_known_label_coercion(y, s):
    with pytest.raises(InputError):
        score_ranking(y, s)


def test_known_float_parsing(tmp_path):
    p = tmp_path / "edges.csv"
    p.write_text("Gene1,Gene2,EdgeWeight\nA,B,9.999999999999999e+29\nA,C,1e+30\n")
    w = read_edges(p)["EdgeWeight"].to_numpy()
    assert w[0] == 9.999999999999999e29 and w[0] != w[1]


# --- checkpoints: nothing unpickles an untrusted file --------------------------------------------
SRC = Path(__file__).resolve().parents[1] / "src"
UNSAFE_LOADERS = {("pickle", "load"), ("pickle", "loads"), ("joblib", "load"), ("dill", "load"),
                  ("pd", "read_pickle"), ("pandas", "read_pickle"), ("cloudpickle", "load")}  # fmt: skip


def _loads(tree):
    import ast

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            yield node, name, node.func.attr


def test_every_torch_load_in_src_is_weights_only():
    """AST scan of src/: torch.load always with weights_only=True; no pickle-based loaders;
    np.load never with allow_pickle=True."""
    import ast

    bad, n_torch = [], 0
    for f in sorted(SRC.rglob("*.py")):
        for node, owner, attr in _loads(ast.parse(f.read_text(), filename=str(f))):
            kw = {k.arg: k.value for k in node.keywords}
            where = f"{f.relative_to(SRC.parent)}:{node.lineno}"
            if (owner, attr) == ("torch", "load"):
                n_torch += 1
                v = kw.get("weights_only")
                if not (isinstance(v, ast.Constant) and v.value is True):
                    bad.append(f"{where}: torch.load without weights_only=True")
            elif (owner, attr) in UNSAFE_LOADERS:
                bad.append(f"{where}: {owner}.{attr} unpickles its input")
            elif (owner, attr) in {("np", "load"), ("numpy", "load")}:
                v = kw.get("allow_pickle")
                if v is not None and not (isinstance(v, ast.Constant) and v.value is False):
                    bad.append(f"{where}: np.load with allow_pickle")
    assert not bad, "\n".join(bad)
    assert n_torch >= 1  # the scan sees the loaders it guards


class _Dot(torch.nn.Module):
    """Smallest pair model for the shared loop: dot product of gene embeddings."""

    def __init__(self, n_genes: int):
        super().__init__()
        self.emb = torch.nn.Embedding(n_genes, 8)

    def forward(self, tf, tg):
        return (self.emb(tf) * self.emb(tg)).sum(-1)


def test_training_checkpoint_is_weights_only_and_a_pickle_is_refused(
    tiny_data, tiny_split, tmp_path
):
    import pickle

    from grnbench.methods.training import TrainConfig, train_pair_model

    train, val = tiny_split[tiny_split.Part == "train"], tiny_split[tiny_split.Part == "val"]
    torch.manual_seed(0)
    ckpt = tmp_path / "ckpt.pt"
    train_pair_model(_Dot(tiny_data.n_genes), tiny_data, train, val,
                     TrainConfig(epochs=2, checkpoint=ckpt, checkpoint_every=1), seed=0)  # fmt: skip
    state = torch.load(
        ckpt, map_location="cpu", weights_only=True
    )  # a real checkpoint loads safely
    assert state["epoch"] == 2 and set(state["model"]) == {"emb.weight"}

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"model": Evil()}))
    with pytest.raises(Exception) as e:
        train_pair_model(_Dot(tiny_data.n_genes), tiny_data, train, val,
                         TrainConfig(epochs=1, checkpoint=evil), seed=0)  # fmt: skip
    assert not marker.exists(), "a checkpoint was unpickled"
    assert "weights_only" in str(e.value) or "Unpickl" in type(e.value).__name__
