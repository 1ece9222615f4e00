"""BEELINE v1.1's other BLEval evaluators, each as BLEval computes it (issue 14.3).

Reference: ``BLEval/SignedEarlyPrecision.py``, ``Jaccard.py``, ``Spearman.py``, ``Borda.py`` and
``Motifs.py`` of Murali-group/Beeline at commit 37464085 (v1.1). No BEELINE code is imported;
``benchmarks/faithfulness/bleval_extra_referee.py`` runs BLEval's own functions against these.

BLEval conventions kept here (they differ between evaluators, as in BLEval):

- :func:`signed_early_precision`: predictions are every non-self-loop row of the file (no
  de-duplication, genes outside the truth kept), ranked by ``|EdgeWeight|``; for activation,
  predictions that are *inhibitory* truth edges are removed (and vice versa); k = truth edges of
  that sign without self-loops; cut-off ``max(smallest non-zero |w|, k-th |w|)`` with every tie;
  precision over the selected rows divided by ``k / (n (n - 1))``, n = genes of the signed truth.
  NaN when k = 0 or nothing is left to select.
- :func:`top_k_edges` / :func:`jaccard_median_mad`: Jaccard's top-k (duplicates keep the highest
  ``|w|``, ties with the k-th taken, zero weights not), k = truth rows without self-loops;
  median and mean absolute deviation over every two runs.
- :func:`spearman_median_mad`: signed weights on the universe of every ordered pair of truth
  genes (unscored 0, duplicates keep the highest ``|w|``), runs with constant weights left out,
  Spearman over every two runs; median and mean absolute deviation.
- :func:`borda_aggregations` / :func:`borda_runs`: Borda scores ``N - rank + 1`` per method
  (rank by *signed* EdgeWeight, descending, over the union of the methods' edges; an edge a
  method lacks gets ``N - n_method``), aggregated by mean (BORDA), median (mBORDA), min (sBORDA)
  and max (smBORDA); over runs the median, min-max normalised.
- :func:`motif_counts` / :func:`motif_ratios`: feedback loops (3-cycles), feed-forward loops and
  mutual interactions in the top-k predicted edges (k = distinct truth edges without self-loops,
  no tie expansion) over those counts in the truth. Counted with sparse matrices
  (``trace(A^3) / 3``, ``sum(A * A^2)``, ``sum(A * A^T) / 2``), equal to BLEval's networkx loops.

In this benchmark a BLEval "run" is a seed. Only jobs with scope ``beeline`` (methods that
score BEELINE's universe: the unsupervised ones) get these BLEval-exact numbers; supervised files
hold only their split's test pairs, which BLEval's universes do not fit. The ground truth is the
preprocessed ``uns["network"]`` of ``results/{dataset}/{network}/{geneset}/data.h5ad``; its
``Type`` (+/-) column, when present, gives the signed early precision.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import spearmanr

BEELINE = "beeline"
AGGREGATIONS = {"mean": "BORDA", "median": "mBORDA", "min": "sBORDA", "max": "smBORDA"}


# --------------------------------------------------------------------------------------------
# signed early precision (SignedEarlyPrecision.py)


def signed_truth(network: pd.DataFrame) -> tuple[set, set]:
    """Activation (Type '+') and inhibitory (Type '-') truth edges; other Type values ignored."""
    t = network["Type"].astype(str)
    pairs = list(zip(network["Gene1"].astype(str), network["Gene2"].astype(str)))
    act = {p for p, x in zip(pairs, t) if x == "+"}
    inh = {p for p, x in zip(pairs, t) if x == "-"}
    return act, inh


def signed_early_precision(edges: pd.DataFrame, network: pd.DataFrame) -> tuple[float, float]:
    """(EPR of activation edges, EPR of inhibitory edges) as BLEval's SignedEarlyPrecision."""
    if "Type" not in network.columns:
        return float("nan"), float("nan")
    act, inh = signed_truth(network)
    ka = sum(1 for a, b in act if a != b)
    ki = sum(1 for a, b in inh if a != b)
    n = len({g for e in act | inh for g in e})
    n_possible = n * (n - 1)
    g1, g2 = edges["Gene1"].astype(str).to_numpy(), edges["Gene2"].astype(str).to_numpy()
    keep = g1 != g2
    g1, g2 = g1[keep], g2[keep]
    w = np.abs(edges["EdgeWeight"].to_numpy(float)[keep])
    if not len(w) or n_possible == 0:
        return float("nan"), float("nan")
    pairs = list(zip(g1, g2))

    def ep(true: set, opposite: set, k: int) -> float:
        if k == 0:
            return float("nan")
        cand = np.array([p not in opposite for p in pairs], dtype=bool)
        cw = w[cand]
        if not len(cw):
            return float("nan")
        topk = float(np.sort(cw)[::-1][min(k, len(cw)) - 1])
        nz = cw[cw > 0]
        best = max(float(nz.min()) if len(nz) else 0.0, topk)
        sel = cand & (w >= best)
        n_sel = int(sel.sum())
        if n_sel == 0:
            return float("nan")
        tp = sum(1 for p, s in zip(pairs, sel) if s and p in true)
        return (tp / n_sel) / (k / n_possible)

    return ep(act, inh, ka), ep(inh, act, ki)


