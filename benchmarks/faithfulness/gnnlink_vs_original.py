"""Faithfulness: our ``gnnlink`` against GNNLink's own TensorFlow code on GENELink's official splits.

GNNLink is not part of this project: point ``--original`` at a checkout of sdesignates/GNNLink
(the commit is printed; only ``main.py``, ``inits.py``, ``gcn.py``, ``Transorfomer.py`` and
``utils.py`` are read, its bundled ``Data/`` is not needed) and ``--python`` at an interpreter
with TensorFlow 2 (``tensorflow-cpu==2.15.1``, pandas, scikit-learn, scipy, matplotlib; the
same separate virtual environment as ``cnnc_vs_original.py``: this project does not depend on
TensorFlow). GNNLink reads GENELink's split format (``TF``, ``Target`` = row numbers of the
expression file, ``Label``), so the split files are the ones ``genelink_vs_original.py`` writes
with GENELink's ``Train_Test_Split.py`` (``--splits`` = its ``--workdir``), unchanged. For every
network and seed the script

1. copies the five modules into a temporary folder and runs ``main.py`` with run-time shims
   only: ``inits.load_data1``'s four paths point at the expression and split files; its module
   seed 123 becomes the seed (``np.random.seed`` and ``tf.compat.v1.set_random_seed``, as it
   sets them); ``np.bool`` (removed in NumPy 1.24) is ``bool``; ``utils.py``'s unused
   ``import torch.nn`` is dropped; the session runs on one thread; matplotlib draws to Agg (its
   ``plt.show()`` does nothing); and a line after its own test evaluation prints the test
   scores. Its recipe is untouched: 100 full-batch epochs, Adam lr 1e-3, the *last* epoch scores
   the test pairs (validation is printed, not used), per-gene z-scores then L2-normalised rows,
   the two-layer GCN (128, 64, LeakyReLU 0.2, no bias), ``ReLU(Z Z^T)``, loss
   ``sqrt(mean over all n^2 entries of mask * (S - Y)^2)``;
2. trains and scores ours (``grnbench.methods.get("gnnlink")``, default or ``--presets``) on the
   same three files and seed;

and prints per-seed and mean +- sd test AUROC and AUPRC (average precision, as the other
referee scripts; GNNLink's own ``auc(recall, precision)`` is printed beside it as
``aupr_trapz``), ours minus the original, CPU seconds of each (the original's whole process,
TensorFlow's import included, and its in-process time from reading the data to the test
scores) and the load. Results are cached per split folder, so one seed per call adds up.
``--inits K`` trains K times on every split (training seeds s, s + 1000, ..., for the original's
NumPy/TensorFlow seeds and for ours alike): one split and one initialisation per seed leaves
GNNLink's initialisation noise (sd ~0.04 AUROC on the specific network) inside the difference.

    python benchmarks/faithfulness/gnnlink_vs_original.py --original /path/to/GNNLink \
        --python /path/to/tf-venv/bin/python --splits /tmp/genelink_faithfulness \
        --networks specific --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from genelink_vs_original import (  # noqa: E402
    add_referee_args,
    commit_of,
    comparison_table,
    finish,
    load,
    ours_result,
    parse_params,
)

MODULES = ("main.py", "inits.py", "gcn.py", "Transorfomer.py", "utils.py")


def _sub(src: str, pat: str, rep: str, name: str, count: int = 1) -> str:
    out, n = re.subn(pat, rep, src, count=count, flags=re.M)
    if n != count:
        raise SystemExit(f"{name}: pattern {pat!r} found {n} times, expected {count} (another GNNLink version?)")
    return out


def patched(original: Path, work: Path, folder: Path, split: Path, seed: int) -> None:
    """The five modules with the run-time shims of the module docstring (step 1) in ``work``."""
    for m in MODULES:
        shutil.copy(original / m, work / m)
    src = (work / "inits.py").read_text()
    paths = {"exp_file": folder / "BL--ExpressionData.csv", "train_file": split / "Train_set.csv",
             "test_file": split / "Test_set.csv", "val_file": split / "Validation_set.csv"}
    for var, path in paths.items():
        src = _sub(src, rf"^    {var} = .*$", f"    {var} = {str(path)!r}", "inits.py")
    src = _sub(src, r"dtype=np\.bool\)", "dtype=bool)", "inits.py", count=3)
    (work / "inits.py").write_text(src)
    src = (work / "utils.py").read_text()
    src = _sub(src, r"^import torch\.nn as nn$", "# (unused torch import dropped)", "utils.py")
    src = _sub(src, r"dtype=np\.bool\)", "dtype=bool)", "utils.py")
    (work / "utils.py").write_text(src)
    src = (work / "main.py").read_text()
    src = _sub(src, r"^seed= 123$", f"seed = {int(seed)}", "main.py")
    src = _sub(src, r"^    with tf\.compat\.v1\.Session\(\) as sess:$",
               "    _cfg = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)\n"
               "    with tf.compat.v1.Session(config=_cfg) as sess:", "main.py")
    src = _sub(src, r"^        print\(\"auc:%\.6f, aupr:%\.6f\" % \(auc_val, aupr_val\)\)$",
               "        print(\"auc:%.6f, aupr:%.6f\" % (auc_val, aupr_val))\n"
               "        from sklearn.metrics import average_precision_score as _ap\n"
               "        print('FAITHFULNESS', time.perf_counter() - _T0, time.process_time() - _C0, auc_val, aupr_val,"
               " _ap(rel_test_label[:, 2], temp_pre[:, 2]), len(rel_test_label))", "main.py")
    head = "import time\n_T0, _C0 = time.perf_counter(), time.process_time()\n"
    (work / "main.py").write_text(head + src)


def run_original(original: Path, py: str, folder: Path, split: Path, seed: int, cache: Path) -> dict:
    if cache.exists():
        return {**json.loads(cache.read_text()), "cached": True}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "",
           "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg", "PYTHONHASHSEED": str(seed)}
    with tempfile.TemporaryDirectory(prefix="gnnlink_orig_run_") as tmp:
        work = Path(tmp)
        patched(original, work, folder, split, seed)
        load_before = load()
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run([py, "main.py"], cwd=tmp, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode:
            raise SystemExit(f"GNNLink's main.py failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        line = [x for x in r.stdout.splitlines() if x.startswith("FAITHFULNESS")][-1].split()
        epochs_log = [x for x in r.stdout.splitlines() if x.startswith("Epoch:")]
    res = {"auroc": float(line[3]), "aupr_trapz": float(line[4]), "auprc": float(line[5]), "n_test": int(line[6]),
           "time_s": float(line[1]), "cpu_s": float(line[2]), "process_wall_s": wall,
           "process_cpu_s": (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime),
           "load": f"{load_before} -> {load()}", "last_epoch_log": epochs_log[-1] if epochs_log else ""}
    cache.write_text(json.dumps(res))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_referee_args(ap, "sdesignates/GNNLink", "TensorFlow 2")
    ap.add_argument("--inits", type=int, default=1,
                    help="training runs per split: seeds s, s+1000, ... for both (initialisation noise)")
    args = ap.parse_args(argv)
    original = args.original.resolve()
    missing = [m for m in MODULES if not (original / m).is_file()]
    if missing:
        raise SystemExit(f"{original} is not a GNNLink checkout (missing {', '.join(missing)})")
    commit, params = commit_of(original), parse_params(args.param)
    tag = "".join(f"_{k}={json.dumps(v)}" for k, v in params.items()).replace(" ", "").replace("/", "_")
    print(f"GNNLink checkout {original} at {commit}; ours presets {args.presets} params {params}; load {load()}")
    record, summary = {"commit": commit, "rows": []}, []
    for net in args.networks:
        folder = args.data / net / args.cell / args.geneset
        rows = []
        for seed in args.seeds:
            sd = args.splits / f"{net}_{args.cell}_{args.geneset}" / f"seed{seed}"
            if not (sd / "Test_set.csv").is_file():
                raise SystemExit(f"{sd}: no split files (run genelink_vs_original.py with --workdir {args.splits})")
            for k in range(args.inits):
                init = seed + 1000 * k
                suffix = "" if k == 0 else f"_init{init}"
                orig = run_original(original, args.python, folder, sd, init, sd / f"gnnlink_original{suffix}.json")
                print(f"[{net} seed {seed} init {init}] original AUROC {orig['auroc']:.4f} AUPRC {orig['auprc']:.4f} "
                      f"(trapz {orig['aupr_trapz']:.4f}) time {orig['time_s']:.1f}s cpu {orig['cpu_s']:.1f}s "
                      f"(process {orig['process_cpu_s']:.1f}s) load {orig['load']}{' (cached)' if orig.get('cached') else ''}")
                row = {"network": net, "seed": seed, "init": init, "original": orig}
                for preset in args.presets:
                    ours = ours_result("gnnlink", folder, sd, f"{net}/{args.cell}/{args.geneset}", init, preset,
                                       params, suffix)
                    row[preset] = ours
                    print(f"[{net} seed {seed} init {init}] ours[{preset}] AUROC {ours['auroc']:.4f} "
                          f"AUPRC {ours['auprc']:.4f} time {ours['time_s']:.1f}s cpu {ours['cpu_s']:.1f}s best epoch "
                          f"{ours['best_epoch']} load {ours['load']}{' (cached)' if ours.get('cached') else ''}")
                rows.append(row)
        record["rows"] += rows
        summary += comparison_table(f"\n{net} {args.cell} {args.geneset}, split seeds {args.seeds} x {args.inits} "
                                    f"training run(s) each (mean +- sd over all {len(rows)}), GNNLink {commit[:7]}:",
                                    "main.py, 100 epochs", rows, args.presets, tag)
    return finish(summary, record, args.json)


if __name__ == "__main__":
    sys.exit(main())
