"""``python -m grnbench.data.download build-manifest SRC [DEST]``."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from grnbench.data.download.manifests import GENELINK_MANIFEST, build_genelink_manifest


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m grnbench.data.download build-manifest SRC DEST`` regenerates the manifest."""
    parser = argparse.ArgumentParser(prog="python -m grnbench.data.download")
    sub = parser.add_subparsers(dest="cmd", required=True)
    build = sub.add_parser(
        "build-manifest", help="GENELink MANIFEST.tsv -> resources/genelink_manifest.tsv"
    )
    build.add_argument("src", type=Path)
    build.add_argument("dest", type=Path, nargs="?", default=GENELINK_MANIFEST)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    build_genelink_manifest(args.src, args.dest)


if __name__ == "__main__":
    main()
