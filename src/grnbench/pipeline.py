"""The workflow's stages as plain functions (called by ``workflow_scripts/`` and the CLI).

Each function reads its inputs, does one thing, and writes its outputs atomically; they hold
the glue between the data layer, the methods and the metrics, nothing more.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench import __version__, layout
from grnbench.data.dataset import GRNData, read_h5ad, write_h5ad
from grnbench.data.views import method_split, method_view
from grnbench.errors import InputError
from grnbench.layout import METHOD_INPUT_FILES
from grnbench.utils import (
    atomic_path,
    file_digest,
    peak_rss_mb,
    resolve_device,
    seed_everything,
    write_csv,
    write_json,
)

log = logging.getLogger("grnbench")

SPLIT_PROTOCOLS = ("genelink", "genelink_released", "tf_holdout", "degree_matched", "cross_dataset")
DENSITY_NETWORKS = ("nonspecific", "string")  # GENELink's random, density-matched test negatives


# --- split -------------------------------------------------------------------------------------
def split_mode(network: str, mode: str = "auto") -> str:
    """GENELink's negative sampling for a network: 'hard' (cell-type specific, LOF/GOF) or 'density'."""
    if mode != "auto":
        return mode
    return "density" if network.lower() in DENSITY_NETWORKS else "hard"


def make_split(
    data_path, out_path, *, protocol: str, seed: int, network: str = "", params: dict | None = None,
    released: dict | None = None, record_refusal: bool = False, train_data=None,
) -> dict:
    """Build one split, prove it clean with ``check_split`` and write it (CSV) atomically.

    Returns the split's summary (``status: ok``). With ``record_refusal`` a split that its
    protocol or ``check_split`` refuses (:class:`~grnbench.errors.SplitLeakError`,
    :class:`~grnbench.errors.InputError`) is recorded instead of raised: a header-only CSV and a
    summary with ``status: refused`` and the reason. Every job on it is then ``failed`` with that
    reason, the other branches of the grid go on and are tabled, and ``check_failures`` ends the
    run non-zero naming it (the workflow's ``on_method_error: record``).
    """
    from grnbench.errors import SplitLeakError

    try:
        return _make_split(data_path, out_path, protocol=protocol, seed=seed, network=network, params=params,
                           released=released, train_data=train_data)
    except (SplitLeakError, InputError) as e:
        if not record_refusal:
            raise
        msg = f"split {protocol} (seed {seed}) refused: {type(e).__name__}: {e}"
        log.error(msg)
        write_csv(pd.DataFrame(columns=["TF", "Target", "Label", "Part"]), out_path)
        return {"status": "refused", "error": msg, "protocol": protocol, "seed": seed}


def _make_split(data_path, out_path, *, protocol, seed, network, params, released, train_data=None) -> dict:
    from grnbench.data import splits as sp

    params = dict(params or {})
    data = read_h5ad(data_path)
    recip = params.get("reciprocal", "auto")  # keep a pair and its reverse in one part (issue 19)
    # the network's training protocol: hard negatives, or 1:1 for Non-Specific / STRING networks
    mode = split_mode(network, params.get("mode", "auto"))
    if protocol == "genelink":
        df = sp.genelink_split(data, seed, mode=mode, reciprocal=recip)
    elif protocol == "tf_holdout":
        df = sp.tf_holdout_split(data, seed, val_frac=params.get("val_frac", 0.1), test_frac=params.get("test_frac", 0.23),
                                 reciprocal=recip, mode=mode)
    elif protocol == "degree_matched":
        df = sp.degree_matched_split(data, seed, k=int(params.get("k", 1)), reciprocal=recip, mode=mode)
    elif protocol == "genelink_released":
        # released = {"train", "val", "test": split files, "targets": the Target.csv they index}
        if not released:
            raise InputError(f"split {protocol}", "this dataset has no released split files (config key 'released_splits')")
        df = sp.read_genelink_split({p: released[p] for p in sp.PARTS}, data, released["targets"])
    elif protocol == "cross_dataset":  # train_data = {"h5ad": path, "network": name, "name": label}
        df, summary = sp.make_cross_dataset_split(data, train_data, seed, network=network, params=params)
        write_csv(df, out_path)
        return {"status": "ok", "protocol": protocol, "seed": seed, **summary}
    else:
        raise InputError("config: splits", f"unknown split protocol {protocol!r}; known: {SPLIT_PROTOCOLS}")
    summary = sp.check_split(df, data)
    summary["dropped_positives"] = int(df.attrs.get("dropped_positives", 0))
    if protocol != "genelink_released":
        summary["negatives"] = {"hard": "every other gene of the TF", "density": "1:1 random negatives per training TF"}[mode]
    if protocol == "genelink_released":  # which files (one set for every seed, or per seed)
        summary["released_files"] = {p: str(released[p]) for p in (*sp.PARTS, "targets") if p in released}
    write_csv(df, out_path)
    return {"status": "ok", "protocol": protocol, "seed": seed, **summary}


