"""Evaluation: test-set metrics (metrics), outer cross-validation over folds and seeds (outer), and
the report's figures (plots).
"""
