"""Faithfulness: our ``cnnc`` against CNNC's own Keras code on GENELink's official mDC splits.

CNNC is not part of this project: point ``--original`` at a checkout of xiaoyeye/CNNC (the
commit is printed; only ``get_xy_label_data_cnn_combine_from_database.py`` and
``train_new_model/train_with_labels_three_foldx.py`` are read) and ``--python`` at an
interpreter with TensorFlow/Keras 2 (``tensorflow-cpu==2.15.1``, pandas, tables, scikit-learn,
matplotlib, ``scipy<1.12``; a separate virtual environment: this project does not depend on
TensorFlow). The split files are the ones ``genelink_vs_original.py`` writes with GENELink's
``Train_Test_Split.py`` (``--splits`` = its ``--workdir``), so all three methods are compared on
the same pairs. For every network and seed the script

1. writes the original's inputs: a ``sc_gene_list.txt`` (lower-cased symbol, column id), an HDF5
   store ``rpkm`` (cells x genes, the expression file transposed, unchanged), one pair file with
   the train, validation and test pairs in that order and a separation index list cutting it
   into those three parts; then runs CNNC's ``get_xy_label_data_cnn_combine_from_database.py``
   unchanged (``None`` bulk data): its NEPDF images ``log10(x + 0.01)``, ``histogram2d`` 32 x 32,
   ``(log10(H / 43261 + 1e-4) + 4) / 4``;
2. trains and scores with ``train_with_labels_three_foldx.py`` (CNNC's binary recipe: the VGG-like
   stack with dropout 0.25/0.5, SGD lr 0.01, decay 1e-6, Nesterov momentum 0.9, batch 1024, 20
   epochs, and the model of the *last* epoch predicts the test part) with run-time shims only:
   one fold (train = part 0, test = part 2) instead of its three-fold loop over TF parts,
   ``validation_data`` = part 1 instead of ``validation_split=0.2``, Keras 2.15 names
   (``keras.optimizers.legacy.SGD`` keeps ``lr``/``decay``; ``val_acc`` is ``val_accuracy``), the
   seed (``tf.keras.utils.set_random_seed``), one thread, ``--epochs``, and an exit after its
   test prediction (its plotting code is not reached);
3. trains and scores ours (``grnbench.methods.get("cnnc")``, default or ``--presets``) on the same
   split;

and prints test AUROC / AUPRC mean +- sd, ours minus the original, wall and CPU seconds. Both
sides' results are cached per split folder (the original's by epochs, ours' by preset and
``--param``), so one seed per call adds up and a last call over all seeds only prints the table.

    python benchmarks/faithfulness/cnnc_vs_original.py --original /path/to/CNNC \
        --python /path/to/tf-venv/bin/python --splits /tmp/genelink_faithfulness \
        --networks specific --seeds 0 1 2
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

PARTS = (("train", "Train"), ("val", "Validation"), ("test", "Test"))


def write_inputs(folder: Path, split_dir: Path, work: Path, py: str) -> dict:
    """The original's input files for one split (see the module docstring, step 1)."""
    expr = pd.read_csv(folder / "BL--ExpressionData.csv", index_col=0)  # genes x cells
    genes = pd.read_csv(folder / "Target.csv", index_col=0)
    if not (genes["Gene"].to_numpy() == expr.index.to_numpy()).all():
        raise SystemExit(f"{folder}/Target.csv does not list the genes of BL--ExpressionData.csv in order")
    low = expr.index.str.lower()
    if low.duplicated().any():
        raise SystemExit(f"{folder}: gene names clash once lower-cased (CNNC lower-cases them)")
    np.save(work / "rpkm.npy", expr.to_numpy().T)  # the HDF5 store is written by --python (it has pytables)
    r = subprocess.run([py, "-c", "import numpy as np, pandas as pd; x = np.load('rpkm.npy'); "
                        "pd.DataFrame(x, columns=range(x.shape[1])).to_hdf('sc.h5', key='rpkm', mode='w')"],
                       cwd=work, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"could not write sc.h5 with {py} (needs pandas and tables):\n{r.stderr[-2000:]}")
    (work / "sc_gene_list.txt").write_text("".join(f"{g}\t{i}\n" for i, g in enumerate(low)))
    lines, cuts, counts = [], [0], {}
    for part, name in PARTS:
        d = pd.read_csv(split_dir / f"{name}_set.csv", index_col=0)
        lines += [f"{low[t]}\t{low[g]}\t{int(y)}\n" for t, g, y in zip(d.TF, d.Target, d.Label)]
        cuts.append(len(lines))
        counts[part] = len(d)
    (work / "pairs.txt").write_text("".join(lines))
    (work / "pairs_num.txt").write_text("".join(f"{c}\n" for c in cuts))
    return counts


