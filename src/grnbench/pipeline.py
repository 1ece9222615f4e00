"""The workflow's stages as plain functions (called by ``workflow_scripts/`` and the CLI).

Each function reads its inputs, does one thing, and writes its outputs atomically; they hold
the glue between the data layer, the methods and the metrics, nothing more.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench import __version__
from grnbench.data.dataset import GRNData, read_h5ad, write_h5ad
from grnbench.errors import InputError
from grnbench.utils import (
    file_digest,
    peak_rss_mb,
    resolve_device,
    seed_everything,
    write_csv,
    write_json,
)

log = logging.getLogger("grnbench")

SPLIT_PROTOCOLS = ("genelink", "genelink_released", "tf_holdout", "degree_matched")
DENSITY_NETWORKS = ("nonspecific", "string")  # GENELink's random, density-matched test negatives


# --- split -------------------------------------------------------------------------------------
def split_mode(network: str, mode: str = "auto") -> str:
    """GENELink's negative sampling for a network: 'hard' (cell-type specific, LOF/GOF) or 'density'."""
    if mode != "auto":
        return mode
    return "density" if network.lower() in DENSITY_NETWORKS else "hard"


def make_split(
    data_path, out_path, *, protocol: str, seed: int, network: str = "", params: dict | None = None,
    released: dict | None = None,
) -> dict:
    """Build one split, prove it clean with ``check_split`` and write it (CSV) atomically."""
    from grnbench.data import splits as sp

    params = dict(params or {})
    data = read_h5ad(data_path)
    if protocol == "genelink":
        df = sp.genelink_split(data, seed, mode=split_mode(network, params.get("mode", "auto")))
    elif protocol == "tf_holdout":
        df = sp.tf_holdout_split(data, seed, val_frac=params.get("val_frac", 0.1), test_frac=params.get("test_frac", 0.23))
    elif protocol == "degree_matched":
        df = sp.degree_matched_split(data, seed, k=int(params.get("k", 1)))
    elif protocol == "genelink_released":
        # released = {"train", "val", "test": split files, "targets": the Target.csv they index}
        if not released:
            raise InputError(f"split {protocol}", "this dataset has no released split files (config key 'released_splits')")
        df = sp.read_genelink_split({p: released[p] for p in sp.PARTS}, data, released["targets"])
    else:
        raise InputError("config: splits", f"unknown split protocol {protocol!r}; known: {SPLIT_PROTOCOLS}")
    summary = sp.check_split(df, data)
    summary["dropped_positives"] = int(df.attrs.get("dropped_positives", 0))
    write_csv(df, out_path)
    return summary


def read_split(path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "split file does not exist")
    df = pd.read_csv(path, dtype={"TF": str, "Target": str})
    need = {"TF", "Target", "Label", "Part"}
    if not need <= set(df.columns):
        raise InputError(path, f"expected columns TF,Target,Label,Part, got {list(df.columns)}")
    return df


