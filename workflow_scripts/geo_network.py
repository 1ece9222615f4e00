"""Rule geo_network: one BEELINE ground-truth network, restricted to the dataset's genes."""

from grnbench.data.geo import GeoSpec, expression_genes, write_network
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    spec = GeoSpec.from_config(
        dict(sm.params.geo), where=f"config: datasets.{sm.wildcards.dataset}.geo"
    )
    stats = write_network(
        sm.wildcards.network,
        spec,
        sm.input.get("networks_zip"),
        expression_genes(sm.input.expression),
        sm.output[0],
    )
    print(stats)
