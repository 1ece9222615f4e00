"""Faithfulness: our ``gne`` against GNE's own TensorFlow code (kckishan/GNE) on GENELink's splits.

GNE is not part of this project: point ``--original`` at a checkout of kckishan/GNE (the commit
is printed; only ``run_GNE.py``, ``GNE.py``, ``LoadData.py``, ``convertdata.py``, ``utils.py``
and ``evaluation.py`` are read, its bundled yeast / E. coli data are not needed) and
``--python`` at an interpreter with TensorFlow 2, pandas, scikit-learn, scipy and networkx (the
separate virtual environment of ``cnnc_vs_original.py`` plus ``pip install networkx``; this
project does not depend on TensorFlow). The split files are the ones ``genelink_vs_original.py``
writes with GENELink's ``Train_Test_Split.py`` (``--splits`` = its ``--workdir``), so all
methods are compared on the same pairs. For every network and seed the script

1. writes GNE's expression input (``expression_data.tsv``: cells x genes, columns ``G1..Gn`` in
   the order of the expression file, which GNE reads as gene ids 0..n-1, z-scores per gene with
   ``sklearn.preprocessing.scale`` and stores as ``data_standard.txt``);
2. runs ``run_GNE.py`` from a temporary folder with run-time shims only: TensorFlow 1 names
   through ``tensorflow.compat.v1`` with v2 behaviour off (GNE was written for TF 1.x); one
   thread for its session; ``numba.jit`` is the identity (GNE decorates plain-Python methods that
   numba of 2019 ran in object mode, i.e. as Python; current numba refuses them); the data
   section reads the split instead of making one: ``train_pos`` / ``train_neg`` = the training
   file's positives / negatives (the positives are GNE's network, which ``LoadData`` makes
   undirected), ``val_*`` the validation file (GNE's early stopping on validation ROC of
   ``e e^T``), ``test_*`` the test file; GNE's graph seed 2018 and NumPy's global seed are the
   seed. Its recipe is untouched: 128-d id / attribute / representation, alpha 1, 10 sampled
   negatives in TF's ``sampled_softmax_loss``, Adam lr 0.005, batch 256, 20 epochs with its
   stop after 2 epochs without validation gain, embeddings ``h + o`` of the best epoch, then
   ``LogisticRegression(random_state=0)`` on Hadamard edge features of the training pairs
   (positives and the split's negatives), which scores the test pairs;
3. trains and scores ours (``grnbench.methods.get("gne")``, default or ``--presets``) on the same
   three files and seed (the default trains the embeddings and the link classifier jointly;
   ``official`` does the original's two stages: the module docstring of ``grnbench.methods.gne``);

and prints per-seed and mean +- sd test AUROC / AUPRC (average precision, as ``run_GNE.py``
reports), ours minus the original, CPU seconds (the original's whole process and its time from
reading the split to the test scores) and the load. Results are cached per split folder.
``--inits K`` trains K times on every split (training seeds s, s + 1000, ..., for the original's
graph / NumPy seeds and for ours alike, as ``gnnlink_vs_original.py``): GNE's early stopping on a
validation AUROC of ~0.51-0.58 sometimes stops at epoch 1 or 2, whose embeddings score the test
pairs ~0.1 AUROC lower, so one initialisation per split leaves that lottery inside the difference.

    python benchmarks/faithfulness/gne_vs_original.py --original /path/to/GNE \
        --python /path/to/tf-venv/bin/python --splits /tmp/genelink_faithfulness \
        --networks specific nonspecific --seeds 0 1 2 --presets default official --inits 32
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

import pandas as pd

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

MODULES = ("run_GNE.py", "GNE.py", "LoadData.py", "convertdata.py", "utils.py", "evaluation.py")
NO_JIT = "jit = lambda f: f  # (shim: numba of 2019 ran these in object mode, i.e. as plain Python)"

SPLIT_READER = '''
def _faithfulness_split(split):
    """The GENELink split files as run_GNE.py's `dataset` (shim)."""
    out = {}
    for part, name in (("train", "Train"), ("val", "Validation"), ("test", "Test")):
        d = pd.read_csv(split + "/" + name + "_set.csv", index_col=0)
        pairs = d[["TF", "Target"]].to_numpy()
        out[part + "_pos"] = pairs[d.Label.to_numpy() == 1]
        out[part + "_neg"] = pairs[d.Label.to_numpy() == 0]
    return out
