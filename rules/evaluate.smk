# Evaluate stage: every prediction file is scored on the same test pairs of its split
# (and, for unsupervised methods, on all TF->gene pairs as BEELINE does).


rule evaluate:
    input:
        h5ad=R(L.DATA_H5AD),
        split=R(L.SPLIT_CSV),
        edges=R(L.EDGES),
    output:
        R(L.METRICS),
    log:
        R(L.log("evaluate", L.JOB_DIR)),
    benchmark:
        R(L.benchmark("evaluate", L.JOB_DIR))
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        kind=lambda w: method_kind(w.method),
        allow_partial=lambda w: method_cfg(w.method, "allow_partial"),
        run=lambda w: str(L.fill(RESULTS, L.RUN, **dict(w.items()))),
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
