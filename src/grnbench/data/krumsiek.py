"""scanpy's bundled ``krumsiek11`` data set as a BEELINE-format source (offline, no download).

Krumsiek et al. (2011) curated a Boolean model of myeloid differentiation: 11 transcription
factors (Gata2, Gata1, Fog1, EKLF, Fli1, SCL, Cebpa, Pu.1, cJun, EgrNab, Gfi1) whose rules lead
a common progenitor to four fates (monocyte, erythrocyte, megakaryocyte, neutrophil). BEELINE's
curated "HSC" model is the same graph. scanpy ships, inside its package:

- ``sim_models/krumsiek11.txt``: the model, ``Gene = <boolean expression>`` lines (``and``,
  ``or``, ``not``, parentheses) followed by a coupling list; and
- ``datasets/krumsiek11.txt``: what ``scanpy.datasets.krumsiek11()`` reads: 640 cells =
  4 realisations x 160 time steps of scanpy's simulation of that model (``sc.tl.sim``, branching,
  one realisation per fate), whitespace-separated, first column the time step ``it``.

The ground truth is parsed from the rules (:func:`parse_boolean_model`): every gene on the right
of ``X = ...`` regulates ``X``, activating (``+``) under an even number of ``not``, inhibiting
(``-``) under an odd one (``Gata2 = Gata2 and not (Gata1 and Fog1) and not Pu.1``: Gata1, Fog1
and Pu.1 inhibit Gata2; Gata2 activates itself). That is 30 signed edges, 26 without the
self-loops, and it agrees edge for edge and sign for sign with the model's coupling list.

Pseudotime is BEELINE's multi-lineage layout: one lineage per realisation (``PseudoTime1`` ..
``PseudoTime4``), the cell's time step on its own lineage and ``NA`` on the others. Cells are
named ``r<realisation>_t<step>`` (scanpy's own cell names repeat across realisations). Values
are written as scanpy ships them (simulated levels in about [0, 1], no normalisation). Every gene
is a TF; the network has a regulator among every gene, so configs use ``regulators: all`` and
keep every gene (``preprocess: {select_genes: false}``), as BEELINE does on curated models.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.errors import InputError

MODEL = "sim_models/krumsiek11.txt"
DATA = "datasets/krumsiek11.txt"


def scanpy_file(relpath: str) -> Path:
    """A file inside the installed scanpy package (found without importing scanpy)."""
    spec = importlib.util.find_spec("scanpy")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("scanpy", "scanpy is not installed; the krumsiek11 source reads the files it ships")
    path = Path(list(spec.submodule_search_locations)[0]) / relpath
    if not path.exists():
        raise InputError(path, "not in the installed scanpy package (krumsiek11 needs scanpy's bundled files)")
    return path


# --- the Boolean model ------------------------------------------------------------------------
_TOKEN = re.compile(r"\(|\)|[^\s()]+")
_KEYWORDS = {"and", "or", "not"}


def _signed_names(expr: str, where: str) -> list[tuple[str, str]]:
    """``(name, '+'|'-')`` for every variable of a boolean expression, by parity of ``not``."""
    tokens = _TOKEN.findall(expr)
    out: list[tuple[str, str]] = []
    pos = 0

    def term(neg: bool) -> None:
        nonlocal pos
        if pos >= len(tokens):
            raise InputError(where, f"expression {expr!r} ends early")
        tok = tokens[pos]
        pos += 1
        if tok == "not":
            term(not neg)
        elif tok == "(":
            expression(neg)
            if pos >= len(tokens) or tokens[pos] != ")":
                raise InputError(where, f"expression {expr!r}: '(' without ')'")
            pos += 1
        elif tok in _KEYWORDS or tok == ")":
            raise InputError(where, f"expression {expr!r}: unexpected {tok!r}")
        else:
            out.append((tok, "-" if neg else "+"))

    def expression(neg: bool) -> None:
        nonlocal pos
        term(neg)
        while pos < len(tokens) and tokens[pos] in ("and", "or"):
            pos += 1
            term(neg)

    if tokens:
        expression(False)
        if pos != len(tokens):
            raise InputError(where, f"expression {expr!r}: unexpected {tokens[pos]!r}")
    return out


def parse_boolean_model(path: str | os.PathLike) -> pd.DataFrame:
    """Signed edges ``Gene1`` (regulator) -> ``Gene2`` (target), ``Type`` ``+``/``-``, in rule order.

    A rule ``X = <expression>`` gives one edge per gene of the expression (a gene appearing
    twice with one sign is one edge; with both signs its Type is ``+-``). Lines starting with
    ``#`` and the coupling list (lines without ``=``) are skipped. Every gene of an expression
    must have a rule of its own.
    """
    path = Path(path)
    rules: dict[str, str] = {}
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        target, expr = (s.strip() for s in line.split("=", 1))
        if not target or target in rules:
            raise InputError(path, f"rule for {target!r} is empty or repeated", where=f"line {line_no}")
        rules[target] = expr
    if not rules:
        raise InputError(path, "no 'Gene = expression' rules")
    rows = []
    for target, expr in rules.items():
        signs: dict[str, set[str]] = {}
        for name, sign in _signed_names(expr, f"{path}: rule {target}"):
            if name not in rules:
                raise InputError(path, f"rule {target}: {name!r} has no rule of its own")
            signs.setdefault(name, set()).add(sign)
        rows += [(reg, target, "".join(sorted(s))) for reg, s in signs.items()]
    return pd.DataFrame(rows, columns=["Gene1", "Gene2", "Type"])


def coupling_list(path: str | os.PathLike) -> pd.DataFrame:
    """The model file's coupling list as ``Gene1`` (regulator), ``Gene2`` (target), ``weight``.

    Lines ``target regulator weight`` after the rules (scanpy's ``sim`` couplings); a check of
    :func:`parse_boolean_model`, not the ground truth.
    """
    rows = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and not line.lstrip().startswith("#") and "=" not in line:
            rows.append((parts[1], parts[0], float(parts[2])))
    return pd.DataFrame(rows, columns=["Gene1", "Gene2", "weight"])


# --- the simulated cells -----------------------------------------------------------------------


def read_simulation(path: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """scanpy's ``datasets/krumsiek11.txt`` -> (cells x genes expression, cells x lineages pseudotime).

    The last comment line names the columns (``# it Gene ...``); a realisation starts where the
    time step ``it`` goes back to 0. Pseudotime: the step, on the cell's own lineage only.
    """
    path = Path(path)
    header, rows = None, []
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            header = line.lstrip("#").split()
        elif line.strip():
            rows.append(line.split())
    if not header or header[0] != "it" or not rows:
        raise InputError(path, "expected comment lines, the last '# it <genes>', then rows 'step value ...'")
    if any(len(r) != len(header) for r in rows):
        raise InputError(path, f"every row needs {len(header)} fields (it + {len(header) - 1} genes)")
    arr = np.asarray(rows, dtype=float)
    step = arr[:, 0].astype(int)
    real = np.cumsum(np.r_[0, (np.diff(step) <= 0).astype(int)])
    cells = [f"r{r}_t{s:03d}" for r, s in zip(real, step)]
    expr = pd.DataFrame(arr[:, 1:], index=cells, columns=header[1:])
    pt = pd.DataFrame(
        {f"PseudoTime{r + 1}": np.where(real == r, step.astype(float), np.nan) for r in range(real.max() + 1)},
        index=cells,
    )
    return expr, pt


def write_krumsiek11(outdir: str | os.PathLike) -> dict[str, Path]:
    """Write BEELINE-format files of krumsiek11 into ``outdir`` (each atomically); return their paths.

    ``ExpressionData.csv`` (genes x cells), ``PseudoTime.csv`` (``,PseudoTime1..4``, ``NA`` off a
    lineage), ``refNetwork.csv`` (``Gene1,Gene2,Type``, the model's rules, self-loops included as
    the model has them; preprocessing drops self-loops) and ``TFs.csv`` (every gene).
    """
    from grnbench.utils import write_csv

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    expr, pt = read_simulation(scanpy_file(DATA))
    net = parse_boolean_model(scanpy_file(MODEL))
    missing = sorted((set(net["Gene1"]) | set(net["Gene2"])) - set(expr.columns))
    if missing:
        raise InputError(scanpy_file(DATA), f"model genes {missing} are not simulated here")
    paths = {k: outdir / f for k, f in (("expression", "ExpressionData.csv"), ("pseudotime", "PseudoTime.csv"),
                                         ("network", "refNetwork.csv"), ("tfs", "TFs.csv"))}
    write_csv(expr.T, paths["expression"], index=True, float_format="%.6g")
    write_csv(pt, paths["pseudotime"], index=True, na_rep="NA", float_format="%.6g")
    write_csv(net, paths["network"])
    write_csv(pd.DataFrame({"TF": list(expr.columns)}), paths["tfs"])
    return paths
