# Infer stage: every registered method (config: methods) x split x seed writes the standard
# prediction file edges.csv (Gene1,Gene2,EdgeWeight) and run.json (what produced it).
# A method of your own can instead be any rule writing the same edges.csv (see README).
# A registered unsupervised method sees no label, so rule infer_unsupervised runs it once per
# dataset and seed and rule link_unsupervised links its files into every split's job folder.


rule infer:
    input:
        unpack(infer_inputs),
    output:
        edges=R(L.EDGES),
        run=R(L.RUN),
    log:
        R(L.log("infer", L.JOB_DIR)),
    benchmark:
        R(L.benchmark("infer", L.JOB_DIR))
    wildcard_constraints:
        method=_alt(SUPERVISED_PY),
    conda:
        "../envs/grnbench.yaml"
    threads: lambda w: method_cfg(w.method, "threads")
    resources:
        mem_mb=lambda w, input: infer_resources(w, input)["mem_mb"],
        runtime=lambda w, input: infer_resources(w, input)["runtime"],
        gpu=lambda w: method_cfg(w.method, "gpus"),
    params:
        preset=lambda w: method_cfg(w.method, "preset"),
        method_params=infer_params,
        device=config["device"],
        record_failure=config["on_method_error"] == "record",
        plugins=config.get("plugins", []),
        limits=lambda w: {**config["guards"], **method_cfg(w.method, "guard")},
    script:
        "../workflow_scripts/infer.py"


rule infer_unsupervised:
    input:
        unpack(infer_inputs),
    output:
        edges=R(L.UNSUPERVISED_EDGES),
        run=R(L.UNSUPERVISED_RUN),
    log:
        R(L.log("infer", L.UNSUPERVISED_DIR)),
    benchmark:
        R(L.benchmark("infer", L.UNSUPERVISED_DIR))
    wildcard_constraints:
        method=_alt(UNSUPERVISED_PY),
    conda:
        "../envs/grnbench.yaml"
    threads: lambda w: method_cfg(w.method, "threads")
    resources:
        mem_mb=lambda w, input: infer_resources(w, input)["mem_mb"],
        runtime=lambda w, input: infer_resources(w, input)["runtime"],
        gpu=lambda w: method_cfg(w.method, "gpus"),
    params:
        preset=lambda w: method_cfg(w.method, "preset"),
        method_params=infer_params,
        device=config["device"],
        record_failure=config["on_method_error"] == "record",
        plugins=config.get("plugins", []),
        limits=lambda w: {**config["guards"], **method_cfg(w.method, "guard")},
    script:
        "../workflow_scripts/infer.py"


# One split's view of an unsupervised method's run: relative symlinks, so every split's job
# folder holds edges.csv and run.json (README, Outputs); no code of the method runs here.
rule link_unsupervised:
    input:
        edges=R(L.UNSUPERVISED_EDGES),
        run=R(L.UNSUPERVISED_RUN),
    output:
        edges=R(L.EDGES),
        run=R(L.RUN),
    log:
        R(L.log("link_unsupervised", L.JOB_DIR)),
    benchmark:
        R(L.benchmark("link_unsupervised", L.JOB_DIR))
    wildcard_constraints:
        method=_alt(UNSUPERVISED_PY),
    localrule: True
    conda:
        "../envs/grnbench.yaml"
    script:
        "../workflow_scripts/link_unsupervised.py"


# scTransNet's encoder: masked-expression pretraining on the dataset's cells, once per dataset and
# encoder setting, shared by every seed, split and ablation. An interrupted job resumes from
# <output>.partial (kept outside Snakemake's outputs so a rerun finds it).
rule pretrain_sctransnet:
    input:
        h5ad=R(L.DATA_H5AD),
    output:
        R(L.PRETRAIN_ENCODER),
    log:
        R(L.log("pretrain_sctransnet", f"{L.DATASET_DIR}/{{enckey}}")),
    benchmark:
        R(L.benchmark("pretrain_sctransnet", f"{L.DATASET_DIR}/{{enckey}}"))
    conda:
        "../envs/grnbench.yaml"
    threads: lambda w: method_cfg(ENCODERS[w.enckey], "threads")
    resources:
        mem_mb=lambda w: method_cfg(ENCODERS[w.enckey], "mem_mb"),
        runtime=lambda w: method_cfg(ENCODERS[w.enckey], "runtime"),
        gpu=lambda w: method_cfg(ENCODERS[w.enckey], "gpus"),
    params:
        method=lambda w: ENCODERS[w.enckey],
        preset=lambda w: method_cfg(ENCODERS[w.enckey], "preset"),
        method_params=lambda w: method_cfg(ENCODERS[w.enckey], "params"),
        device=config["device"],
    script:
        "../workflow_scripts/pretrain_sctransnet.py"


# What a method of your own (a Snakemake rule) may read: the same view a registered class gets,
# without the ground-truth network (grnbench.pipeline.write_method_inputs; README, Add a method).
# Made only when a rule asks for it: input: unpack(method_inputs).
rule method_inputs:
    input:
        h5ad=R(L.DATA_H5AD),
        split=R(L.SPLIT_CSV),
    output:
        **method_input_files(),
    log:
        R(L.log("method_inputs", L.SPLIT_KEY)),
    benchmark:
        R(L.benchmark("method_inputs", L.SPLIT_KEY))
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow_scripts/method_inputs.py"
