"""Our own GRN simulator: the embedded, offline default data of the benchmark.

One call, :func:`simulate_dataset`, draws a directed TF -> target network, runs every cell's
mRNA levels along a differentiation trajectory with a chemical Langevin equation, and samples
UMI-like counts with library-size variation and dropout. :func:`write_beeline` writes the
result in BEELINE's input format. Everything is seeded: the same arguments give the same
numbers and byte-identical files.

Model (all steps vectorised with NumPy; equation numbers refer to this docstring)
-----------------------------------------------------------------------------------

**Genes.** ``n_tfs`` TFs, of which ``n_master`` are *master* TFs with no regulator in the
network (their production follows a hidden time program, eq. 4), and ``n_genes - n_tfs``
other genes: a fraction ``frac_targets`` are *targets* (regulated by TFs), the rest are
*background* genes with no regulator: ``frac_background_trend`` of them follow their own
hidden time program (they correlate with the trajectory, hence with TFs, without being
regulated: the confounder every correlation method meets in real data), the others are
constant apart from noise.

**Network.** Non-master TFs get a random topological order after the masters, so the TF
layer is a DAG (TFs regulate TFs, no cycles). A fraction ``frac_tf_regulators`` of the
non-master TFs (and every master) are *regulators*. Each regulator ``r`` has an attachment
weight ``w_r = rank_r ** -outdegree_exponent`` over a random ranking, so out-degrees are
heavy-tailed (a few hub TFs regulate many genes). Each regulated gene draws its in-degree
``k = min(1 + Poisson(mean_indegree - 1), max_indegree)`` and picks ``k`` distinct
regulators with probability proportional to ``w_r`` (for a TF: among the regulators before it
in the order). Each edge is activating with probability ``p_activation`` (``Type`` ``+``)
else repressing (``-``), with a Hill coefficient drawn from ``hill_coefficients``.

**Two datasets on part of one network** (the ``cross_dataset`` split protocol). With
``network_seed`` set, the network, the time programs and the gene names are those of the dataset
simulated with ``seed = network_seed`` (same sizes and network parameters: the same gene is the
same name in both); kinetics, cells, counts and pseudotime noise still follow ``seed``. With
``shared_edges`` < 1, ``round(shared_edges * m)`` of the ``m`` edges (chosen at random from
``seed``) are kept; each other edge gets a new regulator of the same target, drawn as above
(attachment weights, a TF's regulators precede it), never one of the target's regulators before
or after, with a new sign and Hill coefficient. An edge whose target has no such candidate stays;
``stats["edges_moved"]`` counts the moved ones. The defaults (``None``, ``1.0``) draw exactly what
earlier versions drew.

**Regulation (Hill kinetics).** With ``z_e = x_src / K_e`` and ``h_e = z_e^n / (1 + z_e^n)``::

    f_g = A_g * prod_{e in rep(g)} (1 - h_e)                                         (1)
    A_g = sum_{e in act(g)} v_e h_e   ("OR" gene, weights v_e summing to 1)
    A_g = prod_{e in act(g)} h_e      ("AND" gene, probability p_and_logic)
    A_g = 1                           (no activator)

``K_e`` is set, per regulator, to the midpoint of the regulator's noise-free mean trajectory
(minimum and maximum over time and branches) times a jitter in [0.75, 1.25], so every edge
works in its sensitive range.

**Production and dynamics (chemical Langevin equation, Euler-Maruyama, step ``dt``)**::

    P_ig = c_i * beta_g * (basal + (1 - basal) * f_ig(t))                            (2)
    x_ig(t + dt) = max(0, x_ig + (P_ig - gamma_g x_ig) dt
                          + eta * sqrt((P_ig + gamma_g x_ig) dt) * N(0, 1))          (3)

``beta_g / gamma_g`` is the gene's maximum mean level (molecules, log-normal across genes),
``c_i`` a per-cell extrinsic factor (log-normal, sd ``extrinsic_sd``), ``eta`` =
``intrinsic_noise`` scales the CLE noise (1 = plain CLE; above 1 mimics bursty transcription).

**Time programs** of masters and trend genes::

    u(t) = sigmoid((t - tau) / width)   or   1 - sigmoid(...)                       (4)

with ``tau`` uniform in the simulated time range. With ``n_branches > 1``, cells are split
evenly between branches and a share of the masters is branch-specific: their switch lies
after ``branch_time`` and only fires in cells of their branch (elsewhere ``u`` stays at its
initial value).

**Cells.** Each cell is one independent trajectory started from the noise-free steady state
at ``t = 0`` (times a log-normal jitter), run through a burn-in of ``burn_in`` time units
with the programs frozen, then to its own capture time ``t_i ~ U(0, t_end)``.
``PseudoTime = clip(t_i / t_end + N(0, pseudotime_noise), 0, 1)`` (pseudotime inference is
never exact).

**Counts.** Expected UMI count ``mu_ig = efficiency * L_i * x_ig`` with library factor
``L_i`` log-normal (sd ``library_sd``); counts are negative binomial (gamma-Poisson) with
dispersion ``dispersion``; then technical dropout zeroes each count with probability::

    p_drop(mu) = 1 / (1 + exp(dropout_slope * (ln mu - ln dropout_midpoint)))         (5)

At the defaults (40 TFs, 400 genes, 300 cells; seeds 0-7) 10-12% of the non-zero counts are
dropped and 22-27% of all entries are zero, as in BEELINE's full-length data sets (the mDC
TFs+500 matrix of GENELink is 22% zeros). ``SimResult.stats`` records both for every run; the
tests check the wider ranges 5-30% and 15-50%.

**Log-normalisation** (:func:`log2_library_size_normalise`), as BEELINE's hESC preprocessing does with
median-by-ratio size factors: ``log2(1 + counts / s_i)`` with ``s_i`` = library size /
median library size.

Realism checks (tests/test_simulate.py): network density over (TFs with edges x targets)
within 0.05-0.2 (about ``mean_indegree`` / number of regulators, so it falls as ``n_tfs`` grows);
Pearson-correlation AUROC over TF -> gene pairs clearly above 0.5 but far from 1 (0.62-0.72 over
seeds 0-7 at the default size). With BEELINE's variance test (grnbench.data.preprocess) about
31 of the 40 TFs and 160 other genes pass at the default size.
"""