# --------------------------------------------------------------------------------------------
# stability across runs (Jaccard.py, Spearman.py)


def _dedup_abs(edges: pd.DataFrame) -> pd.DataFrame:
    """Self-loops removed; per (Gene1, Gene2) the row with the highest |EdgeWeight| (the first
    such row in the file on equal |w|), sorted by |w| descending."""
    e = pd.DataFrame({"Gene1": edges["Gene1"].astype(str).to_numpy(),
                      "Gene2": edges["Gene2"].astype(str).to_numpy(),
                      "EdgeWeight": edges["EdgeWeight"].to_numpy(float)})
    e = e[e["Gene1"] != e["Gene2"]]
    e = e.assign(_abs=e["EdgeWeight"].abs())
    e = e.sort_values("_abs", ascending=False, kind="mergesort")
    return e.drop_duplicates(["Gene1", "Gene2"], keep="first")


def top_k_edges(edges: pd.DataFrame, k: int) -> set:
    """BLEval Jaccard's top-k set: ties with the k-th |w| included, zero weights not."""
    e = _dedup_abs(edges)
    if e.empty or k <= 0:
        return set()
    kth = float(e["_abs"].iloc[min(len(e), k) - 1])
    nz = e.loc[e["_abs"] > 0, "_abs"]
    best = max(float(nz.min()) if len(nz) else 0.0, kth)
    sel = e[e["_abs"] >= best]
    return set(zip(sel["Gene1"], sel["Gene2"]))


def _median_mad(values: Sequence[float]) -> tuple[float, float]:
    s = pd.Series(list(values), dtype=float)
    if s.empty:
        return float("nan"), float("nan")
    return float(s.median()), float((s - s.mean()).abs().mean())


def jaccard_median_mad(sets: Sequence[set]) -> tuple[float, float]:
    """Median and mean absolute deviation of the Jaccard index over every two runs (NaN for one run)."""
    if len(sets) < 2:
        return float("nan"), float("nan")
    vals = [len(a & b) / len(a | b) if a | b else float("nan")
            for a, b in itertools.combinations(sets, 2)]
    return _median_mad(vals)


def universe_weights(edges: pd.DataFrame, genes: Sequence[str]) -> np.ndarray:
    """Signed weights on every ordered pair of ``sorted(genes)`` (row-major), 0 where unscored."""
    g = sorted(set(map(str, genes)))
    pos = {x: i for i, x in enumerate(g)}
    n = len(g)
    e = _dedup_abs(edges)
    e = e[e["Gene1"].isin(pos) & e["Gene2"].isin(pos)]
    m = np.zeros((n, n))
    m[e["Gene1"].map(pos).to_numpy(int), e["Gene2"].map(pos).to_numpy(int)] = e["EdgeWeight"].to_numpy()
    return m[~np.eye(n, dtype=bool)]


