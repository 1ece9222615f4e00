"""Faithfulness: our ``genie3`` / ``grnboost2`` against arboreto's own entry points.

arboreto is not part of this project's code: point ``--arboreto`` at a checkout of
aertslab/arboreto (the commit used is printed). arboreto 0.1.6 from PyPI fails with current dask
("Must supply at least one delayed object", see ``tests/test_unsupervised.py``); the GitHub
master (79f916b, 2024-04-05) builds the meta frame only when asked and runs. For every method and
seed the script

1. runs arboreto's own ``arboreto.algo.genie3`` / ``grnboost2`` (or ``arboreto.algo.diy`` with
   ``RF_KWARGS`` / ``SGBM_KWARGS`` and the overrides given by ``--param``, e.g. fewer trees) in
   its documented local mode with an explicit client: a ``distributed.LocalCluster`` of one
   in-process worker with one thread (``--workers`` for more), ``seed=seed``, on the expression
   matrix exactly as ``pd.read_csv`` gives it (float64 DataFrame, cells x genes) and TF.csv's list;
2. runs ours (``grnbench.methods.get(name)(**params).infer(data, seed=seed, threads=1)``) on the
   same files (our GRNData stores float32, see ``grnbench.data.dataset``);
3. scores both on the test pairs of our GENELink-protocol split of the same seed
   (``grnbench.data.splits.genelink_split``: ``hard`` for the cell-type-specific network,
   ``density`` for the non-specific one, ``reciprocal="auto"`` as the workflow does);

and prints per-seed and mean +- sd test AUROC / AUPRC (average precision), ours minus arboreto,
the largest |importance difference|, wall and CPU seconds (``getrusage`` of this process; the
dask worker is in-process, so its CPU time is included) and ours' time over arboreto's. The
``uptime`` load is printed beside every timing. ``--arboreto-input float32`` gives arboreto the
float32 matrix ours sees (the per-target function then gives ours' bits, see
``tests/test_unsupervised.py``; the default run's difference is the float32 storage of the
input). Importances are cached in
``--workdir``; a second call with the same settings reuses them.

    python benchmarks/faithfulness/arboreto_vs_ours.py --arboreto /path/to/arboreto \
        --data ../shared/data/genelink --network specific --seeds 0 1 2 \
        --methods grnboost2 genie3 --param genie3.n_estimators=100
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MODE, add_data_args, msd, test_scores  # noqa: E402


def load() -> str:
    return os.popen("uptime").read().strip().split("load average:")[-1].strip()


def commit_of(checkout: Path) -> str:
    r = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or "unknown (not a git work tree)"


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def parse_params(items: list[str]) -> dict[str, dict]:
    """``method.key=value`` (value JSON or a string) -> {method: {key: value}}."""
    out: dict[str, dict] = {}
    for item in items:
        key, _, v = item.partition("=")
        name, _, k = key.partition(".")
        if not k or not v:
            raise SystemExit(f"--param {item!r}: expected method.key=value")
        try:
            out.setdefault(name, {})[k] = json.loads(v)
        except json.JSONDecodeError:
            out.setdefault(name, {})[k] = v
    return out


def links_to_matrix(links: pd.DataFrame, tfs: list[str], genes: list[str]) -> np.ndarray:
    """arboreto's long TF/target/importance table -> TF x gene matrix (absent links: 0)."""
    w = links.pivot_table(index="TF", columns="target", values="importance", aggfunc="first")
    return w.reindex(index=tfs, columns=genes).fillna(0.0).to_numpy(dtype=np.float64)


