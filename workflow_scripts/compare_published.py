"""Rule compare_published: our GEO-built inputs against GENELink's folders and BEELINE-data."""

from grnbench.data.compare import compare_raw_to_beeline_zip, compare_to_genelink, write_comparison
from grnbench.workflow import rule_logging

with rule_logging(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    ds = sm.wildcards.dataset
    rows = [
        compare_to_genelink(
            j["h5ad"], j["folder"], dataset=ds, network=j["network"], geneset=j["geneset"]
        )
        for j in sm.params.jobs
    ]
    if sm.params.beeline_cell:
        rows.append(
            compare_raw_to_beeline_zip(
                sm.input.beeline_data,
                sm.params.beeline_cell,
                sm.input.expression,
                sm.input.pseudotime,
                sm.params.scratch,
                dataset=ds,
            )
        )
    df = write_comparison(rows, sm.output.tsv, sm.output.json)
    print(df.to_string())