def split_refusal(split_path) -> str | None:
    """The reason a split was refused (its summary JSON beside it), or None for a usable split."""
    summary = Path(split_path).with_suffix(".json")
    if summary.exists():
        try:
            info = json.loads(summary.read_text())
        except (OSError, json.JSONDecodeError):
            info = {}
        if info.get("status") == "refused":
            return str(info.get("error"))
    return None


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

    An unsupervised method sees no label, so its result is the same on every split: the
    workflow runs it once per dataset and seed with ``split_path=None`` (``run.json`` records
    ``split: null``) and links the files into each split's job folder.

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
    from grnbench.methods import get

    cls = get(method)  # imports the method's module (and torch, where the method uses it)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(max(1, int(threads)))
    seed_everything(seed)
    if split_path is None and cls.kind != "unsupervised":
        raise ValueError(f"{method} is {cls.kind}: it needs a split (split_path)")
    refused = split_refusal(split_path) if split_path is not None else None
    if refused:  # nothing to fit or score: the job fails with the split's reason
        if not record_failure:
            raise InputError(split_path, refused)
        return _record_refused(edges_out, run_out, method=method, seed=seed, preset=preset, params=params,
                               data_path=data_path, split_path=split_path, error=refused)
    data = read_h5ad(data_path)
    if split_path is None:  # an unsupervised method sees no split: one run serves every split
        split = pd.DataFrame({"TF": [], "Target": [], "Label": [], "Part": []})
    else:
        split = read_split(split_path)
        data.gene_idx(pd.unique(split[["TF", "Target"]].to_numpy().ravel()))
    # only methods that run on a device resolve it (a CPU method on a CPU node with device: cuda is fine)
    dev = resolve_device(device) if getattr(cls, "uses_device", False) else "cpu"
    model = cls(preset=preset, device=dev, **(params or {}))
    if limits is not None:  # refuse a hopeless job before it starts, naming the estimate
        from grnbench.guards import check_size

        check_size(method, data.n_genes, data.n_cells, limits, n_tfs=len(data.tfs), params=model.params)
    job_state = _job_state(cls, edges_out, checkpoint_interval_s, method=method, params=model.params, seed=seed,
                       preset=preset, device=dev, data_path=data_path, split_path=split_path)
    # the method sees the training labels of its split only (grnbench.data.views): never the
    # ground-truth network of the .h5ad, never a validation or test label
    view = method_view(data, split, cls.kind)
    seen, test_pairs = method_split(split)
    try:
        with job_state as job:
            edges, elapsed = _score(model, view, seen, test_pairs, seed=seed, threads=threads)
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
        "labels": model.labels, "resources": getattr(model, "resources", {}),
        "device": dev, "threads": threads, "fit_seconds": round(elapsed, 3) if status == "ok" else None,
        "peak_rss_mb": round(peak_rss_mb(), 1), "grnbench_version": __version__,
        "data": str(data_path), "split": None if split_path is None else str(split_path),
        "status": status, "error": error,
    }
    write_json(info, run_out)
    if status == "ok" and job is not None:
        for f in job.files():  # the results are written: the training state has served
            f.unlink(missing_ok=True)
    return info