# --- infer -------------------------------------------------------------------------------------
def run_method(
    data_path, split_path, edges_out, run_out, *, method: str, seed: int, params: dict | None = None,
    threads: int = 1, device: str = "auto", preset: str | None = None, record_failure: bool = False,
    limits: dict | None = None, checkpoint_interval_s: float | None = 30.0,
) -> dict:
    """Run one registered method on one split and seed; write ``edges.csv`` and ``run.json``.

    ``edges.csv`` (``Gene1,Gene2,EdgeWeight``, sorted by weight): supervised methods score the
    split's test pairs; unsupervised methods score every TF -> gene pair (the test pairs are
    among them), so they can also be scored BEELINE-style over all pairs.

    With ``record_failure`` an exception raised by the method itself is logged with its
    traceback and recorded (``run.json`` status ``failed``, header-only ``edges.csv``) instead
    of propagating, so the rest of the grid and the tables go on; the workflow's
    ``check_failures`` rule then fails the run and names it.

    A supervised method's training (every ``train_pair_model`` call) keeps a resumable state in
    ``train_state.pt`` beside ``edges.csv``, saved at most every ``checkpoint_interval_s``
    seconds (``None``: no state): a killed job, run again, resumes from its last saved epoch
    and ends with the same scores. The state is keyed by :func:`job_key` (a changed method,
    parameters, seed, data or split starts afresh), is not an output of the job, and is removed
    once ``edges.csv`` and ``run.json`` are written.
    """
    import torch

    from grnbench.methods import get

    torch.set_num_threads(max(1, int(threads)))
    seed_everything(seed)
    data = read_h5ad(data_path)
    split = read_split(split_path)
    data.gene_idx(pd.unique(split[["TF", "Target"]].to_numpy().ravel()))
    cls = get(method)
    dev = resolve_device(device)
    model = cls(preset=preset, device=dev, **(params or {}))
    if limits is not None:  # refuse a hopeless job before it starts, naming the estimate
        from grnbench.guards import check_size

        check_size(method, data.n_genes, data.n_cells, limits, n_tfs=len(data.tfs), params=model.params)
    job_state = _job_state(cls, edges_out, checkpoint_interval_s, method=method, params=model.params, seed=seed,
                       preset=preset, device=dev, data_path=data_path, split_path=split_path)
    try:
        with job_state as job:
            edges, elapsed = _score(model, data, split, seed=seed, threads=threads)
        status, error = "ok", None
    except Exception as e:  # a method's own failure; bad config/inputs were refused above
        if not record_failure:
            raise
        log.exception("method %s failed", method)
        edges, elapsed = pd.DataFrame(columns=["Gene1", "Gene2", "EdgeWeight"]), float("nan")
        status, error = "failed", f"{type(e).__name__}: {e}"
    write_csv(edges, edges_out, float_format="%.9g")
    info = {
        "method": method, "kind": cls.kind, "seed": seed, "preset": preset, "params": model.params,
        "labels": model.labels, "resources": getattr(model, "resources", {}), "device": dev, "threads": threads, "fit_seconds": round(elapsed, 3) if status == "ok" else None,
        "peak_rss_mb": round(peak_rss_mb(), 1), "grnbench_version": __version__,
        "data": str(data_path), "split": str(split_path), "status": status, "error": error,
    }
    write_json(info, run_out)
    if status == "ok" and job is not None:
        for f in job.files():  # the results are written: the training state has served
            f.unlink(missing_ok=True)
    return info


def job_key(*, method: str, params: dict, seed: int, preset, device: str, data_path, split_path) -> str:
    """SHA-256 naming one job's configuration: method, parameters, seed, device, data and split bytes."""
    ident = {"method": method, "params": params, "seed": seed, "preset": preset, "device": device,
             "data": file_digest(data_path), "split": file_digest(split_path), "version": __version__}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()


def _job_state(cls, edges_out, interval_s, **ident):
    """The training-state context of a supervised job (a no-op context otherwise)."""
    from grnbench.methods.training import job_checkpoint

    if cls.kind != "supervised" or interval_s is None:
        return contextlib.nullcontext()
    return job_checkpoint(Path(edges_out).parent / "train_state.pt", job_key(**ident), interval_s)


def _score(model, data: GRNData, split: pd.DataFrame, *, seed: int, threads: int):
    """Run a method; return its ranked edges frame and the seconds it took."""
    from grnbench.methods.base import UnsupervisedMethod

    method = model.name
    t0 = time.perf_counter()
    if isinstance(model, UnsupervisedMethod):
        w = np.asarray(model.infer(data, seed=seed, threads=threads), dtype=float)
        if w.shape != (len(data.tfs), data.n_genes):
            raise RuntimeError(f"{method}.infer returned shape {w.shape}, expected {(len(data.tfs), data.n_genes)}")
        tf_names = np.repeat(np.asarray(data.tfs), data.n_genes)
        tg_names = np.tile(np.asarray(data.genes), len(data.tfs))
        edges = pd.DataFrame({"Gene1": tf_names, "Gene2": tg_names, "EdgeWeight": w.ravel()})
        edges = edges[edges["Gene1"] != edges["Gene2"]]
    else:
        test = split[split["Part"] == "test"].reset_index(drop=True)
        s = model.score_pairs(data, split, test[["TF", "Target"]], seed=seed, threads=threads)
        edges = pd.DataFrame({"Gene1": test["TF"], "Gene2": test["Target"], "EdgeWeight": np.asarray(s, float)})
    if not np.all(np.isfinite(edges["EdgeWeight"].to_numpy())):
        raise RuntimeError(f"{method} produced NaN or infinite scores")
    elapsed = time.perf_counter() - t0
    edges = edges.sort_values(["EdgeWeight", "Gene1", "Gene2"], ascending=[False, True, True], kind="mergesort")
    return edges, elapsed


