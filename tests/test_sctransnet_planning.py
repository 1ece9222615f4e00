"""scTransNet's torch-free planning key (config.pretrain_key) follows exactly the settings that make
a pretrained encoder (pretrain.encoder_key's identity), and its params resolve once (merge_params)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grnbench.errors import InputError
from grnbench.methods.registry import merge_params
from grnbench.models.sctransnet.config import (
    DEFAULTS,
    PRESETS,
    PRETRAIN_KEYS,
    pretrain_key,
    resolve_params,
)

TINY = {"enc_dim": 8, "enc_depth": 2, "enc_heads": 2, "enc_dim_head": 4, "enc_features": 6, "pretrain_epochs": 2,
        "pretrain_batch": 64, "pretrain_lr": 1e-3, "progress": False}
# need a file (in the identity by path and hash), or count only with one (finetune_epochs: an
# official checkpoint's MLM epochs; the workflow never pretrains for a given checkpoint)
FILES = {"encoder_checkpoint", "panel_genes", "gene2vec_path", "finetune_epochs"}
CHANGED = {"gene_embedding_standin": "random", "expression_log_base": "e", "pooling_norm": "softmax",
           "node_features": "log", "decoder": "mlp", "patience": 5, "pretrain_cache": "/tmp/cache",
           "gene_embeddings": "vectors.tsv", "batch_size": None, "gnn_dims": [8, 4], "head_dims": [8, 4]}


def _other(key, value):
    if key in CHANGED:
        return CHANGED[key]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 if value else 0.5
    raise AssertionError(f"no changed value for {key}={value!r}; add one to CHANGED")


@pytest.mark.parametrize("key", sorted(set(DEFAULTS) - FILES))
def test_planning_key_changes_exactly_when_the_encoder_does(tiny_data, key):
    from grnbench.models.sctransnet.pretrain import encoder_key

    base = resolve_params(TINY)
    changed = {**base, key: _other(key, base[key])}
    enc = [encoder_key(tiny_data, p, seed=int(p["pretrain_seed"])) for p in (base, changed)]
    plan = [pretrain_key(p) for p in (base, changed)]
    assert (enc[0] != enc[1]) == (key in PRETRAIN_KEYS), f"{key}: encoder identity {'changes' if enc[0] != enc[1] else 'stays'}"
    assert (plan[0] != plan[1]) == (enc[0] != enc[1]), key


def test_file_settings_are_encoder_settings():
    assert FILES <= set(PRETRAIN_KEYS) <= set(DEFAULTS)


def test_resolve_params_is_merge_params():
    for preset in (None, *PRESETS):
        assert resolve_params({"epochs": 3}, preset) == merge_params("sctransnet", DEFAULTS, PRESETS, preset, {"epochs": 3})
    assert "device" not in resolve_params({"device": "cpu"})
    with pytest.raises(InputError, match=r"methods.sctransnet.params.*unknown parameter\(s\) \['nope'\]"):
        resolve_params({"nope": 1})
    with pytest.raises(InputError, match="methods.sctransnet.preset.*unknown preset 'tiny'"):
        resolve_params({}, "tiny")


def test_planning_imports_no_torch():
    code = ("import sys; from grnbench.models.sctransnet.config import pretrain_key, resolve_params; "
            "pretrain_key(resolve_params({}, 'small')); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
