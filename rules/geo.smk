# GEO stage (datasets with source: geo): a GEO supplementary matrix + BEELINE's TF lists and
# networks (BEELINE-Networks.zip) -> BEELINE-format files in results/raw/{dataset}/, which the
# preprocess rule reads like the simulator's; and a comparison of what we built with the
# published GENELink folders / BEELINE-data (overlap of genes, TFs, edges; expression correlation).

GEO_DATASETS = [d for d, v in DATASETS.items() if v["source"] == "geo"]
GENELINK_GENESETS = ("tfs500", "tfs1000")


def geo_cfg(ds):
    return DATASETS[ds].get("geo", {})


def geo_raw(ds):
    return f"{RESULTS}/raw/{ds}"


def geo_needs_networks_zip(ds, networks=None):
    """BEELINE-Networks.zip is needed unless the TF list and every network are local files."""
    g = geo_cfg(ds)
    local = g.get("network_files") or {}
    nets = DATASETS[ds]["networks"] if networks is None else networks
    return not g.get("tfs_file") or any(n not in local for n in nets)


def geo_inputs(w):
    g = geo_cfg(w.dataset)
    ref = DATASETS[w.dataset]["networks"][0]
    out = {"matrix": g["matrix_file"] if g.get("matrix_file") else source_path(g["matrix"])}
    if geo_needs_networks_zip(w.dataset, [ref]):
        out["networks_zip"] = source_path("beeline_networks")
    if g.get("tfs_file"):
        out["tfs_file"] = g["tfs_file"]
    if ref in (g.get("network_files") or {}):
        out["ref_network_file"] = g["network_files"][ref]
    return out


def geo_network_inputs(w):
    g = geo_cfg(w.dataset)
    local = g.get("network_files") or {}
    out = {"expression": f"{geo_raw(w.dataset)}/ExpressionData.csv"}
    if w.network in local:
        out["network_file"] = local[w.network]
    else:
        out["networks_zip"] = source_path("beeline_networks")
    return out


def compare_jobs(ds):
    """(network, gene set) jobs that GENELink published for the dataset's cell type."""
    cell = geo_cfg(ds).get("compare", {}).get("genelink_cell")
    if not cell:
        return []
    nets = ["specific", "nonspecific", "string"] + (["lofgof"] if cell == "mESC" else [])
    return [
        {
            "network": net,
            "geneset": gs,
            "h5ad": f"{RESULTS}/{ds}/{net}/{gs}/data.h5ad",
            "folder": f"{RESULTS}/downloads/genelink/{net}/{cell}/{gs}",
        }
        for net in DATASETS[ds]["networks"]
        if net in nets
        for gs in DATASETS[ds]["genesets"]
        if gs in GENELINK_GENESETS
    ]


def compare_inputs(w):
    c = geo_cfg(w.dataset).get("compare", {})
    files = ["BL--network.csv", "TF.csv", "Target.csv"]
    if c.get("genelink_expression", True):
        files.append("BL--ExpressionData.csv")
    jobs = compare_jobs(w.dataset)
    out = {
        "h5ad": [j["h5ad"] for j in jobs],
        "genelink": [f"{j['folder']}/{f}" for j in jobs for f in files],
    }
    if c.get("beeline_cell"):
        out["beeline_data"] = source_path("beeline_data")
        out["expression"] = f"{geo_raw(w.dataset)}/ExpressionData.csv"
        out["pseudotime"] = f"{geo_raw(w.dataset)}/PseudoTime.csv"
    return out


def get_compare_outputs():
    """compare_published.tsv of every geo dataset with a compare: block (for rule all)."""
    return [
        f"{RESULTS}/{ds}/compare_published.tsv"
        for ds in GEO_DATASETS
        if geo_cfg(ds).get("compare", {}).get("genelink_cell")
        or geo_cfg(ds).get("compare", {}).get("beeline_cell")
    ]


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
    params:
        geo=lambda w: geo_cfg(w.dataset),
        ref_network=lambda w: DATASETS[w.dataset]["networks"][0],
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    conda:
        "../envs/grnbench.yaml"
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
    params:
        geo=lambda w: geo_cfg(w.dataset),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        "../envs/grnbench.yaml"
    script:
        "../workflow_scripts/geo_network.py"


rule compare_published:
    input:
        unpack(compare_inputs),
    output:
        tsv=report(
            f"{RESULTS}/{{dataset}}/compare_published.tsv",
            category="Published inputs",
            labels={"dataset": "{dataset}", "table": "overlap with GENELink / BEELINE"},
        ),
        json=f"{RESULTS}/{{dataset}}/compare_published.json",
    log:
        f"{LOGS}/compare_published/{{dataset}}.log",
    benchmark:
        f"{BENCH}/compare_published/{{dataset}}.tsv"
    wildcard_constraints:
        dataset=_alt(GEO_DATASETS),
    params:
        jobs=lambda w: compare_jobs(w.dataset),
        beeline_cell=lambda w: geo_cfg(w.dataset).get("compare", {}).get("beeline_cell"),
        scratch=lambda w: geo_raw(w.dataset),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=20,
    conda:
        "../envs/grnbench.yaml"
    script:
        "../workflow_scripts/compare_published.py"
