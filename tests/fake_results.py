"""A hand-made results folder for the aggregate-stage tests (no method is run).

Shared by tests/test_aggregate.py and tests/test_report_browser.py; not a test module.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from grnbench.evaluate.metrics import attach_scores, score_ranking

# scores = signal x label + noise

# method -> (kind, signal strength); larger = better separation of positives
QUALITY = {
    "random": ("unsupervised", 0.0),
    "degree_prior": ("supervised", 0.6),
    "pcc": ("unsupervised", 0.3),
    "genelink": ("supervised", 1.0),
    "sctransnet": ("supervised", 1.6),
    "sctransnet_no_gnn": ("supervised", 1.2),
}
METRIC_COLS = [
    "dataset",
    "network",
    "geneset",
    "split",
    "method",
    "seed",
    "kind",
    "scope",
    "status",
    "auroc",
    "auprc",
    "auprc_trapz",
    "auprc_ratio",
    "epr",
    "per_tf_auroc",
    "n_pairs",
    "n_pos",
    "density",
    "runtime_s",
    "max_rss_mb",
    "labels",
]


def _split(rng, tfs, genes, net):
    rows = []
    for tf in tfs:
        for g in genes:
            if g == tf:
                continue
            part = rng.choice(["train", "val", "test"], p=[0.6, 0.1, 0.3])
            rows.append((tf, g, int((tf, g) in net), part))
    return pd.DataFrame(rows, columns=["TF", "Target", "Label", "Part"])


def make_results(
    root: Path,
    cells=(
        ("hESC", "specific", "tfs500"),
        ("hESC", "specific", "tfs1000"),
        ("hHEP", "specific", "tfs500"),
    ),
    splits=("genelink", "tf_holdout"),
    seeds=(0, 1, 2),
    methods=tuple(QUALITY),
    failed=("gnnlink",),
) -> Path:
    """Write split files, edges.csv per job and metrics.tsv (scored with the real metrics code)."""
    root = Path(root)
    rows = []
    for ci, (ds, net_name, gs) in enumerate(cells):
        rng = np.random.default_rng(ci)
        tfs = [f"TF{i}" for i in range(6)]
        genes = tfs + [f"G{i:02d}" for i in range(30)]
        net = {(t, g) for t in tfs for g in genes if t != g and rng.random() < 0.25}
        for sp in splits:
            for seed in seeds:
                srng = np.random.default_rng(1000 * ci + seed)
                split = _split(srng, tfs, genes, net)
                d = root / ds / net_name / gs / sp
                d.mkdir(parents=True, exist_ok=True)
                split.to_csv(d / f"split_seed{seed}.csv", index=False)
                test = split[split["Part"] == "test"]
                allp = pd.DataFrame(
                    [(t, g) for t in tfs for g in genes if t != g], columns=["TF", "Target"]
                )
                allp["Label"] = [int((t, g) in net) for t, g in zip(allp["TF"], allp["Target"])]
                for mi, m in enumerate(methods):
                    kind, q = QUALITY.get(m, ("supervised", 0.0))
                    base = dict(
                        dataset=ds,
                        network=net_name,
                        geneset=gs,
                        split=sp,
                        method=m,
                        seed=seed,
                        kind=kind,
                        labels=json.dumps({"fake": True}),
                    )
                    if m in failed:
                        rows.append({**base, "scope": "test", "status": "failed"})
                        continue
                    pairs = allp if kind == "unsupervised" else test
                    mrng = np.random.default_rng(10_000 * ci + 100 * seed + mi)
                    w = q * pairs["Label"].to_numpy() + mrng.normal(size=len(pairs))
                    edges = pd.DataFrame(
                        {
                            "Gene1": pairs["TF"].to_numpy(),
                            "Gene2": pairs["Target"].to_numpy(),
                            "EdgeWeight": w,
                        }
                    )
                    jd = d / m / f"seed{seed}"
                    jd.mkdir(parents=True, exist_ok=True)
                    edges.to_csv(jd / "edges.csv", index=False)
                    scopes = [("test", test)] + (
                        [("all_tf_gene", allp)] if kind == "unsupervised" else []
                    )
                    for scope, p in scopes:
                        s, _ = attach_scores(p, edges)
                        r = score_ranking(p["Label"].to_numpy(), s, tf=p["TF"].to_numpy())
                        rows.append(
                            {
                                **base,
                                "scope": scope,
                                "status": "ok",
                                **r,
                                "runtime_s": 0.5 + 10 * q + seed,
                                "max_rss_mb": 100 + 50 * q,
                            }
                        )
    df = pd.DataFrame(rows).reindex(columns=METRIC_COLS)
    out = root / "tables" / "metrics.tsv"
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, sep="\t", index=False, na_rep="NaN")
    return out
