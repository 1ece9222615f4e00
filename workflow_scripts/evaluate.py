"""Rule evaluate: score every method's edges.csv on one split's test pairs."""

from grnbench.pipeline import evaluate_split
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    w = sm.wildcards
    ids = {
        "dataset": w.dataset,
        "network": w.network,
        "geneset": w.geneset,
        "split": w.split,
        "seed": int(w.seed),
    }
    for out in evaluate_split(sm.input.h5ad, sm.input.split, list(sm.params.jobs), ids=ids):
        print(out["method"], out["status"], out.get("error") or "", out["scopes"])
