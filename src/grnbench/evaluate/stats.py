"""Statistics beyond BEELINE: bootstrap intervals, paired tests, Holm, average ranks (issue 14.5).

Everything is computed from the jobs' ``split_seed*.csv`` and ``edges.csv`` files (the same
scores the metrics stage uses: :func:`grnbench.evaluate.metrics.attach_scores` on the test
pairs) and is deterministic (one seeded generator per benchmark cell).

Inference is over the **test pairs**, conditional on the trained models: "could sampling other
test pairs from the same population have produced this difference?". It does not cover the
variance of training itself, which the seeds show (sd over seeds in the other tables).

- :func:`stratified_weights`: the bootstrap. Pairs are resampled with replacement, positives
  among positives and negatives among negatives (the positive rate stays fixed). A benchmark
  cell's seeds are resampled *together*: the resampled population is the union of the test
  pairs of every seed of the cell, each seed keeps its own pairs with the drawn multiplicities
  (a pair in the test sets of two seeds is drawn once for both), so the overlap between seeds'
  test sets is respected.
- :func:`weighted_auroc` / :func:`weighted_average_precision`: AUROC (Mann-Whitney, ties 1/2)
  and average precision (scikit-learn's definition) of every resample at once, in O(B n).
- Paired comparison of method A with reference R in one cell: on every resample, the mean
  over the seeds both succeeded on of ``metric(A) - metric(R)``, the *same* resample for
  both. ``ci``: 2.5 and 97.5 percentiles; ``p``: two-sided, normal approximation with the
  bootstrap standard error, ``2 Phi(-|delta| / sd*)`` (no 1/B floor, so Holm over ~20
  methods stays possible); ``p_delong``: DeLong's test for AUROC per seed, seeds combined
  as independent (``z = mean delta / sqrt(sum var_s) * S``; optimistic where seeds share pairs).
- :func:`holm`: Holm's step-down adjustment over the methods of a cell (one family per
  reference and metric).
- :func:`friedman`, :func:`nemenyi_cd`: Demsar (2006) average ranks, Friedman's chi-square,
  Iman-Davenport's F and Nemenyi's critical difference
  ``q_alpha sqrt(k (k + 1) / (6 N))`` with ``q_alpha`` = studentized range / sqrt(2).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as ss

N_BOOT = 1000
ALPHA = 0.05
CHUNK = 4_000_000  # resample weights held at once (x 8 bytes; a few such arrays per block)
BEATS = "beats the prior (p < 0.05)"
NOT_BEATS = "not shown to beat the prior"
BELOW_BEST = "below the best (p < 0.05)"
NOT_BELOW_BEST = "not shown to differ from the best"


# --------------------------------------------------------------------------------------------
# point estimates


def auroc(y, s) -> float:
    """AUROC as the Mann-Whitney statistic (ties count 1/2); NaN without both classes."""
    y = np.asarray(y, bool)
    s = np.asarray(s, float)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = ss.rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


# --------------------------------------------------------------------------------------------
# the bootstrap


def stratified_weights(y, n_boot: int = N_BOOT, rng=None) -> np.ndarray:
    """Multiplicities (``n_boot`` x n, float) of a label-stratified resample with replacement:
    each row draws ``n_pos`` of the positives and ``n_neg`` of the negatives uniformly."""
    y = np.asarray(y, bool)
    rng = np.random.default_rng(rng)
    w = np.zeros((n_boot, len(y)))
    rows = np.arange(n_boot)[:, None]
    for idx in (np.flatnonzero(y), np.flatnonzero(~y)):
        m = len(idx)
        if m == 0:
            continue
        draw = rng.integers(0, m, size=(n_boot, m)) + rows * m
        w[:, idx] = np.bincount(draw.ravel(), minlength=n_boot * m).reshape(n_boot, m)
    return w


def _split_sorted(y, s, w):
    """Scores and weights of the positives and of the negatives, each sorted ascending."""
    y = np.asarray(y, bool)
    s = np.asarray(s, float)
    w = np.asarray(w, float)
    one = w.ndim == 1
    w = np.atleast_2d(w)
    pi, ni = np.flatnonzero(y), np.flatnonzero(~y)
    po, no = pi[np.argsort(s[pi], kind="mergesort")], ni[np.argsort(s[ni], kind="mergesort")]
    return one, s[po], w[:, po], s[no], w[:, no]


def _cumsum0(x: np.ndarray) -> np.ndarray:
    out = np.zeros((x.shape[0], x.shape[1] + 1))
    np.cumsum(x, axis=1, out=out[:, 1:])
    return out


def _finish(num: np.ndarray, den: np.ndarray, one: bool):
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out[0] if one else out


def _auroc_sorted(sp, wp, sn, cn) -> tuple[np.ndarray, np.ndarray]:
    below = cn[:, np.searchsorted(sn, sp, "left")]  # negative weight strictly below each positive
    upto = cn[:, np.searchsorted(sn, sp, "right")]
    return (wp * (below + upto)).sum(axis=1) * 0.5, wp.sum(axis=1) * cn[:, -1]


def _ap_sorted(sp, wp, sn, cn) -> tuple[np.ndarray, np.ndarray]:
    cp = _cumsum0(wp)
    t = np.unique(sp)[::-1]  # thresholds, descending
    tp = cp[:, -1:] - cp[:, np.searchsorted(sp, t, "left")]  # weight of positives with s >= t
    fp = cn[:, -1:] - cn[:, np.searchsorted(sn, t, "left")]
    dtp = np.diff(tp, axis=1, prepend=0.0)
    tot = tp + fp
    prec = np.divide(tp, tot, out=np.zeros_like(tp), where=tot > 0)
    return (dtp * prec).sum(axis=1), cp[:, -1]


def weighted_auroc(y, s, w) -> np.ndarray:
    """AUROC of every row of weights ``w`` (B x n): sum over positive i and negative j of
    ``w_i w_j ([s_i > s_j] + [s_i = s_j] / 2)`` over ``(sum w_i)(sum w_j)``. NaN where a row
    has no positive or no negative weight. ``w`` 1-D gives a scalar."""
    one, sp, wp, sn, wn = _split_sorted(y, s, w)
    return _finish(*_auroc_sorted(sp, wp, sn, _cumsum0(wn)), one)


def weighted_average_precision(y, s, w) -> np.ndarray:
    """Average precision (scikit-learn's ``average_precision_score`` with ``sample_weight``)
    of every row of ``w``: sum over score thresholds of (recall gain) x precision. Only the
    distinct scores of positives add recall, so those are the thresholds visited."""
    one, sp, wp, sn, wn = _split_sorted(y, s, w)
    return _finish(*_ap_sorted(sp, wp, sn, _cumsum0(wn)), one)


def weighted_auroc_ap(y, s, w) -> tuple[np.ndarray, np.ndarray]:
    """:func:`weighted_auroc` and :func:`weighted_average_precision` from one sort."""
    one, sp, wp, sn, wn = _split_sorted(y, s, w)
    cn = _cumsum0(wn)
    return _finish(*_auroc_sorted(sp, wp, sn, cn), one), _finish(*_ap_sorted(sp, wp, sn, cn), one)


def _percentiles(x: np.ndarray, alpha: float = ALPHA) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if not len(x):
        return float("nan"), float("nan")
    lo, hi = np.percentile(x, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def _boot_p(delta: float, boot: np.ndarray) -> float:
    """Two-sided p of ``delta = 0`` from the bootstrap standard error (normal approximation)."""
    b = boot[np.isfinite(boot)]
    if not np.isfinite(delta) or len(b) < 2:
        return float("nan")
    se = float(b.std(ddof=1))
    if se == 0:
        return 1.0 if delta == 0 else 0.0
    return float(2 * ss.norm.sf(abs(delta) / se))


def bootstrap_ci(y, s, n_boot: int = N_BOOT, alpha: float = ALPHA, seed: int = 0) -> dict:
    """AUROC and average precision of one ranking with percentile bootstrap intervals
    (label-stratified resampling of the pairs)."""
    y = np.asarray(y, bool)
    w = stratified_weights(y, n_boot, seed)
    a, p = weighted_auroc(y, s, w), weighted_average_precision(y, s, w)
    one = np.ones(len(y))
    out = {"auroc": float(weighted_auroc(y, s, one)), "auprc": float(weighted_average_precision(y, s, one))}
    out["auroc_ci_lo"], out["auroc_ci_hi"] = _percentiles(a, alpha)
    out["auprc_ci_lo"], out["auprc_ci_hi"] = _percentiles(p, alpha)
    return out


def paired_bootstrap(y, s_a, s_b, n_boot: int = N_BOOT, alpha: float = ALPHA, seed: int = 0) -> dict:
    """``metric(a) - metric(b)`` on the same pairs, the same resamples for both: delta, interval
    and two-sided p (bootstrap standard error) for AUROC and average precision."""
    y = np.asarray(y, bool)
    w = stratified_weights(y, n_boot, seed)
    one = np.ones(len(y))
    out = {}
    for name, f in (("auroc", weighted_auroc), ("auprc", weighted_average_precision)):
        d = float(f(y, s_a, one) - f(y, s_b, one))
        boot = f(y, s_a, w) - f(y, s_b, w)
        out[f"delta_{name}"] = d
        out[f"delta_{name}_ci_lo"], out[f"delta_{name}_ci_hi"] = _percentiles(boot, alpha)
        out[f"p_{name}"] = _boot_p(d, boot)
    return out


# --------------------------------------------------------------------------------------------
# DeLong


def delong_components(y, s) -> tuple[float, np.ndarray, np.ndarray]:
    """AUROC and DeLong's structural components: V10 (per positive, the share of negatives it
    outranks, ties 1/2) and V01 (per negative, the share of positives outranking it), from
    midranks (Sun & Xu 2014) in O(n log n)."""
    y = np.asarray(y, bool)
    s = np.asarray(s, float)
    x, z = s[y], s[~y]
    m, n = len(x), len(z)
    if m == 0 or n == 0:
        return float("nan"), np.array([]), np.array([])
    r_all = ss.rankdata(np.r_[x, z])
    rx, rz = ss.rankdata(x), ss.rankdata(z)
    v10 = (r_all[:m] - rx) / n
    v01 = 1.0 - (r_all[m:] - rz) / m
    return float(v10.mean()), v10, v01


def delong_test(y, s_a, s_b) -> dict:
    """DeLong, DeLong & Clarke-Pearson (1988) test of AUROC(a) = AUROC(b) on the same pairs."""
    a, v10a, v01a = delong_components(y, s_a)
    b, v10b, v01b = delong_components(y, s_b)
    var = delong_var(v10a, v01a, v10b, v01b)
    d = a - b
    z = d / np.sqrt(var) if var > 0 else (0.0 if d == 0 else np.inf * np.sign(d))
    return {"auroc_a": a, "auroc_b": b, "delta": d, "var": var, "z": float(z),
            "p": float(2 * ss.norm.sf(abs(z)))}


def delong_var(v10a, v01a, v10b, v01b) -> float:
    """Var(AUROC_a - AUROC_b) = var(V10_a - V10_b) / m + var(V01_a - V01_b) / n (ddof 1)."""
    m, n = len(v10a), len(v01a)
    if m < 2 or n < 2:
        return float("nan")
    return float(np.var(v10a - v10b, ddof=1) / m + np.var(v01a - v01b, ddof=1) / n)


# --------------------------------------------------------------------------------------------
# multiple testing and ranks


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values; NaN entries are not tested and stay NaN."""
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if not len(ok):
        return out
    order = ok[np.argsort(p[ok], kind="mergesort")]
    m = len(order)
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adj
    return out


