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
- :func:`cross_dataset_split` - label transfer: train / validation rows are another dataset's
  (or network's) labelled pairs, matched to this dataset's genes by upper-cased symbol; test
  rows are this dataset's pairs that share no (TF, target) pair with them.

Every protocol's output goes through :func:`check_split`.

Reciprocal edges. Where a network has both a -> b and b -> a, a label-only rule "score a test
pair 1 when its reverse is a training positive" beats chance (mDC non-specific TFs+500, 42% of
edges reciprocal: about 0.61-0.63 test AUROC on every protocol). Every protocol takes
``reciprocal``: ``"keep_together"`` (or ``True``) puts a pair and its reverse in the same part,
so the reverse of a test pair is never a training or validation pair; ``"ignore"`` (or
``False``, or YAML ``off``) splits as before; ``"auto"`` (default) keeps them together when
more than :data:`RECIPROCAL_AUTO` of the network's edges have their reverse as an edge. The
resolved value and the network's reciprocal fraction are in ``split.attrs["reciprocal"]``,
``split.attrs["reciprocal_requested"]`` and ``split.attrs["reciprocal_fraction"]``, and
:func:`check_split` copies them into the split's summary.
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
#: ``reciprocal="auto"`` keeps reverse pairs together above this fraction of reciprocal edges.
RECIPROCAL_AUTO = 0.05
RECIPROCAL_CHOICES = ("auto", "keep_together", "ignore")


def reciprocal_fraction(data: GRNData) -> float:
    """Fraction of the network's edges (self-loops and repeats dropped) whose reverse is an edge."""
    net = data.network
    edges = set(zip(net["Gene1"].astype(str), net["Gene2"].astype(str)))
    edges = {(a, b) for a, b in edges if a != b}
    return sum((b, a) in edges for a, b in edges) / len(edges) if edges else 0.0


def resolve_reciprocal(value, data: GRNData) -> tuple[str, float]:
    """``(mode, fraction)``: ``mode`` is ``"keep_together"`` or ``"ignore"`` for a requested
    ``value`` (``"auto"``, ``"keep_together"``/``True``, ``"ignore"``/``False``)."""
    frac = reciprocal_fraction(data)
    if value is True or value in ("keep_together", "true"):
        return "keep_together", frac
    if value is False or value in ("ignore", "false", "off"):
        return "ignore", frac
    if value in (None, "auto"):
        return ("keep_together" if frac > RECIPROCAL_AUTO else "ignore"), frac
    raise InputError("split_params.<protocol>.reciprocal",
                     f"expected one of {list(RECIPROCAL_CHOICES)} or true/false, got {value!r}")


def _stamp(df: pd.DataFrame, requested, mode: str, frac: float) -> pd.DataFrame:
    df.attrs["reciprocal"] = mode
    df.attrs["reciprocal_requested"] = str(requested).lower() if isinstance(requested, bool) else str(requested)
    df.attrs["reciprocal_fraction"] = float(frac)
    return df


PART_RANK = {"train": 0, "val": 1, "test": 2}


