# Split stage: one seeded split per protocol and seed; check_split proves it clean.


rule split:
    input:
        unpack(split_inputs),
    output:
        split=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/{{split}}/split_seed{{seed}}.csv",
        summary=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/{{split}}/split_seed{{seed}}.json",
    log:
        f"{LOGS}/split/{{dataset}}/{{network}}/{{geneset}}/{{split}}/seed{{seed}}.log",
    benchmark:
        f"{BENCH}/split/{{dataset}}/{{network}}/{{geneset}}/{{split}}/seed{{seed}}.tsv"
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        protocol=lambda w: w.split,
        split_params=lambda w: config["split_params"].get(w.split, {}),
        record_refusal=config["on_method_error"] == "record",
        cross_dataset=cross_dataset_train,
    script:
        "../workflow_scripts/split.py"
