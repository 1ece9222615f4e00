"""Gene (position) embeddings of the encoder: gene2vec from a file, or a documented stand-in.

scBERT adds a frozen 200-d gene2vec vector to every token (paper eq 1: ``E_i = emb_gene2vec(g_i)
+ emb_expr(x_i)``), one row per panel gene plus an all-zero row for the appended token.
gene2vec cannot be downloaded here, so without ``gene2vec_path`` we build a stand-in:

- ``coexpression`` (default): the genes' co-expression structure in the training expression.
  With ``Z`` the cells x genes matrix z-scored per gene, ``Z / sqrt(n) = U S V^T`` and gene ``g``
  gets row ``g`` of ``V_k S_k`` (k = dim leading components), so ``e_i . e_j`` approximates the
  Pearson correlation of genes i and j, like gene2vec's co-expression-derived similarity.
  Rows are rescaled to norm ``sqrt(dim)`` (the scale of a unit-variance embedding) so gene
  identity is visible next to the N(0, 1) expression embeddings. Deterministic (SVD with a sign
  convention). Uses expression only, never labels.
- ``random``: seeded N(0, 1) vectors (an identity code without co-expression information).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grnbench.errors import InputError


def read_gene2vec(path) -> dict[str, np.ndarray]:
    """gene2vec text format: ``SYMBOL v1 v2 ...`` per line (a word2vec ``count dim`` header is skipped)."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "gene2vec file does not exist")
    out: dict[str, np.ndarray] = {}
    dim = None
    with p.open() as fh:
        for n, line in enumerate(fh, start=1):
            parts = line.split()
            if not parts:
                continue
            if n == 1 and len(parts) == 2 and all(s.isdigit() for s in parts):
                continue  # word2vec header "n_words dim"
            try:
                vec = np.array([float(s) for s in parts[1:]], dtype=np.float32)
            except ValueError:
                raise InputError(p, "expected a gene symbol followed by numbers", where=f"line {n}") from None
            if dim is None:
                dim = len(vec)
            if len(vec) != dim or dim == 0:
                raise InputError(p, f"expected {dim} numbers after the symbol, got {len(vec)}", where=f"line {n}")
            out[parts[0]] = vec
    if not out:
        raise InputError(p, "no vectors found")
    return out


def gene2vec_matrix(panel: list[str], path, dim: int) -> tuple[np.ndarray, int]:
    """(len(panel) + 1, dim) matrix from a gene2vec file and the number of panel genes it lacks (zero rows)."""
    vecs = read_gene2vec(path)
    got = len(next(iter(vecs.values())))
    if got != dim:
        raise InputError(path, f"vectors have {got} numbers but the encoder dimension (enc_dim) is {dim}")
    w = np.zeros((len(panel) + 1, dim), dtype=np.float32)
    missing = 0
    for i, g in enumerate(panel):
        v = vecs.get(g)
        if v is None:
            missing += 1
        else:
            w[i] = v
    return w, missing


def coexpression_embedding(expression: np.ndarray, dim: int) -> np.ndarray:
    """(genes, dim) stand-in: leading right singular vectors of the z-scored expression (module doc)."""
    x = np.asarray(expression, dtype=np.float64)
    n = max(x.shape[0], 1)
    sd = x.std(axis=0)
    z = np.divide(x - x.mean(axis=0), sd, out=np.zeros_like(x), where=sd > 0) / np.sqrt(n)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    k = min(dim, len(s))
    comp = vt[:k].T * s[:k]  # genes x k
    # sign convention: the largest-magnitude loading of each component is positive
    flip = np.sign(comp[np.abs(comp).argmax(axis=0), np.arange(k)])
    comp = comp * np.where(flip == 0, 1.0, flip)
    emb = np.zeros((x.shape[1], dim))
    emb[:, :k] = comp
    norm = np.linalg.norm(emb, axis=1, keepdims=True)
    emb = np.divide(emb * np.sqrt(dim), norm, out=np.zeros_like(emb), where=norm > 0)
    return emb.astype(np.float32)


def random_embedding(n_genes: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n_genes, dim)).astype(np.float32)


def panel_embedding(
    panel: list[str], expression: np.ndarray, genes: list[str], dim: int, *, gene2vec_path=None,
    standin: str = "coexpression", seed: int = 0,
) -> tuple[np.ndarray, str]:
    """(len(panel) + 1, dim) frozen gene embedding and a label naming its source.

    The last row (appended token) is zero, as in scBERT. Stand-ins are computed on the data's
    genes; panel genes the data lacks get zero rows.
    """
    if gene2vec_path:
        w, missing = gene2vec_matrix(panel, gene2vec_path, dim)
        return w, f"gene2vec ({Path(gene2vec_path).name}; {missing} of {len(panel)} panel genes absent -> zero)"
    if standin == "coexpression":
        g = coexpression_embedding(expression, dim)
        label = f"co-expression stand-in (SVD of z-scored expression, {len(genes)} genes, d={dim})"
    elif standin == "random":
        g = random_embedding(len(genes), dim, seed)
        label = f"random stand-in (N(0,1), seed {seed}, d={dim})"
    else:
        raise InputError("sctransnet params: gene_embedding_standin", f"expected coexpression or random, got {standin!r}")
    pos = {gene: i for i, gene in enumerate(genes)}
    w = np.zeros((len(panel) + 1, dim), dtype=np.float32)
    for i, gene in enumerate(panel):
        if gene in pos:
            w[i] = g[pos[gene]]
    return w, label
