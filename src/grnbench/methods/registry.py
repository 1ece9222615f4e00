"""Method registry: ``name -> class``. ``grnbench methods`` lists it."""

from __future__ import annotations

import importlib

from grnbench.errors import InputError
from grnbench.methods.base import Method

_REGISTRY: dict[str, type[Method]] = {}

#: Modules of this package that hold no method (everything else is imported on first use so
#: every built-in method registers itself; a new module needs no edit here).
_NOT_METHODS = {"base", "registry", "training", "graph"}


def register(cls: type[Method]) -> type[Method]:
    """Class decorator: add a :class:`Method` subclass under its ``name``."""
    name = cls.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"method name {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


def _load_builtins() -> None:
    import pkgutil

    import grnbench.methods as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name not in _NOT_METHODS and not info.name.startswith("_"):
            importlib.import_module(f"grnbench.methods.{info.name}")


def available() -> dict[str, type[Method]]:
    """All registered methods, sorted by name."""
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


#: Where each built-in method lives, so a job imports only its own module (torch-heavy modules
#: cost seconds per job); tests/test_pipeline.py checks this index against the registry.
BUILTIN_INDEX = {
    "random": "sanity",
    "degree_prior": "sanity",
    "label_prior": "sanity",
    "pcc": "correlation",
    "genie3": "tree_based",
    "grnboost2": "tree_based",
    "mi": "mutual_info",
    "pidc": "pidc",
    "scode": "scode",
    "ppcor": "ppcor",
    "genelink": "genelink",
    "gnnlink": "gnnlink",
    "gne": "gne",
    "cnnc": "cnnc",
    "deepdrim": "deepdrim",
    "grn_transformer": "grn_transformer",
    "sctransnet": "sctransnet",
    "sctransnet_no_gnn": "sctransnet",
    "sctransnet_no_encoder": "sctransnet",
    "sctransnet_no_attnpool": "sctransnet",
}


def get(name: str) -> type[Method]:
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in BUILTIN_INDEX:
        importlib.import_module(f"grnbench.methods.{BUILTIN_INDEX[name]}")
        if name in _REGISTRY:
            return _REGISTRY[name]
    methods = available()
    if name not in methods:
        raise InputError(
            "config: methods", f"unknown method {name!r}; registered: {sorted(methods)}"
        )
    return methods[name]


def load_plugin(module: str) -> None:
    """Import a user module (``config: plugins``) whose classes call :func:`register`."""
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise InputError("config: plugins", f"cannot import plugin module {module!r}: {e}") from e
