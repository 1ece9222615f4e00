"""Rule download_genelink: one GENELink file at the pinned commit, hash-checked."""

from pathlib import Path

from grnbench.data.download import fetch_genelink
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    w = sm.wildcards
    fetch_genelink(
        w.cell,
        w.network,
        w.geneset,
        Path(sm.output[0]).parent,
        local_dir=sm.params.local_dir,
        files=(w.file,),
        retries=sm.params.retries,
    )
