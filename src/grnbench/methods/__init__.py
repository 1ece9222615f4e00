"""Methods: one module per method behind one small interface (:mod:`grnbench.methods.base`).

The names below are imported on first use, so ``import grnbench.methods.registry`` (planning)
loads no data or torch module.
"""

from grnbench.methods.registry import available, get, register

__all__ = ["Method", "SupervisedMethod", "UnsupervisedMethod", "available", "get", "register"]


def __getattr__(name):
    if name in ("Method", "SupervisedMethod", "UnsupervisedMethod"):
        from grnbench.methods import base

        return getattr(base, name)
    raise AttributeError(f"module 'grnbench.methods' has no attribute {name!r}")