def _reverse_together(df: pd.DataFrame, rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Give a pair and its reverse (when both are rows) one part: that of one of the two, at
    random (``rng``), or the more held-out one (test > val > train) when ``rng`` is None."""
    tf, tg = df["TF"].tolist(), df["Target"].tolist()
    row = {(a, b): i for i, (a, b) in enumerate(zip(tf, tg))}
    parts = df["Part"].tolist()
    for i, (a, b) in enumerate(zip(tf, tg)):
        j = row.get((b, a))
        if j is None or j <= i or parts[i] == parts[j]:
            continue
        if rng is None:
            p = max(parts[i], parts[j], key=PART_RANK.__getitem__)
        else:
            p = parts[i] if rng.random() < 0.5 else parts[j]
        parts[i] = parts[j] = p
    return df.assign(Part=parts)


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


def genelink_split(data: GRNData, seed: int, mode: str = "hard", reciprocal="auto") -> pd.DataFrame:
    """The GENELink / scTransNet protocol (see module docstring and the reference).

    With ``reciprocal`` resolved to ``keep_together``: in ``hard`` mode, after the per-TF cut, a
    pair and its reverse that landed in different parts both take the part of one of the two,
    chosen at random (seeded), so each part keeps its expected share; in ``density`` mode see
    :func:`_density_keep_together`. ``ignore`` gives the split of earlier versions, row for row.
    """
    if mode not in ("hard", "density"):
        raise InputError("split.genelink.mode", f"expected 'hard' or 'density', got {mode!r}")
    recip, frac = resolve_reciprocal(reciprocal, data)
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
        out = _frame(rows)
        if recip == "keep_together":
            out = _reverse_together(out, rng)
        return _stamp(out, reciprocal, recip, frac)
    if recip == "keep_together":
        return _stamp(_density_keep_together(data, pos, rng), reciprocal, recip, frac)

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
    return _stamp(_frame(rows), reciprocal, recip, frac)


def _n_train(n: int, rng: np.random.Generator) -> int:
    """Density mode: how many of a TF's ``n`` shuffled positives go to train + val."""
    return max(1, int(round(n * 2 / 3))) if n > 1 else int(rng.random() < 0.5)


def _density_keep_together(data: GRNData, pos: dict[str, list[str]], rng: np.random.Generator) -> pd.DataFrame:
    """Density mode with a pair and its reverse in one part.

    Positives are cut per TF as in density mode; a reciprocal edge pair cut into two parts
    takes the part of one of its edges (at random). Each training / validation positive then
    gets a negative of the same TF whose reverse is not in another part, and the random test
    negatives are drawn from pairs whose reverse is neither a training nor a validation pair.
    """
    genes = data.genes
    all_pos = {(tf, g) for tf, ts in pos.items() for g in ts}
    part_of: dict[tuple[str, str], str] = {}
    order: dict[str, list[str]] = {}
    for tf, targets in pos.items():
        t = list(targets)
        rng.shuffle(t)
        n_tr = _n_train(len(t), rng)
        n_val = int(n_tr / 5)
        order[tf] = t
        part_of.update({(tf, g): "val" for g in t[:n_val]})
        part_of.update({(tf, g): "train" for g in t[n_val:n_tr]})
        part_of.update({(tf, g): "test" for g in t[n_tr:]})
    for a, b in sorted(part_of):
        if a < b and (b, a) in part_of and part_of[(a, b)] != part_of[(b, a)]:
            p = part_of[(a, b)] if rng.random() < 0.5 else part_of[(b, a)]
            part_of[(a, b)] = part_of[(b, a)] = p
    rows: list[tuple[str, str, int, str]] = []
    for tf, t in order.items():
        cands = [g for g in genes if g != tf and (tf, g) not in all_pos]
        rng.shuffle(cands)
        for g in t:
            part = part_of[(tf, g)]
            rows.append((tf, g, 1, part))
            if part == "test":
                continue
            k = next((i for i, c in enumerate(cands) if part_of.get((c, tf), part) == part), None)
            if k is not None:
                c = cands.pop(k)
                part_of[(tf, c)] = part
                rows.append((tf, c, 0, part))
    test_pos = [r for r in rows if r[3] == "test"]
    tfs = sorted(pos)
    n_targets = len({g for ts in pos.values() for g in ts})
    density = len(all_pos) / (len(tfs) * max(n_targets, 1))
    n_neg = int(round(len(test_pos) * (1 - density) / density)) if density > 0 else 0
    pool = [(tf, g) for tf in tfs for g in genes
            if g != tf and (tf, g) not in part_of and part_of.get((g, tf), "test") == "test"]
    pick = rng.choice(len(pool), size=min(n_neg, len(pool)), replace=False)
    rows += [(pool[i][0], pool[i][1], 0, "test") for i in sorted(pick)]
    return _frame(rows)


def tf_holdout_split(
    data: GRNData, seed: int, val_frac: float = 0.1, test_frac: float = 0.23, reciprocal="auto",
    mode: str = "hard",
) -> pd.DataFrame:
    """Whole TFs go to train, val or test; each TF keeps all its pairs (hard negatives).

    ``mode="density"`` (Non-Specific / STRING networks, as GENELink trains on them): training
    and validation TFs keep their positives and as many random negatives of the same TF (1:1,
    seeded); test TFs keep every pair, as in ``hard`` mode, so the test pairs do not change.

    With ``reciprocal`` resolved to ``keep_together``, a pair between two TFs of different
    parts goes, with its reverse, to the more held-out part (test > val > train): pairs between
    a test TF and a training TF are test pairs. Test TFs are still never seen in training, but
    some test pairs then have a training TF as regulator.
    """
    recip, frac = resolve_reciprocal(reciprocal, data)
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
    out = _frame(rows)
    if recip == "keep_together":
        out = _reverse_together(out)
    if mode == "density":
        out = _one_to_one_negatives(out, ("train", "val"), rng)
    elif mode != "hard":
        raise InputError("split_params.tf_holdout.mode", f"expected 'hard' or 'density', got {mode!r}")
    return _stamp(out, reciprocal, recip, frac)


def _one_to_one_negatives(split: pd.DataFrame, parts, rng: np.random.Generator) -> pd.DataFrame:
    """Keep, per TF in ``parts``, every positive and at most as many random negatives (seeded)."""
    keep = np.ones(len(split), dtype=bool)
    lab = split["Label"].to_numpy(int)
    in_parts = split["Part"].isin(parts).to_numpy()
    pos_in = np.flatnonzero(in_parts)
    for _key, idx in sorted(split[in_parts].groupby(["TF", "Part"], sort=True).indices.items()):
        rows = pos_in[idx]
        neg = rows[lab[rows] == 0]
        n_pos = int((lab[rows] == 1).sum())
        if len(neg) > n_pos:
            drop = rng.choice(neg, size=len(neg) - n_pos, replace=False)
            keep[drop] = False
    return split[keep].reset_index(drop=True)


def degree_bin(deg: np.ndarray) -> np.ndarray:
    """Training in-degree bins: 0, 1, 2, 3-4, 5-8, 9-16, ... (log2 bins above 2)."""
    deg = np.asarray(deg)
    return np.where(deg <= 2, deg, np.ceil(np.log2(np.maximum(deg, 1))).astype(int) + 1)


def degree_matched_split(data: GRNData, seed: int, k: int = 1, reciprocal="auto", mode: str = "hard") -> pd.DataFrame:
    """GENELink train/val; test = each test positive plus ``k`` degree-matched negatives.

    ``mode`` is the base GENELink split's (``density`` for Non-Specific / STRING networks:
    1:1 training negatives, as GENELink trains on them; its random test negatives are replaced
    by the degree-matched ones).

    A negative for test positive (t, g) has the same TF t and a target g' whose training
    in-degree falls in the same :func:`degree_bin` as g's. Test positives for which fewer than
    ``k`` unused candidates exist are dropped (counted in ``split.attrs['dropped_positives']``).

    With ``reciprocal`` resolved to ``keep_together`` the base GENELink split keeps a pair and
    its reverse together, and the negatives are also matched on whether their reverse is a
    training positive. (The base split puts the reverse of every test pair in test, so that bit
    is 0 throughout and the match holds by construction; the key keeps the guarantee explicit.)
    ``ignore`` gives the split of earlier versions, in which the reverse-edge rule scores above
    0.5 on networks with many reciprocal edges.
    """
    recip, frac = resolve_reciprocal(reciprocal, data)
    rng = np.random.default_rng(seed)
    base = genelink_split(data, seed, mode=mode, reciprocal=recip)
    trainval = base[base["Part"] != "test"]
    test_pos = base[(base["Part"] == "test") & (base["Label"] == 1)]
    train_pos = base[(base["Part"] == "train") & (base["Label"] == 1)]
    indeg = train_pos["Target"].value_counts()
    gbin = dict(zip(data.genes, degree_bin(indeg.reindex(data.genes).fillna(0).to_numpy(int))))
    all_pos = set(zip(data.network["Gene1"], data.network["Gene2"]))
    used = set(zip(trainval["TF"], trainval["Target"]))
    together = recip == "keep_together"
    train_set = set(zip(train_pos["TF"], train_pos["Target"]))

    def key(tf: str, g: str) -> tuple:
        return (tf, gbin[g], (g, tf) in train_set) if together else (tf, gbin[g])

    by_tf_bin: dict[tuple, list[str]] = {}
    for tf in sorted(test_pos["TF"].unique()):
        for g in data.genes:
            if g != tf and (tf, g) not in all_pos and (tf, g) not in used and not (together and (g, tf) in used):
                by_tf_bin.setdefault(key(tf, g), []).append(g)
    for v in by_tf_bin.values():
        rng.shuffle(v)
    rows, dropped = [], 0
    for tf, g in zip(test_pos["TF"], test_pos["Target"]):
        cands = by_tf_bin.get(key(tf, g), [])
        if len(cands) < k:
            dropped += 1
            continue
        rows.append((tf, g, 1, "test"))
        rows += [(tf, cands.pop(), 0, "test") for _ in range(k)]
    out = pd.concat([trainval, _frame(rows)], ignore_index=True)
    out.attrs["dropped_positives"] = dropped
    return _stamp(out, reciprocal, recip, frac)


# --- cross_dataset: train on one dataset's labels, test on another's pairs ----------------------


def symbol_key(gene) -> str:
    """How :func:`cross_dataset_split` matches genes of two datasets: the symbol stripped and
    upper-cased (mouse ``Gata1`` = human ``GATA1``); no ortholog table, no alias resolution."""
    return str(gene).strip().upper()


def _symbol_map(data: GRNData, role: str) -> dict[str, str]:
    """Upper-cased symbol -> gene name; two genes with one key are refused (ambiguous match)."""
    out: dict[str, str] = {}
    for g in data.genes:
        k = symbol_key(g)
        if k in out and out[k] != g:
            raise InputError(data.name, f"cross_dataset ({role} dataset): genes {out[k]!r} and {g!r} have the same "
                             f"symbol {k!r} after upper-casing; genes are matched by upper-cased symbol, so each must be unique")
        out[k] = g
    return out


def _edge_set(data: GRNData) -> set[tuple[str, str]]:
    net = data.network
    return {(a, b) for a, b in zip(net["Gene1"].astype(str), net["Gene2"].astype(str)) if a != b}


def mapped_network(train_data: GRNData, data: GRNData) -> set[tuple[str, str]]:
    """``train_data``'s edges (self-loops dropped) whose two genes are genes of ``data``, in
    ``data``'s names (matched by :func:`symbol_key`): the truth of a cross_dataset split's
    training and validation rows."""
    test_map, train_map = _symbol_map(data, "test"), _symbol_map(train_data, "train")
    to_test = {g: test_map[k] for k, g in train_map.items() if k in test_map}
    return {(to_test[a], to_test[b]) for a, b in _edge_set(train_data) if a in to_test and b in to_test}


def cross_dataset_split(
    data: GRNData, train_data: GRNData, seed: int, *, mode: str = "hard", train_mode: str = "hard",
    test_frac: float = 0.23, val_frac: float = 0.13, reciprocal="auto", train_name: str | None = None,
) -> pd.DataFrame:
    """Label transfer: train and validate on ``train_data``'s labels, test on ``data``'s pairs.

    Genes are matched by :func:`symbol_key` (upper-cased symbol); every row is in ``data``'s
    gene names. The (TF, target) pairs are cut at random (seeded, whatever their labels) into a
    test share (``test_frac``) and a training share, so no pair can be both a training and a
    test row, whichever network labels it:

    - train / validation rows: ``train_data``'s labelled pairs under its protocol ``train_mode``
      (``hard``: each TF with an edge, its positives and every other gene as negatives;
      ``density``: its positives and as many random negatives of the same TF) that fall in the
      training share; per TF and label a share ``val_frac`` of them (rounded down) goes to
      validation (0.23 / 0.13: GENELink's 67 / 10 / 23 overall);
    - test rows: ``data``'s own labelled pairs under its protocol ``mode`` (``hard``: every edge
      and every other gene of each TF with an edge as negatives; ``density``: the edges and
      GENELink's random negatives matching the network density) that fall in the test share.

    Dropped, and counted in ``split.attrs["cross_dataset"]``: a training pair whose TF or target
    is not a gene of ``data``, or whose TF is not one of ``data``'s TFs; a negative that is an
    edge of the other dataset's network (negatives never overlap either dataset's positives).
    With ``reciprocal`` resolved to ``keep_together`` (``auto``: over 5% of ``data``'s edges have
    their reverse as an edge) a pair and its reverse fall in the same share, so the reverse of a
    test pair is never a training or validation pair. Check the split with
    ``check_split(split, data, train_network=mapped_network(train_data, data))``: each part's
    labels are its own network's.
    """
    for m, key in ((mode, "mode"), (train_mode, "train_mode")):
        if m not in ("hard", "density"):
            raise InputError(f"split_params.cross_dataset.{key}", f"expected 'hard' or 'density', got {m!r}")
    for v, key in ((test_frac, "test_frac"), (val_frac, "val_frac")):
        if not 0 < v < 1:
            raise InputError(f"split_params.cross_dataset.{key}", f"expected a number in (0, 1), got {v!r}")
    recip, frac = resolve_reciprocal(reciprocal, data)
    rng = np.random.default_rng(seed)
    test_map, train_map = _symbol_map(data, "test"), _symbol_map(train_data, "train")
    to_test = {g: test_map[k] for k, g in train_map.items() if k in test_map}  # train name -> test name
    test_tfs = set(data.tfs)
    test_pos = _edge_set(data)
    train_edges = mapped_network(train_data, data)  # no test negative may be one of them
    counts = {"train_positives": 0, "train_positives_kept": 0, "train_positives_dropped_gene_not_in_test": 0,
              "train_positives_dropped_tf_not_a_test_tf": 0, "train_positives_in_test_share": 0,
              "train_negatives_dropped_test_positive": 0}

    # 1. candidate rows of both networks, in the test dataset's names
    train_rows: list[tuple[str, str, int]] = []
    genes_mapped = [to_test[g] for g in train_data.genes if g in to_test]
    for tf, targets in _positives_by_tf(train_data).items():
        counts["train_positives"] += len(targets)
        t = to_test.get(tf)
        if t is None or t not in test_tfs:
            key = "train_positives_dropped_gene_not_in_test" if t is None else "train_positives_dropped_tf_not_a_test_tf"
            counts[key] += len(targets)
            continue
        kept = [to_test[g] for g in targets if g in to_test]
        counts["train_positives_dropped_gene_not_in_test"] += len(targets) - len(kept)
        kset = set(kept)
        train_rows += [(t, g, 1) for g in kept]
        train_rows += [(t, g, 0) for g in genes_mapped if g != t and g not in kset]
    test_by_tf: dict[str, set[str]] = {}
    for a, b in test_pos:
        test_by_tf.setdefault(a, set()).add(b)
    genes = data.genes
    test_rows = [(tf, g, int(g in test_by_tf[tf])) for tf in sorted(test_by_tf) for g in genes if g != tf]

    # 2. the pairs' shares: one seeded draw per pair (per unordered pair under keep_together)
    def share_key(a: str, b: str) -> tuple[str, str]:
        return (min(a, b), max(a, b)) if recip == "keep_together" else (a, b)

    keys = sorted({share_key(a, b) for a, b, _ in train_rows} | {share_key(a, b) for a, b, _ in test_rows})
    in_test = dict(zip(keys, (rng.random(len(keys)) < test_frac).tolist()))

    # 3. training and validation rows: the training share, negatives never a test-network edge
    tv_pos, tv_neg = [], []
    for a, b, lab in train_rows:
        if in_test[share_key(a, b)]:
            counts["train_positives_in_test_share"] += lab
        elif lab:
            tv_pos.append((a, b))
        elif (a, b) in test_pos:
            counts["train_negatives_dropped_test_positive"] += 1
        else:
            tv_neg.append((a, b))
    if train_mode == "density":  # 1:1 negatives of the same TF (seeded)
        npos = pd.Series([a for a, _ in tv_pos]).value_counts().to_dict() if tv_pos else {}
        by: dict[str, list[tuple[str, str]]] = {}
        for r in tv_neg:
            by.setdefault(r[0], []).append(r)
        tv_neg = []
        for tf in sorted(by):
            c = by[tf]
            pick = rng.choice(len(c), size=min(int(npos.get(tf, 0)), len(c)), replace=False)
            tv_neg += [c[i] for i in sorted(pick)]
    counts["train_positives_kept"] = len(tv_pos)
    tv = pd.DataFrame([(a, b, 1) for a, b in tv_pos] + [(a, b, 0) for a, b in tv_neg], columns=["TF", "Target", "Label"])
    parts = np.full(len(tv), "train", dtype=object)
    for _key, idx in sorted(tv.groupby(["TF", "Label"], sort=True).indices.items()):
        idx = np.array(idx)
        rng.shuffle(idx)
        parts[idx[: int(len(idx) * val_frac)]] = "val"
    tv["Part"] = parts

    # 4. test rows: the test share, negatives never a training-network edge
    t_pos = [(a, b) for a, b, lab in test_rows if lab and in_test[share_key(a, b)]]
    t_neg = [(a, b) for a, b, lab in test_rows if not lab and in_test[share_key(a, b)] and (a, b) not in train_edges]
    n_neg_clash = sum(1 for a, b, lab in test_rows if not lab and in_test[share_key(a, b)] and (a, b) in train_edges)
    if mode == "density":  # GENELink's random test negatives, matching the network's density
        n_targets = len({b for _, b in test_pos})
        density = len(test_pos) / (len(test_by_tf) * max(n_targets, 1)) if test_by_tf else 0.0
        n_neg = int(round(len(t_pos) * (1 - density) / density)) if density > 0 else 0
        pick = rng.choice(len(t_neg), size=min(n_neg, len(t_neg)), replace=False)
        t_neg = [t_neg[i] for i in sorted(pick)]
    test = _frame([(a, b, 1, "test") for a, b in t_pos] + [(a, b, 0, "test") for a, b in t_neg])
    out = pd.concat([tv[["TF", "Target", "Label", "Part"]], test], ignore_index=True)
    out["Label"] = out["Label"].astype(int)
    out = _stamp(out, reciprocal, recip, frac)
    out.attrs["cross_dataset"] = {
        "train": train_name or train_data.name,
        "symbol_matching": "upper-cased symbol (grnbench.data.splits.symbol_key)",
        "genes": {"train": train_data.n_genes, "test": data.n_genes, "shared": len(genes_mapped)},
        "negatives": {"train": train_mode, "test": mode},
        "test_frac": float(test_frac), "val_frac": float(val_frac),
        **counts,
        "test_positives": len(test_pos),
        "test_positives_in_training_share": len(test_pos) - len(t_pos),
        "test_negatives_dropped_train_positive": int(n_neg_clash),
    }
    return out


def make_cross_dataset_split(data: GRNData, train: dict, seed: int, *, network: str, params: dict | None = None
                             ) -> tuple[pd.DataFrame, dict]:
    """The workflow's cross_dataset split of ``data`` (network ``network``): ``train`` names the
    training labels' dataset (``{"h5ad": path, "network": its network name, "name": a label}``),
    ``params`` is ``split_params.cross_dataset``. Returns the split, proven clean by
    :func:`check_split` against both networks, and its summary (sizes, the unseen-gene subgroups'
    sizes and the transfer's counts under ``cross_dataset``)."""
    from grnbench.data.dataset import read_h5ad
    from grnbench.evaluate.subgroups import subgroup_counts
    from grnbench.pipeline import split_mode

    params = dict(params or {})
    if not train or not train.get("h5ad"):
        raise InputError("split_params.cross_dataset.train", "no training dataset given (expected {dataset: ..., network: ...})")
    train_data = read_h5ad(train["h5ad"])
    mode = params.get("mode", "auto")
    df = cross_dataset_split(
        data, train_data, seed, mode=split_mode(network, mode), train_mode=split_mode(train.get("network", ""), mode),
        test_frac=float(params.get("test_frac", 0.23)), val_frac=float(params.get("val_frac", 0.13)),
        reciprocal=params.get("reciprocal", "auto"),
        train_name=train.get("name"),
    )
    summary = check_split(df, data, train_network=mapped_network(train_data, data))
    summary["dropped_positives"] = 0
    neg = {"hard": "every other gene of the TF", "density": "1:1 random negatives per training TF"}
    summary["negatives"] = {"train": neg[df.attrs["cross_dataset"]["negatives"]["train"]],
                            "test": df.attrs["cross_dataset"]["negatives"]["test"]}
    summary["cross_dataset"] = {**df.attrs["cross_dataset"], "subgroups": subgroup_counts(df)}
    c = summary["cross_dataset"]
    print(f"cross_dataset: trained on {c['train']}; {c['genes']['shared']} of {c['genes']['train']} training genes in this "
          f"dataset; {c['train_positives_kept']} of {c['train_positives']} training positives kept; "
          f"{c['test_positives'] - c['test_positives_in_training_share']} of {c['test_positives']} test-network edges in the test share; "
          "subgroups " + ", ".join(f"{k}: {v['pairs']} pairs / {v['positives']} positives" for k, v in c["subgroups"].items()))
    return df, summary


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
    if not Path(target_file).is_file():
        raise InputError(target_file, "the Target.csv that the released split files index (',Gene,index') is missing")
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
    # the released files are what they are: the reciprocal option does not apply
    return _stamp(out, "not_applicable", "not_applicable", reciprocal_fraction(data))


def reverse_counts(split: pd.DataFrame) -> dict:
    """How many test pairs have their reverse (Target, TF) as a training positive, and as a
    training or validation pair of either label."""
    tr = split[split["Part"] == "train"]
    train_pos = set(zip(tr.loc[tr["Label"] == 1, "TF"], tr.loc[tr["Label"] == 1, "Target"]))
    tv = split[split["Part"] != "test"]
    trainval = set(zip(tv["TF"], tv["Target"]))
    te = split[split["Part"] == "test"]
    rev = list(zip(te["Target"], te["TF"]))
    return {
        "test_pairs_reverse_train_positive": int(sum(r in train_pos for r in rev)),
        "test_pairs_reverse_in_train_or_val": int(sum(r in trainval for r in rev)),
    }


def check_split(split: pd.DataFrame, data: GRNData, *, verbose: bool = True,
                train_network: set[tuple[str, str]] | None = None) -> dict:
    """Prove a split is clean; return (and print) sizes and positive rates per part.

    Raises one :class:`SplitLeakError` listing every problem found: unknown parts or genes,
    labels other than 0/1, a (TF, target) pair repeated within a part or across parts, a
    negative that is a ground-truth positive, a positive that is not in the network, a train or
    test part without positives, and (for a split made with ``reciprocal="keep_together"``) a
    test pair whose reverse is a training or validation pair.

    The summary holds, per part, ``pairs``, ``positives``, ``positive_rate`` and ``tfs``, and
    ``reciprocal``: the option's resolved ``mode`` (``keep_together``, ``ignore``,
    ``not_applicable`` for released files, ``unrecorded`` for a frame without it), what was
    ``requested``, the network's ``network_fraction`` of reciprocal edges and the counts of
    :func:`reverse_counts`.

    ``train_network`` (a cross_dataset split, :func:`mapped_network`): training and validation
    labels are checked against these edges, test labels against ``data``'s network, and a
    negative of any part must be an edge of neither.
    """
    need = {"TF", "Target", "Label", "Part"}
    if not need <= set(split.columns):
        raise SplitLeakError(f"split lacks columns {sorted(need - set(split.columns))}")
    problems: list[str] = []
    bad_parts = set(split["Part"]) - set(PARTS)
    if bad_parts:
        problems.append(f"unknown part(s) {sorted(map(str, bad_parts))}")
    known = set(data.genes)
    unknown = sorted({str(g) for g in pd.unique(split[["TF", "Target"]].to_numpy().ravel()) if g not in known})
    if unknown:
        problems.append(f"{len(unknown)} gene(s) not in the dataset's gene set, e.g. {unknown[0]!r}")
    lab_raw = pd.to_numeric(split["Label"], errors="coerce")
    bad_lab = ~lab_raw.isin([0, 1])
    if bad_lab.any():
        problems.append(f"{int(bad_lab.sum())} label(s) other than 0/1, e.g. {split['Label'][bad_lab].iloc[0]!r}")
    key = split["TF"].astype(str) + "\t" + split["Target"].astype(str)
    dup = key.duplicated(keep=False)
    if dup.any():
        d = split[dup]
        n_parts = d.groupby(["TF", "Target"])["Part"].nunique()
        n_rows = d.groupby(["TF", "Target"]).size()
        cross = n_parts[n_parts > 1]
        within = n_rows[n_rows > n_parts]  # some part holds the pair twice
        if len(within):
            tf, tg = within.index[0]
            problems.append(f"{len(within)} (TF, target) pair(s) repeat within one part, e.g. {tf} -> {tg}")
        if len(cross):
            tf, tg = cross.index[0]
            where = sorted(set(d.loc[(d["TF"] == tf) & (d["Target"] == tg), "Part"].astype(str)))
            problems.append(f"{len(cross)} (TF, target) pair(s) repeat across parts, e.g. {tf} -> {tg} in {where}")
    truth = set(data.network["Gene1"].astype(str) + "\t" + data.network["Gene2"].astype(str))
    is_pos = key.isin(truth).to_numpy()
    any_pos = is_pos
    if train_network is not None:  # cross_dataset: train/val rows carry the training network's labels
        in_train = key.isin({f"{a}\t{b}" for a, b in train_network}).to_numpy()
        any_pos = is_pos | in_train
        is_pos = np.where(split["Part"].to_numpy() == "test", is_pos, in_train)
    lab = lab_raw.fillna(-1).to_numpy()
    for mask, what in (((lab == 0) & any_pos, "negatives are ground-truth positives"),
                       ((lab == 1) & ~is_pos, "positives are not in the network")):
        if mask.any():
            r = split[mask].iloc[0]
            problems.append(f"{int(mask.sum())} {what}, e.g. {r['TF']} -> {r['Target']} labelled {r['Label']} in {r['Part']}")
    summary: dict = {}
    for part in PARTS:
        p = split[split["Part"] == part]
        pl = lab_raw[split["Part"] == part]
        summary[part] = {
            "pairs": int(len(p)), "positives": int((pl == 1).sum()),
            "positive_rate": float((pl == 1).mean()) if len(p) else float("nan"),
            "tfs": int(p["TF"].nunique()),
        }
    for part in ("train", "test"):
        if summary[part]["pairs"] == 0:
            problems.append(f"part {part!r} has no pairs")
        elif summary[part]["positives"] == 0:
            problems.append(f"part {part!r} has no positive pairs ({summary[part]['pairs']} pairs)")
    counts = reverse_counts(split)
    mode = split.attrs.get("reciprocal", "unrecorded")
    if mode == "keep_together" and counts["test_pairs_reverse_in_train_or_val"]:
        problems.append(f"{counts['test_pairs_reverse_in_train_or_val']} test pair(s) have their reverse in train or "
                        "val although the split was made with reciprocal=keep_together")
    if problems:
        raise SplitLeakError(f"{len(problems)} problem(s) in the split: " + "; ".join(problems))
    summary["reciprocal"] = {
        "mode": mode,
        "requested": split.attrs.get("reciprocal_requested", "unrecorded"),
        "network_fraction": float(split.attrs.get("reciprocal_fraction", reciprocal_fraction(data))),
        **counts,
    }
    if verbose:
        for part in PARTS:
            s = summary[part]
            print(f"check_split {part:5s}: {s['pairs']:7d} pairs, {s['positives']:6d} positives "
                  f"(rate {s['positive_rate']:.4f}), {s['tfs']} TFs")
        r = summary["reciprocal"]
        print(f"check_split reciprocal: {r['mode']} (requested {r['requested']}; {r['network_fraction']:.1%} of edges "
              f"reciprocal); {r['test_pairs_reverse_train_positive']} test pairs have their reverse as a training positive")
    return summary
