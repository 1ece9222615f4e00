"""Neural network models used by methods (layers and models only; training lives in
:mod:`grnbench.methods.training`, registration in :mod:`grnbench.methods`)."""
