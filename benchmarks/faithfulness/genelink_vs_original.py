"""Faithfulness: our ``genelink`` against GENELink's own code on GENELink's own protocol.

GENELink is not part of this project: point ``--original`` at a checkout of zpliulab/GENELink
(the commit used is printed; only ``Code/`` and ``Demo/Demo.py`` are read). For every network
and seed the script

1. writes split files with the original's ``Code/Train_Test_Split.py`` (its own functions, run
   from the checkout after ``np.random.seed(seed)``, exactly as its ``__main__`` calls them:
   ``Hard_Negative_Specific_train_test_val`` for the cell-type-specific network,
   ``train_val_test_set`` with ``Network_Statistic``'s density for the non-specific one);
2. trains and scores the original with ``Demo/Demo.py`` (the script of the checkout that scores a
   test set), copied into a temporary folder with run-time shims only: its paths point at the
   split files, an unused tensorboard import and an undefined, unused ``net_type`` line are
   dropped, torch uses one thread, and a timer is put around its work; ``--seed`` and
   ``--epochs`` are its own command-line options;
3. trains and scores ours (``grnbench.methods.get("genelink")``) on the same files and seed;

and prints per-seed and mean +- sd test AUROC / AUPRC (average precision, as GENELink's
``Evaluation`` reports), ours minus the original, wall and CPU seconds and ours' CPU time over
the original's (both timed in-process, from reading the expression to the test scores, one
thread; ``process_cpu_s`` in ``--json`` is the original's whole process, imports included). The
``uptime`` load is printed beside every timing. Every run's result is cached in ``--workdir``
(per split, the original's by epochs, ours' by preset and ``--param``), so calls for one seed
at a time add up and a last call over all seeds only prints the table.

    python benchmarks/faithfulness/genelink_vs_original.py --original /path/to/GENELink \
        --data ../shared/data/genelink --networks specific nonspecific --seeds 0 1 2 \
        --presets default official
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[2]
NET_TYPE = {"specific": "Specific", "nonspecific": "Non-Specific"}  # the original's --net names

SPLIT_DRIVER = """
import sys
import numpy as np
code, cell, num, net, seed, folder, out = sys.argv[1:]
sys.argv = ["Train_Test_Split.py", "--data", cell, "--num", num, "--net", net]
sys.path.insert(0, code)
import Train_Test_Split as T  # noqa: E402  (parses the argv above: its defaults ratio 0.67, p_val 0.5)
from utils import Network_Statistic  # noqa: E402
np.random.seed(int(seed))
f = lambda name: folder + "/" + name
o = lambda name: out + "/" + name
if net == "Specific":
    T.Hard_Negative_Specific_train_test_val(f("Label.csv"), f("Target.csv"), f("TF.csv"),
        o("Train_set.csv"), o("Validation_set.csv"), o("Test_set.csv"))
else:
    T.train_val_test_set(f("Label.csv"), f("Target.csv"), f("TF.csv"), o("Train_set.csv"),
        o("Validation_set.csv"), o("Test_set.csv"), Network_Statistic(cell, int(num), net))
