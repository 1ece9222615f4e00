"""Data layer: readers, downloads, preprocessing, splits and the synthetic GRN simulator."""

from grnbench.data.dataset import GRNData, read_h5ad, write_h5ad

__all__ = ["GRNData", "read_h5ad", "write_h5ad"]
