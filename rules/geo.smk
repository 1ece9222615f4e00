# GEO stage (datasets with source: geo): a GEO supplementary matrix + BEELINE's TF lists and
# networks (BEELINE-Networks.zip) -> BEELINE-format files in results/raw/{dataset}/, which the
# preprocess rule reads like the simulator's; and a comparison of what we built with the
# published GENELink folders / BEELINE-data (overlap of genes, TFs, edges; expression correlation).
# Helper functions that choose the files: rules/geo_common.smk.


include: "geo_common.smk"


rule geo_to_beeline:
    input:
        unpack(geo_inputs),
    output:
        expression=f"{RESULTS}/raw/{{dataset}}/ExpressionData.csv",
        pseudotime=f"{RESULTS}/raw/{{dataset}}/PseudoTime.csv",
        tfs=f"{RESULTS}/raw/{{dataset}}/TFs.csv",
        network=f"{RESULTS}/raw/{{dataset}}/refNetwork.csv",
        summary=f"{RESULTS}/raw/{{dataset}}/geo_summary.json",
    log:
        f"{LOGS}/geo_to_beeline/{{dataset}}.log",
    benchmark:
        f"{BENCH}/geo_to_beeline/{{dataset}}.tsv"
    wildcard_constraints:
        dataset=_alt(GEO_DATASETS),
    conda:
        "../envs/grnbench.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        geo=lambda w: geo_cfg(w.dataset),
        ref_network=lambda w: DATASETS[w.dataset]["networks"][0],
    script:
        "../workflow_scripts/geo_to_beeline.py"


rule geo_network:
    input:
        unpack(geo_network_inputs),
    output:
        f"{RESULTS}/raw/{{dataset}}/network_{{network}}.csv",
    log:
        f"{LOGS}/geo_network/{{dataset}}/{{network}}.log",
    benchmark:
        f"{BENCH}/geo_network/{{dataset}}/{{network}}.tsv"
    wildcard_constraints:
        dataset=_alt(GEO_DATASETS),
    conda:
        "../envs/grnbench.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        geo=lambda w: geo_cfg(w.dataset),
    script:
        "../workflow_scripts/geo_network.py"


rule compare_published:
    input:
        unpack(compare_inputs),
    output:
        tsv=report(
            f"{RESULTS}/{{dataset}}/compare_published.tsv",
            category="Published inputs",
            labels={
                "dataset": "{dataset}",
                "table": "overlap with GENELink / BEELINE",
            },
        ),
        json=f"{RESULTS}/{{dataset}}/compare_published.json",
    log:
        f"{LOGS}/compare_published/{{dataset}}.log",
    benchmark:
        f"{BENCH}/compare_published/{{dataset}}.tsv"
    wildcard_constraints:
        dataset=_alt(GEO_DATASETS),
    conda:
        "../envs/grnbench.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=20,
    params:
        jobs=lambda w: compare_jobs(w.dataset),
        beeline_cell=lambda w: geo_cfg(w.dataset).get("compare", {}).get("beeline_cell"),
        scratch=lambda w: geo_raw(w.dataset),
    script:
        "../workflow_scripts/compare_published.py"
