"""Time and peak memory of scTransNet at the hESC TFs+1000 size (1410 genes x 758 cells), CPU or GPU.

Stages of one seed, each timed: encoder pretraining (masked expression modelling), embedding
extraction (attention sums + pooling), and the supervised fit (which extracts again and trains
the GNN + head). Data: ``grnbench.data.simulate`` at the requested size (410 TFs like hESC).
Then paper-size encoder figures (dim 200, depth 6, 10 heads x 64, 266 features), measured on a
few cells / steps and *extrapolated* to one epoch over all cells and to scBERT's 16906 + 1
positions (FAVOR+ cost is linear in sequence length).

    OMP_NUM_THREADS=2 python benchmarks/bench_sctransnet.py --threads 2 --preset cpu
    python benchmarks/bench_sctransnet.py --device cuda --preset paper --paper-cells 8

With ``--device cuda`` every stage runs on the GPU and the table adds each stage's peak GPU
memory (``torch.cuda.max_memory_allocated``, reset per stage); the paper-size figures are then
measured with ``--paper-cells`` cells per batch, including the full scBERT length (16907).

Prints a table; writes only to a temporary folder (nothing under results/). Peak memory is the
process's peak resident set size so far (monotonic), read after each stage.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time

# Shared, oversubscribed CPUs: OpenMP threads that spin while waiting for each other make 2
# threads up to 20x slower than 1 (measured); passive waiting avoids that. Must precede torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from grnbench.data.dataset import GRNData  # noqa: E402
from grnbench.data.simulate import simulate_dataset  # noqa: E402
from grnbench.data.splits import genelink_split  # noqa: E402
from grnbench.methods import registry  # noqa: E402
from grnbench.models.sctransnet import load_encoder, pretrain_encoder, resolve_params  # noqa: E402
from grnbench.models.sctransnet.attention import extract_gene_embeddings  # noqa: E402
from grnbench.models.sctransnet.encoder import EncoderConfig, ScBertEncoder  # noqa: E402
from grnbench.models.sctransnet.tokenize import data_tokens, gene_positions  # noqa: E402
from grnbench.utils import peak_rss_mb  # noqa: E402


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _gpu_reset(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _gpu_peak(device: str) -> float:
    """Peak GPU memory (GiB) since the last reset; NaN on CPU."""
    return torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else float("nan")


def _row(rows, stage, seconds, note="", gpu=float("nan")):
    rows.append((stage, seconds, peak_rss_mb() / 1024.0, note, gpu))
    g = "" if gpu != gpu else f", peak GPU {gpu:.2f} GiB"
    print(f"  done: {stage}: {seconds:.1f} s, peak RSS so far {rows[-1][2]:.2f} GiB{g} {note}", flush=True)


def _paper_encoder_times(seq_len: int, cells: int, steps: int, device: str) -> tuple[float, float, float]:
    """Per-cell seconds (forward with attention sums; MLM training step) and peak GPU GiB."""
    torch.manual_seed(0)
    enc = ScBertEncoder(EncoderConfig(max_seq_len=seq_len)).to(device)  # defaults = scBERT sizes
    opt = torch.optim.Adam([p for p in enc.parameters() if p.requires_grad], lr=1e-4)
    tok = torch.randint(0, 6, (cells, seq_len), device=device)
    _gpu_reset(device)
    with torch.no_grad():
        enc.eval()
        enc.encode(tok[:1], received=True)  # warm-up
        _sync(device)
        t = time.perf_counter()
        enc.encode(tok, received=True)
        _sync(device)
        fwd = (time.perf_counter() - t) / cells
    enc.train()
    times = []
    for _ in range(steps + 1):  # first step is warm-up
        _sync(device)
        t = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(enc(tok).reshape(-1, 7), tok.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        _sync(device)
        times.append(time.perf_counter() - t)
    return fwd, float(np.mean(times[1:])) / cells, _gpu_peak(device)


def paper_size_figures(seq_len: int, n_cells: int, cells: int, steps: int, device: str = "cpu") -> list[tuple[str, float, str]]:
    """Per-cell seconds of the paper-size encoder (forward with attention sums; training step).

    On CPU the full scBERT length (16907) is extrapolated (FAVOR+ is linear in length); on a GPU it
    is measured too.
    """
    fwd, step, gpu = _paper_encoder_times(seq_len, cells, steps, device)
    mem = "" if gpu != gpu else f", peak GPU {gpu:.2f} GiB"
    out = [
        (f"extraction, per cell (L={seq_len})", fwd, f"measured on {cells} cells{mem}"),
        (f"extraction, all {n_cells} cells", fwd * n_cells, "extrapolated"),
        (f"MLM training, per cell (L={seq_len})", step, f"measured, {steps} steps x {cells} cells"),
        (f"MLM training, one epoch ({n_cells} cells)", step * n_cells, "extrapolated"),
    ]
    if device == "cuda":
        fwd, step, gpu = _paper_encoder_times(16907, cells, steps, device)
        how, mem = "measured", f", peak GPU {gpu:.2f} GiB"
    else:
        scale = 16907 / seq_len
        fwd, step, how, mem = fwd * scale, step * scale, "extrapolated, linear in L", ""
    return out + [
        ("extraction, per cell (L=16907, scBERT panel)", fwd, f"{how}, {cells} cells per batch{mem}"),
        ("MLM training, per cell (L=16907)", step, how),
        (f"MLM training, one epoch ({n_cells} cells, L=16907)", step * n_cells, f"{how} per cell x {n_cells}"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--tfs", type=int, default=410)
    ap.add_argument("--genes", type=int, default=1410)
    ap.add_argument("--cells", type=int, default=758)
    ap.add_argument("--label-tfs", type=int, default=34, help="TFs whose pairs form the split (hESC: 34)")
    ap.add_argument("--paper-cells", type=int, default=2, help="cells per measurement of the paper-size encoder")
    ap.add_argument("--paper-steps", type=int, default=2)
    ap.add_argument("--skip-paper", action="store_true")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--device", default="cpu", help="cpu | cuda")
    args = ap.parse_args()
    dev = args.device
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    load = os.getloadavg()
    if dev == "cuda":
        print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
    print(f"device {dev}, threads {args.threads}, preset {args.preset}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
          f"load average at start {load[0]:.1f} on {os.cpu_count()} CPUs (other jobs share them)", flush=True)

    rows: list[tuple[str, float, float, str]] = []
    t = time.perf_counter()
    data = GRNData(simulate_dataset(n_tfs=args.tfs, n_genes=args.genes, n_cells=args.cells, seed=0).to_adata(), name="sim-bench")
    split = genelink_split(data, seed=0)
    # hESC's cell-type-specific network labels only 34 TFs; keep the split's pairs of 34 TFs so
    # the number of training pairs (~32k) matches hESC TFs+1000 (the simulator labels ~200 TFs).
    tfs = sorted(split["TF"].unique())
    keep = set(np.random.default_rng(0).choice(tfs, size=min(args.label_tfs, len(tfs)), replace=False))
    split = split[split["TF"].isin(keep)].reset_index(drop=True)
    n_train = int((split["Part"] == "train").sum())
    _row(rows, f"simulate {data.n_genes} genes x {data.n_cells} cells + split", time.perf_counter() - t,
         f"{len(keep)} labelled TFs, {n_train} training pairs")
    params = {"progress": args.progress}
    p = resolve_params(params, args.preset)

    with tempfile.TemporaryDirectory() as tmp:
        ck = os.path.join(tmp, "encoder.pt")
        _gpu_reset(dev)
        t = time.perf_counter()
        b = pretrain_encoder(data, params, seed=0, out_path=ck, preset=args.preset, threads=args.threads, device=dev)
        _sync(dev)
        h = b.history[-1]
        _row(rows, f"pretraining ({p['pretrain_epochs']} epochs)", time.perf_counter() - t,
             f"final loss {h['loss']:.3f}, masked acc {h['masked_acc']:.3f}", _gpu_peak(dev))

        _gpu_reset(dev)
        t = time.perf_counter()
        enc = load_encoder(ck, params)
        tok = data_tokens(data.expression(), data.genes, enc.panel, p["expression_log_base"])
        extract_gene_embeddings(enc.model, tok, gene_positions(data.genes, enc.panel), batch=int(p["extract_batch"]),
                                norm=p["pooling_norm"], progress=args.progress, device=dev)
        _sync(dev)
        _row(rows, "extraction (attention sums + pooling)", time.perf_counter() - t, "", _gpu_peak(dev))

        train, val = (split[split["Part"] == q].reset_index(drop=True) for q in ("train", "val"))
        m = registry.get("sctransnet")(preset=args.preset, encoder_checkpoint=ck, device=dev, **params)
        _gpu_reset(dev)
        t = time.perf_counter()
        m.fit(data, train, val, seed=0, threads=args.threads)
        _sync(dev)
        fit_s = time.perf_counter() - t
        _row(rows, f"supervised fit ({p['epochs']} epochs, batch {p['batch_size'] or 'full'})", fit_s,
             f"of which extraction {m.resources['extract_s']:.1f} s, training {m.resources['train_s']:.1f} s; "
             f"best val AUROC {m.train_result_.best_val['auroc']:.3f}", _gpu_peak(dev))
        total, total_peak = rows[1][1] + fit_s, peak_rss_mb() / 1024
        print(f"  one seed end to end (pretraining + fit): {total:.1f} s", flush=True)

    paper = []
    if not args.skip_paper:
        print("paper-size encoder (measured on a few cells, then extrapolated) ...", flush=True)
        paper = paper_size_figures(args.genes + 1, args.cells, args.paper_cells, args.paper_steps, dev)

    print(f"\n| stage ({dev}) | seconds | peak RSS so far (GiB) | peak GPU (GiB) | note |\n|---|---:|---:|---:|---|")
    for stage, s, mem, note, gpu in rows:
        print(f"| {stage} | {s:.1f} | {mem:.2f} | {'-' if gpu != gpu else f'{gpu:.2f}'} | {note} |")
    print(f"| one seed end to end (pretraining + fit) | {total:.1f} | {total_peak:.2f} | - | preset {args.preset}, {args.threads} threads |")
    if paper:
        print("\n| paper-size encoder (dim 200, depth 6, 10x64 heads, 266 features) | seconds | how |\n|---|---:|---|")
        for stage, s, how in paper:
            print(f"| {stage} | {s:.2f} | {how} |")
        print(f"\npeak RSS after paper-size measurements: {peak_rss_mb() / 1024:.2f} GiB")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
