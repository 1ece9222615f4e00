# Helper functions of the GEO stage (rules/geo.smk): which files its rules read.

GEO_DATASETS = [d for d, v in DATASETS.items() if v["source"] == "geo"]
GENELINK_GENESETS = ("tfs500", "tfs1000")


def geo_cfg(ds):
    return DATASETS[ds].get("geo", {})


def _check_geo():
    """Refuse a bad geo: block when the workflow is planned, not when its job runs."""
    from grnbench.data.download import read_sources
    from grnbench.data.geo import GeoSpec

    sources = read_sources()
    for ds in GEO_DATASETS:
        g, where = geo_cfg(ds), f"config: datasets.{ds}.geo"
        if bool(g.get("matrix")) == bool(g.get("matrix_file")):
            raise ValueError(
                f"{where}: give exactly one of 'matrix' (a resources/sources.tsv key) "
                "or 'matrix_file' (a local file)"
            )
        if g.get("matrix") and g["matrix"] not in sources:
            raise ValueError(
                f"{where}: matrix {g['matrix']!r} is not a key of resources/sources.tsv "
                f"(known: {sorted(sources)}); add a row there or use matrix_file"
            )
        GeoSpec.from_config(g, where=where)
        unknown = set(g.get("compare") or {}) - {
            "genelink_cell",
            "genelink_expression",
            "beeline_cell",
        }
        if unknown:
            raise ValueError(
                f"{where}.compare: unknown keys {sorted(unknown)}; "
                "known: genelink_cell, genelink_expression, beeline_cell"
            )


_check_geo()


def geo_raw(ds):
    return str(L.fill(RESULTS, L.RAW_DIR, dataset=ds))


def geo_needs_networks_zip(ds, networks=None):
    """BEELINE-Networks.zip is needed unless the TF list and every network are local files."""
    g = geo_cfg(ds)
    local = g.get("network_files") or {}
    nets = DATASETS[ds]["networks"] if networks is None else networks
    return not g.get("tfs_file") or any(n not in local for n in nets)


def geo_inputs(w):
    g = geo_cfg(w.dataset)
    ref = DATASETS[w.dataset]["networks"][0]
    out = {
        "matrix": g["matrix_file"] if g.get("matrix_file") else source_path(g["matrix"])
    }
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
    nets = ["specific", "nonspecific", "string"] + (
        ["lofgof"] if cell == "mESC" else []
    )
    return [
        {
            "network": net,
            "geneset": gs,
            "h5ad": str(L.data_h5ad(RESULTS, ds, net, gs)),
            "folder": str(
                L.fill(
                    RESULTS, L.GENELINK_DOWNLOAD_DIR, network=net, cell=cell, geneset=gs
                )
            ),
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
        str(L.fill(RESULTS, f"{L.COMPARE_PUBLISHED}.tsv", dataset=ds))
        for ds in GEO_DATASETS
        if geo_cfg(ds).get("compare", {}).get("genelink_cell")
        or geo_cfg(ds).get("compare", {}).get("beeline_cell")
    ]