from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from grnbench.errors import InputError
from grnbench.utils import atomic_path

#: Default parameters of :func:`simulate_dataset` (sizes excepted). Each is described in the
#: module docstring.
DEFAULTS: dict[str, Any] = {
    # network
    "n_master": None,  # None -> max(2, n_tfs // 8)
    "frac_tf_regulators": 0.5,
    "outdegree_exponent": 1.0,
    "mean_indegree": 2.0,
    "max_indegree": 6,
    "frac_targets": 0.6,
    "frac_background_trend": 0.2,
    "p_activation": 0.65,
    "p_and_logic": 0.3,
    "hill_coefficients": (2.0, 3.0, 4.0),
    # a second dataset on part of another's network (cross_dataset protocol)
    "network_seed": None,  # None -> seed; else network and gene names of that seed's dataset
    "shared_edges": 1.0,  # fraction of that network's edges kept; the others get a new regulator
    # kinetics
    "tf_level_median": 100.0,
    "gene_level_median": 100.0,
    "level_sd": 1.0,
    "gamma_range": (0.5, 1.5),
    "basal": 0.05,
    "intrinsic_noise": 2.0,
    "extrinsic_sd": 0.15,
    # trajectory
    "t_end": 10.0,
    "dt": 0.05,
    "burn_in": 2.0,
    "n_branches": 1,
    "branch_time": 0.3,  # fraction of t_end
    "switch_width": 0.05,  # fraction of t_end
    "initial_jitter": 0.1,
    "pseudotime_noise": 0.02,
    # counts
    "efficiency": 0.15,
    "library_sd": 0.4,
    "dispersion": 0.1,
    "dropout_midpoint": 0.5,
    "dropout_slope": 1.0,
}

ROLES = ("master_tf", "tf", "target", "background_trend", "background")


