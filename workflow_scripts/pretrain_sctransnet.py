"""Rule pretrain_sctransnet: MLM pretraining of scTransNet's encoder (resumable)."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads must not spin

from grnbench.data.dataset import read_h5ad  # noqa: E402
from grnbench.data.views import method_view  # noqa: E402
from grnbench.models.sctransnet.pretrain import pretrain_encoder, resolve_params  # noqa: E402
from grnbench.workflow import rule_logging  # noqa: E402

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    out = sm.output[0]
    partial = f"{out}.partial"
    params = resolve_params(dict(sm.params.method_params), sm.params.preset)
    # self-supervised on the cells: the encoder sees no label at all
    data = method_view(read_h5ad(sm.input.h5ad), None, "unsupervised")
    bundle = pretrain_encoder(
        data,
        params,
        int(params["pretrain_seed"]),
        partial,
        threads=sm.threads,
        device=sm.params.device,
    )
    os.replace(partial, out)
    print(
        f"{bundle.label}: {bundle.seconds:.1f} s, history {bundle.history[-1:] if bundle.history else []}"
    )
