"""Evaluation: test-set metrics (metrics), outer cross-validation over folds and seeds (outer), and
their figures (evaluation_figures).
"""
