"""Rule preprocess: raw files -> .h5ad, GENELink folder, stats."""

from grnbench.data.preprocess import to_genelink_folder
from grnbench.pipeline import load_raw_dataset, save_dataset
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    data = load_raw_dataset(
        source=sm.params.source,
        geneset=sm.wildcards.geneset,
        pvalue=sm.params.pvalue,
        select_genes=sm.params.select_genes,
        regulators=sm.params.regulators,
        name=sm.params.name,
        **dict(sm.input),
    )
    stats = save_dataset(data, sm.output.h5ad, sm.output.stats)
    to_genelink_folder(data, sm.output.genelink)
    print(f"{sm.params.name}: {stats}")
