"""Rule split: one seeded split, proven clean by check_split."""

from grnbench.pipeline import make_split
from grnbench.utils import write_json
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    summary = make_split(
        sm.input.h5ad,
        sm.output.split,
        protocol=sm.params.protocol,
        seed=int(sm.wildcards.seed),
        network=sm.wildcards.network,
        params=sm.params.split_params,
        released={
            k: sm.input[k] for k in ("train", "val", "test", "targets") if k in sm.input.keys()
        },
        record_refusal=sm.params.record_refusal,
        train_data=sm.params.cross_dataset,  # cross_dataset: the training labels' dataset
    )
    write_json(summary, sm.output.summary)
    if summary["status"] != "ok":
        print(f"ERROR: {summary['error']}")
