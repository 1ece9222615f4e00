"""Rule link_unsupervised: link one shared unsupervised run's files into a split's job folder.

A ``script:`` rather than a ``run:`` block: Snakemake starts a whole new Snakemake process (the
Snakefile parsed again, ~2.5 CPU-s) for every local ``run:`` job, and the default run has 54 of
these; a script is one small Python process.
"""

from grnbench.workflow import link_files

sm = snakemake  # noqa: F821
link_files({sm.input.edges: sm.output.edges, sm.input.run: sm.output.run}, sm.log[0])