def write_method_inputs(data_path, split_path, out_dir) -> dict[str, Path]:
    """Write the view a rule method may read (:mod:`grnbench.data.views`) into ``out_dir``.

    The same view a registered class gets: expression, TFs, pseudotime, the split's training
    and validation rows, and the test pairs without labels; the ground-truth network is not there.
    """
    data = read_h5ad(data_path)
    split = read_split(split_path)
    out_dir = Path(out_dir)
    paths = {k: out_dir / v for k, v in METHOD_INPUT_FILES.items()}
    write_h5ad(method_view(data, split, "supervised").adata, paths["supervised_h5ad"])
    write_h5ad(method_view(data, split, "unsupervised").adata, paths["unsupervised_h5ad"])
    expr = pd.DataFrame(data.expression(np.float64).T, index=data.genes, columns=data.adata.obs_names)
    write_csv(expr, paths["expression"], index=True, float_format="%.7g")
    write_csv(pd.DataFrame({"TF": data.tfs}), paths["tfs"])
    seen, test = method_split(split)
    write_csv(seen, paths["trainval"])
    write_csv(test, paths["test_pairs"])
    return paths


def _record_refused(edges_out, run_out, *, method, seed, preset, params, data_path, split_path, error) -> dict:
    from grnbench.methods import get

    write_csv(pd.DataFrame(columns=["Gene1", "Gene2", "EdgeWeight"]), edges_out)
    info = {"method": method, "kind": get(method).kind, "seed": seed, "preset": preset, "params": params or {},
            "labels": {}, "resources": {}, "device": None, "threads": None, "fit_seconds": None,
            "peak_rss_mb": None, "grnbench_version": __version__, "data": str(data_path), "split": str(split_path),
            "status": "failed", "error": error}
    write_json(info, run_out)
    return info


def job_key(*, method: str, params: dict, seed: int, preset, device: str, data_path, split_path) -> str:
    """SHA-256 naming one job's configuration: method, parameters, seed, device, data and split bytes."""
    ident = {"method": method, "params": params, "seed": seed, "preset": preset, "device": device,
             "data": file_digest(data_path), "split": file_digest(split_path), "version": __version__}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()


def _job_state(cls, edges_out, interval_s, **ident):
    """The training-state context of a supervised job (a no-op context otherwise)."""
    if cls.kind != "supervised" or interval_s is None or "torch" not in sys.modules:
        return contextlib.nullcontext()  # no torch, no train_pair_model: nothing to resume
    # imported past the check only: methods.training imports torch and scikit-learn (2.4 CPU-s)
    from grnbench.methods.training import job_checkpoint

    return job_checkpoint(Path(edges_out).parent / "train_state.pt", job_key(**ident), interval_s)


