"""Gene embeddings computed elsewhere (Geneformer, scGPT, scFoundation, gene2vec, ...) as method inputs.

A method with the parameter ``gene_embeddings`` takes one file of per-gene vectors and uses it
as gene features (scTransNet: in place of its scBERT vectors; GNE and GNNLink: beside the
expression features; see each method's docstring). The parameter is a path string, resolved
from the working directory, with an optional ``#`` selector for ``.h5ad`` files:

``emb.npy``
    A 2-D array (genes x dims) and, beside it, ``emb.genes.txt``: one gene symbol per line in
    the array's row order (an optional first line ``gene`` / ``symbol`` is a header).
``emb.tsv`` / ``emb.txt`` (``.gz`` allowed)
    One gene per line: the symbol, then the numbers, separated by tabs or spaces (gene2vec's
    release format). An optional header line (its fields after the first are not numbers) and a
    word2vec ``<n> <dim>`` first line are skipped.
``emb.h5ad#varm/KEY``
    ``varm[KEY]`` (genes x dims) with the genes of ``var_names``. ``emb.h5ad`` alone takes the
    only ``varm`` entry (an error lists them when there are several).
``cells.h5ad#layers/KEY`` or ``cells.h5ad#obsm/KEY``
    Per-cell gene embeddings: a dense (cells x genes x dims) array (genes = ``var_names``), as a
    foundation model's contextual gene embeddings. A (cell, gene) whose vector is all NaN is a
    gene absent from that cell's input (Geneformer's rank list, for instance) and gets no
    weight. They are pooled to one vector per gene with scTransNet's attentive pooling
    (:mod:`grnbench.models.sctransnet.attention`, paper eq 6): weights ``a_{n,g}`` normalised
    *across cells* (``sum``: ``a / sum_n a``; ``softmax``: ``softmax_n(a / T)``) from the
    file's attention matrix ``layers[KEY_attention]`` (or ``obsm[KEY_attention]``; cells x
    genes, e.g. the attention each gene received in the model). Without an attention matrix,
    or for scTransNet's mean-pooling ablation, the mean over the cells where the gene is present.

Matching the dataset's genes (:func:`match_genes`): by symbol, first exactly, then, for genes
still unmatched, case-normalised (``str.casefold``; "Sox2" <-> "SOX2" <-> "sox2", so a mouse
dataset can use a human-symbol file: that is orthology by symbol, approximate, and the labels
count those genes separately). A case-normalised key shared by two file genes that a dataset gene
needs is an error. Genes the file lacks get a **zero vector** (after standardising, zero is the
mean of each dimension); their number is in the labels, and fewer covered genes than
``min_coverage`` (a fraction of the dataset's genes; parameter
``gene_embeddings_min_coverage``, default 0.5) is an error naming the file and the missing
genes. The vectors are then standardised per dimension over the covered genes (z-scores;
constant dimensions -> 0), so files of any scale enter a model alike.

Labels (``run.json``, ``metrics.tsv``): the file's name and SHA-256 (and the gene list's for
``.npy``), the format, the dimension, the exact / case-normalised / missing gene counts and the
pooling (per-cell files). The folder is not recorded, so labels do not change with it.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grnbench.errors import InputError

#: The method parameters of this plug-in (every method that takes it has both).
PARAMS = {"gene_embeddings": None, "gene_embeddings_min_coverage": 0.5}
_H5AD_SLOTS = ("varm", "obsm", "layers")
_TEXT = (".tsv", ".txt", ".tsv.gz", ".txt.gz")
_HEADER_WORDS = {"gene", "genes", "symbol", "symbols", "gene_symbol", "gene_name", "name", "gene_id"}
#: How many missing genes an error message names.
_SHOW = 20


# --- the path string --------------------------------------------------------------------------


def parse_spec(spec: str | Path) -> tuple[Path, str | None]:
    """``"file.h5ad#varm/KEY"`` -> ``(Path("file.h5ad"), "varm/KEY")``; no ``#``: selector None."""
    s = str(spec)
    if not s.strip():
        raise InputError("gene_embeddings", "empty path; expected a .npy, .tsv/.txt or .h5ad file")
    path, _, sel = s.partition("#")
    return Path(path), (sel or None)


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".npy"):
        return "npy"
    if name.endswith(".h5ad"):
        return "h5ad"
    if name.endswith(_TEXT):
        return "text"
    raise InputError(path, "unknown gene-embedding format; expected .npy (+ <stem>.genes.txt), .tsv / .txt "
                     "(symbol then numbers per line, .gz allowed) or .h5ad (varm, or per-cell layers / obsm)")


