"""scTransNet's parts: scBERT tokens, Performer encoder, attention sums and pooling, GNN, head.

Public entry points for workflows:

- :func:`~grnbench.models.sctransnet.pretrain.pretrain_encoder` (masked expression modelling,
  checkpoint + resume) and :func:`~grnbench.models.sctransnet.pretrain.encoder_key`;
- :func:`~grnbench.models.sctransnet.pretrain.load_encoder`;
- :func:`~grnbench.models.sctransnet.config.resolve_params` (defaults + preset + overrides).
"""

from grnbench.models.sctransnet.config import DEFAULTS, PRESETS, resolve_params

__all__ = ["DEFAULTS", "PRESETS", "encoder_key", "load_encoder", "pretrain_encoder", "resolve_params"]


def __getattr__(name):  # torch loads on use: planning imports .config (rules/common.smk)
    if name in ("encoder_key", "load_encoder", "pretrain_encoder"):
        from grnbench.models.sctransnet import pretrain

        return getattr(pretrain, name)
    raise AttributeError(f"module 'grnbench.models.sctransnet' has no attribute {name!r}")