@dataclass
class SimResult:
    """Output of :func:`simulate_dataset`.

    Attributes:
        counts: genes x cells UMI counts (int64).
        pseudotime: per cell, in [0, 1] (index = cell names); the time along the cell's branch.
        network: ground truth, columns ``Gene1`` (TF), ``Gene2`` (target), ``Type`` (+/-).
        tfs: TF names, in gene order.
        branch: per cell, its branch index (all 0 with one branch); with several branches,
            -1 for cells captured before the branch point (on every branch's trunk).
        roles: per gene, one of :data:`ROLES`.
        mrna: genes x cells true mRNA levels before sampling (molecules, float).
        params: every parameter used (defaults filled in), sizes and seed included.
        stats: measured facts of this run (zero fraction, dropout fraction, density...).
    """

    counts: pd.DataFrame
    pseudotime: pd.Series
    network: pd.DataFrame
    tfs: list[str]
    branch: pd.Series
    roles: pd.Series
    mrna: pd.DataFrame
    params: dict[str, Any]
    stats: dict[str, float] = field(default_factory=dict)

    def expression(self) -> pd.DataFrame:
        """Log-normalised expression, genes x cells (see :func:`log2_library_size_normalise`)."""
        return log2_library_size_normalise(self.counts)

    def to_adata(self):
        """The internal AnnData (cells x genes), see :mod:`grnbench.data.dataset`."""
        from grnbench.data.dataset import make_adata

        prov = {
            "source": "grnbench.data.simulate",
            "name": f"sim/seed{self.params['seed']}",
            "params": {k: v for k, v in self.params.items() if v is not None},
        }
        return make_adata(
            self.expression().T,
            self.tfs,
            self.network,
            pseudotime=self.pseudotime,
            provenance=prov,
        )


# --- network ------------------------------------------------------------------------------


@dataclass
class _Edges:
    """Edges sorted by target gene, with per-target segments for ``ufunc.reduceat``."""

    src: np.ndarray
    dst: np.ndarray
    sign: np.ndarray  # +1 activating, -1 repressing
    hill: np.ndarray
    K: np.ndarray
    or_weight: np.ndarray  # v_e of eq. 1 for activators of OR genes, else 0
    and_gene: np.ndarray  # per gene: AND logic for activators

    def __post_init__(self) -> None:
        # Product factor c0 + c1 h of eq. 1: AND-activators h, repressors 1 - h, OR-activators 1.
        act, or_act = self.sign > 0, self.or_weight > 0
        self.c0 = np.where(act & ~or_act, 0.0, 1.0)
        self.c1 = np.where(act, np.where(or_act, 0.0, 1.0), -1.0)
        # Per target gene (segments of edges sorted by dst): genes, first edge, has OR-activator.
        self.genes, self.starts = np.unique(self.dst, return_index=True)
        self.has_or = (
            np.add.reduceat(or_act.astype(float), self.starts) > 0
            if len(self.dst)
            else np.zeros(0, bool)
        )

    def sorted(self) -> _Edges:
        o = np.lexsort((self.src, self.dst))
        return _Edges(
            self.src[o], self.dst[o], self.sign[o], self.hill[o], self.K[o],
            self.or_weight[o], self.and_gene,
        )  # fmt: skip

    def subset(self, mask: np.ndarray) -> _Edges:
        return _Edges(
            self.src[mask], self.dst[mask], self.sign[mask], self.hill[mask], self.K[mask],
            self.or_weight[mask], self.and_gene,
        )  # fmt: skip


