"""Train / validation / test splits of (TF, target) pairs, all seeded.

A split is a DataFrame with columns ``TF``, ``Target``, ``Label`` (1 = edge of the ground-truth
network, 0 = not) and ``Part`` (``train``, ``val`` or ``test``). Protocols:

- :func:`genelink_split` - the paper's protocol (GENELink's): per TF, hard negatives, 67/10/23
  (``mode="hard"``, cell-type-specific networks) or density-matched random test negatives
  (``mode="density"``, Non-Specific / STRING networks).
- :func:`read_genelink_split` - GENELink's released split files (``genelink_released``).
- :func:`tf_holdout_split` - whole TFs go to one part: test TFs are never seen in training.
- :func:`degree_matched_split` - GENELink train/val, but each test positive gets ``k`` negatives
  with the same TF and a target in the same training in-degree bin, so a predictor that knows
  only label degrees scores about 0.5 AUROC.

Every protocol's output goes through :func:`check_split`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.data.dataset import GRNData
from grnbench.errors import InputError, SplitLeakError

PARTS = ("train", "val", "test")
TRAIN_FRAC, VAL_FRAC = 0.67, 0.10


def _positives_by_tf(data: GRNData) -> dict[str, list[str]]:
    net = data.network
    net = net[net["Gene1"] != net["Gene2"]].drop_duplicates()
    out: dict[str, list[str]] = {}
    for tf, tg in zip(net["Gene1"], net["Gene2"]):
        out.setdefault(tf, []).append(tg)
    return {tf: sorted(set(v)) for tf, v in sorted(out.items())}


def _cut(items: list, rng: np.random.Generator) -> tuple[list, list, list]:
    """GENELink's per-TF cut of a list: shuffle, then 67% / 10% / rest."""
    items = list(items)
    rng.shuffle(items)
    n = len(items)
    if n == 1:
        return (items, [], []) if rng.random() < 0.5 else ([], [], items)
    if n == 2:
        return items[:1], [], items[1:]
    a, b = int(n * TRAIN_FRAC), int(n * VAL_FRAC)
    return items[:a], items[a : a + b], items[a + b :]


def _frame(rows: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["TF", "Target", "Label", "Part"])


def genelink_split(data: GRNData, seed: int, mode: str = "hard") -> pd.DataFrame:
    """The GENELink / scTransNet protocol (see module docstring and the reference)."""
    if mode not in ("hard", "density"):
        raise InputError("split.genelink.mode", f"expected 'hard' or 'density', got {mode!r}")
    rng = np.random.default_rng(seed)
    pos = _positives_by_tf(data)
    genes = data.genes
    rows: list[tuple[str, str, int, str]] = []
    if mode == "hard":
        for tf, targets in pos.items():
            tset = set(targets)
            negs = [g for g in genes if g != tf and g not in tset]
            for part, chunk in zip(PARTS, _cut(targets, rng)):
                rows += [(tf, g, 1, part) for g in chunk]
            for part, chunk in zip(PARTS, _cut(negs, rng)):
                rows += [(tf, g, 0, part) for g in chunk]
        return _frame(rows)

    # density mode: 2/3 of each TF's positives to training (1/5 of those to validation), 1:1
    # random negatives of the same TF, test negatives at random to match the network density.
    all_pos = {(tf, g) for tf, ts in pos.items() for g in ts}
    used: set[tuple[str, str]] = set()
    test_pos: list[tuple[str, str]] = []
    for tf, targets in pos.items():
        t = list(targets)
        rng.shuffle(t)
        n_tr = max(1, int(round(len(t) * 2 / 3))) if len(t) > 1 else int(rng.random() < 0.5)
        n_val = int(n_tr / 5)
        parts = [("val", t[:n_val]), ("train", t[n_val:n_tr])]
        test_pos += [(tf, g) for g in t[n_tr:]]
        cands = [g for g in genes if g != tf and (tf, g) not in all_pos]
        rng.shuffle(cands)
        k = 0
        for part, chunk in parts:
            for g in chunk:
                rows.append((tf, g, 1, part))
                used.add((tf, g))
                if k < len(cands):
                    rows.append((tf, cands[k], 0, part))
                    used.add((tf, cands[k]))
                    k += 1
    tfs = sorted(pos)
    n_targets = len({g for ts in pos.values() for g in ts})
    density = len(all_pos) / (len(tfs) * max(n_targets, 1))
    n_neg = int(round(len(test_pos) * (1 - density) / density)) if density > 0 else 0
    pool = [(tf, g) for tf in tfs for g in genes if g != tf and (tf, g) not in all_pos and (tf, g) not in used]
    pick = rng.choice(len(pool), size=min(n_neg, len(pool)), replace=False)
    rows += [(tf, g, 1, "test") for tf, g in test_pos]
    rows += [(pool[i][0], pool[i][1], 0, "test") for i in sorted(pick)]
    return _frame(rows)