def spearman_median_mad(runs: Sequence[pd.DataFrame], genes: Sequence[str]) -> tuple[float, float]:
    """BLEval's Spearman stability: median and MAD of pairwise Spearman over runs."""
    if len(runs) < 2:
        return float("nan"), float("nan")
    arrays = [universe_weights(e, genes) for e in runs]
    arrays = [a for a in arrays if len(a) and not np.all(a == a[0])]
    if len(arrays) < 2:
        return float("nan"), float("nan")
    res = spearmanr(np.column_stack(arrays))
    if len(arrays) == 2:
        corr = np.array([float(res.correlation)])
    else:
        c = np.asarray(res.correlation)
        corr = c[np.triu_indices(len(arrays), k=1)]
    corr = corr[~np.isnan(corr)]
    if not corr.size:
        return float("nan"), float("nan")
    return float(np.median(corr)), float(np.mean(np.abs(corr - np.mean(corr))))


def spearman_common(a: pd.Series, b: pd.Series) -> float:
    """Spearman correlation of two prediction files' scores on the pairs both scored (ours)."""
    common = a.index.intersection(b.index)
    if len(common) < 2:
        return float("nan")
    x, y = a.reindex(common).to_numpy(float), b.reindex(common).to_numpy(float)
    if np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(spearmanr(x, y).correlation)


# --------------------------------------------------------------------------------------------
# Borda aggregation (Borda.py)


def _normalize(a: np.ndarray) -> np.ndarray:
    mn, mx = a.min(), a.max()
    return np.zeros_like(a, dtype=float) if mx == mn else (a - mn) / (mx - mn)


def _keys(df: pd.DataFrame) -> np.ndarray:
    return (df["Gene1"].astype(str) + "\x01" + df["Gene2"].astype(str)).to_numpy(dtype=object)


def borda_aggregations(ranked: dict[str, pd.DataFrame],
                       which: Sequence[str] = tuple(AGGREGATIONS)) -> dict[str, pd.DataFrame]:
    """BLEval's ``_compute_borda_aggregations``: per aggregation ('mean', 'median', 'min', 'max')
    a frame Gene1, Gene2, Score over the union of the methods' non-self-loop edges, sorted by
    Score descending (ties in BLEval's order: pandas' default sort). ``which``: the
    aggregations to compute."""
    frames = [df[df["Gene1"] != df["Gene2"]] for df in ranked.values()]
    keys = [_keys(nl) for nl in frames]
    if not any(len(k) for k in keys):
        return {}
    # the union in BLEval's order (sorted tuples): "\x01" sorts below any printable character
    union = pd.Index(np.unique(np.concatenate(keys)))
    n_total = len(union)
    scores = np.zeros((n_total, len(frames)))
    for j, nl in enumerate(frames):
        s = nl.sort_values("EdgeWeight", ascending=False).reset_index(drop=True)  # BLEval's call
        k = _keys(s)
        vals = n_total - np.arange(len(s), dtype=float)
        last = ~pd.Index(k).duplicated(keep="last")  # BLEval's loop: a later duplicate overwrites
        scores[:, j] = float(n_total - len(s))
        scores[union.get_indexer(k[last]), j] = vals[last]
    g1, g2 = zip(*(k.split("\x01", 1) for k in union))
    g1, g2 = list(g1), list(g2)
    funcs = {"mean": np.mean, "median": np.median, "min": np.min, "max": np.max}
    out = {}
    for k in which:
        df = pd.DataFrame({"Gene1": g1, "Gene2": g2, "Score": funcs[k](scores, axis=1)})
        out[k] = df.sort_values("Score", ascending=False).reset_index(drop=True)
    return out


