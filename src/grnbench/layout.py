"""Where results go: file names shared by the rules and the package (imported when Snakemake
plans, so it imports nothing heavy)."""

from __future__ import annotations

#: Files of ``pipeline.write_method_inputs`` in ``{split}/inputs/seed{seed}/``: what a
#: Snakemake-rule method may read (README, Add a method).
METHOD_INPUT_FILES = {
    "supervised_h5ad": "supervised.h5ad",      # network = the split's training positives only
    "unsupervised_h5ad": "unsupervised.h5ad",  # no network at all
    "expression": "ExpressionData.csv",        # genes x cells (BEELINE's layout)
    "tfs": "TFs.csv",                          # one TF symbol per line, header TF
    "trainval": "trainval.csv",                # TF,Target,Label,Part (train and val rows)
    "test_pairs": "test_pairs.csv",            # TF,Target: the pairs to score, no labels
}
