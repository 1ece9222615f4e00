"""Data layer: readers, downloads, preprocessing, splits and the synthetic GRN simulator.

``GRNData``, ``read_h5ad`` and ``write_h5ad`` are imported on first use, so the light modules of
this package (``released``, ``download``) load no AnnData when Snakemake plans.
"""

__all__ = ["GRNData", "read_h5ad", "write_h5ad"]


def __getattr__(name):
    if name in __all__:
        from grnbench.data import dataset

        return getattr(dataset, name)
    raise AttributeError(f"module 'grnbench.data' has no attribute {name!r}")