def borda_runs(runs: Sequence[dict[str, pd.DataFrame]]) -> pd.DataFrame:
    """BLEval's Borda.csv: per aggregation the median over runs (edges a run lacks skipped),
    min-max normalised; columns Gene1, Gene2, BORDA, mBORDA, sBORDA, smBORDA, by BORDA descending."""
    per: dict[str, list[pd.Series]] = {k: [] for k in AGGREGATIONS}
    for ranked in runs:
        aggs = borda_aggregations(ranked) if ranked else {}
        for k, df in aggs.items():
            per[k].append(pd.Series(df["Score"].to_numpy(),
                                    index=pd.MultiIndex.from_arrays([df["Gene1"], df["Gene2"]],
                                                                    names=["Gene1", "Gene2"])))
    cols = {}
    for k, col in AGGREGATIONS.items():
        if per[k]:
            med = pd.concat(per[k], axis=1).median(axis=1)
            cols[col] = pd.Series(_normalize(med.to_numpy()), index=med.index)
    if not cols:
        return pd.DataFrame(columns=["Gene1", "Gene2", *AGGREGATIONS.values()])
    out = pd.DataFrame(cols)
    out.index.names = ["Gene1", "Gene2"]
    return out.reset_index().sort_values("BORDA", ascending=False)


# --------------------------------------------------------------------------------------------
# network motifs (Motifs.py)


def motif_counts(edges: set) -> tuple[int, int, int]:
    """(feedback loops, feed-forward loops, mutual interactions) of a set of directed edges,
    self-loops dropped: 3-cycles counted once, FFLs as ordered (a, b, c) with a->b, a->c, b->c,
    mutual pairs once (BLEval's ``_motif_counts``)."""
    e = {(str(a), str(b)) for a, b in edges if a != b}
    if not e:
        return 0, 0, 0
    nodes = sorted({g for p in e for g in p})
    pos = {g: i for i, g in enumerate(nodes)}
    r = np.fromiter((pos[a] for a, _ in e), int, len(e))
    c = np.fromiter((pos[b] for _, b in e), int, len(e))
    a = sparse.csr_matrix((np.ones(len(e), dtype=np.int64), (r, c)), shape=(len(nodes),) * 2)
    a2 = a @ a
    fbl = int((a2 @ a).diagonal().sum()) // 3
    ffl = int(a.multiply(a2).sum())
    mi = int(a.multiply(a.T).sum()) // 2
    return fbl, ffl, mi


def motif_top_k(edges: pd.DataFrame, k: int) -> set:
    """BLEval Motifs' top-k: non-self-loop rows by |EdgeWeight| (pandas argsort, reversed), first k."""
    nl = edges[edges["Gene1"] != edges["Gene2"]]
    top = nl.iloc[nl["EdgeWeight"].abs().argsort()[::-1]].head(k)
    return set(zip(top["Gene1"].astype(str), top["Gene2"].astype(str)))


def motif_ratios(edges: pd.DataFrame, network: pd.DataFrame) -> dict[str, float]:
    """FBL, FFL and MI counts of the top-k predictions over those of the truth (NaN over 0)."""
    ref = set(zip(network["Gene1"].astype(str), network["Gene2"].astype(str)))
    k = sum(1 for a, b in ref if a != b)
    out = {"fbl_ratio": float("nan"), "ffl_ratio": float("nan"), "mi_ratio": float("nan")}
    if k == 0:
        return out
    rf = motif_counts(ref)
    pf = motif_counts(motif_top_k(edges, k))
    for name, p, t in zip(("fbl_ratio", "ffl_ratio", "mi_ratio"), pf, rf):
        out[name] = p / t if t else float("nan")
    return out


# --------------------------------------------------------------------------------------------
# tables from the jobs' files


