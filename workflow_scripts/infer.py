"""Rules infer / infer_unsupervised: one registered method on one split (or, unsupervised, on
no split) and seed."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads must not spin (torch)

from grnbench.methods.registry import load_plugin  # noqa: E402
from grnbench.pipeline import run_method  # noqa: E402
from grnbench.workflow import rule_logging  # noqa: E402

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    for plugin in sm.params.plugins:  # user methods register themselves in this process too
        load_plugin(plugin)
    info = run_method(
        sm.input.h5ad,
        sm.input.get("split"),  # None for infer_unsupervised: one run serves every split
        sm.output.edges,
        sm.output.run,
        method=sm.wildcards.method,
        seed=int(sm.wildcards.seed),
        params=dict(sm.params.method_params),
        threads=sm.threads,
        device=sm.params.device,
        preset=sm.params.preset,
        record_failure=sm.params.record_failure,
        limits=dict(sm.params.limits),
    )
    print(
        f"{sm.wildcards.method}: {info['status']}, {info['fit_seconds']} s, labels {info['labels']}"
    )
