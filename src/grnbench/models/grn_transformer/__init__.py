"""GRN-Transformer's parts (the method and its maths: :mod:`grnbench.methods.grn_transformer`).

- :mod:`~grnbench.models.grn_transformer.inputs`: non-zero standardisation, prior channels;
- :mod:`~grnbench.models.grn_transformer.encoder`: the axial transformer;
- :mod:`~grnbench.models.grn_transformer.pretrain`: the self-supervised loop (checkpoint +
  resume inside a workflow job) and the attention maps it yields;
- :mod:`~grnbench.models.grn_transformer.features`: pair features, out-of-fold features;
- :mod:`~grnbench.models.grn_transformer.classifier`: random forests with weak-label
  cleaning, or the feature MLP.
"""

from grnbench.models.grn_transformer.classifier import FeatureMLP, clean_weak_labels, fit_forests
from grnbench.models.grn_transformer.encoder import AxialEncoder
from grnbench.models.grn_transformer.features import PairFeatures, out_of_fold_features
from grnbench.models.grn_transformer.inputs import prior_networks, standardise_nonzero
from grnbench.models.grn_transformer.pretrain import attention_maps, pretrain_encoder

__all__ = [
    "AxialEncoder", "FeatureMLP", "PairFeatures", "attention_maps", "clean_weak_labels", "fit_forests",
    "out_of_fold_features", "pretrain_encoder", "prior_networks", "standardise_nonzero",
]
