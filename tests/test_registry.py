"""The light method index: planning reads each method's facts without importing its code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grnbench.errors import InputError
from grnbench.methods import registry


def test_index_equals_what_the_classes_say():
    """index.json is made from the classes; after a change run `grnbench methods --write-index`."""
    on_disk = json.loads(registry.INDEX_PATH.read_text())
    assert on_disk == registry.build_index(), "src/grnbench/methods/index.json is stale: run grnbench methods --write-index"


def test_planning_imports_no_method_module():
    code = ("import sys; import grnbench.methods.registry as r; m = r.planning_methods(); "
            "r.info('sctransnet').params('small'); "
            "bad = [k for k in sys.modules if k.split('.')[0] in ('torch', 'anndata', 'torch_geometric', 'sklearn')]; "
            "print(len(m), bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) >= 20 and out[1] == "[]", out


def test_one_params_resolution():
    from grnbench.guards import method_params
    from grnbench.methods import get

    for name in ("genelink", "sctransnet", "pcc"):
        cls = get(name)
        for preset in [None, *sorted(cls.presets)]:
            merged = registry.info(name).params(preset, {})
            assert merged == json.loads(json.dumps(cls(preset=preset).params, default=str)), (name, preset)
            assert method_params(name, preset, {}) == merged
    with pytest.raises(InputError, match=r"methods\.genelink\.preset"):
        registry.info("genelink").params("nope")
    with pytest.raises(InputError, match=r"methods\.genelink\.params.*'bogus'"):
        get("genelink")(bogus=1)
