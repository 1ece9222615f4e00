"""Rule download_source: a BEELINE (Zenodo) or GEO file listed in resources/sources.tsv."""

from pathlib import Path

from grnbench.data.download import fetch_source
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    fetch_source(
        sm.wildcards.key,
        Path(sm.output[0]).parent,
        local_dir=sm.params.local_dir,
        lockfile=sm.params.lockfile,
        retries=sm.params.retries,
    )