'''


def _sub(src: str, pat: str, rep: str, name: str, count: int = 1) -> str:
    out, n = re.subn(pat, lambda _: rep, src, count=count, flags=re.M)
    if n != count:
        raise SystemExit(f"{name}: pattern {pat!r} found {n} times, expected {count} (another GNE version?)")
    return out


def patched(original: Path, work: Path, split: Path, n_genes: int, seed: int) -> None:
    """The six modules with the run-time shims of the module docstring (step 2) in ``work``."""
    for m in MODULES:
        shutil.copy(original / m, work / m)
    for m in ("LoadData.py", "utils.py", "evaluation.py"):
        src = (work / m).read_text()
        (work / m).write_text(_sub(src, r"^from numba import jit$", NO_JIT, m))
    src = (work / "GNE.py").read_text()
    src = _sub(src, r"^import tensorflow as tf$",
               "import tensorflow.compat.v1 as tf  # (shim: GNE is TF 1 code)\ntf.disable_v2_behavior()", "GNE.py")
    src = _sub(src, r"tf\.Session\(config=tf\.ConfigProto\(allow_soft_placement=True\)\)",
               "tf.Session(config=tf.ConfigProto(allow_soft_placement=True, intra_op_parallelism_threads=1, "
               "inter_op_parallelism_threads=1))", "GNE.py")
    (work / "GNE.py").write_text(src)
    src = (work / "run_GNE.py").read_text()
    src = _sub(src, r"^organism = 'yeast'$", "organism = None  # (shim: the split below)", "run_GNE.py")
    src = _sub(src, r"^path = './data/' \+ organism \+'/'$", f"path = {str(work) + '/'!r}", "run_GNE.py")
    src = _sub(src, r'^geneids = pd\.read_csv\(path \+ "gene_ids\.tsv", sep=" "\)$', "", "run_GNE.py")
    src = _sub(src, r"^num_genes = geneids\.shape\[0\]$", f"num_genes = {int(n_genes)}", "run_GNE.py")
    src = _sub(src, r"^adj = load_network\(link_file, num_genes\)$", "", "run_GNE.py")
    src = _sub(src, r"^dataset = create_train_test_split\(path, adj, test_size=0\.1, validation_size=0\.1\)$",
               f"dataset = _faithfulness_split({str(split)!r})", "run_GNE.py")
    src = _sub(src, r'^print\("Total genes:", adj\.shape\[0\]\)$', 'print("Total genes:", num_genes)', "run_GNE.py")
    src = _sub(src, r"^model = GNE\(path, Data, 2018, parameters\)$",
               f"model = GNE(path, Data, {int(seed)}, parameters)", "run_GNE.py")
    src = _sub(src, r"^print\(msg\.format\(parameters\['alpha'\], test_roc, test_ap\)\)$",
               "print(msg.format(parameters['alpha'], test_roc, test_ap))\n"
               "print('FAITHFULNESS', time.perf_counter() - _T0, time.process_time() - _C0, test_roc, test_ap,"
               " len(test_labels))", "run_GNE.py")
    head = (f"import time, random\nimport numpy as np\nimport pandas as pd\n"
            f"np.random.seed({int(seed)}); random.seed({int(seed)})\n"
            "_T0, _C0 = time.perf_counter(), time.process_time()\n" + SPLIT_READER)
    (work / "run_GNE.py").write_text(head + src)


def write_expression(folder: Path, work: Path) -> int:
    expr = pd.read_csv(folder / "BL--ExpressionData.csv", index_col=0)  # genes x cells
    genes = pd.read_csv(folder / "Target.csv", index_col=0)
    if not (genes["Gene"].to_numpy() == expr.index.to_numpy()).all():
        raise SystemExit(f"{folder}/Target.csv does not list the genes of BL--ExpressionData.csv in order")
    x = expr.T
    x.columns = [f"G{i + 1}" for i in range(expr.shape[0])]
    x.to_csv(work / "expression_data.tsv", sep="\t", index=False)
    (work / "data_standard.txt").write_text("")  # LoadData removes it before writing it
    return expr.shape[0]


def run_original(original: Path, py: str, folder: Path, split: Path, seed: int, cache: Path) -> dict:
    if cache.exists():
        return {**json.loads(cache.read_text()), "cached": True}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "",
           "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": str(seed)}
    with tempfile.TemporaryDirectory(prefix="gne_orig_run_") as tmp:
        work = Path(tmp)
        n_genes = write_expression(folder, work)
        patched(original, work, split, n_genes, seed)
        load_before = load()
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run([py, "run_GNE.py"], cwd=tmp, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode:
            raise SystemExit(f"GNE's run_GNE.py failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        line = [x for x in r.stdout.splitlines() if x.startswith("FAITHFULNESS")][-1].split()
        epochs_log = [x for x in r.stdout.splitlines() if x.startswith("Epoch:")]
    res = {"auroc": float(line[3]), "auprc": float(line[4]), "n_test": int(line[5]),
           "time_s": float(line[1]), "cpu_s": float(line[2]), "process_wall_s": wall,
           "process_cpu_s": (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime),
           "load": f"{load_before} -> {load()}", "epochs_run": len(epochs_log),
           "best_epoch": max((int(x.split(",")[0].split()[-1]) for x in epochs_log if x.rstrip().endswith("*")),
                             default=None)}
    cache.write_text(json.dumps(res))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_referee_args(ap, "kckishan/GNE", "TensorFlow 2 and networkx")
    ap.add_argument("--inits", type=int, default=1,
                    help="training runs per split: seeds s, s+1000, ... for both (initialisation noise)")
    args = ap.parse_args(argv)
    original = args.original.resolve()
    missing = [m for m in MODULES if not (original / m).is_file()]
    if missing:
        raise SystemExit(f"{original} is not a GNE checkout (missing {', '.join(missing)})")
    commit, params = commit_of(original), parse_params(args.param)
    tag = "".join(f"_{k}={json.dumps(v)}" for k, v in params.items()).replace(" ", "").replace("/", "_")
    print(f"GNE checkout {original} at {commit}; ours presets {args.presets} params {params}; load {load()}")
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
                orig = run_original(original, args.python, folder, sd, init, sd / f"gne_original{suffix}.json")
                print(f"[{net} seed {seed} init {init}] original AUROC {orig['auroc']:.4f} AUPRC {orig['auprc']:.4f} "
                      f"time {orig['time_s']:.1f}s cpu {orig['cpu_s']:.1f}s (process {orig['process_cpu_s']:.1f}s) "
                      f"epochs {orig['epochs_run']} best {orig['best_epoch']} load {orig['load']}"
                      f"{' (cached)' if orig.get('cached') else ''}")
                row = {"network": net, "seed": seed, "init": init, "original": orig}
                for preset in args.presets:
                    ours = ours_result("gne", folder, sd, f"{net}/{args.cell}/{args.geneset}", init, preset,
                                       params, suffix)
                    row[preset] = ours
                    print(f"[{net} seed {seed} init {init}] ours[{preset}] AUROC {ours['auroc']:.4f} "
                          f"AUPRC {ours['auprc']:.4f} time {ours['time_s']:.1f}s cpu {ours['cpu_s']:.1f}s best epoch "
                          f"{ours['best_epoch']} load {ours['load']}{' (cached)' if ours.get('cached') else ''}")
                rows.append(row)
        record["rows"] += rows
        summary += comparison_table(f"\n{net} {args.cell} {args.geneset}, split seeds {args.seeds} x {args.inits} "
                                    f"training run(s) each (mean +- sd over all {len(rows)}), GNE {commit[:7]}:",
                                    "run_GNE.py", rows, args.presets, tag)
        early = [f"original {sum((r['original']['best_epoch'] or 0) <= 2 for r in rows)}/{len(rows)}"]
        early += [f"ours {p} {sum((r[p]['best_epoch'] or 0) <= 2 for r in rows)}/{len(rows)}" for p in args.presets]
        summary.append("runs whose kept epoch is 1 or 2 (default: its joint loop's epoch): " + ", ".join(early))
    return finish(summary, record, args.json)


if __name__ == "__main__":
    sys.exit(main())
