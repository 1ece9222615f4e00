"""Rule method_inputs: the view a rule method may read (no ground truth)."""

from pathlib import Path

from grnbench.pipeline import write_method_inputs
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    paths = write_method_inputs(sm.input.h5ad, sm.input.split, Path(sm.output.trainval).parent)
    print({k: str(v) for k, v in paths.items()})
