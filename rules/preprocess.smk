# Preprocess stage: one .h5ad (cells x genes, var.is_tf, network in uns) per dataset x network x
# gene set, plus GENELink-format files and the dataset's stats (cells, genes, TFs, edges, density).


rule simulate:
    output:
        expression=R(L.RAW_EXPRESSION),
        pseudotime=R(L.RAW_PSEUDOTIME),
        tfs=R(L.RAW_TFS),
        network=R(L.RAW_NETWORK),
    log:
        R(L.log("simulate", "{dataset}")),
    benchmark:
        R(L.benchmark("simulate", "{dataset}"))
    wildcard_constraints:
        dataset=_alt([d for d, v in DATASETS.items() if v["source"] == "simulate"]),
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        sim=lambda w: DATASETS[w.dataset].get("simulate", {}),
    script:
        "../workflow_scripts/simulate.py"


rule krumsiek11:
    output:
        expression=R(L.RAW_EXPRESSION),
        pseudotime=R(L.RAW_PSEUDOTIME),
        tfs=R(L.RAW_TFS),
        network=R(L.RAW_NETWORK),
    log:
        R(L.log("krumsiek11", "{dataset}")),
    benchmark:
        R(L.benchmark("krumsiek11", "{dataset}"))
    wildcard_constraints:
        dataset=_alt([d for d, v in DATASETS.items() if v["source"] == "krumsiek11"]),
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../workflow_scripts/krumsiek11.py"


rule preprocess:
    input:
        unpack(preprocess_inputs),
    output:
        h5ad=R(L.DATA_H5AD),
        stats=R(L.STATS),
        genelink=directory(R(L.GENELINK_FILES)),
    log:
        R(L.log("preprocess", L.DATASET_DIR)),
    benchmark:
        R(L.benchmark("preprocess", L.DATASET_DIR))
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        source=lambda w: (
            "beeline"
            if DATASETS[w.dataset]["source"] in ("geo", "krumsiek11")
            else DATASETS[w.dataset]["source"]
        ),
        # datasets.<name>.preprocess.<key>, else the top-level preprocess block's
        pvalue=lambda w: (DATASETS[w.dataset].get("preprocess") or {}).get(
            "pvalue", config["preprocess"]["pvalue"]
        ),
        select_genes=lambda w: (DATASETS[w.dataset].get("preprocess") or {}).get(
            "select_genes", config["preprocess"]["select_genes"]
        ),
        regulators=lambda w: DATASETS[w.dataset].get("regulators", "tfs"),
        name=lambda w: f"{w.dataset}/{w.network}/{w.geneset}",
    script:
        "../workflow_scripts/preprocess.py"
