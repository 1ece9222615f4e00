# grnbench: fair, reproducible benchmarking of GRN inference from scRNA-seq.
# Table of contents: config, validation, one rule file per stage, one target.

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "config/schema.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/download.smk"
include: "rules/preprocess.smk"
include: "rules/split.smk"
include: "rules/infer.smk"
include: "rules/evaluate.smk"
include: "rules/aggregate.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
