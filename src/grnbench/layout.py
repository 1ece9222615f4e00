"""Where results go: every path under the results folder, in one place.

Two forms of the same layout:

- wildcard templates, relative to the results folder (``EDGES`` =
  ``"{dataset}/{network}/{geneset}/{split}/{method}/seed{seed}/edges.csv"``), which the rules
  turn into their ``input:`` / ``output:`` / ``log:`` / ``benchmark:`` files with
  :func:`under` (``rules/common.smk``: ``R(EDGES)``);
- functions for Python (``edges(results, dataset, network, geneset, split, method, seed)``
  -> :class:`~pathlib.Path`), which fill the same templates.

Imported when Snakemake plans, so it imports nothing heavy.

The tree (``{results}/``)::

    {dataset}/{network}/{geneset}/            one gene set of one dataset and network
        data.h5ad  stats.json  genelink_files/  pretrain/scbert_{enckey}.pt
        {split}/split_seed{seed}.csv|json     one split protocol, one seed
        {split}/inputs/seed{seed}/            what a rule method may read (METHOD_INPUT_FILES)
        {split}/{method}/seed{seed}/          one job: edges.csv run.json metrics.json
        unsupervised/{method}/seed{seed}/     an unsupervised method's one run (edges.csv,
                                              run.json), linked into every split's job folder
    raw/{dataset}/  downloads/                simulated / rebuilt / downloaded inputs
    logs/{rule}/...log  benchmarks/{rule}/...tsv
    tables/  figures/
"""

from __future__ import annotations

from pathlib import Path

# --- templates (relative to the results folder) ------------------------------------------------
DATASET_DIR = "{dataset}/{network}/{geneset}"
DATA_H5AD = f"{DATASET_DIR}/data.h5ad"
STATS = f"{DATASET_DIR}/stats.json"
GENELINK_FILES = f"{DATASET_DIR}/genelink_files"  # the gene set in GENELink's folder format
PRETRAIN_ENCODER = f"{DATASET_DIR}/pretrain/scbert_{{enckey}}.pt"  # scTransNet's encoder
COMPARE_PUBLISHED = "{dataset}/compare_published"  # .tsv / .json (GEO datasets)

SPLIT_DIR = f"{DATASET_DIR}/{{split}}"
SPLIT_CSV = f"{SPLIT_DIR}/split_seed{{seed}}.csv"
SPLIT_JSON = f"{SPLIT_DIR}/split_seed{{seed}}.json"  # the split's summary (or its refusal)
METHOD_INPUTS_DIR = f"{SPLIT_DIR}/inputs/seed{{seed}}"

JOB_DIR = f"{SPLIT_DIR}/{{method}}/seed{{seed}}"  # one method on one split and seed
SPLIT_KEY = f"{SPLIT_DIR}/seed{{seed}}"  # names one split's log and benchmark (logs/split/...)
EDGES = f"{JOB_DIR}/edges.csv"
RUN = f"{JOB_DIR}/run.json"
METRICS = f"{JOB_DIR}/metrics.json"

#: An unsupervised method sees no label, so it runs once per dataset and seed, whatever the
#: split; each split's job folder links (symlinks) its edges.csv and run.json to these.
UNSUPERVISED_DIR = f"{DATASET_DIR}/unsupervised/{{method}}/seed{{seed}}"
UNSUPERVISED_EDGES = f"{UNSUPERVISED_DIR}/edges.csv"
UNSUPERVISED_RUN = f"{UNSUPERVISED_DIR}/run.json"

RAW_DIR = "raw/{dataset}"  # BEELINE-format files of a simulated / krumsiek11 / GEO dataset
RAW_EXPRESSION = f"{RAW_DIR}/ExpressionData.csv"
RAW_PSEUDOTIME = f"{RAW_DIR}/PseudoTime.csv"
RAW_TFS = f"{RAW_DIR}/TFs.csv"
RAW_NETWORK = f"{RAW_DIR}/refNetwork.csv"
RAW_GEO_NETWORK = f"{RAW_DIR}/network_{{network}}.csv"  # one BEELINE network of a GEO dataset
RAW_GEO_SUMMARY = f"{RAW_DIR}/geo_summary.json"
GENELINK_DOWNLOAD_DIR = "downloads/genelink/{network}/{cell}/{geneset}"
GENELINK_DOWNLOAD = f"{GENELINK_DOWNLOAD_DIR}/{{file}}"
SOURCE_DOWNLOAD = "downloads/sources/{key}/{filename}"  # a resources/sources.tsv file

LOGS_DIR = "logs"
BENCHMARKS_DIR = "benchmarks"
TABLES_DIR = "tables"
FIGURES_DIR = "figures"
METRICS_TSV = f"{TABLES_DIR}/metrics.tsv"
STATUS_TSV = f"{TABLES_DIR}/status.tsv"
ALL_JOBS_OK = f"{TABLES_DIR}/all_jobs_ok.txt"