def genes_file(path: Path) -> Path:
    """The gene list of a ``.npy`` embedding: ``<stem>.genes.txt`` beside it."""
    return path.with_name(path.name[: -len(".npy")] + ".genes.txt")


def embedding_files(spec: str | Path) -> list[str]:
    """The files a ``gene_embeddings`` value reads (the workflow tracks them as inputs)."""
    path, _ = parse_spec(spec)
    files = [str(path)]
    if path.name.lower().endswith(".npy"):
        files.append(str(genes_file(path)))
    return files


def spec_problems(spec, key: str, cwd: str | Path | None = None) -> list[str]:
    """Planning-time problems of a ``gene_embeddings`` value (``key`` names the config key): an
    unknown format, a bad selector, a file (or a .npy's gene list) that does not exist."""
    try:
        path, sel = parse_spec(spec)
        kind = _kind(path)
    except InputError as e:
        return [f"{key}: {e}"]
    out = []
    if sel is not None and kind != "h5ad":
        out.append(f"{key}: {spec!r}: a '#' selector is for .h5ad files only (varm/KEY, layers/KEY, obsm/KEY)")
    elif sel is not None and (sel.partition("/")[0] not in _H5AD_SLOTS or not sel.partition("/")[2]):
        out.append(f"{key}: {spec!r}: selector {sel!r} must be varm/KEY, layers/KEY or obsm/KEY")
    base = Path(cwd) if cwd is not None else Path.cwd()
    for f in embedding_files(spec):
        full = base / f
        if not full.is_file():
            what = "gene list of the .npy embedding" if f.endswith(".genes.txt") else "gene-embedding file"
            out.append(f"{key}: {what} {f!r} does not exist (resolved from the working directory {base}: "
                       f"{full.resolve()})")
    return out


# --- reading --------------------------------------------------------------------------------


@dataclass
class GeneEmbeddings:
    """Per-gene vectors as read from a file (rows in the file's gene order)."""

    genes: list[str]
    vectors: np.ndarray  # (genes, dims) float64
    path: Path
    fmt: str
    pooling: str | None = None  # per-cell files: how cells were pooled
    extra_files: list[Path] = field(default_factory=list)


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_gene_embeddings(spec: str | Path, *, attentive: bool = True, pooling: str = "sum",
                         temperature: float = 1.0, batch_cells: int = 64) -> GeneEmbeddings:
    """Read any supported file (module docstring); per-cell files are pooled here.

    ``attentive=False`` pools per-cell files by the mean; ``pooling`` / ``temperature`` are
    scTransNet's ``pooling_norm`` / ``pooling_temperature`` (``sum`` or ``softmax``).
    """
    path, sel = parse_spec(spec)
    kind = _kind(path)
    if not path.is_file():
        raise InputError(path, "gene-embedding file does not exist")
    if sel is not None and kind != "h5ad":
        raise InputError(path, f"a '#' selector ({sel!r}) is for .h5ad files only")
    if kind == "npy":
        emb = _read_npy(path)
    elif kind == "text":
        emb = _read_text(path)
    else:
        emb = _read_h5ad(path, sel, attentive=attentive, pooling=pooling, temperature=temperature,
                         batch_cells=batch_cells)
    _check_genes(emb.genes, path)
    return emb


