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

Every job first looks up each member's run in the run cache (search/run_cache.py, under
``results_dir``): a hit is reused as it is, only the misses are trained (together, sharing
epochs as above), each stored in the cache as soon as it is complete. So another packing
(``search.jobs``, ``search.halving.jobs``), a wider grid or a rerun after an interrupted job
trains no network whose run exists. ``timing`` says how many members were reused and trained.
"""

from collections.abc import Callable, Mapping
from typing import Any

from workflow_scripts.core.step import Stopwatch, run_step
from workflow_scripts.models.network import configure_threads

CLOCK = Stopwatch()  # before the imports of TensorFlow, numpy and the training code


def main(smk: Any) -> None:
    configure_threads(smk.threads)
    from workflow_scripts.search import run_cache

    family = getattr(smk.params, "family", None) or {smk.wildcards.combo: smk.params.hyperparameters}
    training, budget = smk.params.training, getattr(smk.params, "budget", None)
    cache = run_cache.RunCache(run_cache.cache_folder(smk.config["results_dir"]))
    digest, libraries = run_cache.arrays_digest(smk.input[0]), run_cache.library_versions()
    keys = {combo: run_cache.run_key(params, training, budget, digest, libraries) for combo, params in family.items()}
    runs = {combo: cache.get(key) for combo, key in keys.items()}
    missing = {combo: family[combo] for combo, run in runs.items() if run is None}
    CLOCK.lap("lookup")

    def store(combo: str, run: dict[str, Any]) -> None:  # each run at once: a killed job keeps what it trained
        cache.put(keys[combo], run)
        runs[combo] = run

    epochs = _train(smk.input[0], missing, training, budget, store) if missing else 0
    if not missing:
        for phase in ("imports", "read", "train"):
            CLOCK.lap(phase)
    from workflow_scripts.search import hpo

    timing = CLOCK.record(
        epochs_computed=epochs,  # shared epochs once
        combinations_in_job=len(family),
        combinations_reused=len(family) - len(missing),
        combinations_trained=len(missing),
    )
    hpo.write_runs(smk.output[0], runs, timing)


def _train(
    arrays_path: str,
    combos: Mapping[str, Mapping[str, Any]],
    training: Mapping[str, Any],
    budget: Mapping[str, Any] | None,
    store: Callable[[str, dict[str, Any]], None],
) -> int:
    """Train ``combos`` together (hpo.train_combinations), ``store(combo, run)`` each run as it
    completes; the epochs computed (shared epochs once)."""
    from workflow_scripts.models import network as model

    model.load_backend()  # first: it keeps scikit-learn out of Keras' import
    import numpy as np

    from workflow_scripts.search import hpo

    CLOCK.lap("imports")
    with np.load(arrays_path, allow_pickle=False) as data:  # as features.load_arrays, without its imports
        arrays = {key: data[key] for key in data.files}
    CLOCK.lap("read")
    names = list(combos)
    trainers: dict[Any, Any] = {}
    hpo.train_combinations(
        arrays, list(combos.values()), training, int(training["seed"]), trainers, budget, lambda i, run: store(names[i], run)
    )
    CLOCK.lap("train")
    return sum(trainer.epochs_run for trainer in trainers.values())


run_step(main, snakemake, fast_exit=__name__ == "__main__")  # noqa: F821
