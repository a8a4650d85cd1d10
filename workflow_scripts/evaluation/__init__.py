"""Evaluation: test-set metrics (metrics), the rules that pool an artist's songs (pooling), outer
cross-validation over folds and seeds (outer), and their figures (evaluation_figures).
"""