def _check_finite(v: np.ndarray, genes: list[str], path: Path, row_offset: int = 1, row_word: str = "row") -> None:
    bad = ~np.isfinite(v)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputError(path, f"value {v[r, c]} in dimension {c + 1} of gene {genes[r]!r}; expected finite numbers "
                         f"({int(bad.any(axis=1).sum())} gene(s) have NaN or infinite values)",
                         where=f"{row_word} {r + row_offset}")


def _check_genes(genes: list[str], path: Path) -> None:
    seen: dict[str, int] = {}
    for i, g in enumerate(genes):
        if not g:
            raise InputError(path, "empty gene symbol; expected one symbol per row", where=f"row {i + 1}")
        if g in seen:
            raise InputError(path, f"gene {g!r} appears twice (rows {seen[g] + 1} and {i + 1}); expected each gene once",
                             where=f"row {i + 1}")
        seen[g] = i


def _read_npy(path: Path) -> GeneEmbeddings:
    try:
        v = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise InputError(path, f"not a readable .npy array ({e}); expected a genes x dims numeric array") from None
    if v.ndim != 2 or v.shape[0] == 0 or v.shape[1] == 0:
        raise InputError(path, f"array of shape {v.shape}; expected 2-D (genes, dims) with at least one of each")
    if not np.issubdtype(v.dtype, np.number):
        raise InputError(path, f"array of dtype {v.dtype}; expected numbers")
    gfile = genes_file(path)
    if not gfile.is_file():
        raise InputError(path, f"no gene list beside it; expected {gfile.name} (one symbol per line, in row order)")
    lines = [s.strip() for s in gfile.read_text().splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) == v.shape[0] + 1 and lines[0].lower() in _HEADER_WORDS:
        lines = lines[1:]
    if len(lines) != v.shape[0]:
        raise InputError(gfile, f"{len(lines)} gene symbols for the {v.shape[0]} rows of {path.name}; "
                         "expected one symbol per row, in the same order")
    _check_genes(lines, gfile)
    v = v.astype(np.float64)
    _check_finite(v, lines, path)
    return GeneEmbeddings(lines, v, path, "npy + gene list", extra_files=[gfile])


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _read_text(path: Path) -> GeneEmbeddings:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    genes: list[str] = []
    line_of: dict[str, int] = {}
    rows: list[list[float]] = []
    dim = None
    first = True
    with opener(path, "rt") as fh:
        for n, line in enumerate(fh, start=1):
            parts = line.split()
            if not parts:
                continue
            if first:
                first = False
                if not all(_is_number(s) for s in parts[1:]):
                    continue  # header line (gene, dim1, dim2, ...)
                if len(parts) == 2 and all(s.isdigit() for s in parts):
                    continue  # word2vec header "<n words> <dim>"
            try:
                vec = [float(s) for s in parts[1:]]
            except ValueError:
                bad = next(s for s in parts[1:] if not _is_number(s))
                raise InputError(path, f"{bad!r} after gene {parts[0]!r} is not a number; expected the symbol then "
                                 "numbers", where=f"line {n}") from None
            if dim is None:
                dim = len(vec)
                if dim == 0:
                    raise InputError(path, f"gene {parts[0]!r} has no numbers; expected the symbol then the vector",
                                     where=f"line {n}")
            if len(vec) != dim:
                raise InputError(path, f"gene {parts[0]!r} has {len(vec)} numbers; expected {dim} as on the first "
                                 "vector line", where=f"line {n}")
            if not np.all(np.isfinite(vec)):
                c = int(np.flatnonzero(~np.isfinite(vec))[0])
                raise InputError(path, f"value {vec[c]} in dimension {c + 1} of gene {parts[0]!r}; expected finite "
                                 "numbers", where=f"line {n}")
            if parts[0] in line_of:
                raise InputError(path, f"gene {parts[0]!r} appears twice (lines {line_of[parts[0]]} and {n}); expected "
                                 "each gene once", where=f"line {n}")
            line_of[parts[0]] = n
            genes.append(parts[0])
            rows.append(vec)
    if not genes:
        raise InputError(path, "no vectors found; expected one line per gene: the symbol, then numbers")
    return GeneEmbeddings(genes, np.asarray(rows, dtype=np.float64), path, "text (symbol + vector per line)")


