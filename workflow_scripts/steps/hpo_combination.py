"""Rules hpo_combination and hpo_family: train hyperparameter combinations over the k folds.

hpo_combination trains one combination (``params.hyperparameters``, id ``wildcards.combo``).
hpo_family trains several (``params.family``: combination id -> hyperparameters; a family
of combinations that differ only in callbacks, or all of one architecture) in one process:
TensorFlow is imported once, each architecture is traced once, and combinations that differ
only in their callbacks share their common epochs (hpo.train_combinations). Either writes
one file of the same format (hpo.write_runs): each combination's run, the same whichever job
trained it, and where the job's time went (``timing``).

hpo_round_combination and hpo_round_family run the same way at a round's budget
(``params.budget``); ``params.family`` of a job that trains part of a family (a later round's
survivors, a random draw) holds only those members (rules/search.smk decides them once).
"""

from workflow_scripts.core.step import Stopwatch, run_step
from workflow_scripts.models.network import configure_threads

CLOCK = Stopwatch()  # before the imports of TensorFlow, numpy and the training code


def main(smk) -> None:
    configure_threads(smk.threads)
    from workflow_scripts.models import network as model

    model.load_backend()  # first: it keeps scikit-learn out of Keras' import
    import numpy as np

    from workflow_scripts.search import hpo

    CLOCK.lap("imports")
    with np.load(smk.input[0], allow_pickle=False) as data:  # as features.load_arrays, without its imports
        arrays = {key: data[key] for key in data.files}
    CLOCK.lap("read")
    family = getattr(smk.params, "family", None) or {smk.wildcards.combo: smk.params.hyperparameters}
    training, trainers = smk.params.training, {}
    results = hpo.train_combinations(
        arrays, list(family.values()), training, int(training["seed"]), trainers, getattr(smk.params, "budget", None)
    )
    CLOCK.lap("train")
    timing = CLOCK.record(
        epochs_computed=sum(trainer.epochs_run for trainer in trainers.values()),  # shared epochs once
        combinations_in_job=len(family),
    )
    hpo.write_runs(smk.output[0], dict(zip(family, results, strict=True)), timing)


run_step(main, snakemake, fast_exit=__name__ == "__main__")  # noqa: F821
