"""GPU path: every trainable method fits and predicts on CUDA (skipped without a GPU).

The project never needs a GPU; these checks run where one is present (``device: auto`` picks it).
They assert that the work really ran on the GPU (peak GPU memory allocated), that scores are
finite, and that the CUDA fit's test AUROC is within 0.12 of the CPU fit of the same seed.
Scores are not compared: CPU and CUDA fits of the same seed drift apart like two seeds (measured
on an H100: r = 0.82 between the scores of sctransnet_no_encoder after one epoch; GPU random
streams and reduction order differ). Whether a method learns at all is tests/test_supervised.py's
and tests/test_sctransnet_method.py's job.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from grnbench.data.dataset import GRNData
from grnbench.data.simulate import simulate_dataset
from grnbench.data.splits import genelink_split
from grnbench.methods import registry

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")

SUPERVISED = ["genelink", "gnnlink", "gne", "cnnc", "deepdrim", "grn_transformer"]
SCTRANSNET = ["sctransnet", "sctransnet_no_gnn", "sctransnet_no_encoder", "sctransnet_no_attnpool"]


@pytest.fixture(scope="module")
def sim():
    data = GRNData(simulate_dataset(n_tfs=30, n_genes=200, n_cells=200, seed=7).to_adata(), name="sim")
    split = genelink_split(data, seed=1)
    return data, *(split[split["Part"] == p].reset_index(drop=True) for p in ("train", "val", "test"))


@pytest.mark.parametrize("name", SUPERVISED + SCTRANSNET)
def test_fits_on_cuda(name, sim, tmp_path):
    data, train, val, test = sim
    extra = {"pretrain_cache": str(tmp_path), "pretrain_epochs": 2, "progress": False} if name.startswith("sctransnet") else {}
    m = registry.get(name)(preset="small", device="cuda", **extra)
    torch.cuda.reset_peak_memory_stats()
    m.fit(data, train, val, seed=0)
    s = m.predict(data, test)
    assert s.shape == (len(test),) and np.all(np.isfinite(s))
    assert torch.cuda.max_memory_allocated() > 0, f"{name} allocated nothing on the GPU"
    cpu = registry.get(name)(preset="small", device="cpu", **extra).fit(data, train, val, seed=0)
    auc, auc_cpu = roc_auc_score(test["Label"], s), roc_auc_score(test["Label"], cpu.predict(data, test))
    assert abs(auc - auc_cpu) < 0.12, f"{name}: test AUROC {auc:.3f} on CUDA, {auc_cpu:.3f} on CPU"

