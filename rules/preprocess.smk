# Preprocess stage: one .h5ad (cells x genes, var.is_tf, network in uns) per dataset x network x
# gene set, plus GENELink-format files and the dataset's stats (cells, genes, TFs, edges, density).


def preprocess_inputs(w):
    d = DATASETS[w.dataset]
    if d["source"] == "simulate":
        raw = f"{RESULTS}/raw/{w.dataset}"
        return {
            "expression": f"{raw}/ExpressionData.csv",
            "pseudotime": f"{raw}/PseudoTime.csv",
            "tfs": f"{raw}/TFs.csv",
            "network": f"{raw}/refNetwork.csv",
        }
    if d["source"] == "beeline":
        f = d["files"]
        out = {"expression": f["expression"], "tfs": f["tfs"], "network": f["networks"][w.network]}
        if f.get("pseudotime"):
            out["pseudotime"] = f["pseudotime"]
        return out
    folder = f"{RESULTS}/downloads/genelink/{w.network}/{d['cell']}/{w.geneset}"
    return {
        "expression": f"{folder}/BL--ExpressionData.csv",
        "network": f"{folder}/BL--network.csv",
        "tfs": f"{folder}/TF.csv",
        "targets": f"{folder}/Target.csv",
    }


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
    params:
        sim=lambda w: DATASETS[w.dataset].get("simulate", {}),
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/grnbench.yaml"
    script:
        "../workflow_scripts/simulate.py"


rule preprocess:
    input:
        unpack(preprocess_inputs),
    output:
        h5ad=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/data.h5ad",
        stats=f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/stats.json",
        genelink=directory(f"{RESULTS}/{{dataset}}/{{network}}/{{geneset}}/genelink_files"),
    log:
        f"{LOGS}/preprocess/{{dataset}}/{{network}}/{{geneset}}.log",
    benchmark:
        f"{BENCH}/preprocess/{{dataset}}/{{network}}/{{geneset}}.tsv"
    params:
        source=lambda w: DATASETS[w.dataset]["source"],
        pvalue=config["preprocess"]["pvalue"],
        name=lambda w: f"{w.dataset}/{w.network}/{w.geneset}",
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/grnbench.yaml"
    script:
        "../workflow_scripts/preprocess.py"
