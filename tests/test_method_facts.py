"""A method's facts (display name, family, order, colour, reference, Table 1 column, cost) live on
its class (issue 17.1): a plugin class registered from a module of its own, with no other edit,
appears in every table and figure of the aggregate step with its name, colour and order."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import fake_results
import matplotlib.colors as mcolors
import pandas as pd
import pytest
from fake_results import make_results

from grnbench.methods import costs, registry

ROOT = Path(__file__).resolve().parents[1]

PLUGIN_SOURCE = '''
import numpy as np

from grnbench.methods.base import SupervisedMethod, UnsupervisedMethod
from grnbench.methods.registry import register
from grnbench.methods.sanity import DegreePrior


def my_cost(G, C, T, p, *, per_pair_s):
    return 7.0, per_pair_s * G * T


@register
class MyPlugin(SupervisedMethod):
    name = "my_plugin"
    description = "a plugin that sets every fact"
    display_name = "My Plugin (test)"
    family = "supervised"
    order = 3.5  # between PCC (3) and MI (4)
    color = "#123456"
    table1_variant = "My column"
    cost = {"model": "{module}:my_cost", "per_pair_s": 1e-3}

    def fit(self, data, train, val, *, seed, threads=1):
        return self

    def predict(self, data, pairs):
        return np.zeros(len(pairs))


@register
class MyUnsupervised(UnsupervisedMethod):
    name = "my_unsup"
    description = "a plugin that sets no fact"

    def infer(self, data, *, seed, threads=1):
        return np.zeros((len(data.tfs), data.n_genes))


@register
class MyPrior(DegreePrior):
    name = "my_prior"
    description = "a subclass of a built-in under its own name"
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Register the classes of PLUGIN_SOURCE from a temporary module, as config ``plugins:``
    does; its classes leave the registry and sys.modules afterwards."""
    module = "grnbench_test_facts_plugin"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(PLUGIN_SOURCE).replace("{module}", module))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    registry.load_plugin(module)
    yield module
    for name, cls in list(registry._REGISTRY.items()):  # only the plugin's classes: the built-ins
        if cls.__module__ == module:  # it imported stay registered
            del registry._REGISTRY[name]
    sys.modules.pop(module, None)


def test_plugin_facts_from_its_class(plugin):
    from grnbench import guards
    from grnbench.evaluate import plot_style, plots

    f = registry.facts("my_plugin")
    assert (f.display_name, f.family, f.order, f.color, f.reference, f.table1_variant) == (
        "My Plugin (test)", "supervised", 3.5, "#123456", False, "My column")
    assert registry.planning_methods()["my_plugin"] == f
    assert plots.display_name("my_plugin") == "My Plugin (test)"
    assert plot_style.method_color("my_plugin") == "#123456"
    order = registry.method_order()
    assert order.index("pcc") + 1 == order.index("my_plugin") == order.index("mi") - 1
    assert registry.table1_variants()["my_plugin"] == "My column"
    assert plot_style.order_methods(["mi", "my_plugin", "pcc"]) == ["pcc", "my_plugin", "mi"]
    # its own cost function, named by module:function, reaches the guards
    est = guards.estimate("my_plugin", 100, 50, 10)
    assert est == {"mem_mb": guards.SAFETY_MEM * (guards.BASE_MB + guards.data_mb(100, 50) + 7.0),
                   "runtime_min": guards.SAFETY_TIME * (guards.STARTUP_S + 1e-3 * 100 * 10) / 60}


def test_plugin_defaults(plugin):
    """A class that sets nothing: its name, its kind as family, just before the scTransNet family,
    a stable hash colour, not a reference, no Table 1 column, the generic cost; an unsupervised
    method's estimate counts its TF x gene edges frame."""
    from grnbench import guards
    from grnbench.evaluate import plot_style

    f = registry.facts("my_unsup")
    assert (f.display_name, f.family, f.order, f.color, f.reference, f.table1_variant) == (
        "my_unsup", "unsupervised", registry.PLUGIN_ORDER, None, False, None)
    assert f.cost == costs.GENERIC
    order = registry.method_order()
    assert order.index("grn_transformer") < order.index("my_unsup") < order.index("sctransnet")
    c = plot_style.method_color("my_unsup")
    assert mcolors.to_hex(c) == c and c not in {plot_style.method_color(m) for m in order if m != "my_unsup"}
    assert not plot_style.is_reference("my_unsup") and "my_unsup" not in plot_style.REFERENCE_METHODS
    sup = guards.estimate("not_registered", 400, 500, 40)  # same cost, no edges frame
    assert guards.estimate("my_unsup", 400, 500, 40)["mem_mb"] == pytest.approx(
        sup["mem_mb"] + guards.SAFETY_MEM * guards.edges_mb(400, 40))


def test_a_subclass_under_its_own_name_does_not_inherit_how_it_is_shown(plugin):
    from grnbench import guards

    prior, mine = registry.facts("degree_prior"), registry.facts("my_prior")
    assert prior.reference and prior.display_name == "Degree prior"
    assert (mine.display_name, mine.reference, mine.color, mine.order) == (
        "my_prior", False, None, registry.PLUGIN_ORDER)
    assert mine.cost == prior.cost  # the computation (and its cost) is inherited
    assert guards.estimate("my_prior", 300, 200, 30) == guards.estimate("degree_prior", 300, 200, 30)