def read_truth(results_dir: str | Path, dataset, network, geneset) -> pd.DataFrame | None:
    """The ground truth of a cell: ``uns["network"]`` of its ``data.h5ad`` (Gene1, Gene2 and
    Type when the preprocessed file keeps it); None when the file is absent."""
    import anndata.io
    import h5py

    path = Path(results_dir, str(dataset), str(network), str(geneset), "data.h5ad")
    if not path.exists():
        return None
    with h5py.File(path, "r") as f:
        if "uns/network" not in f:
            return None
        net = anndata.io.read_elem(f["uns/network"])
    cols = {c: np.asarray(net[c]).astype(str) for c in ("Gene1", "Gene2", "Type") if c in net}
    return pd.DataFrame(cols)


def _ok_jobs(metrics: pd.DataFrame, scope: str) -> pd.DataFrame:
    return metrics[(metrics["scope"] == scope) & (metrics["status"] == "ok")]


def _stat(vals: list[float]) -> tuple[float, float]:
    from grnbench.evaluate.summary import _mean, _sd

    s = pd.Series(vals, dtype=float)
    return _mean(s), _sd(s)


def beeline_extra(metrics: pd.DataFrame, results_dir: str | Path, files=None) -> pd.DataFrame:
    """Per cell and method with scope ``beeline``: BLEval's signed EPR (activation, inhibition)
    and motif ratios (FBL, FFL, MI), mean and sd over seeds. ``signed`` says whether the ground
    truth has a Type column; without it the signed columns are NaN."""
    from grnbench.evaluate.stats import JobFiles
    from grnbench.evaluate.summary import CELL_KEYS, _join_labels, _sort

    files = files or JobFiles(results_dir)
    keys = list(CELL_KEYS) + ["method"]
    mets = ("epr_activation", "epr_inhibitory", "fbl_ratio", "ffl_ratio", "mi_ratio")
    rows, truths = [], {}
    bl = metrics[metrics["scope"] == BEELINE]
    for key, g in bl.groupby(keys, sort=False):
        cell = key[:3]
        if cell not in truths:
            truths[cell] = read_truth(results_dir, *cell)
        gt = truths[cell]
        row = dict(zip(keys, key))
        row["kind"] = _join_labels(g["kind"])
        vals: dict[str, list[float]] = {m: [] for m in mets}
        ok = g[g["status"] == "ok"]
        for seed in sorted(ok["seed"]):
            e = files.edges(*key, seed)
            if e is None or gt is None:
                continue
            act, inh = signed_early_precision(e, gt)
            vals["epr_activation"].append(act)
            vals["epr_inhibitory"].append(inh)
            for k, v in motif_ratios(e, gt).items():
                vals[k].append(v)
        row["n_seeds"] = len(vals["fbl_ratio"])
        row["n_failed"] = int((g["status"] != "ok").sum())
        row["signed"] = bool(gt is not None and "Type" in gt.columns)
        row["status"] = ("failed" if ok.empty else "no ground truth" if gt is None
                         else "edges missing" if row["n_seeds"] < len(ok) else "ok")
        for m in mets:
            row[f"{m}_mean"], row[f"{m}_sd"] = _stat(vals[m])
        rows.append(row)
    cols = keys + ["kind", "status", "n_seeds", "n_failed", "signed"] + [
        f"{m}_{s}" for m in mets for s in ("mean", "sd")]
    return _sort(pd.DataFrame(rows, columns=cols), keys)


