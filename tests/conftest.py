"""Shared fixtures: a tiny dataset with a known network and its GENELink split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grnbench.data.dataset import GRNData, make_adata

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def tiny_grn(seed: int = 0, n_tfs: int = 8, n_genes: int = 60, n_cells: int = 300) -> GRNData:
    """Linear-Gaussian toy: each target = sum of its 2-4 TFs' expression (+/-) plus noise.

    Small and fast, for unit tests of methods; the workflow uses grnbench.data.simulate.
    """
    rng = np.random.default_rng(seed)
    genes = [f"G{i:03d}" for i in range(n_genes)]
    tfs = genes[:n_tfs]
    x = np.zeros((n_cells, n_genes))
    x[:, :n_tfs] = rng.gamma(2.0, 1.0, size=(n_cells, n_tfs))
    edges = []
    for j in range(n_tfs, n_genes):
        regs = rng.choice(n_tfs, size=rng.integers(2, 5), replace=False)
        w = rng.choice([-1.0, 1.0], size=len(regs)) * rng.uniform(0.5, 1.5, size=len(regs))
        x[:, j] = x[:, regs] @ w + rng.normal(0, 2.0, n_cells)
        edges += [(tfs[r], genes[j]) for r in regs]
    x = np.log1p(np.maximum(x - x.min(axis=0), 0))
    expr = pd.DataFrame(x, index=[f"c{i}" for i in range(n_cells)], columns=genes)
    net = pd.DataFrame(edges, columns=["Gene1", "Gene2"])
    pt = pd.Series(np.linspace(0, 1, n_cells), index=expr.index)
    return GRNData(make_adata(expr, tfs, net, pseudotime=pt, provenance={"source": "tiny_grn"}), name="tiny")


@pytest.fixture(scope="session")
def tiny_data() -> GRNData:
    return tiny_grn()


@pytest.fixture(scope="session")
def tiny_split(tiny_data):
    from grnbench.data.splits import genelink_split

    return genelink_split(tiny_data, seed=0)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.exists():
        pytest.skip(f"real data folder {SHARED} is absent (CI and developers have ../shared)")
    return SHARED


#: What a workflow run needs besides the installed package.
WORKFLOW_FILES = ("Snakefile", "rules", "workflow_scripts", "config", "envs", "resources", "report", "profiles")


def copy_workflow(dest: Path) -> Path:
    """A private copy of the workflow (tests that run Snakemake must not lock the checkout)."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    return dest