# --- evaluate ----------------------------------------------------------------------------------
def read_edges(path) -> pd.DataFrame:
    """A prediction file ``Gene1,Gene2,EdgeWeight``: names verbatim, finite weights, no pair twice."""
    from grnbench.data.readers import _numbers, read_table

    path = Path(path)
    header, rows = read_table(path)
    if not {"Gene1", "Gene2", "EdgeWeight"} <= set(header):
        raise InputError(path, f"expected columns Gene1,Gene2,EdgeWeight, got {header}")
    cols = {c: rows[:, header.index(c)] for c in ("Gene1", "Gene2", "EdgeWeight")}
    for c in ("Gene1", "Gene2"):
        empty = np.flatnonzero([not g.strip() for g in cols[c]])
        if len(empty):
            raise InputError(path, "empty gene name", where=f"row {int(empty[0]) + 2}, column {c}")
    w = _numbers(cols["EdgeWeight"][:, None], path, lambda i, j: f"row {i + 2}")[:, 0]
    e = pd.DataFrame({"Gene1": cols["Gene1"], "Gene2": cols["Gene2"], "EdgeWeight": w})
    dup = e.duplicated(["Gene1", "Gene2"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(path, f"pair {e.Gene1.iloc[row]} -> {e.Gene2.iloc[row]} is scored twice; one score per pair",
                         where=f"row {row + 2}")
    return e


def all_tf_gene_pairs(data: GRNData) -> pd.DataFrame:
    """Every TF -> gene pair without self-loops, labelled by the ground truth (BEELINE's candidates)."""
    tf = np.repeat(np.asarray(data.tfs), data.n_genes)
    tg = np.tile(np.asarray(data.genes), len(data.tfs))
    keep = tf != tg
    pairs = pd.DataFrame({"TF": tf[keep], "Target": tg[keep]})
    truth = set(zip(data.network["Gene1"], data.network["Gene2"]))
    pairs["Label"] = [int((a, b) in truth) for a, b in zip(pairs["TF"], pairs["Target"])]
    return pairs


def evaluate(data_path, split_path, edges_path, out_path, *, run_path=None, kind: str | None = None,
             ids: dict | None = None) -> dict:
    """Score a prediction file on the split's test pairs (and all TF->gene pairs if unsupervised)."""
    from grnbench.evaluate.metrics import attach_scores, score_ranking

    run = json.loads(Path(run_path).read_text()) if run_path and Path(run_path).exists() else {}
    kind = kind or run.get("kind", "supervised")
    if run.get("status") == "failed":  # recorded by run_method: NaN metrics, marked failed
        out = {**(ids or {}), "kind": kind, "labels": run.get("labels", {}), "status": "failed",
               "error": run.get("error"), "scopes": {"test": {}}, "fit_seconds": None}
        write_json(out, out_path)
        return out
    data = read_h5ad(data_path)
    split = read_split(split_path)
    edges = read_edges(edges_path)
    test = split[split["Part"] == "test"]
    s, missing = attach_scores(test, edges)
    scopes = {"test": {**score_ranking(test["Label"], s, test["TF"]), "n_missing": missing}}
    if kind == "unsupervised":
        pairs = all_tf_gene_pairs(data)
        s2, missing2 = attach_scores(pairs, edges)
        scopes["all_tf_gene"] = {**score_ranking(pairs["Label"], s2, pairs["TF"]), "n_missing": missing2}
    out = {**(ids or {}), "kind": kind, "labels": run.get("labels", {}), "scopes": scopes,
           "fit_seconds": run.get("fit_seconds"), "status": "ok"}
    write_json(out, out_path)
    return out


# --- collect -----------------------------------------------------------------------------------
METRIC_COLUMNS = [
    "dataset", "network", "geneset", "split", "method", "seed", "kind", "scope", "status",
    "auroc", "auprc", "auprc_trapz", "auprc_ratio", "epr", "per_tf_auroc", "n_pairs", "n_pos",
    "density", "runtime_s", "max_rss_mb", "labels",
]


def check_failures(metrics_tsv, out_path, *, results_dir, logs_dir) -> pd.DataFrame:
    """Fail (after the tables are written) when a method failed; name each failure and its log.

    The failed jobs' ``edges.csv`` / ``run.json`` are removed so the next run retries them.
    """
    from grnbench.errors import GrnbenchError

    m = pd.read_csv(metrics_tsv, sep="\t")
    failed = m[m["status"] == "failed"].drop_duplicates(["dataset", "network", "geneset", "split", "method", "seed"])
    if failed.empty:
        write_csv(pd.DataFrame({"status": ["ok"], "jobs": [len(m)]}), out_path, sep="\t")
        return failed
    lines = []
    for r in failed.itertuples():
        rel = f"{r.dataset}/{r.network}/{r.geneset}/{r.split}/{r.method}/seed{r.seed}"
        for f in ("edges.csv", "run.json"):
            Path(results_dir, rel, f).unlink(missing_ok=True)
        lines.append(f"  {r.method} on {rel}: see {logs_dir}/infer/{r.dataset}/{r.network}/{r.geneset}/{r.split}/{r.method}/seed{r.seed}.log")
    msg = f"{len(failed)} method run(s) failed (marked 'failed' in the tables and report; rerun retries them):\n" + "\n".join(lines)
    raise GrnbenchError(msg)


def read_benchmark(path) -> dict:
    """Snakemake ``benchmark:`` TSV -> runtime (s) and peak RSS (MB); NaN when absent."""
    try:
        b = pd.read_csv(path, sep="\t")
        return {"runtime_s": float(b["s"].iloc[0]), "max_rss_mb": float(pd.to_numeric(b["max_rss"], errors="coerce").iloc[0])}
    except (OSError, KeyError, IndexError, ValueError, pd.errors.EmptyDataError):
        return {"runtime_s": float("nan"), "max_rss_mb": float("nan")}


def collect_metrics(metrics_files, out_path, benchmark_files=None) -> pd.DataFrame:
    """One row per job and scope; runtime and peak memory from the infer benchmark files."""
    rows = []
    bfiles = list(benchmark_files or [None] * len(metrics_files))
    for mf, bf in zip(metrics_files, bfiles):
        m = json.loads(Path(mf).read_text())
        res = read_benchmark(bf) if bf else {"runtime_s": float("nan"), "max_rss_mb": float("nan")}
        for scope, vals in m["scopes"].items():
            rows.append({**{k: m.get(k) for k in ("dataset", "network", "geneset", "split", "method", "seed", "kind")},
                         "scope": scope, "status": m.get("status", "ok"), **vals, **res,
                         "labels": json.dumps(m.get("labels", {}), sort_keys=True)})
    df = pd.DataFrame(rows)
    for c in METRIC_COLUMNS:
        if c not in df:
            df[c] = np.nan
    df = df[METRIC_COLUMNS].sort_values(["dataset", "network", "geneset", "split", "method", "seed", "scope"], kind="mergesort")
    write_csv(df, out_path, sep="\t", float_format="%.6g")
    return df


def geneset_size(geneset: str) -> int:
    """``tfs500`` -> 500."""
    if not geneset.startswith("tfs") or not geneset[3:].isdigit():
        raise InputError("config: genesets", f"expected tfs<N> (e.g. tfs500), got {geneset!r}")
    return int(geneset[3:])


def load_raw_dataset(*, source: str, geneset: str, name: str, expression, network, tfs,
                     pseudotime=None, targets=None, pvalue: float = 0.01) -> GRNData:
    """Raw files of a dataset -> :class:`GRNData` restricted to the gene set.

    ``simulate`` / ``beeline`` sources hold full matrices: BEELINE's gene selection (TFs with
    significant variance + the N most-varying genes) is applied and the network restricted to it.
    ``genelink`` folders are already restricted: read as published (``targets`` is unused, the
    folder is found from ``expression``).
    """
    from grnbench.data.dataset import make_adata
    from grnbench.data.preprocess import restrict_network, select_genes
    from grnbench.data.readers import (
        check_tfs,
        read_genelink_folder,
        read_network,
        read_pseudotime,
        read_tfs,
    )
    from grnbench.data.readers import read_expression as _read_expr

    if source == "genelink":
        return read_genelink_folder(Path(expression).parent, name=name)
    expr = _read_expr(expression)
    tf_list = check_tfs(read_tfs(tfs), expr.columns, tfs)
    net = read_network(network)
    pt = read_pseudotime(pseudotime) if pseudotime else None
    # BEELINE's test needs pseudotime; without it select_genes falls back to variance alone (logged)
    genes = select_genes(expr, tf_list, geneset_size(geneset), pvalue=pvalue, pseudotime=pt)
    expr = expr[genes]
    net = restrict_network(net, genes)
    tf_list = check_tfs(tf_list, genes, tfs)
    prov = {"source": source, "expression": str(expression), "network": str(network), "tfs": str(tfs),
            "pseudotime": str(pseudotime), "geneset": geneset, "pvalue": pvalue, "name": name}
    return GRNData(make_adata(expr, tf_list, net[["Gene1", "Gene2"]], pseudotime=pt, provenance=prov), name=name)


def save_dataset(data: GRNData, out_h5ad, out_stats=None) -> dict:
    """Write the ``.h5ad`` and, optionally, its stats JSON (cells, genes, TFs, edges, density)."""
    from grnbench.data.preprocess import dataset_stats

    write_h5ad(data.adata, out_h5ad)
    stats = dataset_stats(data)
    if out_stats:
        write_json(stats, out_stats)
    return stats


def env_threads() -> int:
    return int(os.environ.get("GRNBENCH_THREADS", "1"))