def _draw_network(n_tfs: int, n_genes: int, p: dict, rng: np.random.Generator,
                  rng_rewire: np.random.Generator | None = None):
    """Roles, regulator order, edges (module docstring, "Network") and how many edges were
    moved to a new regulator (``shared_edges`` < 1, drawn with ``rng_rewire``)."""
    n_master = p["n_master"] if p["n_master"] is not None else max(2, n_tfs // 8)
    if not 1 <= n_master < n_tfs:
        raise InputError("simulate.n_master", f"must be in [1, n_tfs - 1], got {n_master}")
    n_other = n_genes - n_tfs
    n_targets = int(round(p["frac_targets"] * n_other))
    n_bg = n_other - n_targets
    n_trend = int(round(p["frac_background_trend"] * n_bg))
    roles = np.array(
        ["master_tf"] * n_master
        + ["tf"] * (n_tfs - n_master)
        + ["target"] * n_targets
        + ["background_trend"] * n_trend
        + ["background"] * (n_bg - n_trend)
    )

    # Topological order of TFs: masters first, then the others shuffled (index = position).
    order = np.concatenate([np.arange(n_master), n_master + rng.permutation(n_tfs - n_master)])
    position = np.empty(n_tfs, dtype=np.int64)
    position[order] = np.arange(n_tfs)
    is_reg = np.zeros(n_tfs, dtype=bool)
    is_reg[:n_master] = True
    others = np.arange(n_master, n_tfs)
    n_reg_other = int(round(p["frac_tf_regulators"] * len(others)))
    is_reg[rng.choice(others, size=n_reg_other, replace=False)] = True
    # Heavy-tailed attachment weights: hub TFs regulate many genes.
    weight = np.zeros(n_tfs)
    regs = np.flatnonzero(is_reg)
    weight[regs] = (1.0 + rng.permutation(len(regs))) ** -p["outdegree_exponent"]

    src, dst = [], []
    regulated = list(order[n_master:]) + list(range(n_tfs, n_tfs + n_targets))
    for g in regulated:
        cand = regs if g >= n_tfs else regs[position[regs] < position[g]]
        k = 1 + rng.poisson(max(p["mean_indegree"] - 1.0, 0.0))
        k = int(min(k, p["max_indegree"], len(cand)))
        w = weight[cand] / weight[cand].sum()
        chosen = rng.choice(cand, size=k, replace=False, p=w)
        src += list(chosen)
        dst += [g] * k
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    m = len(src)
    sign = np.where(rng.random(m) < p["p_activation"], 1, -1)
    hill = rng.choice(np.asarray(p["hill_coefficients"], dtype=float), size=m)
    and_gene = rng.random(n_genes) < p["p_and_logic"]
    raw = rng.uniform(0.5, 1.5, size=m)
    n_moved = 0
    if p["shared_edges"] < 1.0:
        n_moved = _rewire(src, dst, sign, hill, raw, regs, weight, position, n_tfs, p,
                          rng_rewire if rng_rewire is not None else rng)
    or_weight = np.where((sign > 0) & ~and_gene[dst], raw, 0.0)
    tot = np.bincount(dst, weights=or_weight, minlength=n_genes)
    or_weight = np.where(or_weight > 0, or_weight / np.maximum(tot[dst], 1e-12), 0.0)
    edges = _Edges(src, dst, sign, hill, np.full(m, np.nan), or_weight, and_gene).sorted()
    return roles, order, edges, n_moved


def _rewire(src, dst, sign, hill, raw, regs, weight, position, n_tfs, p, rng) -> int:
    """Keep ``round(shared_edges * m)`` edges (chosen at random); give each other edge a new
    regulator of the same target, drawn as in the network model (attachment weights; a TF's
    regulators precede it), never one of the target's regulators before or after, with a new
    sign, Hill coefficient and OR weight. An edge without such a candidate stays (not moved).
    Arrays are changed in place; returns how many edges were moved."""
    m = len(src)
    move = np.sort(rng.choice(m, size=m - int(round(p["shared_edges"] * m)), replace=False))
    original: dict[int, set] = {}
    current: dict[int, set] = {}
    for a, b in zip(src.tolist(), dst.tolist()):
        original.setdefault(b, set()).add(a)
        current.setdefault(b, set()).add(a)
    hills = np.asarray(p["hill_coefficients"], dtype=float)
    moved = 0
    for e in move:
        g = int(dst[e])
        cand = regs if g >= n_tfs else regs[position[regs] < position[g]]
        cand = np.array([r for r in cand if r not in original[g] and r not in current[g]], dtype=np.int64)
        if not len(cand):
            continue
        w = weight[cand] / weight[cand].sum()
        r = int(rng.choice(cand, p=w))
        current[g].discard(int(src[e]))
        current[g].add(r)
        src[e] = r
        sign[e] = 1 if rng.random() < p["p_activation"] else -1
        hill[e] = rng.choice(hills)
        raw[e] = rng.uniform(0.5, 1.5)
        moved += 1
    return moved


def _regulation(x: np.ndarray, e: _Edges) -> np.ndarray:
    """Eq. 1 for the regulated genes ``e.genes``: rows of ``x`` x len(e.genes)."""
    h = x[:, e.src]
    h /= e.K
    np.power(h, e.hill, out=h)
    h /= 1.0 + h  # Hill function z^n / (1 + z^n)
    a_sum = np.add.reduceat(h * e.or_weight, e.starts, axis=1)
    # Product factors c0 + c1 h: AND-activators h, repressors 1 - h, OR-activators 1 (neutral).
    h *= e.c1
    h += e.c0
    prod = np.multiply.reduceat(h, e.starts, axis=1)
    return np.where(e.has_or, a_sum, 1.0) * prod


# --- programs -----------------------------------------------------------------------------


@dataclass
class _Programs:
    """Hidden time programs (eq. 4) of masters and trend genes."""

    genes: np.ndarray
    tau: np.ndarray
    width: np.ndarray
    up: np.ndarray  # switch on (True) or off
    branch: np.ndarray  # -1 = every branch, else only that branch

    def initial(self) -> np.ndarray:
        return np.where(self.up, 0.0, 1.0)

    def value(self, t: float, cell_branch: np.ndarray | None = None) -> np.ndarray:
        """u at time t: (len(genes),) or, with ``cell_branch``, (cells, len(genes))."""
        s = 1.0 / (1.0 + np.exp(-(t - self.tau) / self.width))
        u = np.where(self.up, s, 1.0 - s)
        if cell_branch is None:
            return u
        on = (self.branch[None, :] < 0) | (self.branch[None, :] == cell_branch[:, None])
        return np.where(on, u[None, :], self.initial()[None, :])


def _draw_programs(roles: np.ndarray, p: dict, rng: np.random.Generator) -> _Programs:
    t_end, nb = p["t_end"], int(p["n_branches"])
    masters = np.flatnonzero(roles == "master_tf")
    trends = np.flatnonzero(roles == "background_trend")
    genes = np.concatenate([masters, trends])
    n = len(genes)
    tau = rng.uniform(0.05, 0.7, size=n) * t_end
    up = rng.random(n) < 0.6
    branch = np.full(n, -1)
    if nb > 1:
        # Every master but the first two is assigned to a branch, round robin after a shuffle;
        # its switch happens after the branch point.
        spec = rng.permutation(np.arange(2, len(masters))) if len(masters) > 2 else []
        for k, m in enumerate(spec):
            branch[m] = k % nb
            tau[m] = rng.uniform(p["branch_time"], 0.8) * t_end
            up[m] = True
    width = np.full(n, p["switch_width"] * t_end) * rng.uniform(0.5, 2.0, size=n)
    return _Programs(genes, tau, width, up, branch)


# --- noise-free mean trajectory: sets K and the initial state ----------------------------


def _relax(prod: np.ndarray, gamma: float, dt: float, x0: float) -> np.ndarray:
    """Euler recursion x_{k+1} = (1 - gamma dt) x_k + P_k dt over a production series."""
    a = 1.0 - gamma * dt
    y, _ = lfilter([dt], [1.0, -a], prod, zi=[a * x0])
    return np.concatenate([[x0], y[:-1]])


def _calibrate(roles, order, edges: _Edges, progs: _Programs, beta, gamma, p, rng) -> np.ndarray:
    """Fill ``edges.K`` in place; return the noise-free steady state at t = 0 (all genes)."""
    dt, n_steps, nb = p["dt"], int(np.ceil(p["t_end"] / p["dt"])), int(p["n_branches"])
    times = np.arange(n_steps) * dt
    n_genes = len(roles)
    basal = p["basal"]
    traj = np.zeros((nb, n_steps, n_genes))  # mean trajectories of TFs, per branch
    x0 = np.zeros(n_genes)
    prog_idx = {g: k for k, g in enumerate(progs.genes)}
    # Program values over time and branch, (nb, steps, n_programs).
    u = np.stack([np.stack([progs.value(t, np.array([b]))[0] for t in times]) for b in range(nb)])
    for g in order:  # topological order: regulators are done before their targets
        if roles[g] == "master_tf":
            f = u[:, :, prog_idx[g]]
            f0 = progs.initial()[prog_idx[g]]
        else:
            sub = edges.subset(edges.dst == g)
            f = np.stack([_regulation(traj[b], sub)[:, 0] for b in range(nb)])
            f0 = f[0, 0]
        prod = beta[g] * (basal + (1.0 - basal) * f)
        x0[g] = beta[g] * (basal + (1.0 - basal) * f0) / gamma[g]
        for b in range(nb):
            traj[b, :, g] = _relax(prod[b], gamma[g], dt, x0[g])
        # Midpoint of the regulator's range, jittered: its out-edges work in their sensitive range.
        out = edges.src == g
        if out.any():
            mid = 0.5 * (traj[:, :, g].min() + traj[:, :, g].max())
            edges.K[out] = mid * rng.uniform(0.75, 1.25, size=int(out.sum()))
    return x0


# --- stochastic simulation ----------------------------------------------------------------


def _production(x, t, c, cell_branch, progs, edges, beta, p, const):
    """Eq. 2 for a block of cells."""
    f = np.broadcast_to(const, x.shape).copy()
    f[:, progs.genes] = progs.value(t, cell_branch)
    f[:, edges.genes] = _regulation(x, edges)
    return c[:, None] * beta[None, :] * (p["basal"] + (1.0 - p["basal"]) * f)


def _simulate_cells(roles, edges, progs, beta, gamma, const, x0, p, n_cells, rng):
    """Run eq. 3 for every cell up to its capture time; return (mrna cells x genes, t, branch)."""
    dt, t_end = p["dt"], p["t_end"]
    nb = int(p["n_branches"])
    t_cell = np.sort(rng.uniform(0.0, t_end, size=n_cells))
    branch = rng.permutation(np.arange(n_cells) % nb)
    c = np.exp(rng.normal(0.0, p["extrinsic_sd"], size=n_cells))
    x = x0[None, :] * np.exp(rng.normal(0.0, p["initial_jitter"], size=(n_cells, len(roles))))
    eta = p["intrinsic_noise"]

    def step(xb, t, sl):
        prod = _production(xb, t, c[sl], branch[sl], progs, edges, beta, p, const)
        deg = gamma[None, :] * xb
        noise = rng.standard_normal(xb.shape)
        xb += (prod - deg) * dt + eta * np.sqrt((prod + deg) * dt) * noise
        np.maximum(xb, 0.0, out=xb)
        return xb

    for _ in range(int(round(p["burn_in"] / dt))):
        x = step(x, 0.0, slice(0, n_cells))
    out = np.empty_like(x)
    k = 0
    for s in range(int(np.ceil(t_end / dt))):
        t = s * dt
        k_new = int(np.searchsorted(t_cell, t, side="right"))
        out[k:k_new] = x[k:k_new]  # cells captured in (t - dt, t]
        k = k_new
        if k == n_cells:
            break
        x[k:] = step(x[k:], t, slice(k, n_cells))
    out[k:] = x[k:]
    return out, t_cell, branch


# --- counts -------------------------------------------------------------------------------


def _sample_counts(mrna: np.ndarray, p: dict, rng: np.random.Generator):
    """Library size, gamma-Poisson counts, dropout (eq. 5). Returns (counts, stats)."""
    n_cells = mrna.shape[0]
    lib = np.exp(rng.normal(0.0, p["library_sd"], size=n_cells))
    mu = p["efficiency"] * lib[:, None] * mrna
    phi = p["dispersion"]
    lam = rng.gamma(1.0 / phi, 1.0, size=mu.shape) * mu * phi if phi > 0 else mu
    counts = rng.poisson(lam)
    with np.errstate(divide="ignore"):
        logit = p["dropout_slope"] * (np.log(mu) - np.log(p["dropout_midpoint"]))
    p_drop = 1.0 / (1.0 + np.exp(np.clip(logit, -50, 50)))
    drop = rng.random(mu.shape) < p_drop
    nonzero = counts > 0
    counts = np.where(drop, 0, counts)
    stats = {
        "dropout_fraction": float((drop & nonzero).sum() / max(nonzero.sum(), 1)),
        "zero_fraction": float((counts == 0).mean()),
        "mean_library_size": float(counts.sum(axis=1).mean()),
    }
    return counts.astype(np.int64), stats


def log2_library_size_normalise(counts: pd.DataFrame) -> pd.DataFrame:
    """``log2(1 + counts / s_c)`` with size factor ``s_c`` = library size / median library size.

    ``counts`` is genes x cells; so is the result. Cells with no counts keep size factor 1.
    """
    lib = counts.sum(axis=0).to_numpy(float)
    med = np.median(lib[lib > 0]) if (lib > 0).any() else 1.0
    sf = np.where(lib > 0, lib / med, 1.0)
    return pd.DataFrame(
        np.log2(1.0 + counts.to_numpy(float) / sf[None, :]),
        index=counts.index,
        columns=counts.columns,
    )


# --- public API ---------------------------------------------------------------------------


def _check_params(n_tfs, n_genes, n_cells, params) -> dict:
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise InputError(
            "simulate", f"unknown parameter(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}"
        )
    if n_tfs < 2 or n_genes <= n_tfs or n_cells < 2:
        raise InputError(
            "simulate",
            f"need n_tfs >= 2, n_genes > n_tfs and n_cells >= 2; got {n_tfs}, {n_genes}, {n_cells}",
        )
    p = {**DEFAULTS, **params}
    if not 0.0 <= float(p["shared_edges"]) <= 1.0:
        raise InputError("simulate.shared_edges", f"must be in [0, 1], got {p['shared_edges']}")
    if int(p["n_branches"]) < 1:
        raise InputError("simulate.n_branches", f"must be >= 1, got {p['n_branches']}")
    return p


def simulate_dataset(
    n_tfs: int = 40, n_genes: int = 400, n_cells: int = 400, seed: int = 0, **params: Any
) -> SimResult:
    """Simulate a scRNA-seq data set with a known GRN (model: module docstring).

    Args:
        n_tfs: number of TFs (masters included).
        n_genes: number of genes, TFs included.
        n_cells: number of cells.
        seed: the only source of randomness. The network depends on ``seed``, the sizes and
            the network parameters only (not on ``n_cells``).
        **params: overrides of :data:`DEFAULTS`.
    """
    p = _check_params(n_tfs, n_genes, n_cells, params)
    ss = np.random.SeedSequence(seed)
    rng_net, rng_kin, rng_cells, rng_counts, rng_names = (
        np.random.default_rng(s) for s in ss.spawn(5)
    )
    rng_gene_names = rng_names
    if p["network_seed"] is not None:  # the network, programs and gene names of that seed's dataset
        net_ss = np.random.SeedSequence(int(p["network_seed"])).spawn(5)
        rng_net, rng_gene_names = np.random.default_rng(net_ss[0]), np.random.default_rng(net_ss[4])
    rng_rewire = np.random.default_rng(ss.spawn(1)[0])

    roles, order, edges, n_moved = _draw_network(n_tfs, n_genes, p, rng_net, rng_rewire)
    progs = _draw_programs(roles, p, rng_net)
    is_tf = np.arange(n_genes) < n_tfs
    level = np.exp(
        np.where(is_tf, np.log(p["tf_level_median"]), np.log(p["gene_level_median"]))
        + rng_kin.normal(0.0, p["level_sd"], size=n_genes) * np.where(is_tf, 0.6, 1.0)
    )
    gamma = rng_kin.uniform(*p["gamma_range"], size=n_genes)
    beta = level * gamma
    x0 = _calibrate(roles, order, edges, progs, beta, gamma, p, rng_kin)
    # Housekeeping background genes: a constant f in [0.3, 1] each.
    const = np.where(roles == "background", rng_kin.uniform(0.3, 1.0, size=n_genes), 0.0)
    f0 = np.broadcast_to(const, (1, n_genes)).copy()
    f0[0, progs.genes] = progs.initial()
    f0[0, edges.genes] = _regulation(x0[None, :], edges)[0]
    nontf = ~is_tf
    x0[nontf] = (beta * (p["basal"] + (1.0 - p["basal"]) * f0[0]) / gamma)[nontf]

    mrna, t_cell, branch = _simulate_cells(
        roles, edges, progs, beta, gamma, const, x0, p, n_cells, rng_cells
    )
    counts, stats = _sample_counts(mrna, p, rng_counts)

    # Output order: genes shuffled (TFs interleaved; names say TF or not, never target vs
    # background), cells shuffled (cell order must not leak pseudotime).
    gperm = rng_gene_names.permutation(n_genes)
    cperm = rng_names.permutation(n_cells)
    names = np.empty(n_genes, dtype=object)
    n_tf_seen = n_other_seen = 0
    for g in gperm:
        if is_tf[g]:
            n_tf_seen += 1
            names[g] = f"TF{n_tf_seen:03d}"
        else:
            n_other_seen += 1
            names[g] = f"G{n_other_seen:04d}"
    cells = [f"C{i + 1:04d}" for i in range(n_cells)]
    pt = np.clip(t_cell / p["t_end"] + rng_names.normal(0.0, p["pseudotime_noise"], n_cells), 0, 1)

    trunk = (t_cell < p["branch_time"] * p["t_end"]) & (int(p["n_branches"]) > 1)
    obs_branch = np.where(trunk, -1, branch)
    gene_names = list(names[gperm])
    counts_df = pd.DataFrame(counts[cperm][:, gperm].T, index=gene_names, columns=cells)
    mrna_df = pd.DataFrame(mrna[cperm][:, gperm].T, index=gene_names, columns=cells)
    net = pd.DataFrame(
        {
            "Gene1": names[edges.src],
            "Gene2": names[edges.dst],
            "Type": np.where(edges.sign > 0, "+", "-"),
        }
    ).sort_values(["Gene1", "Gene2"], ignore_index=True)
    net = net.astype({"Gene1": str, "Gene2": str})
    tfs = [g for g in gene_names if g.startswith("TF")]
    res = SimResult(
        counts=counts_df,
        pseudotime=pd.Series(pt[cperm], index=cells, name="PseudoTime"),
        network=net,
        tfs=tfs,
        branch=pd.Series(obs_branch[cperm], index=cells, name="branch"),
        roles=pd.Series(roles[gperm], index=gene_names, name="role"),
        mrna=mrna_df,
        params={"n_tfs": n_tfs, "n_genes": n_genes, "n_cells": n_cells, "seed": seed, **p},
    )
    n_reg = net["Gene1"].nunique()
    n_tg = net["Gene2"].nunique()
    stats.update(
        edges=float(len(net)),
        density=float(len(net) / (n_reg * n_tg)) if len(net) else 0.0,
        tfs_with_edges=float(n_reg),
        targets_with_edges=float(n_tg),
        edges_moved=float(n_moved),
    )
    res.stats = stats
    return res


# --- BEELINE files ------------------------------------------------------------------------

FLOAT_FORMAT = "%.6g"


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(text.encode())


def _csv(df: pd.DataFrame, **kw) -> str:
    buf = io.StringIO()
    df.to_csv(buf, float_format=FLOAT_FORMAT, lineterminator="\n", **kw)
    return buf.getvalue()


def write_beeline(
    result: SimResult, outdir: str | os.PathLike, *, counts: bool = True
) -> dict[str, Path]:
    """Write BEELINE input files into ``outdir`` (each file atomically); return their paths.

    - ``ExpressionData.csv``: genes x cells, first column gene names (empty header cell, as
      BEELINE's R ``write.csv`` gives), values ``log2(1 + size-factor-normalised counts)``
      (:func:`log2_library_size_normalise`, the transform of BEELINE's experimental inputs), 6 significant digits.
    - ``PseudoTime.csv``: ``,PseudoTime`` (cell name, pseudotime); with several branches
      ``,PseudoTime1,PseudoTime2,...`` and ``NA`` for cells not on that branch; trunk cells
      (before the branch point) are on every branch (BEELINE's synthetic convention).
    - ``refNetwork.csv``: ``Gene1,Gene2,Type`` (``+`` activation, ``-`` repression).
    - ``TFs.csv``: one column ``TF``.
    - ``counts.csv.gz`` (if ``counts``): raw UMI counts, genes x cells; gzip header without
      file name or time stamp so the bytes depend on the data only.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {
        "expression": outdir / "ExpressionData.csv",
        "pseudotime": outdir / "PseudoTime.csv",
        "network": outdir / "refNetwork.csv",
        "tfs": outdir / "TFs.csv",
    }
    _write_text(paths["expression"], _csv(result.expression()))
    nb = int(result.params.get("n_branches", 1))
    if nb == 1:
        pt = result.pseudotime.to_frame("PseudoTime")
    else:
        pt = pd.DataFrame(
            {
                f"PseudoTime{b + 1}": result.pseudotime.where(result.branch.isin([b, -1]))
                for b in range(nb)
            }
        )
    _write_text(paths["pseudotime"], _csv(pt, na_rep="NA"))
    _write_text(paths["network"], _csv(result.network[["Gene1", "Gene2", "Type"]], index=False))
    _write_text(paths["tfs"], _csv(pd.DataFrame({"TF": result.tfs}), index=False))
    if counts:
        paths["counts"] = outdir / "counts.csv.gz"
        raw = _csv(result.counts).encode()
        with atomic_path(paths["counts"], suffix=".gz") as tmp, open(tmp, "wb") as fh:
            with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz:
                gz.write(raw)
    return paths
