"""scBERT's expression tokens.

scBERT (Yang et al. 2022) turns one cell into a token sequence over a fixed gene *panel*:

1. map the cell's genes onto the panel (panel genes the data lacks get count 0);
2. normalise to ``target_sum`` = 1e4 counts per cell;
3. ``v = log2(1 + x)``;
4. token ``= floor(min(v, 5))`` -> bins 0..5 (token 6 is the mask / pad token);
5. append one token 0 (its position has the all-zero gene embedding).

Our datasets hold *log-normalised* expression (``GRNData.expression()``), not counts. We undo
the log with ``b**x - 1`` (``expression_log_base``: ``e`` -> ``expm1``, ``2``, ``10``; or
``counts`` when X already holds counts) to get counts-like values; steps 2-4 are invariant to
the per-cell scale that normalisation removed, so only the log base matters. Negative inputs
(e.g. a z-scored file) are clipped to 0 and counted.
"""

from __future__ import annotations

import hashlib

import numpy as np

from grnbench.errors import InputError

N_BINS = 5  # tokens 0..5
MASK_TOKEN = 6  # scBERT: CLASS - 1 = 6, also the pad token
NUM_TOKENS = 7


def counts_from_log(x: np.ndarray, log_base: str | float = "e") -> np.ndarray:
    """Counts-like values from log-normalised expression: ``b**x - 1`` (clipped at 0)."""
    x = np.asarray(x, dtype=np.float64)
    base = str(log_base)
    if base == "counts":
        out = x.copy()
    elif base == "e":
        out = np.expm1(x)
    elif base in ("2", "2.0"):
        out = np.exp2(x) - 1.0
    elif base in ("10", "10.0"):
        out = np.power(10.0, x) - 1.0
    else:
        raise InputError("sctransnet params: expression_log_base", f"expected e, 2, 10 or counts, got {log_base!r}")
    return np.maximum(out, 0.0)


def map_to_panel(counts: np.ndarray, genes: list[str], panel: list[str]) -> np.ndarray:
    """Cells x panel matrix: column p holds the data's gene ``panel[p]`` or 0 when absent."""
    pos = {g: i for i, g in enumerate(genes)}
    out = np.zeros((counts.shape[0], len(panel)), dtype=np.float64)
    src = np.array([pos.get(g, -1) for g in panel], dtype=np.int64)
    have = src >= 0
    out[:, have] = counts[:, src[have]]
    return out


def scbert_tokens(panel_counts: np.ndarray, target_sum: float = 1e4, append_zero: bool = True) -> np.ndarray:
    """Tokens of cells x panel counts (steps 2-5 of the module docstring), int64.

    ``token = floor(min(log2(1 + target_sum * x / sum(x)), 5))``; cells with no counts get 0s.
    """
    x = np.asarray(panel_counts, dtype=np.float64)
    lib = x.sum(axis=1, keepdims=True)
    scaled = np.divide(x * target_sum, lib, out=np.zeros_like(x), where=lib > 0)
    v = np.log2(1.0 + scaled)
    tok = np.floor(np.minimum(v, N_BINS)).astype(np.int64)
    if append_zero:
        tok = np.concatenate([tok, np.zeros((tok.shape[0], 1), dtype=np.int64)], axis=1)
    return tok


def data_tokens(expression: np.ndarray, genes: list[str], panel: list[str], log_base: str | float = "e") -> np.ndarray:
    """Full route from ``GRNData.expression()`` to token sequences of length ``len(panel) + 1``."""
    counts = counts_from_log(expression, log_base)
    return scbert_tokens(map_to_panel(counts, list(genes), list(panel)))


def gene_positions(genes: list[str], panel: list[str]) -> np.ndarray:
    """Sequence position of each data gene in the panel, -1 where the panel lacks it."""
    pos = {g: i for i, g in enumerate(panel)}
    return np.array([pos.get(g, -1) for g in genes], dtype=np.int64)


def fingerprint(*arrays: np.ndarray, extra: str = "") -> str:
    """SHA-1 of arrays' bytes (with shapes) and a string: identifies pretraining inputs."""
    h = hashlib.sha1()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    h.update(extra.encode())
    return h.hexdigest()


def read_panel(path) -> list[str]:
    """One gene symbol per line (blank lines are an error: they would shift every position)."""
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        raise InputError(p, "panel gene file does not exist")
    lines = p.read_text().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    for i, g in enumerate(lines):
        if not g.strip():
            raise InputError(p, "empty line in panel gene list (one symbol per line expected)", where=f"line {i + 1}")
    return [g.strip() for g in lines]
