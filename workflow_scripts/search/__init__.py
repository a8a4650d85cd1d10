"""Hyperparameter search: the grid and its ids (grid), training combinations over the CV folds and
choosing one (hpo), the search strategies (the interface, which is also the plain grid search:
strategy; successive halving: halving; random: random_search; their registry: strategies), the
files of each round (round_files), and the search's figures (search_figures).
"""