#: Files of ``pipeline.write_method_inputs`` in ``{split}/inputs/seed{seed}/``: what a
#: Snakemake-rule method may read (README, Add a method).
METHOD_INPUT_FILES = {
    "supervised_h5ad": "supervised.h5ad",      # network = the split's training positives only
    "unsupervised_h5ad": "unsupervised.h5ad",  # no network at all
    "expression": "ExpressionData.csv",        # genes x cells (BEELINE's layout)
    "tfs": "TFs.csv",                          # one TF symbol per line, header TF
    "trainval": "trainval.csv",                # TF,Target,Label,Part (train and val rows)
    "test_pairs": "test_pairs.csv",            # TF,Target: the pairs to score, no labels
}


def log(rule: str, key: str | None = None) -> str:
    """A rule's log template: ``logs/{rule}/{key}.log`` (``logs/{rule}.log`` without a key)."""
    return f"{LOGS_DIR}/{rule}.log" if key is None else f"{LOGS_DIR}/{rule}/{key}.log"


def benchmark(rule: str, key: str | None = None) -> str:
    """A rule's benchmark template: ``benchmarks/{rule}/{key}.tsv`` (``benchmarks/{rule}.tsv``)."""
    return f"{BENCHMARKS_DIR}/{rule}.tsv" if key is None else f"{BENCHMARKS_DIR}/{rule}/{key}.tsv"


def under(results, template: str) -> str:
    """``template`` inside the results folder, its ``{wildcards}`` kept (the rules' form)."""
    return f"{results}/{template}"


def fill(results, template: str, **wildcards) -> Path:
    """``template`` inside the results folder with every wildcard given (the Python form)."""
    return Path(results, template.format(**{k: str(v) for k, v in wildcards.items()}))


def results_of(path, template: str) -> str:
    """The results folder holding ``path``, a file made from ``template`` (no wildcards left):
    ``results_of("out/tables/metrics.tsv", METRICS_TSV) == "out"`` (rules take it from their
    input, as Snakemake's linter asks, not from the config)."""
    p, tail = str(path), "/" + template
    if not p.endswith(tail):
        raise ValueError(f"{p} is not a {template} of a results folder")
    return p[: -len(tail)]


def wildcards(w, *names) -> dict[str, str]:
    """The named wildcards of a Snakemake job (``w``), for :func:`fill`."""
    return {n: getattr(w, n) for n in names}


# --- the Python form ---------------------------------------------------------------------------
def dataset_dir(results, dataset, network, geneset) -> Path:
    return fill(results, DATASET_DIR, dataset=dataset, network=network, geneset=geneset)


def data_h5ad(results, dataset, network, geneset) -> Path:
    return fill(results, DATA_H5AD, dataset=dataset, network=network, geneset=geneset)


def split_dir(results, dataset, network, geneset, split) -> Path:
    """``{dataset}/{network}/{geneset}/{split}``: one split protocol of one gene set."""
    return fill(results, SPLIT_DIR, dataset=dataset, network=network, geneset=geneset, split=split)


def split_csv(results, dataset, network, geneset, split, seed) -> Path:
    return fill(results, SPLIT_CSV, dataset=dataset, network=network, geneset=geneset, split=split, seed=seed)


def split_json(results, dataset, network, geneset, split, seed) -> Path:
    return fill(results, SPLIT_JSON, dataset=dataset, network=network, geneset=geneset, split=split, seed=seed)


def job_dir(results, dataset, network, geneset, split, method, seed) -> Path:
    return fill(results, JOB_DIR, dataset=dataset, network=network, geneset=geneset, split=split,
                method=method, seed=seed)


def edges(results, dataset, network, geneset, split, method, seed) -> Path:
    return job_dir(results, dataset, network, geneset, split, method, seed) / "edges.csv"


def run_json(results, dataset, network, geneset, split, method, seed) -> Path:
    return job_dir(results, dataset, network, geneset, split, method, seed) / "run.json"


def metrics(results, dataset, network, geneset, split, method, seed) -> Path:
    return job_dir(results, dataset, network, geneset, split, method, seed) / "metrics.json"


def unsupervised_key(dataset, network, geneset, method, seed) -> str:
    """``{dataset}/{network}/{geneset}/unsupervised/{method}/seed{seed}``: the name of an
    unsupervised method's one run (shared by the splits) in logs and benchmarks."""
    return UNSUPERVISED_DIR.format(dataset=dataset, network=network, geneset=geneset, method=method, seed=seed)


def job_key(dataset, network, geneset, split, method, seed) -> str:
    """``{dataset}/{network}/{geneset}/{split}/{method}/seed{seed}``: a job's name in messages,
    logs (``logs/infer/<key>.log``) and benchmarks."""
    return JOB_DIR.format(dataset=dataset, network=network, geneset=geneset, split=split, method=method, seed=seed)


def split_key(dataset, network, geneset, split, seed) -> str:
    """``{dataset}/{network}/{geneset}/{split}/seed{seed}``: a split's name in logs and benchmarks."""
    return SPLIT_KEY.format(dataset=dataset, network=network, geneset=geneset, split=split, seed=seed)


def log_file(results, rule: str, key: str | None = None) -> Path:
    return Path(results, log(rule, key))


def benchmark_file(results, rule: str, key: str | None = None) -> Path:
    return Path(results, benchmark(rule, key))


def tables_dir(results) -> Path:
    return Path(results, TABLES_DIR)


def figures_dir(results) -> Path:
    return Path(results, FIGURES_DIR)
