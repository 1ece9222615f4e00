"""Rule check_failures: end the run non-zero, naming each failed method run and its log."""

from grnbench.pipeline import check_failures
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    check_failures(
        sm.input.metrics, sm.output[0], results_dir=sm.params.results, logs_dir=sm.params.logs
    )
