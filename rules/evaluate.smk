# Evaluate stage: every prediction file is scored on the same test pairs of its split
# (and, for unsupervised methods, on all TF->gene pairs as BEELINE does). One job per split and
# seed scores every method of the config (grnbench.pipeline.evaluate_split): the data and the
# split are read once, and no method's code is imported, so no plugin runs beside the scoring.


rule evaluate:
    input:
        unpack(evaluate_inputs),
    output:
        expand(R(L.METRICS), method=list(METHODS), allow_missing=True),
    log:
        R(L.log("evaluate", L.SPLIT_KEY)),
    benchmark:
        R(L.benchmark("evaluate", L.SPLIT_KEY))
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=evaluate_jobs,
    script:
        "../workflow_scripts/evaluate.py"


rule collect_metrics:
    input:
        metrics=get_metrics_files(),
    output:
        report(
            R(L.METRICS_TSV),
            caption="../report/metrics.rst",
            category="Tables",
        ),
    log:
        R(L.log("collect_metrics")),
    benchmark:
        R(L.benchmark("collect_metrics"))
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        benchmarks=get_infer_benchmarks(),
    script:
        "../workflow_scripts/collect_metrics.py"
