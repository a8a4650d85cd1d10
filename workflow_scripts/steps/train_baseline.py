"""Rule train_baseline: KNN or RBF SVM on the same features as the network."""

import joblib
import numpy as np

from workflow_scripts import baselines, features
from workflow_scripts.fileio import atomic_path
from workflow_scripts.step import run_step


def main(smk) -> None:
    arrays = features.load_arrays(smk.input[0])
    X = np.vstack([arrays["X_fit"], arrays["X_es"]])
    y = np.concatenate([arrays["y_fit"], arrays["y_es"]])
    folds = np.concatenate([arrays["fold_fit"], arrays["fold_es"]])
    estimator = baselines.make(smk.wildcards.model, smk.params.settings, smk.params.seed, folds).fit(X, y)
    with atomic_path(smk.output[0]) as tmp:
        joblib.dump(estimator, tmp)


run_step(main, snakemake)  # noqa: F821
