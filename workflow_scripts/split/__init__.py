"""The held-out test set and the cross-validation folds, by song or by artist."""