"""


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def commit_of(checkout: Path) -> str:
    r = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or "unknown (not a git checkout)"


def make_split(code: Path, folder: Path, cell: str, num: str, net: str, seed: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if all((out / f).exists() for f in ("Train_set.csv", "Validation_set.csv", "Test_set.csv")):
        return
    subprocess.run([sys.executable, "-c", SPLIT_DRIVER, str(code), cell, num, net, str(seed),
                    str(folder), str(out)], check=True, cwd=out)


def patched_demo(original: Path, folder: Path, split: Path) -> str:
    """Demo.py's text with run-time shims (see the module docstring); nothing else changes."""
    src = (original / "Demo" / "Demo.py").read_text()
    paths = {
        "exp_file": folder / "BL--ExpressionData.csv", "tf_file": folder / "TF.csv",
        "target_file": folder / "Target.csv", "train_file": split / "Train_set.csv",
        "test_file": split / "Test_set.csv", "val_file": split / "Validation_set.csv",
    }
    for var, path in paths.items():
        src, n = re.subn(rf"^{var} = .*$", f"{var} = {str(path)!r}", src, count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"Demo.py: no line '{var} = ...' to point at {path}")
    shims = [
        (r"^from torch\.utils\.tensorboard import SummaryWriter$", "# (tensorboard import dropped: unused)"),
        (r"^density = Network_Statistic\(data_type,num,net_type\)$", "# (undefined net_type, unused density)"),
        (r"^data_input = pd\.read_csv\(exp_file,index_col=0\)$",
         "torch.set_num_threads(1)\n_T0, _C0 = time.perf_counter(), time.process_time()\n"
         "data_input = pd.read_csv(exp_file,index_col=0)"),
    ]
    for pat, rep in shims:
        src, n = re.subn(pat, rep, src, count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"Demo.py: pattern {pat!r} not found (another GENELink version?)")
    src += "\nprint('FAITHFULNESS', time.perf_counter() - _T0, time.process_time() - _C0, AUC, AUPR)\n"
    return src


