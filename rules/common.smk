# Helper functions that choose files; rules stay declarative.

import os
from pathlib import Path

from snakemake.logging import logger

import grnbench.methods.registry as registry
from grnbench import layout as L
from grnbench.data.released import released_files, same_files_every_seed

for _plugin in config.get("plugins", []):
    registry.load_plugin(_plugin)

RESULTS = config["results"]


def R(template):
    """A results path of grnbench.layout (wildcards kept) inside the config's results folder."""
    return L.under(RESULTS, template)


LOGS = R(L.LOGS_DIR)  # for rule methods of your own (README, Add a method)
BENCH = R(L.BENCHMARKS_DIR)
# package data, found through the installed package (works as a module and under --sdm conda)
from grnbench.package_data import resource

PUBLISHED_TABLE1 = str(resource("published", "table1.tsv"))
SEEDS = config["seeds"]
DATASETS = config["datasets"]
SPLITS = config["splits"]
METHODS = config["methods"]
REGISTERED = registry.planning_methods()  # the light index: no method module imported
# refuse at planning what is known at planning, naming the config key (grnbench.plancheck)
from grnbench.plancheck import check_config

check_config(config, workflow, REGISTERED)


def _check_methods():
    for name, m in METHODS.items():
        if m.get("rule"):
            if "kind" not in m:
                raise ValueError(
                    f"config: methods.{name}: a rule method needs 'kind' (supervised or unsupervised)"
                )
        elif name not in REGISTERED:
            raise ValueError(
                f"config: methods: unknown method {name!r}; registered: {sorted(REGISTERED)} "
                "(or set 'rule: true' for a Snakemake rule of your own)"
            )


_check_methods()
PY_METHODS = [m for m in METHODS if not METHODS[m].get("rule")]
# registered unsupervised methods run once per dataset and seed (rule infer_unsupervised)
UNSUPERVISED_PY = [m for m in PY_METHODS if REGISTERED[m].kind == "unsupervised"]
SUPERVISED_PY = [m for m in PY_METHODS if m not in UNSUPERVISED_PY]


def _alt(names):
    return "|".join(sorted(names)) if names else "__none__"


wildcard_constraints:
    dataset=_alt(DATASETS),
    network="[A-Za-z0-9_-]+",
    geneset="tfs[0-9]+",
    split=_alt(
        [
            "genelink",
            "genelink_released",
            "tf_holdout",
            "degree_matched",
            "cross_dataset",
        ]
    ),
    method="[a-z][a-z0-9_]*",
    seed="[0-9]+",


def method_kind(method):
    m = METHODS.get(method, {})
    return m["kind"] if m.get("rule") else REGISTERED[method].kind


def method_cfg(method, key):
    return METHODS[method][key]


def dataset_jobs():
    """(dataset, network, geneset) combinations of the config."""
    for ds, d in DATASETS.items():
        for net in d["networks"]:
            for gs in d["genesets"]:
                yield ds, net, gs


from grnbench.plancheck import cross_dataset_jobs

# tested (dataset, network, geneset) -> the one whose labels train its cross_dataset split
CROSS_DATASET = cross_dataset_jobs(config)


def splits_for(ds, net=None, gs=None):
    out = []
    for sp in SPLITS:
        if sp == "genelink_released" and not DATASETS[ds].get("released_splits"):
            continue  # only datasets whose split files GENELink published
        if sp == "cross_dataset" and (ds, net, gs) not in CROSS_DATASET:
            continue  # the training cell itself, or a cell not tested (split_params.cross_dataset)
        out.append(sp)
    return out


def all_jobs():
    """(dataset, network, geneset, split, method, seed) of every job of the config."""
    for ds, net, gs in dataset_jobs():
        for sp in splits_for(ds, net, gs):
            for m in METHODS:
                for s in SEEDS:
                    yield ds, net, gs, sp, m, s


def get_metrics_files():
    return [str(L.metrics(RESULTS, *job)) for job in all_jobs()]


def infer_key(ds, net, gs, sp, m, s):
    """The name of the infer job behind a job's edges.csv (logs, benchmarks)."""
    if m in UNSUPERVISED_PY:  # one run shared by every split
        return L.unsupervised_key(ds, net, gs, m, s)
    return L.job_key(ds, net, gs, sp, m, s)


def get_infer_benchmarks():
    return [
        str(L.benchmark_file(RESULTS, "infer", infer_key(*job))) for job in all_jobs()
    ]


def get_edges_files():
    return [str(L.edges(RESULTS, *job)) for job in all_jobs()]


def evaluate_inputs(w):
    """The dataset, the split, and every method's edges.csv (and run.json) of one split and seed."""
    out = {"h5ad": data_file(w), "split": split_file(w)}
    for m in METHODS:
        job = (w.dataset, w.network, w.geneset, w.split, m, w.seed)
        out[f"edges_{m}"] = str(L.edges(RESULTS, *job))
        if m in PY_METHODS:  # a rule method of your own writes edges.csv only
            out[f"run_{m}"] = str(L.run_json(RESULTS, *job))
    return out


