"""Where GENELink's released split files of a dataset are (``datasets.<name>.released_splits``).

Two forms:

- ``download``: the files GENELink published (``resources/sources.tsv`` keys
  ``genelink_released_<cell>_<geneset>_<part>``). GENELink released one split per cell type and
  gene set, for the cell-type-specific network only: any other network is refused, and every
  seed uses the same files (seeds then vary the models only; the split's summary lists the files).
- a folder template with ``{network}``, ``{geneset}`` and optionally ``{seed}`` (per-seed split
  files), holding ``Train_set.csv``, ``Validation_set.csv`` and ``Test_set.csv``.
"""

from __future__ import annotations

import string

from grnbench.errors import InputError

FILES = {"train": "Train_set.csv", "val": "Validation_set.csv", "test": "Test_set.csv"}
RELEASED_NETWORK = "specific"
FIELDS = {"network", "geneset", "seed"}


def released_files(name: str, dataset: dict, *, network: str, geneset: str, seed: int, results: str) -> dict[str, str]:
    """``{"train", "val", "test": path}`` of one dataset x network x gene set x seed (module docstring)."""
    key = f"datasets.{name}.released_splits"
    rel = dataset.get("released_splits")
    if not rel:
        raise InputError(key, "the genelink_released protocol needs released split files; this dataset has none")
    if rel == "download":
        from grnbench.data.download import read_sources

        if network != RELEASED_NETWORK:
            raise InputError(key, f"'download' has GENELink's released splits of the {RELEASED_NETWORK!r} network only, "
                             f"not {network!r}; give a folder template with {{network}} instead")
        cell = dataset.get("cell")
        if dataset.get("source") != "genelink" or not cell:
            raise InputError(key, "'download' needs a genelink dataset with 'cell' (the released files index its Target.csv)")
        sources = read_sources()
        out = {}
        for part in FILES:
            k = f"genelink_released_{cell}_{geneset}_{part}"
            if k not in sources:
                have = sorted({s.rsplit("_", 2)[0].removeprefix("genelink_released_") + " " + s.rsplit("_", 2)[1]
                               for s in sources if s.startswith("genelink_released_")})
                raise InputError(key, f"GENELink released no split for {cell} {geneset}; released: {have}")
            out[part] = f"{results}/downloads/sources/{k}/{sources[k]['file']}"
        return out
    fields = {f for _, f, _, _ in string.Formatter().parse(rel) if f is not None}
    if fields - FIELDS:
        raise InputError(key, f"unknown placeholder(s) {sorted(fields - FIELDS)} in {rel!r}; known: {sorted(FIELDS)}")
    folder = rel.format(network=network, geneset=geneset, seed=seed)
    return {part: f"{folder}/{f}" for part, f in FILES.items()}


def same_files_every_seed(dataset: dict) -> bool:
    """True when every seed reuses one released file set (``download``, or no ``{seed}``)."""
    rel = dataset.get("released_splits") or ""
    return rel == "download" or "{seed}" not in rel