def _h5_slots(f) -> dict[str, list[str]]:
    return {s: sorted(f[s].keys()) for s in _H5AD_SLOTS if s in f and hasattr(f[s], "keys")}


def _read_h5ad(path: Path, sel: str | None, *, attentive: bool, pooling: str, temperature: float,
               batch_cells: int) -> GeneEmbeddings:
    import h5py
    from anndata.io import read_elem

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise InputError(path, f"not a readable .h5ad (HDF5) file ({e})") from None
    with f:
        slots = _h5_slots(f)
        if sel is None:
            keys = slots.get("varm", [])
            if len(keys) != 1:
                raise InputError(path, f"{'no' if not keys else len(keys)} varm entries ({keys}); name one with "
                                 f"'{path}#varm/KEY' (or per-cell embeddings with #layers/KEY or #obsm/KEY); "
                                 f"the file has {slots}")
            sel = f"varm/{keys[0]}"
        slot, _, key = sel.partition("/")
        if slot not in _H5AD_SLOTS or not key:
            raise InputError(path, f"selector {sel!r}; expected varm/KEY, layers/KEY or obsm/KEY")
        if key not in slots.get(slot, []):
            raise InputError(path, f"no {slot}[{key!r}]; the file has {slots}")
        genes = [str(g) for g in read_elem(f["var"]).index]
        n_cells = int(f["obs"][f["obs"].attrs["_index"]].shape[0]) if "_index" in f["obs"].attrs else None
        ds = f[slot][key]
        if not isinstance(ds, h5py.Dataset):
            raise InputError(path, f"{slot}[{key!r}] is sparse or a table; expected a dense array", where=sel)
        if slot == "varm":
            if ds.ndim != 2 or ds.shape[0] != len(genes) or ds.shape[1] == 0:
                raise InputError(path, f"{slot}[{key!r}] has shape {ds.shape}; expected ({len(genes)} genes, dims)",
                                 where=sel)
            v = np.asarray(ds[()], dtype=np.float64)
            _check_finite(v, genes, path, row_word=f"{sel} row")
            return GeneEmbeddings(genes, v, path, f"h5ad varm[{key!r}]")
        if ds.ndim != 3 or ds.shape[1] != len(genes) or ds.shape[2] == 0 or (n_cells is not None and ds.shape[0] != n_cells):
            raise InputError(path, f"{slot}[{key!r}] has shape {ds.shape}; expected per-cell gene embeddings "
                             f"({n_cells if n_cells is not None else 'cells'}, {len(genes)} genes, dims)", where=sel)
        att_key = f"{key}_attention"
        att_ds = next((f[s][att_key] for s in ("layers", "obsm") if att_key in slots.get(s, [])), None)
        att = None
        if attentive and att_ds is not None:
            att = np.asarray(att_ds[()], dtype=np.float64)
            if att.shape != ds.shape[:2]:
                raise InputError(path, f"attention {att_key!r} has shape {att.shape}; expected (cells, genes) = "
                                 f"{ds.shape[:2]} like {sel}", where=att_key)
        v, pooled = pool_per_cell(ds, genes, att, path=path, sel=sel, norm=pooling if att is not None else "mean",
                                  temperature=temperature, batch_cells=batch_cells)
        if att is not None:
            how = (f"attentive over {ds.shape[0]} cells (the file's {att_key!r}, normalised across cells: {pooling}"
                   f"{f', T={temperature}' if pooling == 'softmax' else ''})")
        else:
            why = "no attention matrix in the file" if att_ds is None else "mean-pooling ablation"
            how = f"mean over {ds.shape[0]} cells ({why})"
        return GeneEmbeddings(genes, v, path, f"h5ad {slot}[{key!r}] per cell", pooling=how)


