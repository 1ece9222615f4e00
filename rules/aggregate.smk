# Aggregate stage: summary tables, figures and an overview page from results/tables/metrics.tsv
# and the jobs' prediction and split files; no method is rerun. Output names are fixed (listed
# by grnbench.evaluate.report.report_items) so a figure with nothing to show is a labelled
# placeholder. The per-job edges.csv files are read but not declared as inputs: under
# --keep-going a failed job has none, and the tables report its failure instead.

import os


rule aggregate:
    input:
        metrics=R(L.METRICS_TSV),
        published=PUBLISHED_TABLE1,
    output:
        **aggregate_outputs(),
    log:
        R(L.log("aggregate", "aggregate")),
    benchmark:
        R(L.benchmark("aggregate", "aggregate"))
    conda:
        "../envs/grnbench.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        results=lambda w, input: L.results_of(input.metrics, L.METRICS_TSV),
        tables=lambda w, output: os.path.dirname(output.summary_tsv),
        figures=lambda w, output: os.path.dirname(output.performance_bars_png),
        published=lambda w, input: os.path.dirname(input.published),
    shell:
        "grnbench aggregate --metrics {input.metrics} --results {params.results}"
        " --tables {params.tables} --figures {params.figures}"
        " --published {params.published} > {log} 2>&1"


# Every job with its status, coverage, error and log; written whether or not jobs failed.
rule job_status:
    input:
        metrics=R(L.METRICS_TSV),
    output:
        report(
            R(L.STATUS_TSV),
            caption="../report/status.rst",
            category="Tables",
        ),
    log:
        R(L.log("job_status")),
    benchmark:
        R(L.benchmark("job_status"))
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        results=lambda w, input: L.results_of(input.metrics, L.METRICS_TSV),
    script:
        "../workflow_scripts/job_status.py"


# Ends the run non-zero, naming every failed job, once the tables and status.tsv are written.
rule check_failures:
    input:
        status=R(L.STATUS_TSV),
        aggregate=get_aggregate_outputs(),
        edges=get_edges_files(),  # a failure's edges are removed, so a rerun retries it
    output:
        R(L.ALL_JOBS_OK),
    log:
        R(L.log("check_failures")),
    benchmark:
        R(L.benchmark("check_failures"))
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        results=lambda w, input: L.results_of(input.status, L.STATUS_TSV),
    script:
        "../workflow_scripts/check_failures.py"
