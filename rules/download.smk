# Download stage: GENELink folders at the pinned commit (git blob SHA-1 checked), BEELINE's
# Zenodo archives and GEO supplementary files (sha256 recorded on first download). With
# downloads.genelink_local_dir / downloads.local_dir set, files are copied from there and verified.


rule download_genelink:
    output:
        R(L.GENELINK_DOWNLOAD),
    log:
        R(L.log("download_genelink", "{network}/{cell}/{geneset}/{file}")),
    benchmark:
        R(L.benchmark("download_genelink", "{network}/{cell}/{geneset}/{file}"))
    wildcard_constraints:
        file="BL--ExpressionData.csv|BL--network.csv|TF.csv|Target.csv|Label.csv",
        cell="[A-Za-z0-9_-]+",
    retries: 1
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=500,
        runtime=30,
    params:
        local_dir=config["downloads"]["genelink_local_dir"],
        retries=config["downloads"]["retries"],
    script:
        "../workflow_scripts/download_genelink.py"


rule download_source:
    output:
        R(L.SOURCE_DOWNLOAD),
    log:
        R(L.log("download_source", "{key}/{filename}")),
    benchmark:
        R(L.benchmark("download_source", "{key}/{filename}"))
    conda:
        "../envs/grnbench.yaml"
    resources:
        mem_mb=500,
        runtime=120,
    params:
        local_dir=config["downloads"]["local_dir"],
        retries=config["downloads"]["retries"],
        lockfile=config["downloads"]["lockfile"],
    script:
        "../workflow_scripts/download_source.py"