def _score(model, data: GRNData, seen: pd.DataFrame, test: pd.DataFrame, *, seed: int, threads: int):
    """Run a method on its view (``seen`` = train/val rows, ``test`` = unlabelled test pairs).

    Returns its ranked edges frame and the seconds it took.
    """
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
        s = np.asarray(model.score_pairs(data, seen, test[["TF", "Target"]].copy(), seed=seed, threads=threads), float)
        if s.shape != (len(test),):
            raise RuntimeError(f"{method}.score_pairs returned shape {s.shape}, expected ({len(test)},): one score per test pair")
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
             ids: dict | None = None, allow_partial: bool = False) -> dict:
    """Score a prediction file on the split's test pairs (and all TF->gene pairs if unsupervised).

    Every scope records ``coverage`` (fraction of its pairs the file scores) and ``n_missing``.
    A file that leaves any test pair unscored is ``failed`` (naming how many, an example pair
    and the file), whatever its kind, unless ``allow_partial`` (config
    ``methods.<name>.allow_partial``): then unscored pairs rank below every scored one, as in
    BEELINE, and the tables mark the row. In the ``all_tf_gene`` scope unscored pairs always
    rank last (BEELINE's convention). Unsupervised methods also get scope ``beeline``
    (:func:`grnbench.evaluate.metrics.beeline_scores`: BEELINE's BLEval, exactly, on its own
    universe of ground-truth gene pairs).
    """
    from grnbench.evaluate.metrics import attach_scores, beeline_scores, score_ranking
    from grnbench.evaluate.subgroups import subgroup_scopes

    run = json.loads(Path(run_path).read_text()) if run_path and Path(run_path).exists() else {}
    kind = kind or run.get("kind", "supervised")
    head = {**(ids or {}), "kind": kind, "labels": run.get("labels", {})}
    if run.get("status") == "failed":  # recorded by run_method: NaN metrics, marked failed
        out = {**head, "status": "failed", "error": run.get("error"), "scopes": {"test": {}}, "fit_seconds": None}
        write_json(out, out_path)
        return out
    refused = split_refusal(split_path)
    if refused:
        out = {**head, "status": "failed", "error": refused, "scopes": {"test": {}}, "fit_seconds": None}
        write_json(out, out_path)
        return out
    data = _read_once(read_h5ad, data_path)
    split = _read_once(read_split, split_path).copy()
    edges = read_edges(edges_path)
    test = split[split["Part"] == "test"]
    if test.empty:
        raise InputError(split_path, "the split has no test pairs; nothing can be scored")
    s, missing = attach_scores(test, edges)
    cover = {"coverage": 1.0 - missing / len(test) if len(test) else float("nan"), "n_missing": missing}
    if missing and not allow_partial:
        unscored = _unscored(test, edges)
        method = (ids or {}).get("method", "the method")
        err = (f"{edges_path}: {missing} of {len(test)} test pairs are not scored (coverage {cover['coverage']:.3f}), "
               f"e.g. {unscored[0]} -> {unscored[1]}; every test pair of the split must have a row Gene1,Gene2,EdgeWeight "
               f"(set methods.{method}.allow_partial: true to rank unscored pairs last instead; the tables then mark it)")
        log.error(err)
        out = {**head, "status": "failed", "error": err, "fit_seconds": run.get("fit_seconds"),
               "scopes": {"test": {"n_pairs": len(test), "n_pos": int(test["Label"].sum()), **cover}}}
        write_json(out, out_path)
        return out
    scopes = {"test": {**score_ranking(test["Label"], s, test["TF"]), **cover}}
    # where a score comes from: test pairs whose reverse is / is not a training positive
    # (scopes test:<subgroup>, listed in grnbench.evaluate.subgroups)
    unscored = ~pd.MultiIndex.from_frame(test[["TF", "Target"]].astype(str)).isin(
        pd.MultiIndex.from_frame(edges[["Gene1", "Gene2"]].astype(str)))
    groups = subgroup_scopes(split, protocol=(ids or {}).get("split"))
    for scope, mask in groups.items():
        if all(m.any() for m in groups.values()):  # one group alone would repeat scope test
            sub, n_miss = test[mask], int(unscored[mask].sum())
            scopes[scope] = {**score_ranking(sub["Label"], s[mask], sub["TF"]),
                             "coverage": 1.0 - n_miss / int(mask.sum()), "n_missing": n_miss}
    if kind == "unsupervised":
        pairs = all_tf_gene_pairs(data)
        s2, missing2 = attach_scores(pairs, edges)
        scopes["all_tf_gene"] = {**score_ranking(pairs["Label"], s2, pairs["TF"]),
                                 "coverage": 1.0 - missing2 / len(pairs) if len(pairs) else float("nan"),
                                 "n_missing": missing2}
        scopes["beeline"] = beeline_scores(edges, data.network)  # BLEval exactly (its own universe)
        n_bl = scopes["beeline"]["n_pairs"]
        scored = _pairs_scored(edges, data.network)
        scopes["beeline"].update({"coverage": scored / n_bl if n_bl else float("nan"), "n_missing": n_bl - scored})
    out = {**head, "scopes": scopes, "fit_seconds": run.get("fit_seconds"), "status": "ok", "error": None,
           "dataset_size": dataset_size(data)}
    write_json(out, out_path)
    return out