def masked_pooling_weights(att: np.ndarray | None, present: np.ndarray, norm: str, temperature: float = 1.0) -> np.ndarray:
    """Cells x genes weights summing to one over the cells where each gene is ``present``.

    With every gene present these are :func:`grnbench.models.sctransnet.attention.pooling_weights`
    (``sum``, ``softmax``, ``mean``); absent (cell, gene) entries get weight 0. A gene present in
    no cell gets all-zero weights.
    """
    from grnbench.models.sctransnet.attention import pooling_weights

    if norm not in ("sum", "softmax", "mean"):
        raise ValueError(f"pooling must be sum, softmax or mean, got {norm!r}")
    if present.all():
        return pooling_weights(np.ones(present.shape) if att is None else att, norm, temperature).numpy()
    if norm == "mean":
        u = present.astype(np.float64)
    elif norm == "sum":
        u = np.where(present, att, 0.0)
    else:
        z = np.where(present, att / temperature, -np.inf)
        ref = z.max(axis=0, keepdims=True)
        u = np.where(present, np.exp(z - np.where(np.isfinite(ref), ref, 0.0)), 0.0)
    den = u.sum(axis=0, keepdims=True)
    return np.divide(u, den, out=np.zeros_like(u), where=den > 0)


def pool_per_cell(ds, genes: list[str], att: np.ndarray | None, *, path: Path, sel: str, norm: str,
                  temperature: float = 1.0, batch_cells: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Pool a (cells, genes, dims) array (h5py dataset or ndarray, read in chunks of cells) to
    (genes, dims); returns the vectors and which genes are present in at least one cell."""
    n_cells, n_genes, dim = ds.shape
    present = np.zeros((n_cells, n_genes), dtype=bool)
    for s in range(0, n_cells, batch_cells):  # pass 1: which (cell, gene) vectors exist; hostile values
        e = np.asarray(ds[s : s + batch_cells], dtype=np.float64)
        nan = np.isnan(e)
        allnan = nan.all(axis=2)
        bad = (nan & ~allnan[:, :, None]) | np.isinf(e)
        if bad.any():
            c, g, d = np.argwhere(bad)[0]
            raise InputError(path, f"value {e[c, g, d]} in dimension {d + 1} of gene {genes[g]!r} in cell {s + c + 1}; "
                             "expected finite numbers, or an all-NaN vector for a gene absent from that cell",
                             where=sel)
        present[s : s + len(e)] = ~allnan
    if att is not None:
        badw = present & ~np.isfinite(att)
        if norm == "sum":
            badw |= present & (att < 0)
        if badw.any():
            c, g = np.argwhere(badw)[0]
            raise InputError(path, f"attention {att[c, g]} for gene {genes[g]!r} in cell {c + 1}; expected finite"
                             f"{' non-negative' if norm == 'sum' else ''} weights", where=f"{sel}_attention")
        if norm == "sum":
            zero = present.any(axis=0) & (np.where(present, att, 0.0).sum(axis=0) <= 0)
            if zero.any():
                g = int(np.flatnonzero(zero)[0])
                raise InputError(path, f"the attention of gene {genes[g]!r} sums to 0 over its cells; expected a "
                                 "positive sum (or pooling_norm: softmax)", where=f"{sel}_attention")
    w = masked_pooling_weights(att, present, norm, temperature)
    out = np.zeros((n_genes, dim), dtype=np.float64)
    for s in range(0, n_cells, batch_cells):  # pass 2: sum_n w_{n,g} e_{n,g}
        e = np.nan_to_num(np.asarray(ds[s : s + batch_cells], dtype=np.float64), nan=0.0)
        out += np.einsum("bg,bgd->gd", w[s : s + len(e)], e)
    has = present.any(axis=0)
    out[~has] = np.nan  # absent everywhere: not covered (match_genes leaves them out)
    return out, has


# --- matching the dataset's genes --------------------------------------------------------------


@dataclass
class Match:
    rows: np.ndarray  # per dataset gene: its row in the file, -1 = missing
    exact: int
    case: int
    missing: list[str]


def match_genes(file_genes: list[str], genes: list[str], path: Path, usable: np.ndarray | None = None) -> Match:
    """Each dataset gene's row in the file: exact symbol, else case-normalised (module docstring).

    ``usable``: rows that may be matched (per-cell files: genes present in some cell).
    """
    ok = np.ones(len(file_genes), dtype=bool) if usable is None else np.asarray(usable, dtype=bool)
    exact = {g: i for i, g in enumerate(file_genes) if ok[i]}
    folded: dict[str, list[int]] = {}
    for i, g in enumerate(file_genes):
        if ok[i]:
            folded.setdefault(g.strip().casefold(), []).append(i)
    rows = np.full(len(genes), -1, dtype=np.int64)
    n_exact = n_case = 0
    missing = []
    for j, g in enumerate(genes):
        if g in exact:
            rows[j] = exact[g]
            n_exact += 1
            continue
        cand = folded.get(g.strip().casefold(), [])
        if len(cand) > 1:
            names = [file_genes[i] for i in cand]
            raise InputError(path, f"dataset gene {g!r} matches {names} after case normalisation; expected at most one "
                             "(give the file one row per gene, or the dataset's exact symbol)", where=f"gene {g}")
        if cand:
            rows[j] = cand[0]
            n_case += 1
        else:
            missing.append(g)
    return Match(rows, n_exact, n_case, missing)


def standardise(v: np.ndarray) -> np.ndarray:
    """Per-dimension z-scores over the rows (constant dimensions -> 0)."""
    mu = v.mean(axis=0)
    sd = v.std(axis=0)
    return np.divide(v - mu, sd, out=np.zeros_like(v), where=sd > 0)


def gene_embedding_matrix(spec: str | Path, genes: list[str], *, min_coverage: float = 0.5, attentive: bool = True,
                          pooling: str = "sum", temperature: float = 1.0) -> tuple[np.ndarray, dict]:
    """``(len(genes), dims)`` float32 features for the dataset's ``genes`` and the labels to record.

    Covered genes: standardised file vectors; missing genes: zeros (module docstring).
    """
    if not 0.0 <= float(min_coverage) <= 1.0:
        raise InputError("gene_embeddings_min_coverage", f"{min_coverage!r}; expected a fraction between 0 and 1")
    emb = read_gene_embeddings(spec, attentive=attentive, pooling=pooling, temperature=temperature)
    usable = np.isfinite(emb.vectors).all(axis=1)  # per-cell files: genes absent from every cell are not usable
    m = match_genes(emb.genes, list(genes), emb.path, usable)
    covered = m.exact + m.case
    need = int(np.ceil(float(min_coverage) * len(genes)))
    if covered == 0 or covered < need:
        shown = ", ".join(m.missing[:_SHOW]) + (f", ... ({len(m.missing) - _SHOW} more)" if len(m.missing) > _SHOW else "")
        raise InputError(emb.path, f"covers {covered} of the dataset's {len(genes)} genes (exact {m.exact}, "
                         f"case-normalised {m.case}); expected at least {max(need, 1)} (gene_embeddings_min_coverage "
                         f"{min_coverage}). Missing: {shown}. The file's first genes: {emb.genes[:5]}")
    have = m.rows >= 0
    out = np.zeros((len(genes), emb.vectors.shape[1]), dtype=np.float64)
    out[have] = standardise(emb.vectors[m.rows[have]])
    labels = {
        "gene_embeddings": emb.path.name,
        "gene_embeddings_sha256": sha256(emb.path),
        "gene_embeddings_format": emb.fmt,
        "gene_embeddings_dim": int(emb.vectors.shape[1]),
        "gene_embeddings_exact": int(m.exact),
        "gene_embeddings_case_normalised": int(m.case),
        "gene_embeddings_missing": len(m.missing),
        "gene_embeddings_fill": "zeros (the mean after per-dimension standardisation)",
    }
    for f in emb.extra_files:
        labels["gene_embeddings_genes_sha256"] = sha256(f)
    if emb.pooling:
        labels["gene_embeddings_pooling"] = emb.pooling
    return out.astype(np.float32), labels