def stability_ranks(metrics: pd.DataFrame, results_dir: str | Path, files=None,
                    scope: str = "test") -> pd.DataFrame:
    """Stability across seeds beside table ``stability`` (our top-k Jaccard on shared pairs):
    ``spearman_*``: Spearman of the scores of every two seeds on the pairs both scored (every
    method); ``bleval_jaccard_*`` / ``bleval_spearman_*``: BLEval's Jaccard.py and Spearman.py
    (median and MAD over seed pairs), for methods with scope ``beeline`` only."""
    from grnbench.evaluate.stats import JobFiles
    from grnbench.evaluate.summary import CELL_KEYS, _join_labels, _sort

    files = files or JobFiles(results_dir)
    keys = list(CELL_KEYS) + ["method"]
    rows, truths = [], {}
    t = metrics[metrics["scope"] == scope]
    bl_ok = set(map(tuple, _ok_jobs(metrics, BEELINE)[keys + ["seed"]].astype(str).to_numpy()))
    for key, g in t.groupby(keys, sort=False):
        row = dict(zip(keys, key))
        row["kind"] = _join_labels(g["kind"])
        seeds = sorted(set(g.loc[g["status"] == "ok", "seed"]))
        frames = {s: files.edges(*key, s) for s in seeds}
        frames = {s: e for s, e in frames.items() if e is not None}
        series = {s: read_edges_frame(e) for s, e in frames.items()}
        rho = [spearman_common(series[a], series[b]) for a, b in itertools.combinations(sorted(series), 2)]
        row["n_seeds"] = len(frames)
        row["n_seed_pairs"] = len(rho)
        row["spearman_mean"], row["spearman_sd"] = _stat(rho)
        fin = [x for x in rho if np.isfinite(x)]
        row["spearman_min"] = float(min(fin)) if fin else np.nan
        bl_seeds = [s for s in frames if (*map(str, key), str(s)) in bl_ok]
        row["bleval_runs"] = len(bl_seeds)
        for c in ("bleval_jaccard_median", "bleval_jaccard_mad", "bleval_spearman_median",
                  "bleval_spearman_mad"):
            row[c] = np.nan
        if len(bl_seeds) >= 2:
            cell = key[:3]
            if cell not in truths:
                truths[cell] = read_truth(results_dir, *cell)
            gt = truths[cell]
            if gt is not None:
                k = int((gt["Gene1"] != gt["Gene2"]).sum())
                runs = [frames[s] for s in bl_seeds]
                row["bleval_jaccard_median"], row["bleval_jaccard_mad"] = jaccard_median_mad(
                    [top_k_edges(e, k) for e in runs])
                genes = set(gt["Gene1"]) | set(gt["Gene2"])
                row["bleval_spearman_median"], row["bleval_spearman_mad"] = spearman_median_mad(runs, genes)
        row["status"] = ("failed" if not seeds else "edges missing" if len(frames) < len(seeds)
                         else "single seed" if len(frames) < 2 else "ok")
        rows.append(row)
    cols = keys + ["kind", "status", "n_seeds", "n_seed_pairs", "spearman_mean", "spearman_sd",
                   "spearman_min", "bleval_runs", "bleval_jaccard_median", "bleval_jaccard_mad",
                   "bleval_spearman_median", "bleval_spearman_mad"]
    return _sort(pd.DataFrame(rows, columns=cols), keys)


def read_edges_frame(e: pd.DataFrame) -> pd.Series:
    """An edges frame as scores indexed by (Gene1, Gene2); duplicates keep the first (as
    :func:`grnbench.evaluate.stability.read_edges`)."""
    e = e.drop_duplicates(["Gene1", "Gene2"], keep="first")
    idx = pd.MultiIndex.from_arrays([e["Gene1"].astype(str).to_numpy(), e["Gene2"].astype(str).to_numpy()],
                                    names=["Gene1", "Gene2"])
    return pd.Series(pd.to_numeric(e["EdgeWeight"], errors="coerce").to_numpy(float), index=idx)