def evaluate_split(data_path, split_path, jobs: list[dict], *, ids: dict) -> list[dict]:
    """Score every method of one split and seed, in one process (rule ``evaluate``).

    ``jobs``: one dict per method, ``{"method", "edges", "run", "out", "kind", "allow_partial"}``
    (``run``: its ``run.json`` or None for a rule method). Each is :func:`evaluate` exactly; the
    dataset and the split are read once for all of them. ``ids``: the split's wildcards
    (dataset, network, geneset, split, seed). Returns the methods' metrics in order.
    """
    global _READ_CACHE
    outs, _READ_CACHE = [], {}
    try:
        for job in jobs:
            out = evaluate(data_path, split_path, job["edges"], job["out"], run_path=job.get("run"),
                           kind=job.get("kind"), allow_partial=bool(job.get("allow_partial")),
                           ids={**ids, "method": job["method"]})
            log.info("%s: %s %s", job["method"], out["status"], out.get("error") or "")
            outs.append(out)
    finally:
        _READ_CACHE = None
    return outs


#: Files read once within :func:`evaluate_split` (path -> what the reader returned); None
#: elsewhere, so a lone :func:`evaluate` always reads the file as it is now.
_READ_CACHE: dict | None = None


def _read_once(reader, path):
    if _READ_CACHE is None:
        return reader(path)
    key = (reader.__name__, str(Path(path).resolve()))
    if key not in _READ_CACHE:
        _READ_CACHE[key] = reader(path)
    return _READ_CACHE[key]


def dataset_size(data: GRNData) -> dict:
    """The real size of a preprocessed gene set (a ``tfs<N>`` set can come out smaller than N)."""
    prov = data.adata.uns.get("provenance", {})
    req = prov.get("geneset_requested")
    return {"n_genes": int(data.n_genes), "n_tfs": int(data.tf_mask.sum()),
            "geneset_requested": int(req) if req is not None and str(req).isdigit() else None}


def _pairs_scored(edges: pd.DataFrame, network: pd.DataFrame) -> int:
    """How many ordered pairs of distinct ground-truth genes the prediction file scores."""
    genes = set(network["Gene1"].astype(str)) | set(network["Gene2"].astype(str))
    e = edges[edges["Gene1"].isin(genes) & edges["Gene2"].isin(genes) & (edges["Gene1"] != edges["Gene2"])]
    return int(len(e.drop_duplicates(["Gene1", "Gene2"])))


def _unscored(pairs: pd.DataFrame, edges: pd.DataFrame) -> tuple[str, str]:
    """The first pair of ``pairs`` (TF, Target) that ``edges`` (Gene1, Gene2) does not score."""
    have = set(zip(edges["Gene1"].astype(str), edges["Gene2"].astype(str)))
    for a, b in zip(pairs["TF"].astype(str), pairs["Target"].astype(str)):
        if (a, b) not in have:
            return a, b
    return "", ""


# --- collect -----------------------------------------------------------------------------------
METRIC_COLUMNS = [
    "dataset", "network", "geneset", "split", "method", "seed", "kind", "scope", "status",
    "auroc", "auprc", "auprc_trapz", "auprc_ratio", "epr", "per_tf_auroc", "n_pairs", "n_pos",
    "density", "coverage", "n_missing", "n_genes", "n_tfs", "geneset_requested", "runtime_s", "max_rss_mb",
    "labels", "error",
]


