# Split stage: one seeded split per protocol and seed; check_split proves it clean.


rule split:
    input:
        unpack(split_inputs),
    output:
        split=R(L.SPLIT_CSV),
        summary=R(L.SPLIT_JSON),
    log:
        R(L.log("split", L.SPLIT_KEY)),
    benchmark:
        R(L.benchmark("split", L.SPLIT_KEY))
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