def patched_trainer(original: Path, seed: int, epochs: int) -> str:
    src = (original / "train_new_model" / "train_with_labels_three_foldx.py").read_text()
    shims = [
        (r"^from keras\.optimizers import SGD$", "from keras.optimizers.legacy import SGD  # (Keras 2.15: keeps lr/decay)"),
        (r"^epochs = 20 ", f"epochs = {int(epochs)} "),
        (r"^for test_indel in range\(1,4\):", "for test_indel in [1]:  # (one fold: parts 0 / 1 / 2 = train / val / test)"),
        (r"^    test_TF = \[.*$", "    test_TF = [2]"),
        (r"^    train_TF = \[.*$", "    train_TF = [0]"),
        (r"^    \(x_test, y_test,count_set\) = load_data_TF2\(test_TF,data_path\)$",
         "    (x_test, y_test,count_set) = load_data_TF2(test_TF,data_path)\n"
         "    (x_val, y_val, _) = load_data_TF2([1], data_path)"),
        (r"epochs=epochs,validation_split=0\.2,", "epochs=epochs,validation_data=(x_val, y_val),"),
        (r"^    np\.save\(save_dir\+'/end_y_predict\.npy',y_predict\)$",
         "    np.save(save_dir+'/end_y_predict.npy',y_predict)\n"
         "    from sklearn.metrics import roc_auc_score, average_precision_score\n"
         "    _p = np.asarray(y_predict).ravel()\n"
         "    print('FAITHFULNESS', time.perf_counter() - _T0, time.process_time() - _C0,"
         " roc_auc_score(y_test, _p), average_precision_score(y_test, _p))\n"
         "    sys.exit(0)"),
    ]
    for pat, rep in shims:
        src, n = re.subn(pat, rep, src, count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"train_with_labels_three_foldx.py: pattern {pat!r} not found (another CNNC version?)")
    src = src.replace("monitor='val_acc'", "monitor='val_accuracy'")
    head = ("import time, sys\n_T0, _C0 = time.perf_counter(), time.process_time()\n"
            "import tensorflow as tf\n"
            "tf.config.threading.set_intra_op_parallelism_threads(1)\n"
            "tf.config.threading.set_inter_op_parallelism_threads(1)\n"
            f"tf.keras.utils.set_random_seed({int(seed)})\n")
    # after `from __future__` (it must stay the first statement)
    return src.replace("from __future__ import print_function\n", "from __future__ import print_function\n" + head, 1)


def run_original(original: Path, py: str, folder: Path, split_dir: Path, seed: int, epochs: int, cache: Path) -> dict:
    if cache.exists():
        return {**json.loads(cache.read_text()), "cached": True}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "",
           "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": str(seed)}
    with tempfile.TemporaryDirectory(prefix="cnnc_orig_run_") as tmp:
        work = Path(tmp)
        counts = write_inputs(folder, split_dir, work, py)
        load_before = load()
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run([py, str(original / "get_xy_label_data_cnn_combine_from_database.py"), "None",
                            "sc_gene_list.txt", "pairs.txt", "pairs_num.txt", "None", "sc.h5", "1"],
                           cwd=tmp, env=env, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"CNNC's NEPDF step failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
        t_images = time.perf_counter() - t0
        for i, (part, _) in enumerate(PARTS):
            n = len(np.load(work / "NEPDF_data" / f"ydata_tf{i}.npy"))
            if n != counts[part]:
                raise SystemExit(f"CNNC wrote {n} images for {part}, the split has {counts[part]}")
        (work / "train.py").write_text(patched_trainer(original, seed, epochs))
        r = subprocess.run([py, "train.py", "3", str(work / "NEPDF_data"), "2"], cwd=tmp, env=env,
                           capture_output=True, text=True)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode:
            raise SystemExit(f"CNNC's trainer failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        line = [x for x in r.stdout.splitlines() if x.startswith("FAITHFULNESS")][-1].split()
    res = {"auroc": float(line[3]), "auprc": float(line[4]), "train_wall_s": float(line[1]),
           "time_s": t_images + float(line[1]), "images_wall_s": t_images,
           "cpu_s": (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime),
           "load": f"{load_before} -> {load()}", "epochs": epochs}
    cache.write_text(json.dumps(res))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_referee_args(ap, "xiaoyeye/CNNC", "TensorFlow/Keras 2")
    ap.add_argument("--epochs", type=int, default=20, help="the original's epochs (its three-fold script: 20)")
    args = ap.parse_args(argv)
    original = args.original.resolve()
    if not (original / "train_new_model" / "train_with_labels_three_foldx.py").is_file():
        raise SystemExit(f"{original} is not a CNNC checkout (no train_new_model/train_with_labels_three_foldx.py)")
    commit, params = commit_of(original), parse_params(args.param)
    print(f"CNNC checkout {original} at {commit}; original epochs {args.epochs}; ours presets {args.presets} "
          f"params {params}; load {load()}")
    record, summary = {"commit": commit, "rows": []}, []
    for net in args.networks:
        folder = args.data / net / args.cell / args.geneset
        rows = []
        for seed in args.seeds:
            sd = args.splits / f"{net}_{args.cell}_{args.geneset}" / f"seed{seed}"
            if not (sd / "Test_set.csv").is_file():
                raise SystemExit(f"{sd}: no split files (run genelink_vs_original.py with --workdir {args.splits})")
            orig = run_original(original, args.python, folder, sd, seed, args.epochs, sd / f"cnnc_original_e{args.epochs}.json")
            print(f"[{net} seed {seed}] original AUROC {orig['auroc']:.4f} AUPRC {orig['auprc']:.4f} time "
                  f"{orig['time_s']:.1f}s cpu {orig['cpu_s']:.1f}s load {orig['load']}{' (cached)' if orig.get('cached') else ''}")
            row = {"network": net, "seed": seed, "original": orig}
            for preset in args.presets:
                ours = ours_result("cnnc", folder, sd, f"{net}/{args.cell}/{args.geneset}", seed, preset, params)
                row[preset] = ours
                print(f"[{net} seed {seed}] ours[{preset}] AUROC {ours['auroc']:.4f} AUPRC {ours['auprc']:.4f} "
                      f"time {ours['time_s']:.1f}s cpu {ours['cpu_s']:.1f}s best epoch {ours['best_epoch']} "
                      f"load {ours['load']}{' (cached)' if ours.get('cached') else ''}")
            rows.append(row)
        record["rows"] += rows
        summary += comparison_table(f"\n{net} {args.cell} {args.geneset}, seeds {args.seeds}, CNNC {commit[:7]}:",
                                    f"{args.epochs} epochs", rows, args.presets)
    return finish(summary, record, args.json)


if __name__ == "__main__":
    sys.exit(main())
