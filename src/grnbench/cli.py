"""``grnbench`` command line: the workflow's stages, one subcommand each, plus ``methods``."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from grnbench.errors import GrnbenchError


def _methods(args) -> int:
    from grnbench.methods import available

    if args.write_index:
        from grnbench.methods import registry

        index = registry.write_index()
        print(f"wrote {registry.INDEX_PATH} ({len(index)} built-in methods)")
        return 0
    for name, cls in available().items():
        print(f"{name:24s} {cls.kind:13s} {cls.description}")
    return 0


def _simulate(args) -> int:
    from grnbench.data.simulate import simulate_dataset, write_beeline

    res = simulate_dataset(n_tfs=args.n_tfs, n_genes=args.n_genes, n_cells=args.n_cells, seed=args.seed)
    write_beeline(res, args.outdir)
    print(f"wrote BEELINE-format files to {args.outdir}")
    return 0


def _split(args) -> int:
    from grnbench.pipeline import make_split

    released = None
    if args.released_dir:
        from grnbench.data.splits import RELEASED_FILES

        released = {p: f"{args.released_dir}/{n}" for p, n in RELEASED_FILES.items()}
        released["targets"] = args.targets or f"{args.released_dir}/Target.csv"
    make_split(args.data, args.out, protocol=args.protocol, seed=args.seed, network=args.network,
               released=released)
    return 0


def _json_object(text: str, option: str) -> dict:
    """``--params``-style JSON object; a clear InputError naming the option otherwise."""
    from grnbench.errors import InputError

    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(option, f"not valid JSON ({e.msg} at character {e.pos}) in {text!r}; "
                                 """expected a JSON object, e.g. '{"epochs": 5}'""") from e
    if not isinstance(value, dict):
        raise InputError(option, f"expected a JSON object of hyperparameters (name: value), got {type(value).__name__} "
                                 f"{text!r}")
    return value


def _infer(args) -> int:
    from grnbench.pipeline import run_method
    from grnbench.utils import resolve_device

    params = _json_object(args.params, "--params")
    resolve_device(args.device)  # an unavailable or unknown device is refused before any work
    info = run_method(args.data, args.split, args.edges, args.run, method=args.method, seed=args.seed,
                      params=params, threads=args.threads, device=args.device,
                      preset=args.preset)
    print(json.dumps(info["labels"]))
    return 0


def _evaluate(args) -> int:
    from grnbench.pipeline import evaluate

    out = evaluate(args.data, args.split, args.edges, args.out, kind=args.kind)
    print(json.dumps(out["scopes"], indent=1))
    return 0


def _aggregate(args) -> int:
    from grnbench.evaluate.report import aggregate
    from grnbench.package_data import resource

    published = args.published or resource("published")
    files = aggregate(args.metrics, args.results, args.tables, args.figures, published)
    print("\n".join(map(str, files)))
    return 0


def _download(args) -> int:
    from grnbench.data.download import fetch_genelink

    paths = fetch_genelink(args.cell, args.network, args.geneset, args.outdir, local_dir=args.local_dir)
    print("\n".join(map(str, paths)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grnbench", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("methods", help="list registered methods")
    s.add_argument(
        "--write-index",
        action="store_true",
        help="rewrite src/grnbench/methods/index.json from the built-in classes (after adding or changing one)",
    )
    s.set_defaults(fn=_methods)

    s = sub.add_parser("simulate", help="simulate a GRN dataset (BEELINE-format files)")
    s.add_argument("outdir")
    s.add_argument("--n-tfs", type=int, default=40)
    s.add_argument("--n-genes", type=int, default=400)
    s.add_argument("--n-cells", type=int, default=300)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(fn=_simulate)

    s = sub.add_parser("split", help="make a train/val/test split of a .h5ad dataset")
    s.add_argument("data")
    s.add_argument("out")
    s.add_argument("--protocol", default="genelink")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--network", default="specific")
    s.add_argument("--released-dir", help="folder of GENELink's Train_set/Validation_set/Test_set.csv")
    s.add_argument("--targets", help="the Target.csv the released files index (default: in --released-dir)")
    s.set_defaults(fn=_split)

    s = sub.add_parser("infer", help="run one method on one split")
    s.add_argument("data")
    s.add_argument("split")
    s.add_argument("edges")
    s.add_argument("run")
    s.add_argument("--method", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--params", default="{}", help="JSON object of hyperparameters")
    s.add_argument("--preset")
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--device", default="auto")
    s.set_defaults(fn=_infer)

    s = sub.add_parser("evaluate", help="score an edges.csv on a split's test pairs")
    s.add_argument("data")
    s.add_argument("split")
    s.add_argument("edges")
    s.add_argument("out")
    s.add_argument("--kind", choices=["supervised", "unsupervised"], default="supervised")
    s.set_defaults(fn=_evaluate)

    s = sub.add_parser("aggregate", help="tables and figures from results/tables/metrics.tsv")
    s.add_argument("--metrics", default="results/tables/metrics.tsv")
    s.add_argument("--results", default="results")
    s.add_argument("--tables", default="results/tables")
    s.add_argument("--figures", default="results/figures")
    s.add_argument("--published", default=None, help="folder of the paper's tables (default: the package's)")
    s.set_defaults(fn=_aggregate)

    s = sub.add_parser("download", help="fetch one GENELink folder (hash-checked)")
    s.add_argument("cell")
    s.add_argument("network")
    s.add_argument("geneset")
    s.add_argument("outdir")
    s.add_argument("--local-dir")
    s.set_defaults(fn=_download)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.fn(args)
    except GrnbenchError as e:
        print(f"grnbench: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