def nemenyi_q(k: int, alpha: float = ALPHA) -> float:
    """Nemenyi's critical value q_alpha for k methods (Demsar 2006, Table 5a)."""
    return float(ss.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))


def nemenyi_cd(k: int, n: int, alpha: float = ALPHA) -> float:
    """Critical difference of average ranks: ``q_alpha sqrt(k (k + 1) / (6 N))``."""
    if k < 2 or n < 1:
        return float("nan")
    return nemenyi_q(k, alpha) * float(np.sqrt(k * (k + 1) / (6.0 * n)))


def friedman(avg_ranks: Sequence[float], n: int) -> dict:
    """Friedman's chi-square and Iman-Davenport's F from average ranks over ``n`` datasets
    (Demsar 2006, eq. of section 3.2.2; no tie correction)."""
    r = np.asarray(avg_ranks, float)
    k = len(r)
    out = {"k": k, "n": n, "chi2": np.nan, "p_chi2": np.nan, "F": np.nan, "p_F": np.nan}
    if k < 2 or n < 2:
        return out
    chi2 = 12.0 * n / (k * (k + 1)) * (np.sum(r**2) - k * (k + 1) ** 2 / 4.0)
    out["chi2"], out["p_chi2"] = float(chi2), float(ss.chi2.sf(chi2, k - 1))
    den = n * (k - 1) - chi2
    if den > 0:
        f = (n - 1) * chi2 / den
        out["F"], out["p_F"] = float(f), float(ss.f.sf(f, k - 1, (k - 1) * (n - 1)))
    else:  # identical rankings in every dataset: F is infinite
        out["F"], out["p_F"] = float("inf"), 0.0
    return out


