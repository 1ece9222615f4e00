"""Rule collect_metrics: all metrics.json (+ benchmark files) -> results/tables/metrics.tsv."""

from grnbench.pipeline import collect_metrics
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    df = collect_metrics(
        list(sm.input.metrics), sm.output[0], benchmark_files=list(sm.params.benchmarks)
    )
    print(f"{len(df)} rows")
