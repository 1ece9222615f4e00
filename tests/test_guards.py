"""Resource guards (issue 8, point 6): estimates from the input size and refusals before a start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grnbench import guards
from grnbench.errors import InputError
from grnbench.methods import registry

ROOT = Path(__file__).resolve().parents[1]


def test_every_registered_method_has_a_cost_model():
    """Every built-in class declares its own cost (not the generic default) and the index has it."""
    from grnbench.methods import costs

    for name, cls in registry.available().items():
        if not cls.__module__.startswith("grnbench.methods."):
            continue  # a test's plugin
        assert cls.cost is not costs.GENERIC, f"set a cost model (class attribute cost) on {cls.__qualname__} ({name})"
        assert guards.cost_models()[name] == dict(cls.cost), name
        costs.model(cls.cost)  # names a model that exists


def test_unknown_cost_model_is_refused_with_its_name():
    from grnbench.methods import costs

    with pytest.raises(InputError, match="'no_such_model'.*known:"):
        costs.evaluate({"model": "no_such_model"}, 10, 10, 1, {})
    with pytest.raises(InputError, match="'nowhere_mod:f'"):
        costs.evaluate({"model": "nowhere_mod:f"}, 10, 10, 1, {})


def test_unknown_method_gets_the_generic_supervised_cost():
    """A name no class declares: the generic model and no TF x gene edges term (as before)."""
    from grnbench.methods import costs

    est = guards.estimate("not_a_method", 400, 500, 40)
    mb, s = costs.deep(400, 500, 40, {}, **{k: v for k, v in costs.GENERIC.items() if k != "model"})
    mem = guards.BASE_MB + guards.data_mb(400, 500) + mb
    assert est == {"mem_mb": guards.SAFETY_MEM * mem, "runtime_min": guards.SAFETY_TIME * (guards.STARTUP_S + s) / 60}


@pytest.mark.parametrize("method", sorted(registry.load_index()))
def test_estimate_grows_with_every_size(method):
    p = guards.method_params(method)
    base = guards.estimate(method, 400, 500, 40, params=p)
    assert base["mem_mb"] >= guards.SAFETY_MEM * guards.BASE_MB and base["runtime_min"] > 0
    for bigger in [(800, 500, 40), (400, 1000, 40), (400, 500, 80)]:
        est = guards.estimate(method, *bigger, params=p)
        assert est["mem_mb"] >= base["mem_mb"] and est["runtime_min"] >= base["runtime_min"], bigger
    # ten times the genes costs strictly more memory (the data alone grows)
    assert guards.estimate(method, 4000, 500, 40, params=p)["mem_mb"] > base["mem_mb"]


def test_work_scales_with_the_hyperparameters_that_set_it():
    few = guards.estimate("genie3", 500, 500, 50, params={"n_estimators": 100})
    many = guards.estimate("genie3", 500, 500, 50, params={"n_estimators": 1000})
    assert many["runtime_min"] > 5 * few["runtime_min"]
    short = guards.estimate("genelink", 2000, 1000, 200, params={"epochs": 2})
    long = guards.estimate("genelink", 2000, 1000, 200, params={"epochs": 200})
    assert long["runtime_min"] > 10 * short["runtime_min"]


def test_genie3_on_20000_genes_is_refused_with_estimate_and_key():
    """The issue's example: GENIE3 (1000 trees) on 20,000 genes stops before starting."""
    with pytest.raises(InputError) as e:
        guards.check_size(
            "genie3", 20_000, 1_000, n_tfs=1_500, params=guards.method_params("genie3")
        )
    msg = str(e.value)
    assert "genie3 on 20000 genes x 1000 cells" in msg
    assert "estimate:" in msg and "MB" in msg and "min" in msg
    assert "methods.genie3.guard.runtime_min" in msg and "guards.runtime_min" in msg
    # raising the limit named in the message lets it through
    est = guards.check_size("genie3", 20_000, 1_000, {"runtime_min": None}, n_tfs=1_500)
    assert est["runtime_min"] > guards.DEFAULT_LIMITS["runtime_min"]


def test_max_genes_and_cells_limits():
    guards.check_size("pcc", 400, 300, {"max_genes": 400, "max_cells": 300})
    with pytest.raises(InputError, match=r"methods\.pcc\.guard\.max_genes.*401 genes"):
        guards.check_size("pcc", 401, 300, {"max_genes": 400})
    with pytest.raises(InputError, match=r"max_cells"):
        guards.check_size("pcc", 400, 301, {"max_cells": 300})
    with pytest.raises(InputError, match=r"mem_mb"):
        guards.check_size("ppcor", 50_000, 300, {"mem_mb": 24 * 1024, "runtime_min": None})


def test_limits_from_config_method_over_global():
    cfg = {"guards": {"mem_mb": 8000, "max_genes": 5000},
           "methods": {"genie3": {"guard": {"max_genes": 800}}, "pcc": {}}}  # fmt: skip
    assert guards.limits_for("genie3", cfg) == {"mem_mb": 8000, "runtime_min": 48 * 60, "max_genes": 800,
                                                "max_cells": None}  # fmt: skip
    assert guards.limits_for("pcc", cfg)["max_genes"] == 5000
    assert guards.limits_for("pcc", {}) == guards.DEFAULT_LIMITS


def test_resources_from_stats_json(tmp_path):
    stats = tmp_path / "stats.json"
    stats.write_text(json.dumps({"genes": 99, "cells": 250, "tfs": 21, "edges": 132}))
    r = guards.resources("pcc", stats)
    assert set(r) == {"mem_mb", "runtime"} and all(isinstance(v, int) for v in r.values())
    assert r["mem_mb"] >= 1000 and 1 <= r["runtime"] <= 5
    big = guards.resources("genie3", {"genes": 5000, "cells": 2000, "tfs": 500})
    assert big["runtime"] > 60 * r["runtime"]
    # the small preset costs less than the paper defaults
    small = guards.resources("deepdrim", {"genes": 500, "cells": 500, "tfs": 50}, preset="small")
    paper = guards.resources("deepdrim", {"genes": 500, "cells": 500, "tfs": 50})
    assert small["runtime"] < paper["runtime"]
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(InputError, match="bad.json"):
        guards.resources("pcc", tmp_path / "bad.json")


def test_largest_genes_inverts_the_estimate():
    g = guards.largest_genes("ppcor", 1000)
    assert 1000 < g < 100_000
    lim = 24 * 1024
    assert guards.estimate("ppcor", g, 1000, round(0.1 * g))["mem_mb"] <= lim
    assert guards.estimate("ppcor", g + 1, 1000, round(0.1 * (g + 1)))["mem_mb"] > lim


CHILD = """
import json, resource, sys
sys.path.insert(0, {tests!r})
from conftest import tiny_grn
from grnbench.methods import get
d = tiny_grn(0, {T}, {G}, {C})
get({method!r})().infer(d, seed=0, threads=1)
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
"""


@pytest.mark.parametrize("method, T, G, C", [("pcc", 40, 400, 600), ("mi", 40, 400, 600)])
def test_estimate_bounds_measured_peak_memory(method, T, G, C):
    """The memory estimate is an upper bound of a real run's peak RSS, and not a wild one."""
    code = CHILD.format(tests=str(ROOT / "tests"), method=method, T=T, G=G, C=C)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    peak = json.loads(r.stdout.strip().splitlines()[-1])
    est = guards.estimate(method, G, C, T)["mem_mb"]
    assert peak <= est <= 4 * peak, (peak, est)
