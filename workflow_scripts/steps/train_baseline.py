"""Rule train_baseline: one estimator of the model registry on the same features as the network."""

from workflow_scripts.bundle import store as bundle
from workflow_scripts.core.step import run_step
from workflow_scripts.features import pipeline as features
from workflow_scripts.models import registry as models


def main(smk) -> None:
    train = features.training_set(features.load_arrays(smk.input[0]))
    estimator = models.fit_estimator(smk.wildcards.model, smk.params.settings, smk.params.seed, train.X, train.y, train.folds)
    bundle.save_skops(estimator, smk.output[0])


run_step(main, snakemake)  # noqa: F821
