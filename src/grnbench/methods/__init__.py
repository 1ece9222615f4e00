"""Methods: one module per method behind one small interface (:mod:`grnbench.methods.base`)."""

from grnbench.methods.base import Method, SupervisedMethod, UnsupervisedMethod
from grnbench.methods.registry import available, get, register

__all__ = ["Method", "SupervisedMethod", "UnsupervisedMethod", "available", "get", "register"]