def run_arboreto(name, method, expr: pd.DataFrame, tfs, client, seed, input_dtype) -> dict:
    import arboreto.algo as algo
    from arboreto.core import EARLY_STOP_WINDOW_LENGTH

    df = expr.astype(np.float32).astype(np.float64) if input_dtype == "float32" else expr
    kwargs = method.regressor_kwargs()
    window = method.params.get("early_stop_window_length", EARLY_STOP_WINDOW_LENGTH)
    c0, t0 = cpu_s(), time.perf_counter()
    if name == "genie3" and kwargs == _official_kwargs("RF"):
        links = algo.genie3(df, tf_names=list(tfs), client_or_address=client, seed=seed)
        call = "arboreto.algo.genie3"
    elif name == "grnboost2" and kwargs == _official_kwargs("GBM") and window == EARLY_STOP_WINDOW_LENGTH:
        links = algo.grnboost2(df, tf_names=list(tfs), client_or_address=client, seed=seed)
        call = "arboreto.algo.grnboost2"
    else:
        links = algo.diy(df, regressor_type=method.regressor_type, regressor_kwargs=kwargs,
                         tf_names=list(tfs), client_or_address=client, seed=seed,
                         early_stop_window_length=window)
        call = f"arboreto.algo.diy({method.regressor_type}, {kwargs})"
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    return {"links": links, "wall_s": wall, "cpu_s": cpu, "load": load(), "call": call}


def _official_kwargs(regressor_type: str) -> dict:
    from arboreto.core import RF_KWARGS, SGBM_KWARGS

    return dict(RF_KWARGS if regressor_type == "RF" else SGBM_KWARGS)






