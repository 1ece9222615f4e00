"""Rule krumsiek11: scanpy's bundled krumsiek11 cells and Boolean model -> BEELINE-format files."""

from pathlib import Path

from grnbench.data.krumsiek import write_krumsiek11
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    paths = write_krumsiek11(Path(snakemake.output.expression).parent)  # noqa: F821
    print(f"krumsiek11: wrote {sorted(str(p) for p in paths.values())}")
