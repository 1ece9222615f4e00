# grnbench: fair, reproducible benchmarking of GRN inference from scRNA-seq.
# Table of contents: config, validation, one rule file per stage, one target.

import os

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


# Rule methods of your own (README, Add a method): config key rule_files, paths from the
# working directory.
for _rule_file in config.get("rule_files", []):

    include: os.path.abspath(_rule_file)


rule all:
    default_target: True
    input:
        get_final_output(),


# One run per results folder (grnbench.plancheck): Snakemake's lock is per working directory,
# so a run from another checkout on the same results folder is refused here. Dry runs, --unlock
# and --report take no lock.
onstart:
    from grnbench.plancheck import lock_results

    lock_results(RESULTS)


onsuccess:
    from grnbench.plancheck import unlock_results

    unlock_results(RESULTS)


onerror:
    from grnbench.plancheck import unlock_results

    unlock_results(RESULTS)
