"""Method registry: ``name -> class``. ``grnbench methods`` lists it.

Planning a workflow needs each method's facts, not its code: :func:`planning_methods` reads them
from ``index.json`` beside this module (made from the classes by :func:`write_index`, ``grnbench
methods --write-index``; ``tests/test_registry.py`` proves it equals what the classes say), so
``snakemake -n`` and every cluster job's start import no torch. Jobs import only their
method's module (:func:`get`). Plugins (config ``plugins:``) are imported and described from
their classes.

The facts include how a method is shown and costed (display name, family, order, colour,
reference flag, Table 1 column, cost spec: the class attributes of
:class:`~grnbench.methods.base.Method`); :func:`facts` gives them for any name, with a plugin's
defaults for a name no class declares, and tables, figures and guards read them from there.
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
_NOT_METHODS = {"base", "registry", "training", "graph", "costs"}

#: The order of a method that sets none (a plugin): after GRN-Transformer (15), before the
#: scTransNet family (16), as in the tables before the order moved onto the classes.
PLUGIN_ORDER = 15.5


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
    # how it is shown and costed (see grnbench.methods.base.Method); the defaults are a plugin's
    display_name: str = ""  # "" = name
    family: str = ""  # "" = kind
    order: float = PLUGIN_ORDER
    color: str | None = None
    reference: bool = False
    table1_variant: str | None = None
    cost: dict[str, Any] = field(default_factory=dict)  # {} = costs.GENERIC

    def __post_init__(self):
        if not self.display_name:
            object.__setattr__(self, "display_name", self.name)
        if not self.family:
            object.__setattr__(self, "family", self.kind)
        if not self.cost:
            from grnbench.methods.costs import GENERIC

            object.__setattr__(self, "cost", dict(GENERIC))

    @classmethod
    def from_class(cls, c) -> MethodInfo:
        return cls(name=c.name, kind=c.kind, module=c.__module__, description=getattr(c, "description", ""),
                   defaults=_jsonable(getattr(c, "defaults", {}) or {}),
                   presets=_jsonable(getattr(c, "presets", {}) or {}),
                   uses_device=bool(getattr(c, "uses_device", False)), use_encoder=bool(getattr(c, "use_encoder", False)),
                   display_name=c.display_name, family=c.family, order=float(c.order), color=c.color,
                   reference=bool(c.reference), table1_variant=c.table1_variant, cost=_jsonable(dict(c.cost)))

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


def write_index(path: str | Path | None = None) -> dict[str, dict]:
    """Write ``index.json`` (default: :data:`INDEX_PATH`) from the built-in classes (run after
    adding or changing a method: ``grnbench methods --write-index``)."""
    path = INDEX_PATH if path is None else path
    index = build_index()
    Path(path).write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    _INDEX_CACHE.pop(str(Path(path)), None)
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


_INDEX_CACHE: dict[str, dict[str, MethodInfo]] = {}


def load_index(path: str | Path = INDEX_PATH) -> dict[str, MethodInfo]:
    """The built-in methods' facts from ``index.json`` (no method module imported; read once)."""
    key = str(Path(path))
    if key not in _INDEX_CACHE:
        raw = json.loads(Path(path).read_text())
        _INDEX_CACHE[key] = {n: MethodInfo(name=n, **{**d, "module": f"grnbench.methods.{d['module']}"})
                             for n, d in sorted(raw.items())}
    return dict(_INDEX_CACHE[key])


_CLASS_INFO: dict[type, MethodInfo] = {}


def _class_info(c) -> MethodInfo:
    if c not in _CLASS_INFO:
        _CLASS_INFO[c] = MethodInfo.from_class(c)
    return _CLASS_INFO[c]


def planning_methods() -> dict[str, MethodInfo]:
    """Built-in methods from the index, plus every registered plugin class (already imported)."""
    out = load_index() if INDEX_PATH.exists() else {}
    for name, c in _REGISTRY.items():
        if not c.__module__.startswith("grnbench.methods.") or name not in out:
            out[name] = _class_info(c)
    return dict(sorted(out.items()))


def facts(name: str) -> MethodInfo:
    """How ``name`` is shown and costed: its class's facts (built-ins from the index, plugins from
    their registered class); a name no class declares gets a plugin's defaults (display name =
    name, order :data:`PLUGIN_ORDER`, hash colour, not a reference, generic cost, kind ``""``)."""
    c = _REGISTRY.get(name)
    if c is not None and not c.__module__.startswith("grnbench.methods."):
        return _class_info(c)
    index = _INDEX_CACHE.get(str(INDEX_PATH)) or (load_index() if INDEX_PATH.exists() else {})
    if name in index:
        return index[name]
    if c is not None:  # a built-in before the index exists
        return _class_info(c)
    return MethodInfo(name=str(name), kind="", module="")


def method_order() -> tuple[str, ...]:
    """Every known method (built-ins and registered plugins) in reading order."""
    return tuple(sorted(planning_methods(), key=lambda n: (facts(n).order, n)))


def table1_variants() -> dict[str, str]:
    """Method -> the column header of the paper's Table 1, for the methods that have one."""
    return {n: facts(n).table1_variant for n in method_order() if facts(n).table1_variant}


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
