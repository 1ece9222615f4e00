"""Rule job_status: results/tables/status.tsv, every job with its status, coverage, error and log."""

from grnbench.pipeline import job_status
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    table = job_status(sm.input.metrics, sm.output[0], results_dir=sm.params.results)
    print(table["status"].value_counts().to_dict())
