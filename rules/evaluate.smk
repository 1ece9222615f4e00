# Evaluate stage: every prediction file is scored on the same test pairs of its split
# (and, for unsupervised methods, on all TF->gene pairs as BEELINE does).


rule evaluate:
    input:
        h5ad=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/data.h5ad",
        split=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/{{split}}/split_seed{{seed}}.csv",
        edges=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/{{split}}/{{method}}/seed{{seed}}/edges.csv",
    output:
        f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/{{split}}/{{method}}/seed{{seed}}/metrics.json",
    log:
        f"{LOGS}/evaluate/{{dataset}}/{{network}}/{{geneset}}/{{split}}/{{method}}/seed{{seed}}.log",
    benchmark:
        f"{BENCH}/evaluate/{{dataset}}/{{network}}/{{geneset}}/{{split}}/{{method}}/seed{{seed}}.tsv"
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        kind=lambda w: method_kind(w.method),
        allow_partial=lambda w: method_cfg(w.method, "allow_partial"),
        run=lambda w: f"{job_dir(w)}/{w.split}/{w.method}/seed{w.seed}/run.json",
    script:
        "../workflow_scripts/evaluate.py"


rule collect_metrics:
    input:
        metrics=get_metrics_files(),
    output:
        report(
            f"{RESULTS}/tables/metrics.tsv",
            caption="../report/metrics.rst",
            category="Tables",
        ),
    log:
        f"{LOGS}/collect_metrics.log",
    benchmark:
        f"{BENCH}/collect_metrics.tsv"
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        benchmarks=get_infer_benchmarks(),
    script:
        "../workflow_scripts/collect_metrics.py"
