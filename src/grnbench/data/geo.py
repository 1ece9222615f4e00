"""From raw GEO supplementary matrices to BEELINE-format input files.

BEELINE (Pratapa et al. 2020) built its hESC and hHep inputs with two R notebooks
(``inputs/scRNAseq_preprocessing/hESC.Rmd`` and ``hHep.Rmd`` in Murali-group/Beeline); this
module redoes those steps in Python, driven by a per-dataset config block (:class:`GeoSpec`):

1. **Read** the GEO matrix (``.csv`` or ``.csv.gz``; genes x cells or cells x genes with
   metadata columns), with clear errors for a truncated gzip, a wrong delimiter or duplicated
   names (:func:`read_geo_matrix`).
2. **Label cells** with their experimental time point, from the cell name (hESC:
   ``H9.12h_001`` -> ``12h``) or a metadata column (hHep: ``experiment``), optionally merged
   (``he1``/``he2`` -> ``he``) (:func:`cell_labels`); **select cells** by label.
3. **Normalise**: median-of-ratios size factors then ``log2(x / s + 1)`` (hESC, expected
   counts), or keep values already on a log scale (hHep, log2 FPKM) (:func:`log_normalise`).
4. **Filter genes** expressed (value >= ``min_value``) in enough cells (:func:`filter_genes`);
   BEELINE's hESC rule is ">= 1 count in >= 1 cell", hHep's ">= 0.1 in >= 10% of cells".
5. **Pseudotime**: BEELINE ran Slingshot on a diffusion map, starting at the earliest time
   point. We use scanpy's diffusion pseudotime (DPT, Haghverdi et al. 2016) on a Gaussian-kernel
   kNN graph, rooted at the medoid (in diffusion-component space) of the earliest time point's
   cells -- or, with ``pseudotime: time``, the experimental time labels themselves. The summary
   records which (:func:`diffusion_pseudotime`, :func:`time_pseudotime`).
6. **Write** ``ExpressionData.csv`` (genes x cells), ``PseudoTime.csv``, ``TFs.csv`` and the
   reference networks, each atomically (:func:`geo_to_beeline`, :func:`write_network`).

The variance test with Bonferroni correction and the TFs+N gene sets are NOT done here: the
workflow's preprocess stage applies ``grnbench.data.preprocess.select_genes`` to these files,
exactly as for every other BEELINE-format source.

Ground-truth networks and TF lists come from BEELINE's ``BEELINE-Networks.zip`` (Zenodo record
3701939). Its members are found by their path suffix (``Networks/human/hESC-ChIP-seq-network.csv``,
``human-tfs.csv``), so a leading folder in the archive does not matter; extraction goes through
:func:`grnbench.data.archives.safe_extract_zip` (an unsafe member refuses everything).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.data.archives import read_gzip_text, safe_extract_zip
from grnbench.errors import InputError
from grnbench.utils import write_csv, write_json

log = logging.getLogger(__name__)

#: Network names of the benchmark -> BEELINE-Networks.zip member suffix ({species}, {cell}).
#: Matched case-insensitively (BEELINE spells it "Non-specific" for human, "Non-Specific" for mouse).
NETWORK_MEMBERS = {
    "specific": "Networks/{species}/{cell}-ChIP-seq-network.csv",
    "nonspecific": "Networks/{species}/Non-specific-ChIP-seq-network.csv",
    "string": "Networks/{species}/STRING-network.csv",
    "lofgof": "Networks/{species}/{cell}-lofgof-network.csv",
}
TF_MEMBER = "{species}-tfs.csv"

PSEUDOTIME_METHODS = ("dpt", "time")
NORMALISATIONS = ("median_ratio", "none")


# --------------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeoSpec:
    """How to turn one GEO matrix into BEELINE-format files (config: ``datasets.<ds>.geo``).

    Which file to read (``matrix``: a ``resources/sources.tsv`` key, or ``matrix_file``: a local
    path) is the workflow's business; this class holds everything else.
    """

    orientation: str = "genes_x_cells"  # genes_x_cells | cells_x_genes
    sep: str = ","
    meta_columns: tuple[str, ...] = ()  # cells_x_genes: non-gene columns (e.g. "experiment")
    duplicate_genes: str = "error"  # error | first
    time_from: str = "name"  # name | column
    time_pattern: str | None = None  # time_from=name: regex, group 1 is the label
    time_column: str | None = None  # time_from=column
    label_map: dict = field(default_factory=dict)  # merge labels, e.g. {"he1": "he"}
    time_values: dict = field(default_factory=dict)  # label -> number (order of time points)
    keep_labels: tuple[str, ...] | None = None  # cell selection by (merged) label
    normalise: str = "median_ratio"  # median_ratio | none
    min_value: float = 1.0
    min_cells: int = 1
    min_cells_frac: float = 0.0
    exclude_genes: str | None = None  # regex of gene names to drop (e.g. "^ERCC-")
    pseudotime: str = "dpt"  # dpt | time
    dpt: dict = field(default_factory=dict)  # n_neighbors, n_dcs, metric, seed
    cell_names: str = "beeline"  # beeline ("." -> "_", as BEELINE wrote them) | asis
    species: str = "human"
    chip_cell: str | None = None  # specific -> Networks/<species>/<chip_cell>-ChIP-seq-network.csv
    network_files: dict = field(default_factory=dict)  # name -> local CSV instead of the zip
    tfs_file: str | None = None  # local TF list instead of <species>-tfs.csv from the zip

    @classmethod
    def from_config(cls, cfg: dict, where: str = "config: geo") -> GeoSpec:
        """Build from a config block; unknown keys and bad values raise InputError naming them.

        Keys used only by the workflow (``matrix``, ``matrix_file``, ``compare``) are ignored.
        """
        known = {f.name for f in fields(cls)}
        workflow_keys = {"matrix", "matrix_file", "compare"}
        unknown = set(cfg) - known - workflow_keys
        if unknown:
            raise InputError(where, f"unknown keys {sorted(unknown)}; known: {sorted(known | workflow_keys)}")
        kw = {k: v for k, v in cfg.items() if k in known and v is not None}
        for k in ("meta_columns", "keep_labels"):
            if k in kw:
                kw[k] = tuple(str(x) for x in kw[k])
        for k in ("label_map", "time_values", "dpt", "network_files"):
            if k in kw:
                kw[k] = dict(kw[k])
        spec = cls(**kw)
        spec.check(where)
        return spec

    def check(self, where: str = "config: geo") -> None:
        choices = {
            "orientation": ("genes_x_cells", "cells_x_genes"),
            "duplicate_genes": ("error", "first"),
            "time_from": ("name", "column"),
            "normalise": NORMALISATIONS,
            "pseudotime": PSEUDOTIME_METHODS,
            "cell_names": ("beeline", "asis"),
        }
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise InputError(where, f"{key} = {getattr(self, key)!r}; expected one of {list(allowed)}")
        if self.time_from == "name" and not self.time_pattern:
            raise InputError(where, "time_from: name needs time_pattern (a regex whose group 1 is the time label)")
        if self.time_from == "column" and not self.time_column:
            raise InputError(where, "time_from: column needs time_column")
        if self.time_pattern:
            try:
                if re.compile(self.time_pattern).groups < 1:
                    raise InputError(where, f"time_pattern {self.time_pattern!r} has no group (...)")
            except re.error as e:
                raise InputError(where, f"time_pattern {self.time_pattern!r} is not a valid regex: {e}") from e
        if not 0.0 <= float(self.min_cells_frac) <= 1.0:
            raise InputError(where, f"min_cells_frac = {self.min_cells_frac}; expected a fraction in [0, 1]")
        unknown_dpt = set(self.dpt) - {"n_neighbors", "n_dcs", "metric", "seed"}
        if unknown_dpt:
            raise InputError(where, f"dpt: unknown keys {sorted(unknown_dpt)}; known: n_neighbors, n_dcs, metric, seed")

    def as_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------------------------------
# Reading the GEO matrix
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Cells: time labels and selection
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Normalisation and gene filter
# --------------------------------------------------------------------------------------------------


def median_ratio_size_factors(counts: pd.DataFrame, source="matrix") -> pd.Series:
    """Median-of-ratios size factors (DESeq / EBSeq ``MedianNorm``, used by BEELINE for hESC).

        g_j = exp(mean_i log x_ij)                     (geometric mean of gene j over cells)
        s_i = median_{j : g_j > 0} x_ij / g_j

    Genes with a zero in any cell have ``g_j = 0`` and are left out of the median.
    """
    x = counts.to_numpy(dtype=float)
    if (x < 0).any():
        raise InputError(source, "negative values cannot be counts; use normalise: none for log-scale data")
    positive = (x > 0).all(axis=0)
    if not positive.any():
        raise InputError(source, "median-of-ratios needs at least one gene with a positive value in every cell; "
                                 "none has one (too sparse for this normalisation)")
    xp = x[:, positive]
    geo = np.exp(np.log(xp).mean(axis=0))
    s = np.median(xp / geo, axis=1)
    return pd.Series(s, index=counts.index, name="size_factor")


def log_normalise(values: pd.DataFrame, method: str, source="matrix") -> tuple[pd.DataFrame, pd.Series | None]:
    """``median_ratio``: ``log2(x_ij / s_i + 1)``; ``none``: values are already on a log scale."""
    if method == "none":
        return values, None
    if method == "median_ratio":
        s = median_ratio_size_factors(values, source)
        return np.log2(values.div(s, axis=0) + 1.0), s
    raise InputError(source, f"normalise = {method!r}; expected one of {list(NORMALISATIONS)}")


def filter_genes(values: pd.DataFrame, *, min_value: float, min_cells: int = 1, min_cells_frac: float = 0.0,
                 exclude: str | None = None) -> pd.Index:
    """Genes with ``value >= min_value`` in at least ``max(min_cells, min_cells_frac * n_cells)`` cells.

    Applied to the values as read (counts for hESC, log2 FPKM for hHep), as BEELINE did.
    ``exclude`` drops gene names matching a regex (e.g. spike-ins ``^ERCC-``).
    """
    n_expr = (values.to_numpy() >= min_value).sum(axis=0)
    keep = (n_expr >= min_cells) & (n_expr >= min_cells_frac * values.shape[0])
    if exclude:
        keep &= ~np.asarray(values.columns.str.contains(exclude, regex=True), dtype=bool)
    return values.columns[keep]


# --------------------------------------------------------------------------------------------------
# Pseudotime
# --------------------------------------------------------------------------------------------------


def time_pseudotime(times: pd.Series) -> pd.Series:
    """Experimental time rescaled to [0, 1] (earliest time point 0, latest 1)."""
    t = times.astype(float)
    span = t.max() - t.min()
    return ((t - t.min()) / span if span > 0 else t * 0.0).rename("PseudoTime")


def _medoid(points: np.ndarray) -> int:
    """Index of the point with the smallest summed Euclidean distance to the others."""
    d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    return int(np.argmin(d.sum(axis=1)))


def diffusion_pseudotime(
    logexpr: pd.DataFrame, times: pd.Series, *, n_neighbors: int = 30, n_dcs: int = 10,
    metric: str = "cosine", seed: int = 0,
) -> tuple[pd.Series, dict]:
    """Diffusion pseudotime (scanpy ``tl.dpt``) rooted in the earliest time point.

    Graph: ``n_neighbors`` nearest neighbours in ``metric`` on the log expression, with the
    adaptive Gaussian kernel of Haghverdi et al. (``method="gauss"``, as destiny's diffusion map
    that BEELINE used); if that graph is disconnected, ``n_neighbors`` is doubled until it is
    connected (both values are recorded). Root: the medoid, in diffusion components 1..n_dcs, of the cells of the
    earliest time point (Slingshot likewise starts its curve at the start cluster's centre).
    DPT_i = distance in diffusion space from the root; cells unreachable from it get NaN.
    """
    import anndata as ad
    import scanpy as sc
    from scipy.sparse.csgraph import connected_components

    n = logexpr.shape[0]
    k = max(2, min(int(n_neighbors), n - 1))
    n_comps = max(2, min(int(n_dcs) + 1, n - 2))
    a = ad.AnnData(X=logexpr.to_numpy(dtype=np.float32))
    k_asked = k
    while True:  # a disconnected graph leaves cells unreachable from the root: widen it
        sc.pp.neighbors(a, n_neighbors=k, use_rep="X", metric=metric, method="gauss", knn=True, random_state=seed)
        n_comp = connected_components(a.obsp["connectivities"], directed=False)[0]
        if n_comp == 1 or k >= n - 1:
            break
        log.info("kNN graph with k=%d has %d components; retrying with k=%d", k, n_comp, min(2 * k, n - 1))
        k = min(2 * k, n - 1)
    sc.tl.diffmap(a, n_comps=n_comps, random_state=seed)
    dcs = a.obsm["X_diffmap"][:, 1:]  # component 0 is the trivial stationary one
    t = times.to_numpy(float)
    early = np.flatnonzero(t == np.nanmin(t))
    root = int(early[_medoid(dcs[early])])
    a.uns["iroot"] = root
    sc.tl.dpt(a, n_dcs=n_comps)
    pt = a.obs["dpt_pseudotime"].to_numpy(float)
    pt[~np.isfinite(pt)] = np.nan
    info = {"method": "dpt", "root_cell": str(logexpr.index[root]), "root_time": float(t[root]),
            "n_neighbors": k, "n_neighbors_asked": k_asked, "n_dcs": n_comps - 1, "metric": metric, "seed": seed,
            "n_unreachable": int(np.isnan(pt).sum()),
            "spearman_with_time": float(pd.Series(pt).corr(pd.Series(t), method="spearman"))}
    return pd.Series(pt, index=logexpr.index, name="PseudoTime"), info


# --------------------------------------------------------------------------------------------------
# BEELINE-Networks.zip: TF lists and ground-truth networks
# --------------------------------------------------------------------------------------------------


def find_member(zip_path: str | os.PathLike, suffix: str) -> str:
    """The one member of the zip whose path ends with ``suffix`` (case-insensitive, at a '/')."""
    zip_path = Path(zip_path)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(zip_path, f"cannot open as a zip archive: {e}") from e
    want = suffix.lower().replace("\\", "/").lstrip("/")
    hits = [n for n in names if (n.lower().replace("\\", "/") == want
                                 or n.lower().replace("\\", "/").endswith("/" + want))]
    if len(hits) != 1:
        near = [n for n in names if Path(want).name in n.lower()] or names[:5]
        what = "no member" if not hits else f"{len(hits)} members"
        raise InputError(zip_path, f"{what} ending with {suffix!r} (candidates: {near[:5]})")
    return hits[0]


def network_member(name: str, species: str, chip_cell: str | None) -> str:
    """BEELINE-Networks.zip member suffix for a benchmark network name."""
    if name not in NETWORK_MEMBERS:
        raise InputError("config: networks", f"network {name!r} is not one of BEELINE's {sorted(NETWORK_MEMBERS)}; "
                                             "give a local file under geo.network_files")
    tmpl = NETWORK_MEMBERS[name]
    if "{cell}" in tmpl and not chip_cell:
        raise InputError("config: geo.chip_cell", f"network {name!r} needs chip_cell (e.g. hESC, HepG2, mESC)")
    return tmpl.format(species=species, cell=chip_cell)


def extract_member_text(zip_path: str | os.PathLike, member: str, scratch: str | os.PathLike) -> pd.DataFrame:
    """Extract one member safely into a temporary folder under ``scratch`` and read it as CSV."""
    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".extract.", dir=scratch) as tmp:
        (path,) = safe_extract_zip(zip_path, tmp, members=[member])
        return _read_table(path, f"{zip_path}:{member}")


def _read_table(path, source) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(source, f"cannot read as CSV ({e})") from e
    return df


def read_network_table(df: pd.DataFrame, source) -> pd.DataFrame:
    """``Gene1,Gene2[,Type]`` edges with self-loops and duplicates removed (as BEELINE does)."""
    if not {"Gene1", "Gene2"} <= set(df.columns):
        raise InputError(source, f"expected columns Gene1,Gene2, got {list(df.columns)}")
    cols = ["Gene1", "Gene2"] + (["Type"] if "Type" in df.columns else [])
    df = df[cols].astype(str)
    df = df[df["Gene1"] != df["Gene2"]]
    return df.drop_duplicates(subset=["Gene1", "Gene2"], keep="first").reset_index(drop=True)


def load_network(name: str, spec: GeoSpec, networks_zip, scratch) -> tuple[pd.DataFrame, str]:
    """A ground-truth network by benchmark name: a local file (``network_files``) or a zip member."""
    if name in spec.network_files:
        path = spec.network_files[name]
        return read_network_table(_read_table(path, path), path), str(path)
    if networks_zip is None:
        raise InputError("config: geo", f"network {name!r}: no network_files entry and no BEELINE-Networks.zip")
    member = find_member(networks_zip, network_member(name, spec.species, spec.chip_cell))
    src = f"{networks_zip}:{member}"
    return read_network_table(extract_member_text(networks_zip, member, scratch), src), src


def load_tfs(spec: GeoSpec, networks_zip, scratch) -> tuple[list[str], str]:
    """The species' TF list (first column or ``TF``): a local file or BEELINE's ``<species>-tfs.csv``."""
    if spec.tfs_file:
        df, src = _read_table(spec.tfs_file, spec.tfs_file), str(spec.tfs_file)
    else:
        if networks_zip is None:
            raise InputError("config: geo", "no tfs_file and no BEELINE-Networks.zip to take the TF list from")
        member = find_member(networks_zip, TF_MEMBER.format(species=spec.species))
        df, src = extract_member_text(networks_zip, member, scratch), f"{networks_zip}:{member}"
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise InputError(src, "TF list is empty")
    col = "TF" if "TF" in df.columns else df.columns[0]
    return list(dict.fromkeys(df[col].astype(str))), src


def write_network(name: str, spec: GeoSpec, networks_zip, genes, out_path) -> dict:
    """Network ``name`` restricted to ``genes`` -> ``out_path`` (``Gene1,Gene2[,Type]``); counts."""
    out_path = Path(out_path)
    net, src = load_network(name, spec, networks_zip, out_path.parent)
    gset = set(genes)
    kept = net[net["Gene1"].isin(gset) & net["Gene2"].isin(gset)]
    if kept.empty:
        raise InputError(src, f"no edge of network {name!r} has both genes in the expression data "
                              f"({len(net)} edges; e.g. {net[['Gene1', 'Gene2']].head(2).values.tolist()})")
    write_csv(kept, out_path)
    return {"network": name, "source": src, "edges_in_source": int(len(net)), "edges_written": int(len(kept)),
            "tfs_with_edges": int(kept["Gene1"].nunique()), "targets": int(kept["Gene2"].nunique())}


# --------------------------------------------------------------------------------------------------
# The whole chain
# --------------------------------------------------------------------------------------------------


def build_expression(matrix, spec: GeoSpec) -> tuple[pd.DataFrame, pd.Series, dict]:
    """Read, label, select cells, normalise, filter genes -> (log expression cells x genes, times, counts)."""
    values, meta = read_geo_matrix(matrix, orientation=spec.orientation, sep=spec.sep,
                                   meta_columns=spec.meta_columns, duplicate_genes=spec.duplicate_genes)
    counts = {"cells_read": int(values.shape[0]), "genes_read": int(values.shape[1])}
    labels = cell_labels(values.index, meta, spec, source=matrix)
    keep = select_cells(labels, spec)
    values, labels = values.loc[keep], labels.loc[keep]
    counts["cells_kept"] = int(values.shape[0])
    counts["cells_per_label"] = {str(k): int(v) for k, v in labels.value_counts().sort_index().items()}
    if values.shape[0] < 3:
        raise InputError(matrix, f"only {values.shape[0]} cells left after cell selection; need at least 3")
    times = label_times(labels, spec)
    logexpr, size_factors = log_normalise(values, spec.normalise, source=matrix)
    genes = filter_genes(values, min_value=spec.min_value, min_cells=spec.min_cells,
                         min_cells_frac=spec.min_cells_frac, exclude=spec.exclude_genes)
    if len(genes) == 0:
        raise InputError(matrix, f"no gene passes the filter (value >= {spec.min_value} in >= "
                                 f"max({spec.min_cells}, {spec.min_cells_frac} x cells) cells)")
    logexpr = logexpr[genes]
    counts["genes_kept"] = int(len(genes))
    if size_factors is not None:
        counts["size_factor_range"] = [float(size_factors.min()), float(size_factors.max())]
    return logexpr, times, counts


def geo_to_beeline(
    matrix: str | os.PathLike,
    out_dir: str | os.PathLike,
    spec: GeoSpec,
    *,
    networks_zip: str | os.PathLike | None = None,
    ref_network: str | None = None,
    summary_path: str | os.PathLike | None = None,
) -> dict:
    """GEO matrix (+ BEELINE-Networks.zip) -> BEELINE-format files in ``out_dir``.

    Writes ``ExpressionData.csv`` (genes x cells, log2), ``PseudoTime.csv`` (``PseudoTime``
    column), ``TFs.csv`` (``TF``: the species' TFs present in the data) and, when
    ``ref_network`` is given, ``refNetwork.csv`` (that network restricted to the data's genes).
    Everything is computed before the first file is written; each file is written atomically.
    Returns (and writes to ``summary_path``) the counts of every step.
    """
    out_dir = Path(out_dir)
    logexpr, times, counts = build_expression(matrix, spec)
    if spec.pseudotime == "dpt":
        pt, pt_info = diffusion_pseudotime(logexpr, times, **spec.dpt)
    else:
        pt, pt_info = time_pseudotime(times), {"method": "time", "note": "experimental time labels rescaled to [0, 1]"}
    tfs, tf_src = load_tfs(spec, networks_zip, out_dir)
    gset = set(logexpr.columns)
    tfs_present = [t for t in tfs if t in gset]
    if not tfs_present:
        raise InputError(tf_src, f"none of the {len(tfs)} TFs is among the {len(gset)} genes "
                                 f"(e.g. TF {tfs[:3]}, genes {list(logexpr.columns[:3])}); check species and gene naming")
    counts.update({"tfs_in_list": len(tfs), "tfs_in_data": len(tfs_present), "tf_list": tf_src,
                   "pseudotime": pt_info})
    if spec.cell_names == "beeline":
        names = beeline_cell_names(logexpr.index)
        if names.duplicated().any():
            raise InputError(matrix, "replacing '.' by '_' in cell names makes them collide; set cell_names: asis")
        logexpr.index, pt.index = names, names
    expr_out = logexpr.T
    expr_out.index.name = None
    write_csv(expr_out, out_dir / "ExpressionData.csv", index=True, float_format="%.6g")
    write_csv(pt.to_frame("PseudoTime"), out_dir / "PseudoTime.csv", index=True, float_format="%.6g")
    write_csv(pd.DataFrame({"TF": tfs_present}), out_dir / "TFs.csv")
    if ref_network:
        counts["ref_network"] = write_network(ref_network, spec, networks_zip, logexpr.columns,
                                              out_dir / "refNetwork.csv")
    counts["spec"] = spec.as_dict()
    if summary_path:
        write_json(counts, summary_path)
    log.info("%s: %d/%d cells, %d/%d genes, %d TFs, pseudotime %s", matrix, counts["cells_kept"],
             counts["cells_read"], counts["genes_kept"], counts["genes_read"], len(tfs_present), pt_info["method"])
    return counts


def expression_genes(expression_csv: str | os.PathLike) -> list[str]:
    """Gene names (first column) of a BEELINE ExpressionData.csv, without reading the values."""
    col = pd.read_csv(expression_csv, usecols=[0], dtype=str, keep_default_na=False).iloc[:, 0]
    return col.tolist()
