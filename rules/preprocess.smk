# Preprocess stage: one .h5ad (cells x genes, var.is_tf, network in uns) per dataset x network x
# gene set, plus GENELink-format files and the dataset's stats (cells, genes, TFs, edges, density).


rule simulate:
    output:
        expression=f"{RESULTS}/raw/{{dataset}}/ExpressionData.csv",
        pseudotime=f"{RESULTS}/raw/{{dataset}}/PseudoTime.csv",
        tfs=f"{RESULTS}/raw/{{dataset}}/TFs.csv",
        network=f"{RESULTS}/raw/{{dataset}}/refNetwork.csv",
    log:
        f"{LOGS}/simulate/{{dataset}}.log",
    benchmark:
        f"{BENCH}/simulate/{{dataset}}.tsv"
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
        expression=f"{RESULTS}/raw/{{dataset}}/ExpressionData.csv",
        pseudotime=f"{RESULTS}/raw/{{dataset}}/PseudoTime.csv",
        tfs=f"{RESULTS}/raw/{{dataset}}/TFs.csv",
        network=f"{RESULTS}/raw/{{dataset}}/refNetwork.csv",
    log:
        f"{LOGS}/krumsiek11/{{dataset}}.log",
    benchmark:
        f"{BENCH}/krumsiek11/{{dataset}}.tsv"
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
        h5ad=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/data.h5ad",
        stats=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/stats.json",
        genelink=directory(
            f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/genelink_files"
        ),
    log:
        f"{LOGS}/preprocess/{{dataset}}/{{network}}/{{geneset}}.log",
    benchmark:
        f"{BENCH}/preprocess/{{dataset}}/{{network}}/{{geneset}}.tsv"
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