def run_original(original: Path, folder: Path, split: Path, seed: int, epochs: int, cache: Path) -> dict:
    if cache.exists():
        return {**json.loads(cache.read_text()), "cached": True}
    with tempfile.TemporaryDirectory(prefix="genelink_orig_run_") as tmp:
        script = Path(tmp) / "Demo.py"
        script.write_text(patched_demo(original, folder, split))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONPATH": str(original / "Code"), "CUDA_VISIBLE_DEVICES": ""}
        load_before = load()
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run([sys.executable, str(script), "--seed", str(seed), "--epochs", str(epochs)],
                           cwd=tmp, env=env, capture_output=True, text=True)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode:
            raise SystemExit(f"original GENELink failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        line = [x for x in r.stdout.splitlines() if x.startswith("FAITHFULNESS")][-1].split()
        epochs_log = [x for x in r.stdout.splitlines() if x.startswith("Epoch:")]
    res = {"auroc": float(line[3]), "auprc": float(line[4]), "time_s": float(line[1]), "cpu_s": float(line[2]),
           "process_cpu_s": (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime),
           "load": f"{load_before} -> {load()}", "last_epoch_log": epochs_log[-1] if epochs_log else ""}
    cache.write_text(json.dumps(res))
    return res


def ours_cache(split_dir: Path, method: str, preset: str | None, params: dict) -> Path:
    """Where one run of ours is cached: named by the method, the preset and a hash of the
    *resolved* parameters, so a changed default or preset never returns a stale result."""
    import hashlib

    from grnbench.methods import get

    resolved = get(method)(preset=preset, **params).params
    h = hashlib.sha1(json.dumps(resolved, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return split_dir / f"{method}_ours_{preset or 'default'}_{h}.json"


def run_ours_method(method: str, folder: Path, split_dir: Path, name: str, seed: int, preset: str | None,
                    params: dict) -> dict:
    """Our ``method`` fitted on a split folder's train/validation files, scored on its test file."""
    import torch
    from sklearn.metrics import average_precision_score, roc_auc_score

    from grnbench.data.readers import read_genelink_folder
    from grnbench.data.splits import read_genelink_split
    from grnbench.methods import get

    torch.set_num_threads(1)
    load_before = load()
    t0, c0 = time.perf_counter(), time.process_time()
    data = read_genelink_folder(folder, name=name)
    split = read_genelink_split(split_dir, data, folder / "Target.csv")
    trainval = split[split["Part"] != "test"].reset_index(drop=True)
    test = split[split["Part"] == "test"].reset_index(drop=True)
    m = get(method)(preset=preset, **params)
    s = m.score_pairs(data, trainval, test[["TF", "Target"]], seed=seed, threads=1)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    y = test["Label"].to_numpy()
    return {"auroc": float(roc_auc_score(y, s)), "auprc": float(average_precision_score(y, s)),
            "time_s": dt, "cpu_s": dc, "load": f"{load_before} -> {load()}", "best_epoch": m.labels.get("best_epoch")}


def ours_result(method: str, folder: Path, split_dir: Path, name: str, seed: int, preset: str,
                params: dict, suffix: str = "") -> dict:
    """One run of ours (``preset`` 'default' = none), from its cache when there, else run and cached."""
    cache = ours_cache(split_dir, method, None if preset == "default" else preset, params)
    cache = cache.with_name(f"{cache.stem}{suffix}.json")
    if cache.exists():
        return {**json.loads(cache.read_text()), "cached": True}
    ours = run_ours_method(method, folder, split_dir, name, seed, None if preset == "default" else preset, params)
    cache.write_text(json.dumps(ours))
    return ours


def comparison_table(title: str, original: str, rows: list[dict], presets: list[str], tag: str = "") -> list[str]:
    """The printed summary: the original's row, then ours per preset (mean ± sd over ``rows``,
    differences to the original, wall and CPU seconds, CPU ratio)."""
    o = {k: [r["original"][k] for r in rows] for k in ("auroc", "auprc", "time_s", "cpu_s")}
    proc = [r["original"].get("process_cpu_s") for r in rows]
    proc = f" (process {np.mean(proc):.1f})" if None not in proc else ""
    out = [title, "| run | AUROC | AUPRC | ΔAUROC (ours − orig) | ΔAUPRC | wall s | CPU s | CPU ratio |",
           "|---|---|---|---|---|---|---|---|",
           f"| original ({original}) | {msd(o['auroc'])} | {msd(o['auprc'])} | | | "
           f"{np.mean(o['time_s']):.1f} | {np.mean(o['cpu_s']):.1f}{proc} | 1 |"]
    for preset in presets:
        u = {k: [r[preset][k] for r in rows] for k in ("auroc", "auprc", "time_s", "cpu_s")}
        out.append(f"| ours `{preset}`{tag} | {msd(u['auroc'])} | {msd(u['auprc'])} | "
                   f"{np.mean(u['auroc']) - np.mean(o['auroc']):+.3f} | {np.mean(u['auprc']) - np.mean(o['auprc']):+.3f} | "
                   f"{np.mean(u['time_s']):.1f} | {np.mean(u['cpu_s']):.1f} | {np.mean(u['cpu_s']) / np.mean(o['cpu_s']):.2f} |")
    return out


def add_referee_args(ap, checkout: str, interpreter: str) -> None:
    """The arguments the TensorFlow referees (CNNC, GNE, GNNLink) share."""
    ap.add_argument("--original", required=True, type=Path, help=f"a {checkout} checkout")
    ap.add_argument("--python", required=True, help=f"an interpreter with {interpreter} (see the docstring)")
    ap.add_argument("--splits", required=True, type=Path, help="genelink_vs_original.py's --workdir")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "genelink")
    ap.add_argument("--cell", default="mDC")
    ap.add_argument("--geneset", default="tfs500")
    ap.add_argument("--networks", nargs="+", default=["specific"], choices=["specific", "nonspecific"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--presets", nargs="+", default=["default"], help="ours' presets ('default' = none)")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="extra parameter for ours")
    ap.add_argument("--json", type=Path)


def finish(summary: list[str], record: dict, json_path: Path | None) -> int:
    """Print the summary and the load, write the record where asked."""
    print("\n".join(summary))
    print(f"load at the end: {load()}")
    if json_path:
        json_path.write_text(json.dumps(record, indent=1))
    return 0


def split_facts(split_dir: Path) -> dict:
    """Sizes, and the original generator's overlaps (a test pair that is also a train/val pair)."""
    parts = {p: pd.read_csv(split_dir / f"{f}_set.csv", index_col=0)
             for p, f in (("train", "Train"), ("val", "Validation"), ("test", "Test"))}
    key = {p: set(zip(d.TF, d.Target)) for p, d in parts.items()}
    tr_pos = set(zip(*[parts["train"].loc[parts["train"].Label == 1, c] for c in ("TF", "Target")]))
    te_neg = parts["test"][parts["test"].Label == 0]
    return {
        **{f"n_{p}": len(d) for p, d in parts.items()},
        **{f"pos_{p}": int(d.Label.sum()) for p, d in parts.items()},
        "test_in_train": len(key["test"] & key["train"]),
        "test_neg_is_train_pos": int(sum(t in tr_pos for t in zip(te_neg.TF, te_neg.Target))),
    }


def msd(v) -> str:
    v = np.asarray(v, dtype=float)
    return f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.3f}"


def parse_params(items: list[str]) -> dict:
    out = {}
    for it in items:
        k, _, v = it.partition("=")
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--original", required=True, type=Path, help="a zpliulab/GENELink checkout (holds Code/, Demo/)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "genelink")
    ap.add_argument("--cell", default="mDC")
    ap.add_argument("--geneset", default="tfs500", help="tfs500 | tfs1000 (the original's --num 500 | 1000)")
    ap.add_argument("--networks", nargs="+", default=["specific", "nonspecific"], choices=sorted(NET_TYPE))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--presets", "--preset", nargs="+", default=["default"],
                    help="ours' presets to run ('default' = no preset)")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="an extra parameter for ours (JSON value), e.g. epochs=90")
    ap.add_argument("--epochs", type=int, default=90, help="the original's --epochs (Demo.py's default: 90)")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "genelink_faithfulness")
    ap.add_argument("--json", type=Path, help="write every figure here")
    args = ap.parse_args(argv)
    original = args.original.resolve()
    code = original / "Code"
    if not (code / "Train_Test_Split.py").is_file() or not (original / "Demo" / "Demo.py").is_file():
        raise SystemExit(f"{original} has no Code/Train_Test_Split.py or Demo/Demo.py")
    commit = commit_of(original)
    num = args.geneset.removeprefix("tfs")
    params = parse_params(args.param)
    print(f"GENELink checkout {original} at {commit}; original: Demo.py --epochs {args.epochs} --seed <seed>")
    print(f"ours: genelink presets {args.presets} params {params}; load {load()}")
    tag = "".join(f" {k}={json.dumps(v)}" for k, v in params.items())
    record = {"commit": commit, "epochs_original": args.epochs, "params": params, "rows": []}
    summary = []
    for net in args.networks:
        folder = args.data / net / args.cell / args.geneset
        rows = []
        for seed in args.seeds:
            sd = args.workdir / f"{net}_{args.cell}_{args.geneset}" / f"seed{seed}"
            make_split(code, folder, args.cell, num, NET_TYPE[net], seed, sd)
            facts = split_facts(sd)
            orig = run_original(original, folder, sd, seed, args.epochs, sd / f"original_e{args.epochs}.json")
            print(f"[{net} seed {seed}] split {facts}")
            print(f"[{net} seed {seed}] original AUROC {orig['auroc']:.4f} AUPRC {orig['auprc']:.4f} "
                  f"time {orig['time_s']:.1f}s cpu {orig['cpu_s']:.1f}s load {orig['load']}"
                  f"{' (cached)' if orig.get('cached') else ''}")
            row = {"network": net, "seed": seed, "split": facts, "original": orig}
            for preset in args.presets:
                ours = ours_result("genelink", folder, sd, f"{net}/{args.cell}/{args.geneset}", seed, preset, params)
                row[preset] = ours
                print(f"[{net} seed {seed}] ours[{preset}] AUROC {ours['auroc']:.4f} AUPRC {ours['auprc']:.4f} "
                      f"time {ours['time_s']:.1f}s cpu {ours['cpu_s']:.1f}s (x{ours['cpu_s'] / orig['cpu_s']:.2f}) best epoch "
                      f"{ours['best_epoch']} load {ours['load']}{' (cached)' if ours.get('cached') else ''}")
            rows.append(row)
        record["rows"] += rows
        summary += comparison_table(f"\n{net} {args.cell} {args.geneset}, seeds {args.seeds}, GENELink {commit[:7]}:",
                                    f"Demo.py, {args.epochs} epochs", rows, args.presets, tag)
    return finish(summary, record, args.json)


if __name__ == "__main__":
    sys.exit(main())
