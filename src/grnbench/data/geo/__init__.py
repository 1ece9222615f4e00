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
   counts), or keep values already on a log scale (hHep, log2 FPKM) (:func:`normalise`).
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

import logging
import os
from pathlib import Path

import pandas as pd

from grnbench.data.geo.matrix import (
    beeline_cell_names,
    cell_labels,
    label_times,
    read_geo_matrix,
    read_text,
    select_cells,
)
from grnbench.data.geo.networks import (
    NETWORK_MEMBERS,
    TF_MEMBER,
    extract_member_text,
    find_member,
    load_network,
    load_tfs,
    network_member,
    read_network_table,
    write_network,
)
from grnbench.data.geo.normalise import (
    filter_genes,
    log2_median_ratio_normalise,
    median_ratio_size_factors,
    normalise,
)
from grnbench.data.geo.pseudotime import diffusion_pseudotime, time_pseudotime
from grnbench.data.geo.spec import NORMALISATIONS, PSEUDOTIME_METHODS, GeoSpec
from grnbench.errors import InputError
from grnbench.utils import write_csv, write_json

log = logging.getLogger(__name__)

__all__ = [
    "NETWORK_MEMBERS", "NORMALISATIONS", "PSEUDOTIME_METHODS", "TF_MEMBER", "GeoSpec", "beeline_cell_names",
    "build_expression", "cell_labels", "diffusion_pseudotime", "expression_genes", "extract_member_text",
    "filter_genes", "find_member", "geo_to_beeline", "label_times", "load_network", "load_tfs",
    "log2_median_ratio_normalise", "median_ratio_size_factors", "network_member", "normalise",
    "read_geo_matrix", "read_network_table", "read_text", "select_cells", "time_pseudotime", "write_network",
]


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
    logexpr, size_factors = normalise(values, spec.normalise, source=matrix)
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
