# Aggregate stage: summary tables, figures and an overview page from results/tables/metrics.tsv
# and the jobs' prediction and split files; no method is rerun. Output names are fixed (listed
# by grnbench.evaluate.report.report_items) so a figure with nothing to show is a labelled
# placeholder. The per-job edges.csv files are read but not declared as inputs: under
# --keep-going a failed job has none, and the tables report its failure instead.

import os

from grnbench.evaluate.report import report_items

AGGREGATE_OUTPUTS = {
    name: report(
        item["path"],
        caption=f"../report/{item['caption']}.rst",
        category=item["category"],
        subcategory=item["subcategory"],
        labels=item["labels"],
    )
    for name, item in report_items(RESULTS).items()
}
# every final file of this stage, for rule all (a lambda: functions belong in common.smk)
get_aggregate_outputs = lambda: [str(p) for p in AGGREGATE_OUTPUTS.values()]


rule aggregate:
    input:
        metrics=f"{RESULTS}/tables/metrics.tsv",
        published="resources/published/table1.tsv",
    output:
        **AGGREGATE_OUTPUTS,
    log:
        f"{LOGS}/aggregate/aggregate.log",
    benchmark:
        f"{BENCH}/aggregate/aggregate.tsv"
    params:
        results=lambda w, input: os.path.dirname(os.path.dirname(input.metrics)),
        tables=lambda w, output: os.path.dirname(output.summary_tsv),
        figures=lambda w, output: os.path.dirname(output.performance_bars_png),
        published=lambda w, input: os.path.dirname(input.published),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/grnbench.yaml"
    shell:
        "grnbench aggregate --metrics {input.metrics} --results {params.results}"
        " --tables {params.tables} --figures {params.figures}"
        " --published {params.published} > {log} 2>&1"