def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arboreto", type=Path, required=True, help="checkout of aertslab/arboreto")
    add_data_args(ap)
    ap.add_argument("--methods", nargs="+", default=["grnboost2", "genie3"])
    ap.add_argument("--param", action="append", default=[], help="method.key=value, both sides")
    ap.add_argument("--preset", action="append", default=[], help="method=preset, both sides")
    ap.add_argument("--workers", type=int, default=1, help="arboreto's LocalCluster workers")
    ap.add_argument("--arboreto-input", choices=["float64", "float32"], default="float64")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/arboreto_vs_ours"))
    ap.add_argument("--json", type=Path, help="write every figure here")
    args = ap.parse_args(argv)

    folder = args.data / args.network / args.cell / args.num
    if not (folder / "BL--ExpressionData.csv").exists():
        print(f"SKIP: {folder}/BL--ExpressionData.csv is absent (needs ../shared/data)")
        return 0
    sys.path.insert(0, str(args.arboreto))
    import arboreto
    from distributed import Client, LocalCluster

    if not Path(arboreto.__file__).resolve().is_relative_to(args.arboreto.resolve()):
        raise SystemExit(f"arboreto imported from {arboreto.__file__}, not from {args.arboreto}")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_unsupervised import load_genelink

    from grnbench.data.splits import genelink_split
    from grnbench.methods import registry

    params = parse_params(args.param)
    presets = dict(p.split("=", 1) for p in args.preset)
    commit = commit_of(args.arboreto)
    print(f"arboreto {commit} from {arboreto.__file__}; data {folder}; network {args.network} "
          f"(split mode {MODE[args.network]}); seeds {args.seeds}; arboreto input {args.arboreto_input}")
    expr = pd.read_csv(folder / "BL--ExpressionData.csv", index_col=0).T  # cells x genes, float64
    tf_list = pd.read_csv(folder / "TF.csv", index_col=0)["TF"].astype(str).tolist()
    data = load_genelink(folder, name=f"{args.cell}/{args.network}/{args.num}")
    tfs, genes = list(data.tfs), list(data.genes)
    assert genes == list(expr.columns.astype(str)), "gene order differs between the two inputs"
    print(f"{data.n_cells} cells, {data.n_genes} genes, {len(tfs)} TFs (TF.csv lists {len(tf_list)}); "
          f"load {load()}")

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=False,
                           dashboard_address=None)
    client = Client(cluster)
    print(f"LocalCluster({args.workers} in-process worker(s) x 1 thread) up in "
          f"{time.perf_counter() - t0:.1f} s (not counted below)")
    splits = {s: genelink_split(data, s, mode=MODE[args.network]) for s in args.seeds}
    record: dict = {"arboreto_commit": commit, "data": str(folder), "network": args.network,
                    "arboreto_input": args.arboreto_input, "workers": args.workers, "methods": {}}
    args.workdir.mkdir(parents=True, exist_ok=True)
    for name in args.methods:
        cls = registry.get(name)
        method = cls(preset=presets.get(name), **params.get(name, {}))
        tag = hashlib.sha1(json.dumps([folder.as_posix(), method.params, args.arboreto_input],
                                      sort_keys=True, default=str).encode()).hexdigest()[:10]
        print(f"\n== {name}: params {method.params}")
        rows = []
        for seed in args.seeds:
            cache = args.workdir / f"{name}_{tag}_s{seed}.npz"
            cached = cache.exists()
            if cached:
                z = np.load(cache, allow_pickle=False)
                w_a, w_o = z["w_arboreto"], z["w_ours"]
                meta = json.loads(str(z["meta"]))
            else:
                a = run_arboreto(name, method, expr, tf_list, client, seed, args.arboreto_input)
                w_a = links_to_matrix(a.pop("links"), tfs, genes)
                c0, t1 = cpu_s(), time.perf_counter()
                w_o = np.asarray(method.infer(data, seed=seed, threads=1), dtype=np.float64)
                o = {"wall_s": time.perf_counter() - t1, "cpu_s": cpu_s() - c0, "load": load()}
                meta = {"arboreto": a, "ours": o}
                np.savez(cache, w_arboreto=w_a, w_ours=w_o, meta=json.dumps(meta))
            sa, so = test_scores(w_a, splits[seed], tfs, genes), test_scores(w_o, splits[seed], tfs, genes)
            a, o = meta["arboreto"], meta["ours"]
            row = {"seed": seed, "arboreto": {**sa, **a}, "ours": {**so, **o},
                   "max_abs_diff": float(np.abs(w_a - w_o).max()),
                   "identical": bool(np.array_equal(w_a, w_o)),
                   "spearman": float(pd.Series(w_a.ravel()).corr(pd.Series(w_o.ravel()), method="spearman"))}
            rows.append(row)
            print(f"seed {seed} ({sa['n_test']} test pairs, {sa['n_pos']} positive): "
                  f"AUROC arboreto {sa['auroc']:.4f} ours {so['auroc']:.4f} (diff {so['auroc'] - sa['auroc']:+.4f}); "
                  f"AUPRC {sa['auprc']:.4f} / {so['auprc']:.4f}; max|dw| {row['max_abs_diff']:.2e}, "
                  f"identical {row['identical']}, Spearman {row['spearman']:.5f}")
            print(f"   arboreto {a['wall_s']:7.1f} s wall {a['cpu_s']:7.1f} s CPU (load {a['load']}); "
                  f"ours {o['wall_s']:7.1f} s wall {o['cpu_s']:7.1f} s CPU (load {o['load']}); "
                  f"ours/arboreto wall {o['wall_s'] / a['wall_s']:.3f} CPU {o['cpu_s'] / a['cpu_s']:.3f}"
                  f"{' (cached)' if cached else ''}")
        summ = {}
        for metric in ("auroc", "auprc"):
            va = [r["arboreto"][metric] for r in rows]
            vo = [r["ours"][metric] for r in rows]
            summ[metric] = {"arboreto": [float(np.mean(va)), float(np.std(va, ddof=1)) if len(va) > 1 else 0.0],
                            "ours": [float(np.mean(vo)), float(np.std(vo, ddof=1)) if len(vo) > 1 else 0.0],
                            "diff": float(np.mean(vo) - np.mean(va))}
            print(f"{name} {metric.upper()}: arboreto {msd(va)}  ours {msd(vo)}  "
                  f"diff {summ[metric]['diff']:+.4f}")
        ta = sum(r["arboreto"]["wall_s"] for r in rows)
        to = sum(r["ours"]["wall_s"] for r in rows)
        ca = sum(r["arboreto"]["cpu_s"] for r in rows)
        co = sum(r["ours"]["cpu_s"] for r in rows)
        summ["time_ratio_wall"], summ["time_ratio_cpu"] = to / ta, co / ca
        print(f"{name} time ours/arboreto: wall {to:.1f}/{ta:.1f} s = {to / ta:.3f}, "
              f"CPU {co:.1f}/{ca:.1f} s = {co / ca:.3f}")
        record["methods"][name] = {"params": method.params, "call": rows[0]["arboreto"]["call"],
                                   "seeds": rows, "summary": summ}
    client.close()
    cluster.close()
    if args.json:
        args.json.write_text(json.dumps(record, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
