"""Rule geo_to_beeline: GEO matrix + BEELINE TF list / reference network -> BEELINE-format raw files."""

from pathlib import Path

from grnbench.data.geo import GeoSpec, geo_to_beeline
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    spec = GeoSpec.from_config(
        dict(sm.params.geo), where=f"config: datasets.{sm.wildcards.dataset}.geo"
    )
    summary = geo_to_beeline(
        sm.input.matrix,
        Path(sm.output.expression).parent,
        spec,
        networks_zip=sm.input.get("networks_zip"),
        ref_network=sm.params.ref_network,
        summary_path=sm.output.summary,
    )
    print({k: v for k, v in summary.items() if k != "spec"})
