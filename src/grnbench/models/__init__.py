"""Neural network models used by methods: :mod:`grnbench.models.sctransnet` (scBERT encoder,
its pretraining, pooling, GNN and head) and :mod:`grnbench.models.grn_transformer` (axial
attention features, their self-supervised loop, classifier). The supervised training loop
lives in :mod:`grnbench.methods.training`, registration in :mod:`grnbench.methods`."""