STATUS_COLUMNS = ["dataset", "network", "geneset", "split", "method", "seed", "status", "coverage", "error", "log"]
JOB_KEYS = ["dataset", "network", "geneset", "split", "method", "seed"]


def job_status(metrics_tsv, out_path, *, results_dir) -> pd.DataFrame:
    """``status.tsv``: every job of ``metrics.tsv`` with its status, test coverage, error and log.

    Written whether or not jobs failed (rule ``job_status``); ``check_failures`` reads it. The
    log is the one of the step that failed (split, evaluate or infer; :mod:`grnbench.layout`).
    """
    m = pd.read_csv(metrics_tsv, sep="\t", keep_default_na=False, na_values=[""])
    rows = []
    if not m.empty:
        test = m[m["scope"] == "test"].drop_duplicates(JOB_KEYS).set_index(JOB_KEYS)
        for r in m.drop_duplicates(JOB_KEYS, keep="first").itertuples():
            key = (r.dataset, r.network, r.geneset, r.split, r.method, r.seed)
            cov = float(test.loc[key, "coverage"]) if key in test.index and "coverage" in test else float("nan")
            err = getattr(r, "error", "")
            err = " ".join(err.split()) if isinstance(err, str) else ""
            ids = (r.dataset, r.network, r.geneset, r.split, r.method, r.seed)
            if err.startswith("split ") and " refused: " in err:
                log_file = layout.log_file(results_dir, "split", layout.split_key(*ids[:4], r.seed))
            elif "test pairs are not scored" in err:
                log_file = layout.log_file(results_dir, "evaluate", layout.split_key(*ids[:4], r.seed))
            else:
                log_file = layout.log_file(results_dir, "infer", layout.job_key(*ids))
                shared = layout.log_file(results_dir, "infer", layout.unsupervised_key(*ids[:3], *ids[4:]))
                if getattr(r, "kind", "") == "unsupervised" and shared.exists():
                    log_file = shared  # its one run, shared by the splits (rule infer_unsupervised)
            rows.append({"dataset": r.dataset, "network": r.network, "geneset": r.geneset, "split": r.split,
                         "method": r.method, "seed": int(r.seed), "status": r.status, "coverage": cov,
                         "error": err, "log": str(log_file)})
    table = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    write_csv(table, out_path, sep="\t", float_format="%.6g")
    return table


def check_failures(status_tsv, out_path, *, results_dir) -> pd.DataFrame:
    """Fail (after the tables are written) when a job failed; name each failure, its reason and log.

    A failed job's ``edges.csv`` / ``run.json`` are removed (and a refused split's files) so the
    next run retries them. With no failure, writes ``out_path`` (one line: how many jobs are ok).
    """
    from grnbench.errors import GrnbenchError

    table = pd.read_csv(status_tsv, sep="\t", keep_default_na=False, na_values=[""])
    failed = table[table["status"] == "failed"]
    if failed.empty:
        with atomic_path(out_path) as tmp:
            Path(tmp).write_text(f"all {len(table)} jobs ok (see {status_tsv})\n")
        return failed
    lines = []
    for r in failed.itertuples():
        ids = (r.dataset, r.network, r.geneset, r.split, r.method, r.seed)
        rel = layout.job_key(*ids)
        for f in (layout.edges(results_dir, *ids), layout.run_json(results_dir, *ids)):
            if f.is_symlink():  # an unsupervised method's one run (rule link_unsupervised): retry it
                f.resolve().unlink(missing_ok=True)
            f.unlink(missing_ok=True)
        err = r.error if isinstance(r.error, str) else ""
        if err.startswith("split ") and " refused: " in err:
            layout.split_csv(results_dir, *ids[:4], r.seed).unlink(missing_ok=True)
            layout.split_json(results_dir, *ids[:4], r.seed).unlink(missing_ok=True)
        lines.append(f"  {r.method} on {rel}" + (f": {err}" if err else "") + f"\n    log: {r.log}")
    msg = (f"{len(failed)} of {len(table)} job(s) failed (marked 'failed' in {status_tsv}, the tables and the "
           "report; a rerun retries them):\n" + "\n".join(lines))
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
                         "scope": scope, "status": m.get("status", "ok"), **vals, **res, **(m.get("dataset_size") or {}),
                         "labels": json.dumps(m.get("labels", {}), sort_keys=True), "error": m.get("error") or ""})
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