def cliques(names: Sequence[str], ranks: Sequence[float], cd: float) -> list[list[str]]:
    """Maximal groups of methods whose average ranks lie within ``cd`` of each other (the bars of
    a critical-difference diagram), in rank order; single methods are not listed."""
    order = np.argsort(np.asarray(ranks, float), kind="mergesort")
    r = np.asarray(ranks, float)[order]
    nm = [names[i] for i in order]
    groups: list[tuple[int, int]] = []
    for i in range(len(r)):
        j = i
        while j + 1 < len(r) and r[j + 1] - r[i] < cd:
            j += 1
        if j > i and not any(a <= i and j <= b for a, b in groups):
            groups.append((i, j))
    return [nm[a : b + 1] for a, b in groups]


# --------------------------------------------------------------------------------------------
# tables from the jobs' files


class JobFiles:
    """Reads each split and prediction file once per aggregate run (shared by the tables)."""

    def __init__(self, results_dir: str | Path):
        self.results_dir = Path(results_dir)
        self._frames: dict[Path, pd.DataFrame | None] = {}
        self._scores: dict[tuple, np.ndarray | None] = {}

    def _read(self, path: Path, dtype: dict) -> pd.DataFrame | None:
        if path not in self._frames:
            self._frames[path] = pd.read_csv(path, dtype=dtype) if path.exists() else None
        return self._frames[path]

    def test_pairs(self, dataset, network, geneset, split, seed) -> pd.DataFrame | None:
        from grnbench import layout

        s = self._read(layout.split_csv(self.results_dir, dataset, network, geneset, split, seed),
                       {"TF": str, "Target": str})
        if s is None:
            return None
        return (s[s["Part"] == "test"] if "Part" in s.columns else s).reset_index(drop=True)

    def edges(self, dataset, network, geneset, split, method, seed) -> pd.DataFrame | None:
        from grnbench import layout

        return self._read(layout.edges(self.results_dir, dataset, network, geneset, split, method, seed),
                          {"Gene1": str, "Gene2": str})

    def test_scores(self, dataset, network, geneset, split, method, seed) -> np.ndarray | None:
        """A job's scores of its split's test pairs, as the metrics stage attaches them."""
        from grnbench.evaluate.metrics import attach_scores

        key = (dataset, network, geneset, split, method, seed)
        if key not in self._scores:
            test = self.test_pairs(dataset, network, geneset, split, seed)
            e = self.edges(*key)
            self._scores[key] = None if test is None or e is None else attach_scores(test, e)[0]
        return self._scores[key]


