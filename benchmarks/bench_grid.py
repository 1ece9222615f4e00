"""What a grid costs: the measured jobs of a run, per method, and the projection for a bigger grid.

Snakemake's ``benchmark:`` files time every job of a run; this script reads them (with each job's
``run.json`` for its preset and parameters and ``stats.json`` for its data size) and prints, per
method, the jobs measured, their mean wall and CPU seconds, and then the projected cost of every
job of a target config (default: ``config/shared-real.yaml`` and ``config/paper.yaml``):

    snakemake --cores 2 --configfile config/shared-real.yaml --config seeds=[0] results=/tmp/sr0
    python benchmarks/bench_grid.py --results /tmp/sr0 [--gpu-results DIR] [--cores 2]

A planned job is projected from the measured jobs of the same method (same split protocol and
network when measured, else the mean over what was measured): its CPU seconds minus the start-up
(the mean CPU of the ``random`` jobs, which do almost nothing else), scaled by the ratio of
:func:`grnbench.guards.estimate`'s run-time model at the planned size and settings to the model
at the measured ones, plus the start-up again. Rules other than ``infer`` are counted from
``snakemake -n`` of the target config and costed at their measured mean. The wall-clock
projection on N cores is CPU / N (perfect packing, a lower bound) or the longest job, whichever
is larger. ``--gpu-results`` (a run of the same config on a GPU machine) replaces the CPU figures of
the methods that ran on the GPU; without it no GPU figure is printed, since none was measured.

The size scaling is a model, not a measurement: the ``scale`` column says how far each figure
was stretched. Projections are sound where it is near 1 (the planned cell was measured: e.g. a
seed-0 run of the same config projects its three-seed run); from the simulated default run to real
data they are not (start-up-dominated jobs do not grow with the guards' pair counts).

Data sizes of GENELink cells not in the results folder: genes and TFs from the GENELink files
(``--genelink``), cells from BEELINE's published counts (``CELLS`` below).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]

#: Cells per BEELINE scRNA-seq dataset (BEELINE's paper and SOURCES.md; GENELink uses the same).
CELLS = {"hESC": 758, "hHEP": 425, "mDC": 383, "mESC": 421, "mHSC-E": 1071, "mHSC-GM": 889, "mHSC-L": 847}


def read_jobs(results: Path) -> pd.DataFrame:
    """One row per ``infer`` benchmark file: method, cell, split, seed, seconds, sizes, settings."""
    rows = []
    bench = results / "benchmarks" / "infer"
    for f in sorted(bench.rglob("*.tsv")):
        rel = f.relative_to(bench).with_suffix("")
        parts = rel.parts
        m = re.fullmatch(r"seed(\d+)", parts[-1])
        if len(parts) < 6 or not m:
            continue
        dataset, network, geneset, split, method = parts[0], parts[1], parts[2], parts[-3], parts[-2]
        b = pd.read_csv(f, sep="\t").iloc[0]
        cell = results / dataset / network / geneset
        stats = json.loads((cell / "stats.json").read_text()) if (cell / "stats.json").exists() else {}
        run = next((json.loads(p.read_text()) for p in (results / rel.parent / m.group(0) / "run.json",
                                                        cell / split / method / m.group(0) / "run.json")
                    if p.exists()), {})
        rows.append({"method": method, "dataset": dataset, "network": network, "geneset": geneset, "split": split,
                     "seed": int(m.group(1)), "wall_s": float(b["s"]), "cpu_s": float(b["cpu_time"]),
                     "genes": stats.get("genes"), "cells": stats.get("cells"), "tfs": stats.get("tfs"),
                     "preset": run.get("preset"), "params": {k: v for k, v in (run.get("params") or {}).items()
                                                            if k != "device"},
                     "device": run.get("device", "cpu")})
    return pd.DataFrame(rows)


def rule_means(results: Path) -> dict[str, float]:
    """Mean CPU seconds per job of every rule other than ``infer``."""
    out = {}
    for d in sorted((results / "benchmarks").iterdir()):
        files = list(d.rglob("*.tsv")) if d.is_dir() else [d] if d.suffix == ".tsv" else []
        name = d.stem if d.is_file() else d.name
        if name == "infer" or not files:
            continue
        out[name] = sum(float(pd.read_csv(f, sep="\t")["cpu_time"].iloc[0]) for f in files) / len(files)
    return out


def model_seconds(method: str, genes: int, cells: int, tfs: int, preset, params) -> float:
    from grnbench import guards

    p = guards.method_params(method, preset, params)
    est = guards.estimate(method, genes, cells, tfs, params=p)
    return max(est["runtime_min"] * 60 / guards.SAFETY_TIME - guards.STARTUP_S, 1e-3)


def cell_sizes(cfg: dict, genelink: Path, measured: pd.DataFrame) -> dict[tuple, tuple[int, int, int]]:
    out = {}
    for ds, d in cfg["datasets"].items():
        for net in d.get("networks", []):
            for gs in d.get("genesets", []):
                hit = measured[(measured.dataset == ds) & (measured.network == net) & (measured.geneset == gs)]
                if len(hit) and hit["genes"].notna().any():
                    r = hit.iloc[0]
                    out[(ds, net, gs)] = (int(r.genes), int(r.cells), int(r.tfs))
                    continue
                folder = genelink / net / d.get("cell", ds) / gs
                if d.get("source") != "genelink" or not (folder / "Target.csv").exists():
                    raise SystemExit(f"{ds}/{net}/{gs}: size unknown (not in the results, no {folder}/Target.csv)")
                out[(ds, net, gs)] = (_rows(folder / "Target.csv"), CELLS[d.get("cell", ds)], _rows(folder / "TF.csv"))
    return out


def _rows(path: Path) -> int:
    with open(path) as fh:
        return sum(1 for _ in fh) - 1  # minus the header


def planned_rule_counts(configfile: Path) -> dict[str, int]:
    """Jobs per rule of a fresh run of ``configfile`` (``snakemake -n``)."""
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(configfile), "--config",
                            f"results={tmp}/res"], cwd=ROOT, capture_output=True, text=True)
    counts, on = {}, False
    for ln in r.stdout.splitlines():
        if ln.startswith("job "):
            on = True
            continue
        if on:
            parts = ln.split()
            if len(parts) == 2 and parts[1].isdigit():
                if parts[0] == "total":
                    break
                counts[parts[0]] = int(parts[1])
    if not counts:
        raise SystemExit(f"snakemake -n --configfile {configfile} planned nothing:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return counts


def project(cfg: dict, configfile: Path, measured: pd.DataFrame, gpu: pd.DataFrame, sizes: dict, rules: dict,
            startup: float) -> pd.DataFrame:
    rows = []
    for (ds, net, gs), (G, C, T) in sizes.items():
        for method, mcfg in cfg["methods"].items():
            mcfg = mcfg or {}
            for split in cfg["splits"]:
                for source, table in (("cpu", measured), ("gpu", gpu)):
                    if source == "gpu" and not len(table):
                        continue
                    own = table[table.method == method]
                    if source == "gpu" and not len(own):  # ran on the CPU there too: the CPU figure
                        own = measured[measured.method == method]
                    if not len(own):
                        continue
                    same = own[(own.split == split) & (own.network == net)]
                    ref = same if len(same) else own
                    r0 = ref.iloc[0]
                    m_model = model_seconds(method, int(r0.genes), int(r0.cells), int(r0.tfs), r0.preset, r0.params)
                    t_model = model_seconds(method, G, C, T, mcfg.get("preset"), mcfg.get("params"))
                    scale = t_model / m_model
                    cpu = startup + max(ref.cpu_s.mean() - startup, 0.0) * scale
                    wall = startup + max(ref.wall_s.mean() - startup, 0.0) * scale
                    for _ in cfg["seeds"]:
                        rows.append({"source": source, "method": method, "cell": f"{ds}/{net}/{gs}", "split": split,
                                     "cpu_s": cpu, "wall_s": wall, "scale": scale})
    df = pd.DataFrame(rows)
    planned = planned_rule_counts(configfile)
    for rule, n in planned.items():
        if rule in ("infer", "all"):
            continue
        per = rules.get(rule, 0.0)
        for source in df["source"].unique() if len(df) else ["cpu"]:
            df = pd.concat([df, pd.DataFrame([{"source": source, "method": f"[{rule}]", "cell": "-", "split": "-",
                                               "cpu_s": per, "wall_s": per, "scale": 1.0}] * n)])
    df.attrs["planned"] = planned
    return df


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", required=True, type=Path, help="results folder of a (partial) run")
    ap.add_argument("--gpu-results", type=Path, help="results folder of the same run on a GPU machine")
    ap.add_argument("--configs", nargs="+", type=Path,
                    default=[ROOT / "config/shared-real.yaml", ROOT / "config/paper.yaml"])
    ap.add_argument("--genelink", type=Path, default=ROOT.parent / "shared/data/genelink")
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    print(f"load average: {os.getloadavg()}")
    measured = read_jobs(args.results)
    if measured.empty:
        raise SystemExit(f"no infer benchmark files under {args.results}/benchmarks/infer")
    gpu = read_jobs(args.gpu_results) if args.gpu_results else pd.DataFrame()
    if len(gpu):
        gpu = gpu[gpu.device != "cpu"]
    rules = rule_means(args.results)
    startup = float(measured.loc[measured.method == "random", "cpu_s"].mean()) if (measured.method == "random").any() else 0.0
    print(f"\nmeasured in {args.results}: {len(measured)} infer jobs; start-up (mean CPU of a 'random' job) "
          f"{startup:.1f} s")
    summary = measured.groupby(["method", "network", "split"]).agg(
        jobs=("cpu_s", "size"), wall_s=("wall_s", "mean"), cpu_s=("cpu_s", "mean"), genes=("genes", "first"),
        cells=("cells", "first"), tfs=("tfs", "first"))
    print(summary.round(1).to_string())
    print("other rules, mean CPU s per job: " + ", ".join(f"{k} {v:.1f}" for k, v in rules.items()))
    for configfile in args.configs:
        cfg = yaml.safe_load(configfile.read_text())
        sizes = cell_sizes(cfg, args.genelink, measured)
        df = project(cfg, configfile, measured, gpu, sizes, rules, startup)
        missing = sorted(set(cfg["methods"]) - set(measured.method))
        print(f"\n== projection for {configfile.relative_to(ROOT) if configfile.is_relative_to(ROOT) else configfile}: "
              f"{len(sizes)} cell(s) {sorted(f'{a}/{b}/{c} {s}' for (a, b, c), s in sizes.items())}, "
              f"{len(cfg['splits'])} splits, {len(cfg['seeds'])} seeds; planned jobs {df.attrs['planned']}")
        if missing:
            print(f"   NOT projected (no measured job): {missing}")
        for source, part in df.groupby("source"):
            per = part.groupby("method").agg(jobs=("cpu_s", "size"), cpu_s=("cpu_s", "sum"),
                                             longest_s=("wall_s", "max"), scale=("scale", "mean"))
            per = per.sort_values("cpu_s", ascending=False)
            total = per.cpu_s.sum()
            wall = max(total / args.cores, per.longest_s.max())
            label = "CPU" if source == "cpu" else "GPU (measured GPU jobs; CPU jobs as measured on CPU)"
            print(f"-- {label}: total {total:,.0f} CPU s = {total / 3600:.2f} CPU h; "
                  f"on {args.cores} cores >= {wall / 60:.1f} min")
            print(per.round(1).to_string())
        if not len(gpu):
            print("-- GPU: not projected (no --gpu-results run was measured)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