def evaluate_jobs(w, input, output):
    """One entry per method for grnbench.pipeline.evaluate_split, in the order of the config."""
    return [
        {
            "method": m,
            "edges": input[f"edges_{m}"],
            "run": input[f"run_{m}"] if f"run_{m}" in input.keys() else None,
            "out": out,
            "kind": method_kind(m),
            "allow_partial": bool(method_cfg(m, "allow_partial")),
        }
        for m, out in zip(METHODS, output)
    ]


def data_file(w):
    return str(L.data_h5ad(RESULTS, w.dataset, w.network, w.geneset))


def split_file(w):
    return str(L.split_csv(RESULTS, w.dataset, w.network, w.geneset, w.split, w.seed))


def aggregate_outputs():
    """Every final file of the aggregate stage, by name, wrapped for the report."""
    from grnbench.evaluate.report import report_items

    return {
        name: report(
            item["path"],
            caption=f"../report/{item['caption']}.rst",
            category=item["category"],
            subcategory=item["subcategory"],
            labels=item["labels"],
        )
        for name, item in report_items(RESULTS).items()
    }


def get_aggregate_outputs():
    return [str(p) for p in aggregate_outputs().values()]


def _encoder_key(method):
    """Methods whose resolved encoder settings agree share one pretrained encoder: the key
    hashes those settings only (grnbench.models.sctransnet.config.pretrain_key), so a head, GNN
    or training setting does not retrain it."""
    from grnbench.models.sctransnet.config import pretrain_key

    cfg = METHODS[method]
    return pretrain_key(REGISTERED[method].params(cfg["preset"], cfg["params"]))


def _pretrains_encoder(method):
    """A scTransNet variant with an encoder that the workflow pretrains: not a user-given
    checkpoint (those load it themselves), nor replaced by gene_embeddings."""
    return getattr(REGISTERED[method], "use_encoder", False) and not any(
        METHODS[method]["params"].get(k)
        for k in ("encoder_checkpoint", "gene_embeddings")
    )


# encoder key -> the method whose settings pretrain it
ENCODERS = {}
for _m in PY_METHODS:
    if _pretrains_encoder(_m):
        ENCODERS.setdefault(_encoder_key(_m), _m)


def encoder_file(w, method):
    return str(
        L.fill(
            RESULTS,
            L.PRETRAIN_ENCODER,
            **L.wildcards(w, "dataset", "network", "geneset"),
            enckey=_encoder_key(method),
        )
    )


def method_input_files():
    """Output templates of the method_inputs rule (grnbench.pipeline.METHOD_INPUT_FILES)."""
    folder = R(L.METHOD_INPUTS_DIR)
    return {k: f"{folder}/{v}" for k, v in L.METHOD_INPUT_FILES.items()}


def method_inputs(w):
    """Input function for the Snakemake rules of your own methods, used as unpack(method_inputs).

    See README, Add a method.
    """
    return {k: v.format(**dict(w.items())) for k, v in method_input_files().items()}


def infer_inputs(w):
    out = {
        "h5ad": data_file(w),
        "stats": str(
            L.fill(RESULTS, L.STATS, **L.wildcards(w, "dataset", "network", "geneset"))
        ),
    }
    if "split" in w.keys():  # not for infer_unsupervised: that method sees no split
        out["split"] = split_file(w)
    if _pretrains_encoder(w.method):
        out["encoder"] = encoder_file(w, w.method)
    # tracked: a changed file reruns
    if method_cfg(w.method, "params").get("gene_embeddings"):
        from grnbench.data.embeddings import embedding_files

        out["gene_embeddings"] = embedding_files(
            method_cfg(w.method, "params")["gene_embeddings"]
        )
    return out


def infer_resources(w, input):
    """mem_mb / runtime: the larger of the config's and grnbench.guards' estimate from stats.json."""
    from grnbench.guards import resources

    m = METHODS[w.method]
    if not os.path.exists(
        input.stats
    ):  # planning before preprocess ran: the config's values
        return {"mem_mb": m["mem_mb"], "runtime": m["runtime"]}
    est = resources(w.method, input.stats, preset=m["preset"], params=m["params"])
    return {
        "mem_mb": max(m["mem_mb"], est["mem_mb"]),
        "runtime": max(m["runtime"], est["runtime"]),
    }


def infer_params(w, input):
    p = dict(method_cfg(w.method, "params"))
    if "encoder" in input.keys():
        p["encoder_checkpoint"] = input.encoder
    return p


