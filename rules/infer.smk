# Infer stage: every registered method (config: methods) x split x seed writes the standard
# prediction file edges.csv (Gene1,Gene2,EdgeWeight) and run.json (what produced it).
# A method of your own can instead be any rule writing the same edges.csv (see README).


rule infer:
    input:
        h5ad=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/data.h5ad",
        split=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/{{split}}/split_seed{{seed}}.csv",
    output:
        edges=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/{{split}}/{{method}}/seed{{seed}}/edges.csv",
        run=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/{{split}}/{{method}}/seed{{seed}}/run.json",
    log:
        f"{LOGS}/infer/{{dataset}}/{{network}}/{{geneset}}/{{split}}/{{method}}/seed{{seed}}.log",
    benchmark:
        f"{BENCH}/infer/{{dataset}}/{{network}}/{{geneset}}/{{split}}/{{method}}/seed{{seed}}.tsv"
    wildcard_constraints:
        method=_alt(PY_METHODS),
    conda:
        "../envs/grnbench.yaml"
    threads: lambda w: method_cfg(w.method, "threads")
    resources:
        mem_mb=lambda w: method_cfg(w.method, "mem_mb"),
        runtime=lambda w: method_cfg(w.method, "runtime"),
        gpu=lambda w: method_cfg(w.method, "gpus"),
    params:
        preset=lambda w: method_cfg(w.method, "preset"),
        method_params=lambda w: method_cfg(w.method, "params"),
        device=config["device"],
        record_failure=config["on_method_error"] == "record",
    script:
        "../workflow_scripts/infer.py"
