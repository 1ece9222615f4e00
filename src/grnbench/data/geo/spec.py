"""The per-dataset config block ``datasets.<ds>.geo`` (:class:`GeoSpec`), checked when built."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields

from grnbench.errors import InputError

PSEUDOTIME_METHODS = ("dpt", "time")
NORMALISATIONS = ("median_ratio", "none")


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
