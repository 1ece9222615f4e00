"""grnbench: fair, reproducible benchmarking of GRN inference from single-cell RNA-seq."""

from grnbench.errors import GrnbenchError, InputError

__version__ = "0.1.0"
__all__ = ["GrnbenchError", "InputError", "__version__"]
