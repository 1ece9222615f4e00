"""Rule simulate: our GRN simulator -> BEELINE-format files."""

from grnbench.data.simulate import simulate_dataset, write_beeline
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sim = dict(snakemake.params.sim)  # noqa: F821
    result = simulate_dataset(**sim)
    write_beeline(result, snakemake.output.expression.rsplit("/", 1)[0])  # noqa: F821
