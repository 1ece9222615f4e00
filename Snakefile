# grnbench: fair, reproducible benchmarking of GRN inference from scRNA-seq.
# Table of contents: config, validation, one rule file per stage, one target.

from snakemake.utils import min_version, validate

min_version("9.0")


# The default config applies only when no --configfile is given (Snakemake would otherwise merge
# the default's datasets and methods into every other config).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


validate(config, "config/schema.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/download.smk"
include: "rules/geo.smk"
include: "rules/preprocess.smk"
include: "rules/split.smk"
include: "rules/infer.smk"
include: "rules/evaluate.smk"
include: "rules/aggregate.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
