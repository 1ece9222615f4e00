"""Rule check_failures: end the run non-zero, naming each failed job, its reason and its log."""

from grnbench.pipeline import check_failures
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    check_failures(sm.input.status, sm.output[0], results_dir=sm.params.results)