def load_raw_dataset(*, source: str, geneset: str, name: str, expression, network, tfs=None,
                     pseudotime=None, targets=None, pvalue: float = 0.01, select_genes: bool = True,
                     regulators: str = "tfs") -> GRNData:
    """Raw files of a dataset -> :class:`GRNData` restricted to the gene set.

    ``simulate`` / ``beeline`` sources hold full matrices: BEELINE's gene selection (TFs with
    significant variance + the N most-varying genes) is applied and the network restricted to it.
    ``pvalue`` 0 switches the variance test off (every TF and the N most-varying genes);
    ``select_genes=False`` keeps every gene of the expression file (BEELINE on synthetic and
    curated data), the gene set's name is then a label only. ``regulators``: ``"tfs"`` = the TF
    list ``tfs``; ``"all"`` = every gene is a candidate regulator (BEELINE's synthetic runs; no
    TF list needed, one given is not used). ``genelink`` folders are already restricted: read as
    published (``targets`` is unused, the folder is found from ``expression``).

    BEELINE's ``PseudoTime.csv`` may have an R-style header (lineage names only, one field short
    of every row). With several lineages ``obs["pseudotime"]`` is each cell's first non-missing
    one and ``obsm["pseudotime_lineages"]`` holds them all (cells x lineages, NaN off a lineage;
    SCODE runs per lineage, as BEELINE). A ``Type`` column of the network (``+``/``-``) is kept
    as ``uns["network"]["Type"]``.

    Either way the network keeps only edges whose regulator (Gene1) is a TF of the gene set
    (:func:`~grnbench.data.preprocess.restrict_to_tf_regulators`). The provenance records the
    gene set asked for (``geneset_requested``: N of ``tfs<N>``), the non-TF genes it holds
    (``nontf_genes``; fewer than asked is logged as a warning) and ``edges_dropped_non_tf``.
    Data mistakes are refused naming the file and the real cause: a cells x genes expression
    file, an empty or case-mismatched network, pseudotime cell names that do not match.
    """
    from grnbench.data.dataset import make_adata
    from grnbench.data.preprocess import restrict_network, restrict_to_tf_regulators
    from grnbench.data.preprocess import select_genes as select_genes_
    from grnbench.data.readers import (
        check_expression_tfs,
        check_network_genes,
        check_pseudotime_cells,
        check_tfs,
        read_genelink_folder,
        read_network,
        read_pseudotime_lineages,
        read_tfs,
    )
    from grnbench.data.readers import read_expression as _read_expr

    n_requested = geneset_size(geneset)
    if source == "genelink":
        if regulators != "tfs":
            raise InputError("config: regulators", "a genelink folder has its own TF list; regulators: all is for "
                                                   "full BEELINE-format files")
        data = read_genelink_folder(Path(expression).parent, name=name)
        data.adata.uns["provenance"].update(geneset=geneset, geneset_requested=n_requested,
                                            nontf_genes=int(data.n_genes - data.tf_mask.sum()))
        return data
    expr = _read_expr(expression)
    if regulators == "all":  # every gene a candidate regulator (BEELINE's synthetic runs)
        tf_list = [str(g) for g in expr.columns]
        if tfs:
            log.info("%s: regulators: all, every gene is a candidate regulator; %s is not used", name, tfs)
        tfs = "regulators: all"
    elif regulators == "tfs":
        if not tfs:
            raise InputError("config: files.tfs", f"{name}: no TF list; give files.tfs, or regulators: all to make "
                                                  "every gene a candidate regulator")
        tf_list = check_expression_tfs(expr, read_tfs(tfs), expression, tfs)
    else:
        raise InputError("config: regulators", f"expected tfs or all, got {regulators!r}")
    net = read_network(network)
    check_network_genes(net, expr.columns, network, expression)
    pt = lineages = None
    if pseudotime:
        lineages = read_pseudotime_lineages(pseudotime, short_header=True)
        pt = lineages.bfill(axis=1).iloc[:, 0].rename("pseudotime")  # first non-missing lineage
        check_pseudotime_cells(pt, list(expr.index), pseudotime, expression)
    if select_genes:
        # BEELINE's test needs pseudotime; without it select_genes falls back to variance alone (logged)
        genes = select_genes_(expr, tf_list, n_requested, pvalue=pvalue, pseudotime=pt)
    else:
        genes = [str(g) for g in expr.columns]
    n_expr_genes, n_expr_edges = expr.shape[1], len(restrict_network(net, expr.columns))
    expr = expr[genes]
    net = restrict_network(net, genes)
    tf_list = check_tfs(tf_list, genes, tfs)
    if net.empty:
        raise InputError(network, f"none of its edges has both genes in the gene set {geneset} ({len(genes)} genes, "
                                  f"{len(tf_list)} TFs), though {n_expr_edges} have both in {expression}; nothing to "
                                  "score: use a larger gene set")
    net, dropped = restrict_to_tf_regulators(net, tf_list, source=network, tfs_path=tfs)
    n_nontf = len(genes) - len(tf_list)
    if n_nontf < n_requested and select_genes and regulators == "tfs":
        log.warning("%s: gene set %s holds %d non-TF genes, fewer than the %d asked (%d of the %d genes of %s are "
                    "selectable at p < %g, Bonferroni); stats.json records geneset_requested and nontf_genes",
                    name, geneset, n_nontf, n_requested, len(genes), n_expr_genes, expression, pvalue)
    prov = {"source": source, "expression": str(expression), "network": str(network), "tfs": str(tfs),
            "pseudotime": str(pseudotime), "geneset": geneset, "pvalue": pvalue, "name": name,
            "geneset_requested": n_requested, "nontf_genes": n_nontf, "edges_dropped_non_tf": dropped,
            "select_genes": bool(select_genes), "regulators": regulators,
            "lineages": 0 if lineages is None else int(lineages.shape[1])}
    adata = make_adata(expr, tf_list, net[["Gene1", "Gene2"]], pseudotime=pt, provenance=prov)
    if "Type" in net.columns:  # the edge's sign (+ activation, - inhibition), for signed metrics
        adata.uns["network"]["Type"] = net["Type"].astype(str).to_numpy()
    if lineages is not None and lineages.shape[1] > 1:
        adata.obsm["pseudotime_lineages"] = lineages.reindex(adata.obs_names)
    return GRNData(adata, name=name)


def save_dataset(data: GRNData, out_h5ad, out_stats=None) -> dict:
    """Write the ``.h5ad`` and, optionally, its stats JSON (cells, genes, TFs, edges, density).

    Besides :func:`~grnbench.data.preprocess.dataset_stats`, the stats carry ``nontf_genes``
    (genes that are not TFs) and, from the provenance of :func:`load_raw_dataset`,
    ``geneset_requested`` (N of ``tfs<N>``, when known) and ``edges_dropped_non_tf`` (network
    edges whose regulator is not a TF, dropped).
    """
    from grnbench.data.preprocess import dataset_stats

    write_h5ad(data.adata, out_h5ad)
    stats = dataset_stats(data)
    prov = data.adata.uns.get("provenance", {})
    stats["nontf_genes"] = int(stats["genes"] - stats["tfs"])
    for key in ("geneset_requested", "edges_dropped_non_tf"):
        if key in prov:
            stats[key] = int(prov[key])
    if out_stats:
        write_json(stats, out_stats)
    return stats

