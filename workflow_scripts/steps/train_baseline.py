"""Rule train_baseline: one estimator of the model registry on the same features as the network."""

import numpy as np

from workflow_scripts import bundle, features, models
from workflow_scripts.step import run_step


def main(smk) -> None:
    arrays = features.load_arrays(smk.input[0])
    X = np.vstack([arrays["X_fit"], arrays["X_es"]])
    y = np.concatenate([arrays["y_fit"], arrays["y_es"]])
    folds = np.concatenate([arrays["fold_fit"], arrays["fold_es"]])
    estimator = models.fit_estimator(smk.wildcards.model, smk.params.settings, smk.params.seed, X, y, folds)
    bundle.save_skops(estimator, smk.output[0])


run_step(main, snakemake)  # noqa: F821