def tf_holdout_split(data: GRNData, seed: int, val_frac: float = 0.1, test_frac: float = 0.23) -> pd.DataFrame:
    """Whole TFs go to train, val or test; each TF keeps all its pairs (hard negatives)."""
    rng = np.random.default_rng(seed)
    pos = _positives_by_tf(data)
    tfs = list(pos)
    if len(tfs) < 3:
        raise InputError(data.name, f"tf_holdout needs at least 3 TFs with edges, found {len(tfs)}")
    rng.shuffle(tfs)
    n_test = max(1, int(round(len(tfs) * test_frac)))
    n_val = max(1, int(round(len(tfs) * val_frac)))
    part_of = {tf: "test" for tf in tfs[:n_test]}
    part_of.update({tf: "val" for tf in tfs[n_test : n_test + n_val]})
    part_of.update({tf: "train" for tf in tfs[n_test + n_val :]})
    genes = data.genes
    rows = []
    for tf in sorted(pos):
        tset = set(pos[tf])
        rows += [(tf, g, int(g in tset), part_of[tf]) for g in genes if g != tf]
    return _frame(rows)


def degree_bin(deg: np.ndarray) -> np.ndarray:
    """Training in-degree bins: 0, 1, 2, 3-4, 5-8, 9-16, ... (log2 bins above 2)."""
    deg = np.asarray(deg)
    return np.where(deg <= 2, deg, np.ceil(np.log2(np.maximum(deg, 1))).astype(int) + 1)


def degree_matched_split(data: GRNData, seed: int, k: int = 1) -> pd.DataFrame:
    """GENELink train/val; test = each test positive plus ``k`` degree-matched negatives.

    A negative for test positive (t, g) has the same TF t and a target g' whose training
    in-degree falls in the same :func:`degree_bin` as g's. Test positives for which fewer than
    ``k`` unused candidates exist are dropped (counted in ``split.attrs['dropped_positives']``).
    """
    rng = np.random.default_rng(seed)
    base = genelink_split(data, seed, mode="hard")
    trainval = base[base["Part"] != "test"]
    test_pos = base[(base["Part"] == "test") & (base["Label"] == 1)]
    train_pos = base[(base["Part"] == "train") & (base["Label"] == 1)]
    indeg = train_pos["Target"].value_counts()
    gbin = dict(zip(data.genes, degree_bin(indeg.reindex(data.genes).fillna(0).to_numpy(int))))
    all_pos = set(zip(data.network["Gene1"], data.network["Gene2"]))
    used = set(zip(trainval["TF"], trainval["Target"]))
    by_tf_bin: dict[tuple[str, int], list[str]] = {}
    for tf in sorted(test_pos["TF"].unique()):
        for g in data.genes:
            if g != tf and (tf, g) not in all_pos and (tf, g) not in used:
                by_tf_bin.setdefault((tf, gbin[g]), []).append(g)
    for v in by_tf_bin.values():
        rng.shuffle(v)
    rows, dropped = [], 0
    for tf, g in zip(test_pos["TF"], test_pos["Target"]):
        cands = by_tf_bin.get((tf, gbin[g]), [])
        if len(cands) < k:
            dropped += 1
            continue
        rows.append((tf, g, 1, "test"))
        rows += [(tf, cands.pop(), 0, "test") for _ in range(k)]
    out = pd.concat([trainval, _frame(rows)], ignore_index=True)
    out.attrs["dropped_positives"] = dropped
    return out


RELEASED_FILES = {"train": "Train_set.csv", "val": "Validation_set.csv", "test": "Test_set.csv"}


