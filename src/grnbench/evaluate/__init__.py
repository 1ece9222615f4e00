"""Evaluation: metrics on the split's test pairs, tables, figures and the report."""