def get_final_output():
    out = [R(L.METRICS_TSV)]
    out += [
        str(L.fill(RESULTS, L.STATS, dataset=ds, network=net, geneset=gs))
        for ds, net, gs in dataset_jobs()
    ]
    out += get_aggregate_outputs()
    out += get_compare_outputs()
    out.append(R(L.STATUS_TSV))  # every job, ok or failed, with its log
    # fails, naming them, if a job failed
    out.append(R(L.ALL_JOBS_OK))
    return out


def preprocess_inputs(w):
    d = DATASETS[w.dataset]
    raw = str(L.fill(RESULTS, L.RAW_DIR, dataset=w.dataset))
    # BEELINE-format files written by rules simulate / krumsiek11
    if d["source"] in ("simulate", "krumsiek11"):
        return {
            "expression": f"{raw}/ExpressionData.csv",
            "pseudotime": f"{raw}/PseudoTime.csv",
            "tfs": f"{raw}/TFs.csv",
            "network": f"{raw}/refNetwork.csv",
        }
    if d["source"] == "geo":  # BEELINE-format files rebuilt from GEO by rules/geo.smk
        return {
            "expression": f"{raw}/ExpressionData.csv",
            "pseudotime": f"{raw}/PseudoTime.csv",
            "tfs": f"{raw}/TFs.csv",
            "network": f"{raw}/network_{w.network}.csv",
        }
    if d["source"] == "beeline":
        f = d["files"]
        out = {"expression": f["expression"], "network": f["networks"][w.network]}
        if f.get("tfs"):  # optional with regulators: all (grnbench.plancheck)
            out["tfs"] = f["tfs"]
        if f.get("pseudotime"):
            out["pseudotime"] = f["pseudotime"]
        return out
    folder = genelink_download_dir(w, d["cell"])
    return {
        "expression": f"{folder}/BL--ExpressionData.csv",
        "network": f"{folder}/BL--network.csv",
        "tfs": f"{folder}/TF.csv",
        "targets": f"{folder}/Target.csv",
    }


def cross_dataset_train(w):
    """The cross_dataset split's training labels: {"h5ad", "network", "name"}, or None."""
    src = (
        CROSS_DATASET.get((w.dataset, w.network, w.geneset))
        if w.split == "cross_dataset"
        else None
    )
    if src is None:
        return None
    ds, net, gs = src
    return {
        "h5ad": str(L.data_h5ad(RESULTS, ds, net, gs)),
        "network": net,
        "name": f"{ds}/{net}/{gs}",
    }


def split_inputs(w):
    """The dataset, plus GENELink's released split files for the genelink_released protocol
    or the training dataset (train_h5ad) for cross_dataset."""
    out = {"h5ad": data_file(w)}
    if w.split == "cross_dataset":
        train = cross_dataset_train(w)
        if train is None:
            raise ValueError(
                f"config: split_params.cross_dataset: {w.dataset}/{w.network}/{w.geneset} is not a cell it tests"
            )
        out["train_h5ad"] = train["h5ad"]
        return out
    if w.split != "genelink_released":
        return out
    d = DATASETS[w.dataset]
    out.update(
        released_files(
            w.dataset,
            d,
            network=w.network,
            geneset=w.geneset,
            seed=int(w.seed),
            results=RESULTS,
        )
    )
    if d["source"] == "genelink":
        out["targets"] = f"{genelink_download_dir(w, d['cell'])}/Target.csv"
    else:
        out["targets"] = str(
            L.fill(
                RESULTS,
                f"{L.GENELINK_FILES}/Target.csv",
                **L.wildcards(w, "dataset", "network", "geneset"),
            )
        )
    return out


def _check_released():
    """Refuse at planning a released split that cannot exist; say when seeds share one file set."""
    if "genelink_released" not in SPLITS:
        return
    warned = set()
    for ds, net, gs in dataset_jobs():
        d = DATASETS[ds]
        if not d.get("released_splits"):
            continue
        for s in SEEDS:
            released_files(ds, d, network=net, geneset=gs, seed=s, results=RESULTS)
        if len(SEEDS) > 1 and same_files_every_seed(d) and ds not in warned:
            warned.add(ds)
            logger.warning(
                f"datasets.{ds}.released_splits: every seed uses the same released split files "
                "(seeds vary the models only); use a folder template with {seed} for per-seed splits"
            )


_check_released()


def source_path(key):
    """Where a resources/sources.tsv entry lands: results/downloads/sources/<key>/<file>."""
    from grnbench.data.download import read_sources

    return str(
        L.fill(
            RESULTS, L.SOURCE_DOWNLOAD, key=key, filename=read_sources()[key]["file"]
        )
    )


def genelink_download_dir(w, cell):
    """A GENELink folder of the pinned commit: results/downloads/genelink/<network>/<cell>/<geneset>."""
    return str(
        L.fill(
            RESULTS,
            L.GENELINK_DOWNLOAD_DIR,
            network=w.network,
            cell=cell,
            geneset=w.geneset,
        )
    )