def read_genelink_split(
    source: str | os.PathLike | dict, data: GRNData, target_file: str | os.PathLike
) -> pd.DataFrame:
    """GENELink's released ``Train_set.csv``, ``Validation_set.csv``, ``Test_set.csv``.

    ``source`` is their folder or a mapping ``{"train": path, "val": path, "test": path}``.
    Their ``TF`` / ``Target`` columns are row indices into ``Target.csv`` (``,Gene,index``).
    """
    if isinstance(source, dict):
        files = {part: Path(source[part]) for part in PARTS}
    else:
        files = {part: Path(source) / name for part, name in RELEASED_FILES.items()}
    targets = pd.read_csv(target_file, index_col=0)
    if not {"Gene", "index"} <= set(targets.columns):
        raise InputError(target_file, "expected columns ',Gene,index'")
    name_of = dict(zip(targets["index"].astype(int), targets["Gene"].astype(str)))
    frames = []
    for part in PARTS:
        path = files[part]
        if not path.exists():
            raise InputError(path, "released split file is missing")
        df = pd.read_csv(path, index_col=0)
        if not {"TF", "Target", "Label"} <= set(df.columns):
            raise InputError(path, f"expected columns ',TF,Target,Label', got {list(df.columns)}")
        for col in ("TF", "Target"):
            bad = ~df[col].isin(list(name_of))
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(path, f"{col} index {df[col].iloc[row]!r} is not a row of {target_file}", where=f"row {row + 2}")
        frames.append(pd.DataFrame({
            "TF": df["TF"].map(name_of), "Target": df["Target"].map(name_of),
            "Label": df["Label"].astype(int), "Part": part,
        }))
    out = pd.concat(frames, ignore_index=True)
    data.gene_idx(pd.unique(out[["TF", "Target"]].to_numpy().ravel()))  # unknown genes raise
    return out


def check_split(split: pd.DataFrame, data: GRNData, *, verbose: bool = True) -> dict:
    """Prove a split is clean; return (and print) sizes and positive rates per part.

    Raises :class:`SplitLeakError` when a (TF, target) pair occurs twice (within or across
    parts), a label disagrees with the ground truth (a negative that is a positive), a part has
    no pairs, or a gene is unknown.
    """
    need = {"TF", "Target", "Label", "Part"}
    if not need <= set(split.columns):
        raise SplitLeakError(f"split lacks columns {sorted(need - set(split.columns))}")
    bad_parts = set(split["Part"]) - set(PARTS)
    if bad_parts:
        raise SplitLeakError(f"unknown part(s) {sorted(bad_parts)}")
    data.gene_idx(pd.unique(split[["TF", "Target"]].to_numpy().ravel()))
    key = split["TF"].astype(str) + "\t" + split["Target"].astype(str)
    dup = key.duplicated(keep=False)
    if dup.any():
        d = split[dup].sort_values(["TF", "Target"])
        cross = d.groupby(["TF", "Target"])["Part"].nunique()
        n_cross = int((cross > 1).sum())
        first = d.iloc[0]
        raise SplitLeakError(
            f"{int(dup.sum())} rows repeat a (TF, target) pair ({n_cross} pairs span two parts), "
            f"e.g. {first['TF']} -> {first['Target']} in {sorted(set(d[(d.TF == first.TF) & (d.Target == first.Target)].Part))}"
        )
    truth = set(data.network["Gene1"] + "\t" + data.network["Gene2"])
    is_pos = key.isin(truth).to_numpy()
    lab = split["Label"].to_numpy().astype(int)
    wrong_neg = (lab == 0) & is_pos
    wrong_pos = (lab == 1) & ~is_pos
    if wrong_neg.any() or wrong_pos.any():
        r = split[wrong_neg | wrong_pos].iloc[0]
        raise SplitLeakError(
            f"{int(wrong_neg.sum())} negatives are ground-truth positives and {int(wrong_pos.sum())} "
            f"positives are not in the network, e.g. {r['TF']} -> {r['Target']} labelled {r['Label']} in {r['Part']}"
        )
    summary: dict = {}
    for part in PARTS:
        p = split[split["Part"] == part]
        summary[part] = {
            "pairs": int(len(p)), "positives": int(p["Label"].sum()),
            "positive_rate": float(p["Label"].mean()) if len(p) else float("nan"),
            "tfs": int(p["TF"].nunique()),
        }
    for part in ("train", "test"):
        if summary[part]["pairs"] == 0 or summary[part]["positives"] == 0:
            raise SplitLeakError(f"part {part!r} has no positive pairs: {summary[part]}")
    if verbose:
        for part, s in summary.items():
            print(f"check_split {part:5s}: {s['pairs']:7d} pairs, {s['positives']:6d} positives "
                  f"(rate {s['positive_rate']:.4f}), {s['tfs']} TFs")
    return summary