def borda_table(metrics: pd.DataFrame, results_dir: str | Path, files=None,
                exclude: Sequence[str] = ("random", "degree_prior", "label_prior"),
                scope: str = "test") -> pd.DataFrame:
    """Borda ensembles (BLEval's BORDA = mean Borda score) of the methods of every cell and seed,
    scored like a method, beside the cell's best single method.

    ``scope`` test: members = every method but the references (``exclude``) with status ok on
    that seed, each restricted to the seed's test pairs (unscored pairs ranked last, as the
    metrics do); the ensemble is scored on those pairs. ``scope`` beeline: members = the methods
    with scope beeline, on their whole files, scored with
    :func:`grnbench.evaluate.metrics.beeline_scores`. One seed is one BLEval run (test pairs
    change with the seed, so BLEval's median over runs is not taken). Mean and sd over seeds.
    """
    from grnbench.evaluate.metrics import attach_scores, beeline_scores, score_ranking
    from grnbench.evaluate.stats import JobFiles
    from grnbench.evaluate.summary import CELL_KEYS, _sort

    files = files or JobFiles(results_dir)
    rows = []
    for sc in (scope, BEELINE):
        t = _ok_jobs(metrics, sc)
        for cell, g in t.groupby(list(CELL_KEYS), sort=False):
            per_seed: dict[str, list[float]] = {m: [] for m in ("auroc", "auprc", "epr")}
            members_all: list[str] = []
            truth = read_truth(results_dir, *cell[:3]) if sc == BEELINE else None
            if sc == BEELINE and truth is None:
                continue
            for seed, gs in g.groupby("seed", sort=True):
                members = [m for m in gs["method"] if m not in exclude]
                ranked = {}
                test = files.test_pairs(*cell, seed) if sc != BEELINE else None
                if sc != BEELINE and (test is None or test.empty):
                    continue
                for m in members:
                    if sc == BEELINE:
                        e = files.edges(*cell, m, seed)
                    else:
                        s = files.test_scores(*cell, m, seed)
                        e = None if s is None else pd.DataFrame(
                            {"Gene1": test["TF"].astype(str).to_numpy(),
                             "Gene2": test["Target"].astype(str).to_numpy(), "EdgeWeight": s})
                    if e is not None:
                        ranked[m] = e
                if len(ranked) < 2:
                    continue
                members_all += [m for m in ranked if m not in members_all]
                # one run: BLEval's Borda.csv column BORDA = the mean aggregation, min-max normalised
                ens = borda_aggregations(ranked, which=("mean",))["mean"]
                ens = ens.assign(EdgeWeight=_normalize(ens["Score"].to_numpy()))
                if sc == BEELINE:
                    r = beeline_scores(ens, truth)
                    vals = {"auroc": r["auroc"], "auprc": r["auprc_trapz"], "epr": r["epr"]}
                else:
                    s, _ = attach_scores(test, ens)
                    r = score_ranking(test["Label"].to_numpy(int), s)
                    vals = {"auroc": r["auroc"], "auprc": r["auprc"], "epr": r["epr"]}
                for k, v in vals.items():
                    per_seed[k].append(v)
            if not per_seed["auroc"]:
                continue
            row = {**dict(zip(CELL_KEYS, cell)), "scope": sc, "method": "borda",
                   "members": ",".join(members_all), "n_members": len(members_all),
                   "n_seeds": len(per_seed["auroc"])}
            for k in ("auroc", "auprc", "epr"):
                row[f"{k}_mean"], row[f"{k}_sd"] = _stat(per_seed[k])
            single = g[g["method"].isin(members_all)].groupby("method")["auroc"].mean()
            auprc_col = "auprc_trapz" if sc == BEELINE else "auprc"
            if len(single):
                best = single.idxmax()
                row["best_single"] = best
                row["best_single_auroc"] = float(single.max())
                row["best_single_auprc"] = float(g.loc[g["method"] == best, auprc_col].mean())
            else:
                row["best_single"], row["best_single_auroc"], row["best_single_auprc"] = "", np.nan, np.nan
            row["delta_auroc_vs_best"] = row["auroc_mean"] - row["best_single_auroc"]
            rows.append(row)
    cols = list(CELL_KEYS) + ["scope", "method", "n_members", "n_seeds", "auroc_mean", "auroc_sd",
                              "auprc_mean", "auprc_sd", "epr_mean", "epr_sd", "best_single",
                              "best_single_auroc", "best_single_auprc", "delta_auroc_vs_best", "members"]
    return _sort(pd.DataFrame(rows, columns=cols), list(CELL_KEYS) + ["scope"])
