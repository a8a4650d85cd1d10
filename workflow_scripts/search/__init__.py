"""Hyperparameter search: the grid and its ids (grid), training combinations over the CV folds and
choosing one (hpo), successive halving (halving) and its figure (halving_plots).
"""
