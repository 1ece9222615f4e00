"""Rule evaluate: score edges.csv on the split's test pairs."""

from grnbench.pipeline import evaluate
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    w = sm.wildcards
    ids = {
        "dataset": w.dataset,
        "network": w.network,
        "geneset": w.geneset,
        "split": w.split,
        "method": w.method,
        "seed": int(w.seed),
    }
    out = evaluate(
        sm.input.h5ad,
        sm.input.split,
        sm.input.edges,
        sm.output[0],
        run_path=sm.params.run,
        kind=sm.params.kind,
        allow_partial=bool(sm.params.allow_partial),
        ids=ids,
    )
    print(out["status"], out.get("error") or "", out["scopes"])
