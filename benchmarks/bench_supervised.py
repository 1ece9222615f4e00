"""Training time (and test AUROC/AUPRC) of the supervised baselines, defaults and small preset.

Data sets:

- ``mdc``: GENELink's mDC TFs+500 cell-type-specific folder (``../shared/data/genelink/
  specific/mDC/tfs500``; skipped when absent), GENELink split (hard negatives) per seed.
- ``hesc1000``: random data at hESC TFs+1000 size: 1410 genes x 758 cells, 410 TFs of which 34
  regulate; each of the 34 targets each other gene with probability 0.146 (~7000 edges);
  a target's expression is a signed sum of its regulators' plus noise, with 30% dropout zeros.

Heavy configurations do not fit a short run, so ``--epoch-cap`` caps the epochs (pretraining
epochs for GRN-Transformer) and ``--train-frac`` subsamples the training pairs (stratified,
seeded; graph and validation unchanged). The full cost is then *projected*:

    per-epoch train time = (fit time - capped epochs * validation pass) / capped epochs
    projected = epochs * (per-epoch train time / train_frac + validation pass)

(no early stopping assumed: an upper bound). For GRN-Transformer the stages are timed inside
the method (pretraining, attention extraction, classifier): pretraining is scaled by epochs,
the classifier time linearly by 1 / train_frac (forests grow a little faster than linearly). AUROC/AUPRC are those of the run
as made (capped runs are marked), on the split's test pairs.

Usage::

    python benchmarks/bench_supervised.py --threads 2                     # everything
    python benchmarks/bench_supervised.py --methods cnnc --datasets mdc --presets small
    python benchmarks/bench_supervised.py --presets default --epoch-cap 1 --train-frac 0.1
    python benchmarks/bench_supervised.py --datasets mdc --seeds 0,1,2 --baselines random,degree_prior \\
        --methods genelink:default,gnnlink:default,gne:default,cnnc:default,deepdrim:cpu,grn_transformer:cpu \\
        --out mdc.jsonl                                        # real-data table, mean +- sd over seeds
    python benchmarks/bench_supervised.py --summary mdc.jsonl  # the table again from the records
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# OpenMP threads that spin while waiting make multi-threaded torch 10-60x slower on a machine
# shared with other jobs (measured here); passive waiting costs little when the CPUs are free.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from grnbench.data.dataset import GRNData, make_adata
from grnbench.data.splits import genelink_split
from grnbench.methods.registry import get
from grnbench.utils import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
MDC = ROOT.parent / "shared" / "data" / "genelink" / "specific" / "mDC" / "tfs500"
METHODS = ["genelink", "gnnlink", "gne", "cnnc", "deepdrim", "grn_transformer"]
TARGET_S = 600.0  # the budget: 10 minutes per seed on 2 cores


def mdc_data() -> GRNData | None:
    """mDC TFs+500 through make_adata (expression genes x cells, TF.csv, BL--network.csv)."""
    if not (MDC / "BL--ExpressionData.csv").exists():
        return None
    expr = pd.read_csv(MDC / "BL--ExpressionData.csv", index_col=0)
    tfs = pd.read_csv(MDC / "TF.csv", index_col=0)["TF"].astype(str).tolist()
    net = pd.read_csv(MDC / "BL--network.csv")[["Gene1", "Gene2"]]
    adata = make_adata(expr.T, tfs, net, provenance={"source": str(MDC)})
    return GRNData(adata, name="mDC/specific/tfs500")


def hesc1000_like(seed: int = 0, n_genes: int = 1410, n_cells: int = 758, n_tfs: int = 410,
                  n_regulators: int = 34, p_edge: float = 0.146) -> GRNData:
    """Random data of hESC TFs+1000 size (module docstring)."""
    rng = np.random.default_rng(seed)
    genes = [f"G{i:04d}" for i in range(n_genes)]
    regs = rng.choice(n_tfs, size=n_regulators, replace=False)
    x = rng.gamma(2.0, 1.0, size=(n_cells, n_genes))
    adj = (rng.random((n_regulators, n_genes)) < p_edge) & (np.arange(n_genes)[None, :] != regs[:, None])
    adj[:, regs] = False  # regulators are masters: no cycles among them
    w = rng.choice([-1.0, 1.0], size=adj.shape) * rng.uniform(0.5, 1.5, size=adj.shape) * adj
    x = x + x[:, regs] @ w + rng.normal(0, 2.0, size=x.shape) * adj.any(axis=0)
    x = np.log1p(np.maximum(x - x.min(axis=0), 0)) * (rng.random(x.shape) > 0.3)
    src, dst = np.nonzero(adj)
    net = pd.DataFrame({"Gene1": [genes[regs[i]] for i in src], "Gene2": [genes[j] for j in dst]})
    expr = pd.DataFrame(x.astype(np.float32), index=[f"c{i}" for i in range(n_cells)], columns=genes)
    return GRNData(make_adata(expr, genes[:n_tfs], net, provenance={"source": "hesc1000_like"}),
                   name="hesc1000-like")


def subsample(train: pd.DataFrame, frac: float, seed: int) -> pd.DataFrame:
    """Stratified (by label) seeded subsample of training pairs."""
    if frac >= 1:
        return train
    parts = [g.sample(frac=frac, random_state=seed) for _, g in train.groupby("Label")]
    return pd.concat(parts).sort_index().reset_index(drop=True)


def run_baseline(name: str, data: GRNData, split: pd.DataFrame, *, seed: int) -> dict:
    """A sanity baseline (``random``, ``degree_prior``) scored on the same test pairs."""
    method = get(name)()
    test = split[split["Part"] == "test"].reset_index(drop=True)
    t0, c0 = time.perf_counter(), time.process_time()
    scores = method.score_pairs(data, split, test, seed=seed, threads=1)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "method": name, "preset": "-", "dataset": data.name, "seed": seed, "device": "cpu",
        "threads": 1, "train_pairs": int((split["Part"] == "train").sum()), "train_frac": 1.0,
        "epochs_run": 0, "epochs_full": 0, "capped": False, "fit_s": round(fit_s, 1),
        "fit_cpu_s": round(fit_cpu, 1), "test_predict_s": 0.0, "projected_fit_s": round(fit_s, 1),
        "within_10min": True,
        "auroc": round(float(roc_auc_score(test["Label"], scores)), 4),
        "auprc": round(float(average_precision_score(test["Label"], scores)), 4),
        "peak_rss_mb": round(peak_rss_mb(), 0), "labels": {},
    }


def run_one(name: str, preset: str | None, data: GRNData, split: pd.DataFrame, *, seed: int,
            threads: int, epoch_cap: int | None, train_frac: float, device: str = "cpu") -> dict:
    cls = get(name)
    method = cls(preset=preset, device=device)
    epochs_full = int(method.params["epochs"])
    capped = epoch_cap is not None and epoch_cap < epochs_full
    if capped:
        method.params["epochs"] = epoch_cap
    train = subsample(split[split["Part"] == "train"].reset_index(drop=True), train_frac, seed)
    val = split[split["Part"] == "val"].reset_index(drop=True)
    test = split[split["Part"] == "test"].reset_index(drop=True)
    t0, c0 = time.perf_counter(), time.process_time()
    method.fit(data, train, val, seed=seed, threads=threads)
    if device == "cuda":
        import torch

        torch.cuda.synchronize()
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    method.predict(data, val)
    val_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = method.predict(data, test)
    test_s = time.perf_counter() - t0
    run_epochs = int(method.params["epochs"])
    if name == "grn_transformer":
        st = method.timings_
        projected = st["pretrain_s"] * epochs_full / run_epochs + st["extract_s"] + st["classifier_s"] / train_frac
    else:
        hist = len(method.result_.history)
        val_pass = val_s if len(val) else 0.0
        per_epoch = max(fit_s - hist * val_pass, 0.0) / max(hist, 1)
        projected = epochs_full * (per_epoch / train_frac + val_pass) if (capped or train_frac < 1) else fit_s
    return {
        "method": name, "preset": preset or "default", "dataset": data.name, "seed": seed, "device": device,
        "threads": threads, "train_pairs": len(train), "train_frac": train_frac,
        "epochs_run": run_epochs, "epochs_full": epochs_full, "capped": bool(capped or train_frac < 1),
        "fit_s": round(fit_s, 1), "fit_cpu_s": round(fit_cpu, 1), "test_predict_s": round(test_s, 1), "projected_fit_s": round(projected, 1),
        "within_10min": bool(projected <= TARGET_S),
        "auroc": round(float(roc_auc_score(test["Label"], scores)), 4),
        "auprc": round(float(average_precision_score(test["Label"], scores)), 4),
        "peak_rss_mb": round(peak_rss_mb(), 0), "labels": method.labels,
    }


def summarise(records: list[dict]) -> pd.DataFrame:
    """Mean and sample standard deviation over seeds of AUROC, AUPRC, fit wall/CPU seconds."""
    df = pd.DataFrame(records)
    keys = ["dataset", "method", "preset", "capped"]
    g = df.groupby(keys, sort=False)
    out = g.agg(seeds=("seed", lambda s: ",".join(map(str, sorted(s)))),
                auroc_mean=("auroc", "mean"), auroc_sd=("auroc", "std"),
                auprc_mean=("auprc", "mean"), auprc_sd=("auprc", "std"),
                fit_s_mean=("fit_s", "mean"), fit_s_max=("fit_s", "max"),
                fit_cpu_s_mean=("fit_cpu_s", "mean"), fit_cpu_s_max=("fit_cpu_s", "max"),
                projected_s_max=("projected_fit_s", "max"))
    return out.reset_index()


def format_summary(table: pd.DataFrame) -> str:
    lines = [f"{'dataset':20s} {'method':15s} {'preset':7s} seeds  AUROC mean+-sd   AUPRC mean+-sd   "
             f"fit wall s (mean/max)  fit CPU s (mean/max)  projected max"]
    for r in table.itertuples():
        lines.append(
            f"{r.dataset:20s} {r.method:15s} {r.preset:7s} {r.seeds:6s} {r.auroc_mean:.3f} +- {r.auroc_sd:.3f}   "
            f"{r.auprc_mean:.3f} +- {r.auprc_sd:.3f}   {r.fit_s_mean:8.1f} / {r.fit_s_max:8.1f}   "
            f"{r.fit_cpu_s_mean:8.1f} / {r.fit_cpu_s_max:8.1f}   {r.projected_s_max:8.1f}"
            f"{'  (capped run)' if r.capped else ''}")
    return "\n".join(lines)


def parse_methods(spec: str, presets: list[str]) -> list[tuple[str, str]]:
    """``genelink,cnnc:cpu`` -> [(genelink, p) for p in presets] + [(cnnc, cpu)]."""
    out = []
    for item in spec.split(","):
        name, _, preset = item.partition(":")
        out += [(name, preset)] if preset else [(name, p) for p in presets]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--methods", default=",".join(METHODS),
                    help="comma list; name:preset fixes one method's preset (e.g. cnnc:cpu)")
    ap.add_argument("--datasets", default="mdc,hesc1000")
    ap.add_argument("--presets", default="small,default", help="comma list of: small, cpu, default")
    ap.add_argument("--baselines", default="", help="comma list of sanity baselines, e.g. random,degree_prior")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", default=None, help="comma list of seeds (overrides --seed)")
    ap.add_argument("--epoch-cap", type=int, default=None, help="cap epochs (default preset only)")
    ap.add_argument("--train-frac", type=float, default=1.0, help="training pairs used (default preset only)")
    ap.add_argument("--out", default=None, help="append JSON lines here")
    ap.add_argument("--summary", default=None, help="only print the mean/sd table of this JSON-lines file")
    ap.add_argument("--device", default="cpu", help="cpu | cuda")
    args = ap.parse_args(argv)
    if args.summary:
        with open(args.summary) as fh:
            print(format_summary(summarise([json.loads(line) for line in fh if line.strip()])))
        return 0

    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    runs = parse_methods(args.methods, args.presets.split(","))
    baselines = [b for b in args.baselines.split(",") if b]
    records = []
    for ds in args.datasets.split(","):
        if ds not in ("mdc", "hesc1000"):
            print(f"unknown dataset {ds}")
            continue
        data = mdc_data() if ds == "mdc" else None
        if ds == "mdc" and data is None:
            print(f"skip {ds}: data not found ({MDC})")
            continue
        for seed in seeds:
            if ds == "hesc1000":
                data = hesc1000_like(seed)
            split = genelink_split(data, seed=seed)
            print(f"{ds} seed {seed}: {data.n_genes} genes x {data.n_cells} cells, {len(data.tfs)} TFs, "
                  f"{len(data.network)} edges; split {split.groupby('Part').size().to_dict()}", flush=True)
            todo = [(b, None) for b in baselines] + runs
            for name, preset in todo:
                if preset is None:
                    rec = run_baseline(name, data, split, seed=seed)
                else:
                    is_default = preset == "default"
                    rec = run_one(name, None if is_default else preset, data, split, seed=seed,
                                  threads=args.threads, epoch_cap=args.epoch_cap if is_default else None,
                                  train_frac=args.train_frac if is_default else 1.0, device=args.device)
                records.append(rec)
                print(f"{ds:9s} s{seed} {name:15s} {rec['preset']:7s} fit {rec['fit_s']:8.1f}s "
                      f"(cpu {rec['fit_cpu_s']:.0f}s) "
                      f"(epochs {rec['epochs_run']}/{rec['epochs_full']}, pairs {rec['train_pairs']}) "
                      f"projected {rec['projected_fit_s']:8.1f}s {'OK ' if rec['within_10min'] else 'OVER'} "
                      f"AUROC {rec['auroc']:.3f} AUPRC {rec['auprc']:.3f} "
                      f"{'(capped run)' if rec['capped'] else ''} rss {rec['peak_rss_mb']:.0f}MB", flush=True)
                if args.out:
                    with open(args.out, "a") as fh:
                        fh.write(json.dumps(rec, default=str) + "\n")
    if records:
        print(format_summary(summarise(records)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
