"""scTransNet's parts: scBERT tokens, Performer encoder, attention sums and pooling, GNN, head.

Public entry points for workflows:

- :func:`~grnbench.models.sctransnet.pretrain.pretrain_encoder` (masked expression modelling,
  checkpoint + resume) and :func:`~grnbench.models.sctransnet.pretrain.encoder_key`;
- :func:`~grnbench.models.sctransnet.pretrain.load_encoder`;
- :func:`~grnbench.models.sctransnet.config.resolve_params` (defaults + preset + overrides).
"""

from grnbench.models.sctransnet.config import DEFAULTS, PRESETS, resolve_params
from grnbench.models.sctransnet.pretrain import encoder_key, load_encoder, pretrain_encoder

__all__ = ["DEFAULTS", "PRESETS", "encoder_key", "load_encoder", "pretrain_encoder", "resolve_params"]