@pytest.mark.parametrize("attr, value, match", [
    ("color", "red", "color must be '#rrggbb'"),
    ("order", "first", "order must be a finite number"),
    ("reference", 1, "reference must be True or False"),
    ("display_name", "", "display_name must be a non-empty string"),
    ("cost", {"model": "nope"}, "unknown cost model 'nope'"),
])
def test_bad_facts_are_refused_naming_the_class(attr, value, match):
    from grnbench.methods.base import SupervisedMethod

    with pytest.raises(TypeError, match=rf"Bad \(name 'bad'\): .*{match}"):
        type("Bad", (SupervisedMethod,), {"name": "bad", "description": "", attr: value,
                                           "fit": lambda *a, **k: None, "predict": lambda *a: None})


# --------------------------------------------------------------------------------------------
# the aggregate step


def _capture_figures(monkeypatch) -> dict[str, dict]:
    """stem -> {"texts": [...], "colors": {hex}} of every PNG the aggregate step saves."""
    import matplotlib.collections
    import matplotlib.figure
    import matplotlib.lines
    import matplotlib.patches
    import matplotlib.text

    seen: dict[str, dict] = {}
    real = matplotlib.figure.Figure.savefig

    def savefig(fig, fname, *args, **kwargs):
        name = Path(fname).name.lstrip(".")  # atomic_path's ".<stem>.png.XXXX.png"
        if kwargs.get("format", "png") == "png":
            colors = set()
            for a in fig.findobj():
                if isinstance(a, matplotlib.patches.Patch):
                    colors.add(mcolors.to_hex(a.get_facecolor()))
                elif isinstance(a, matplotlib.lines.Line2D):
                    colors.add(mcolors.to_hex(a.get_color()))
                elif isinstance(a, matplotlib.collections.Collection):
                    colors.update(mcolors.to_hex(c) for c in [*a.get_facecolors(), *a.get_edgecolors()])
            texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
            seen[name.split(".")[0]] = {"texts": texts, "colors": colors}
        return real(fig, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    return seen


def test_plugin_appears_in_every_table_and_figure(plugin, tmp_path, monkeypatch):
    from grnbench.evaluate.report import FIGURE_STEMS, TABLE_STEMS, aggregate

    # the strongest method of the run (so it leads the curves and the subnetwork drawing)
    monkeypatch.setitem(fake_results.QUALITY, "my_plugin", ("supervised", 2.2))
    monkeypatch.setitem(fake_results.QUALITY, "my_unsup", ("unsupervised", 0.5))
    methods = ("random", "degree_prior", "label_prior", "pcc", "mi", "my_plugin", "my_unsup",
               "sctransnet", "sctransnet_no_gnn")
    root = tmp_path / "results"
    metrics = make_results(root, cells=(("hESC", "specific", "tfs500"), ("hESC", "specific", "tfs1000")),
                           splits=("genelink", "tf_holdout"), seeds=(0, 1), methods=methods, failed=())
    figures = _capture_figures(monkeypatch)
    aggregate(metrics, root, root / "tables", root / "figures", ROOT / "resources" / "published")

    # tables: every table that lists this run's methods lists both plugins, in reading order;
    # table1_comparison lists the methods with a Table 1 column; beeline_extra the methods with
    # scope beeline (none in this run); borda lists its members
    for stem in TABLE_STEMS:
        df = pd.read_csv(root / "tables" / f"{stem}.tsv", sep="\t")
        md = (root / "tables" / f"{stem}.md").read_text()
        listed = [str(m) for m in dict.fromkeys(df["method"])]
        if stem == "borda":
            assert set(listed) == {"borda"}
            listed = df["members"].iloc[0].split(",")
        if stem == "beeline_extra":
            assert listed == [], listed
            continue
        expect = {"my_plugin"} if stem == "table1_comparison" else {"my_plugin", "my_unsup"}
        assert expect <= set(listed) and "my_unsup" in listed or stem == "table1_comparison", (stem, listed)
        assert ("my_unsup" in listed) == (stem != "table1_comparison"), (stem, listed)
        assert all(m in md for m in expect), stem
        if {"pcc", "mi"} <= set(listed) and stem not in ("leaderboard", "average_ranks", "borda"):  # by rank; members as run
            known = [m for m in listed if m in ("pcc", "my_plugin", "mi")]
            assert known[:3] == ["pcc", "my_plugin", "mi"], (stem, listed)
    s = pd.read_csv(root / "tables" / "summary.tsv", sep="\t")
    order = list(s.loc[(s["scope"] == "test") & (s["split"] == "genelink") & (s["geneset"] == "tfs500"), "method"])
    assert order.index("pcc") + 1 == order.index("my_plugin") == order.index("mi") - 1, order
    assert order.index("my_unsup") == order.index("sctransnet") - 1, order
    t1 = pd.read_csv(root / "tables" / "table1_comparison.tsv", sep="\t")
    assert set(t1.loc[t1["method"] == "my_plugin", "variant"]) == {"My column"}

    # figures: its display name and its colour in every one, in reading order where listed
    assert sorted(figures) == sorted(FIGURE_STEMS)
    for stem in FIGURE_STEMS:
        texts, colors = figures[stem]["texts"], figures[stem]["colors"]
        assert any("My Plugin (test)" in t for t in texts), (stem, texts)
        if stem != "heatmap_auroc":  # coloured by AUROC, not by method
            assert "#123456" in colors, (stem, sorted(colors))
    for stem in ("performance_bars", "heatmap_auroc"):
        names = [t for t in figures[stem]["texts"] if t in ("PCC", "My Plugin (test)", "MI")]
        assert list(dict.fromkeys(names)) == ["PCC", "My Plugin (test)", "MI"], (stem, names)
