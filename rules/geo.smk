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
        expression=R(L.RAW_EXPRESSION),
        pseudotime=R(L.RAW_PSEUDOTIME),
        tfs=R(L.RAW_TFS),
        network=R(L.RAW_NETWORK),
        summary=R(L.RAW_GEO_SUMMARY),
    log:
        R(L.log("geo_to_beeline", "{dataset}")),
    benchmark:
        R(L.benchmark("geo_to_beeline", "{dataset}"))
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
        R(L.RAW_GEO_NETWORK),
    log:
        R(L.log("geo_network", "{dataset}/{network}")),
    benchmark:
        R(L.benchmark("geo_network", "{dataset}/{network}"))
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
            R(f"{L.COMPARE_PUBLISHED}.tsv"),
            category="Published inputs",
            labels={
                "dataset": "{dataset}",
                "table": "overlap with GENELink / BEELINE",
            },
        ),
        json=R(f"{L.COMPARE_PUBLISHED}.json"),
    log:
        R(L.log("compare_published", "{dataset}")),
    benchmark:
        R(L.benchmark("compare_published", "{dataset}"))
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
