"""Method registry: ``name -> class``. ``grnbench methods`` lists it.

Planning a workflow needs each method's facts, not its code: :func:`planning_methods` reads them
from ``index.json`` beside this module (made from the classes by :func:`write_index`, ``grnbench
methods --write-index``; ``tests/test_registry.py`` proves it equals what the classes say), so
``snakemake -n`` and every cluster job's start import no torch. Jobs import only their
method's module (:func:`get`). Plugins (config ``plugins:``) are imported and described from
their classes.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grnbench.errors import InputError

if TYPE_CHECKING:
    from grnbench.methods.base import Method

INDEX_PATH = Path(__file__).with_name("index.json")

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


@dataclass(frozen=True)
class MethodInfo:
    """What planning needs to know of a method (a light stand-in for its class)."""

    name: str
    kind: str
    module: str
    description: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    uses_device: bool = False
    use_encoder: bool = False

    @classmethod
    def from_class(cls, c) -> MethodInfo:
        return cls(name=c.name, kind=c.kind, module=c.__module__, description=getattr(c, "description", ""),
                   defaults=_jsonable(getattr(c, "defaults", {}) or {}),
                   presets=_jsonable(getattr(c, "presets", {}) or {}),
                   uses_device=bool(getattr(c, "uses_device", False)), use_encoder=bool(getattr(c, "use_encoder", False)))

    def params(self, preset: str | None = None, params: dict | None = None) -> dict[str, Any]:
        """The hyperparameters a run uses: defaults, then the preset, then ``params``."""
        return merge_params(self.name, self.defaults, self.presets, preset, params)


def _jsonable(v):
    return json.loads(json.dumps(v, default=str))


def merge_params(name: str, defaults: dict, presets: dict, preset: str | None, params: dict | None) -> dict[str, Any]:
    """The one params resolution (class, planning and guards use it): defaults < preset < params.

    Raises :class:`InputError` naming ``methods.<name>.preset`` / ``.params`` for an unknown
    preset or parameter (``device`` is always accepted).
    """
    params = dict(params or {})
    if preset is not None:
        if preset not in presets:
            raise InputError(f"methods.{name}.preset", f"unknown preset {preset!r}; known: {sorted(presets)}")
        params = {**presets[preset], **params}
    unknown = set(params) - set(defaults) - {"device"}
    if unknown:
        raise InputError(f"methods.{name}.params", f"unknown parameter(s) {sorted(unknown)}; known: {sorted(defaults)}")
    return {**defaults, **params}


def write_index(path: str | Path = INDEX_PATH) -> dict[str, dict]:
    """Write ``index.json`` from the built-in classes (run after adding or changing a method)."""
    index = build_index()
    Path(path).write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    return index


def build_index() -> dict[str, dict]:
    """The built-in methods' facts, from their classes (imports every method module)."""
    out = {}
    for name, c in available().items():
        if c.__module__.startswith("grnbench.methods."):
            info = MethodInfo.from_class(c)
            out[name] = {k: getattr(info, k) for k in MethodInfo.__dataclass_fields__ if k != "name"}
            out[name]["module"] = c.__module__.rsplit(".", 1)[1]
    return out


def load_index(path: str | Path = INDEX_PATH) -> dict[str, MethodInfo]:
    """The built-in methods' facts from ``index.json`` (no method module imported)."""
    raw = json.loads(Path(path).read_text())
    return {n: MethodInfo(name=n, **{**d, "module": f"grnbench.methods.{d['module']}"}) for n, d in sorted(raw.items())}


def planning_methods() -> dict[str, MethodInfo]:
    """Built-in methods from the index, plus every registered plugin class (already imported)."""
    out = load_index()
    for name, c in _REGISTRY.items():
        if not c.__module__.startswith("grnbench.methods."):
            out[name] = MethodInfo.from_class(c)
    return dict(sorted(out.items()))


def info(name: str) -> MethodInfo:
    """One method's facts (index or registered plugin); unknown names raise :class:`InputError`."""
    methods = planning_methods()
    if name not in methods:
        raise InputError("config: methods", f"unknown method {name!r}; registered: {sorted(methods)}")
    return methods[name]


#: name -> module of each built-in method (from the index), so a job imports only its own module.
BUILTIN_INDEX = ({n: m.module.rsplit(".", 1)[1] for n, m in load_index().items()}
                 if INDEX_PATH.exists() else {})  # no index yet: get() imports every module


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