def _cell_scores(metrics: pd.DataFrame, files: JobFiles, cell: tuple, scope: str):
    """Per seed of one cell: test labels, and per successful method with files, its scores."""
    m = metrics[(metrics["scope"] == scope) & (metrics["status"] == "ok")]
    per_seed: dict[int, tuple[pd.DataFrame, dict[str, np.ndarray]]] = {}
    for seed in sorted(set(m["seed"])):
        test = files.test_pairs(*cell, seed)
        if test is None or not len(test):
            continue
        scores = {}
        for meth in m.loc[m["seed"] == seed, "method"]:
            s = files.test_scores(*cell, meth, seed)
            if s is not None:
                scores[meth] = s
        if scores:
            per_seed[int(seed)] = (test, scores)
    return per_seed


def _cell_bootstrap(per_seed: dict, n_boot: int, rng) -> dict:
    """Bootstrap AUROC / AP arrays per (method, seed) with one resample of the union of the
    cell's test pairs (see the module docstring), plus the observed values and DeLong parts."""
    keys = []
    for seed, (test, _) in per_seed.items():
        keys.append(pd.DataFrame({"TF": test["TF"].astype(str), "Target": test["Target"].astype(str),
                                  "Label": test["Label"].astype(int), "seed": seed}))
    allk = pd.concat(keys, ignore_index=True)
    uni = allk.drop_duplicates(["TF", "Target", "Label"]).reset_index(drop=True)
    uidx = pd.MultiIndex.from_frame(uni[["TF", "Target", "Label"]])
    ylab = uni["Label"].to_numpy(bool)
    jobs = []
    for seed, (test, scores) in per_seed.items():
        y = test["Label"].to_numpy(bool)
        if y.all() or not y.any():  # no AUROC on this seed (as in metrics.tsv): left out
            continue
        q = pd.MultiIndex.from_arrays([test["TF"].astype(str), test["Target"].astype(str),
                                       test["Label"].astype(int)])
        jobs.append((seed, y, uidx.get_indexer(q), scores))
    out = {}
    for seed, y, _, scores in jobs:
        one = np.ones(len(y))
        for meth, s in scores.items():
            _, v10, v01 = delong_components(y, s)
            a, p = weighted_auroc_ap(y, s, one)
            out[(meth, seed)] = {"auroc": float(a), "auprc": float(p), "auroc_boot": [], "auprc_boot": [],
                                 "v10": v10, "v01": v01, "n_pairs": len(y)}
    # resamples in blocks of about CHUNK weights, so memory stays bounded on large test sets
    block = max(1, CHUNK // max(len(uni), 1))
    for b0 in range(0, n_boot, block):
        w = stratified_weights(ylab, min(block, n_boot - b0), rng)
        for seed, y, idx, scores in jobs:
            ws = w[:, idx]
            for meth, s in scores.items():
                ab, pb = weighted_auroc_ap(y, s, ws)
                out[(meth, seed)]["auroc_boot"].append(ab)
                out[(meth, seed)]["auprc_boot"].append(pb)
    for r in out.values():
        r["auroc_boot"], r["auprc_boot"] = np.concatenate(r["auroc_boot"]), np.concatenate(r["auprc_boot"])
    return out


def _seed_mean(arrays: list) -> np.ndarray | float:
    """Mean over seeds, elementwise; a resample where a seed had no AUROC uses the others."""
    if not arrays:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanmean(np.asarray(arrays, float), axis=0)
    return float(out) if np.ndim(out) == 0 else out


def _cells(metrics: pd.DataFrame, scope: str) -> list[tuple]:
    from grnbench.evaluate.summary import CELL_KEYS

    t = metrics[metrics["scope"] == scope]
    return list(dict.fromkeys(map(tuple, t[list(CELL_KEYS)].astype(str).to_numpy())))


def bootstrap_tables(
    metrics: pd.DataFrame,
    results_dir: str | Path,
    *,
    n_boot: int = N_BOOT,
    alpha: float = ALPHA,
    seed: int = 0,
    scope: str = "test",
    files: JobFiles | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables ``bootstrap_ci`` (per cell and method) and ``significance`` (per cell, method and
    reference: each label-only prior present, and the cell's best method).

    ``bootstrap_ci``: mean over seeds of test AUROC / average precision (from the files, = the
    metrics' values) with the percentile interval of that mean. ``significance``: ``delta_*`` =
    method - reference, mean over the seeds both succeeded on, interval, ``p_*`` (bootstrap
    standard error), ``p_*_holm`` (Holm over the methods of the cell, per reference),
    ``p_auroc_delong`` and the verdict on AUROC (Holm p < alpha and delta > 0 for a prior;
    Holm p < alpha and delta < 0 for the best)."""
    from grnbench.evaluate.summary import CELL_KEYS, LABEL_PRIORS, _join_labels, _sort

    files = files or JobFiles(results_dir)
    ci_rows, sig_rows = [], []
    for ci, cell in enumerate(_cells(metrics, scope)):
        cm = metrics[(metrics[list(CELL_KEYS)].astype(str) == pd.Series(cell, index=list(CELL_KEYS))).all(axis=1)]
        kind = {m: _join_labels(g["kind"]) for m, g in cm.groupby("method", sort=False)}
        per_seed = _cell_scores(cm, files, cell, scope)
        rng = np.random.default_rng([seed, ci])
        boot = _cell_bootstrap(per_seed, n_boot, rng) if per_seed else {}
        methods = list(dict.fromkeys(m for m, _ in boot))
        seeds_of = {m: sorted(s for mm, s in boot if mm == m) for m in methods}
        t = cm[cm["scope"] == scope]
        for m, g in t.groupby("method", sort=False):
            n_ok = int((g["status"] == "ok").sum())
            used = seeds_of.get(m, [])
            r = {**dict(zip(CELL_KEYS, cell)), "method": m, "kind": kind.get(m, ""),
                 "status": "failed" if n_ok == 0 else ("no files" if not used else
                                                        ("ok" if len(used) == len(g) else "partial")),
                 "n_seeds": len(used), "n_failed": len(g) - n_ok,
                 "n_pairs_mean": float(np.mean([boot[(m, s)]["n_pairs"] for s in used])) if used else np.nan}
            for met in ("auroc", "auprc"):
                r[met] = _seed_mean([boot[(m, s)][met] for s in used])
                b = _seed_mean([boot[(m, s)][f"{met}_boot"] for s in used])
                r[f"{met}_ci_lo"], r[f"{met}_ci_hi"] = _percentiles(np.atleast_1d(b), alpha)
            ci_rows.append(r)
        if not methods:
            continue
        mean_auroc = {m: np.mean([boot[(m, s)]["auroc"] for s in seeds_of[m]]) for m in methods}
        best = max(methods, key=lambda m: (mean_auroc[m], -methods.index(m)))
        refs = [("prior", p) for p in LABEL_PRIORS if p in methods] + [("best", best)]
        for comparison, ref in refs:
            rows = []
            for m in methods:
                if m == ref:
                    continue
                common = sorted(set(seeds_of[m]) & set(seeds_of[ref]))
                r = {**dict(zip(CELL_KEYS, cell)), "method": m, "kind": kind.get(m, ""),
                     "comparison": comparison, "reference": ref, "n_seeds": len(common)}
                for met in ("auroc", "auprc"):
                    if not common:
                        r.update({met: np.nan, f"reference_{met}": np.nan, f"delta_{met}": np.nan,
                                  f"delta_{met}_ci_lo": np.nan, f"delta_{met}_ci_hi": np.nan,
                                  f"p_{met}": np.nan})
                        continue
                    a = np.mean([boot[(m, s)][met] for s in common])
                    b = np.mean([boot[(ref, s)][met] for s in common])
                    d = _seed_mean([boot[(m, s)][f"{met}_boot"] - boot[(ref, s)][f"{met}_boot"]
                                    for s in common])
                    r[met], r[f"reference_{met}"], r[f"delta_{met}"] = a, b, a - b
                    r[f"delta_{met}_ci_lo"], r[f"delta_{met}_ci_hi"] = _percentiles(d, alpha)
                    r[f"p_{met}"] = _boot_p(a - b, d)
                var = [delong_var(boot[(m, s)]["v10"], boot[(m, s)]["v01"],
                                  boot[(ref, s)]["v10"], boot[(ref, s)]["v01"]) for s in common]
                if common and np.all(np.isfinite(var)) and sum(var) > 0:
                    z = r["delta_auroc"] / (np.sqrt(np.sum(var)) / len(common))
                    r["p_auroc_delong"] = float(2 * ss.norm.sf(abs(z)))
                else:
                    r["p_auroc_delong"] = np.nan
                rows.append(r)
            for met in ("auroc", "auprc"):
                adj = holm([r[f"p_{met}"] for r in rows])
                for r, a in zip(rows, adj):
                    r[f"p_{met}_holm"] = float(a)
            for r in rows:
                sig = np.isfinite(r["p_auroc_holm"]) and r["p_auroc_holm"] < alpha
                if comparison == "prior":
                    r["verdict"] = BEATS if sig and r["delta_auroc"] > 0 else NOT_BEATS
                else:
                    r["verdict"] = BELOW_BEST if sig and r["delta_auroc"] < 0 else NOT_BELOW_BEST
            sig_rows += rows
    ci_cols = list(CELL_KEYS) + ["method", "kind", "status", "n_seeds", "n_failed", "n_pairs_mean", "auroc", "auroc_ci_lo",
                                 "auroc_ci_hi", "auprc", "auprc_ci_lo", "auprc_ci_hi"]
    sig_cols = list(CELL_KEYS) + ["method", "kind", "comparison", "reference", "n_seeds"]
    for met in ("auroc", "auprc"):
        sig_cols += [met, f"reference_{met}", f"delta_{met}", f"delta_{met}_ci_lo",
                     f"delta_{met}_ci_hi", f"p_{met}", f"p_{met}_holm"]
    sig_cols.insert(sig_cols.index("p_auroc_holm") + 1, "p_auroc_delong")
    sig_cols.append("verdict")
    ci = _sort(pd.DataFrame(ci_rows, columns=ci_cols), ["split", "dataset", "network", "geneset", "method"])
    sig = pd.DataFrame(sig_rows, columns=sig_cols)
    if len(sig):
        sig["_c"] = sig["comparison"].map({"prior": 0, "best": 1})
        sig = sig.sort_values(["_c", "reference"], kind="mergesort").drop(columns="_c")
    sig = _sort(sig, ["split", "dataset", "network", "geneset", "method"]) if len(sig) else sig
    return ci, sig


def readable_p(df: pd.DataFrame) -> pd.DataFrame:
    """A copy for the Markdown tables: p-value columns (``p_*``, ``*_p``) with two significant
    digits (the TSV keeps full precision; three decimals would print 0.000)."""
    out = df.copy()
    for c in out.columns:
        if c.startswith("p_") or c.endswith("_p"):
            out[c] = [f"{v:.2g}" if isinstance(v, float) and np.isfinite(v) else "" for v in out[c]]
    return out


def average_ranks(summary: pd.DataFrame, metric: str = "auroc", scope: str = "test",
                  alpha: float = ALPHA) -> pd.DataFrame:
    """Demsar's average ranks over benchmark cells with Friedman / Iman-Davenport and Nemenyi.

    Ranks per cell come from :func:`grnbench.evaluate.summary.rank_cells` (1 = best mean
    ``metric``; a method that failed in a cell ranks last there). Only methods run in every
    cell enter (the test needs complete blocks). ``within_cd_of_best``: the method's average
    rank is less than the critical difference from the best one's (not shown to be worse)."""
    from grnbench.evaluate.summary import _join_labels, rank_cells

    cols = ["position", "method", "kind", "mean_rank", "n_cells", "within_cd_of_best", "k", "n",
            "friedman_chi2", "friedman_p", "iman_davenport_F", "iman_davenport_p", "cd", "alpha"]
    r = rank_cells(summary, metric, scope)
    if r.empty:
        return pd.DataFrame(columns=cols)
    r = r.assign(_cell=r["dataset"] + "|" + r["network"] + "|" + r["geneset"] + "|" + r["split"])
    n_cells = r["_cell"].nunique()
    counts = r.groupby("method")["_cell"].nunique()
    keep = sorted(counts.index[counts == n_cells])
    r = r[r["method"].isin(keep)].copy()
    # re-rank among the methods kept (a method absent from a cell would shift the others)
    r["rank"] = r.groupby("_cell")["rank"].rank(method="average")
    avg = r.groupby("method")["rank"].mean()
    fr = friedman(avg.to_numpy(), n_cells)
    cd = nemenyi_cd(len(avg), n_cells, alpha)
    best = float(avg.min()) if len(avg) else np.nan
    rows = [{"method": m, "kind": _join_labels(r.loc[r["method"] == m, "kind"]), "mean_rank": float(v),
             "n_cells": n_cells, "within_cd_of_best": bool(v - best < cd) if np.isfinite(cd) else False,
             "k": fr["k"], "n": n_cells, "friedman_chi2": fr["chi2"], "friedman_p": fr["p_chi2"],
             "iman_davenport_F": fr["F"], "iman_davenport_p": fr["p_F"], "cd": cd, "alpha": alpha}
            for m, v in avg.items()]
    out = pd.DataFrame(rows).sort_values(["mean_rank", "method"], kind="mergesort").reset_index(drop=True)
    out.insert(0, "position", np.arange(1, len(out) + 1))
    return out[cols]

