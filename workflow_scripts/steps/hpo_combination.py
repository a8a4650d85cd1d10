"""Rules hpo_combination and hpo_family: train hyperparameter combinations over the k folds.

hpo_combination trains one combination (``params.hyperparameters``) and writes its run.
hpo_family trains several (``params.family``: combination id -> hyperparameters; a family
of combinations that differ only in callbacks, or all of one architecture) in one process:
TensorFlow is imported once, each architecture is traced once, and combinations that differ
only in their callbacks share their common epochs (hpo.train_combinations). Each
combination's run is the one hpo_combination writes, collected in one file. Each file
records where its job's time went (``timing``).

hpo_round_combination and hpo_round_family (``search.strategy: halving``) run the same way at
a round's budget (``params.budget``); a family job of a later round trains only the members
that survived the round before (``input.survivors``, that round's summary).
"""

import json
import time

START = time.perf_counter()
CPU_START = time.process_time()  # CPU seconds of this process so far: interpreter, preamble


def process_age() -> float | None:
    """Seconds since this process started (Linux): the interpreter and Snakemake's script
    preamble before this line. None where /proc is not available."""
    import os

    try:
        with open("/proc/self/stat") as handle:
            started = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        return max(0.0, uptime - started / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


BEFORE_SCRIPT = process_age()

from workflow_scripts.model import configure_threads  # noqa: E402
from workflow_scripts.step import run_step  # noqa: E402


def main(smk) -> None:
    configure_threads(smk.threads)
    from workflow_scripts import model

    model.load_backend()  # first: it keeps scikit-learn out of Keras' import
    import numpy as np

    from workflow_scripts import hpo
    from workflow_scripts.fileio import write_json_atomic

    imports, cpu_imports = time.perf_counter() - START, time.process_time() - CPU_START
    started, cpu_started = time.perf_counter(), time.process_time()
    with np.load(smk.input[0], allow_pickle=False) as data:  # as features.load_arrays, without its imports
        arrays = {key: data[key] for key in data.files}
    read, cpu_read = time.perf_counter() - started, time.process_time() - cpu_started
    family = getattr(smk.params, "family", None)
    if family and getattr(smk.input, "survivors", None):
        with open(smk.input.survivors) as handle:
            alive = set(json.load(handle)["survivors"])
        family = {combo: params for combo, params in family.items() if combo in alive}
    combos = list(family.values()) if family else [smk.params.hyperparameters]
    training = smk.params.training
    started, cpu_started = time.perf_counter(), time.process_time()
    trainers: dict = {}
    budget = getattr(smk.params, "budget", None)
    results = hpo.train_combinations(arrays, combos, training, int(training.get("seed", 42)), trainers, budget)
    train, cpu_train = time.perf_counter() - started, time.process_time() - cpu_started
    # This process's time: before this script, imports, reading the arrays, training (all of
    # its combinations; per combination, the folds' seconds); wall and CPU seconds (on a busy
    # machine a job gets less than its core: CPU seconds are what a free core takes).
    timing = {
        "before_script": BEFORE_SCRIPT,
        "imports": imports,
        "read": read,
        "train": train,
        "cpu": {"before_script": CPU_START, "imports": cpu_imports, "read": cpu_read, "train": cpu_train, "total": time.process_time()},
        "epochs_computed": sum(trainer.epochs_run for trainer in trainers.values()),  # shared epochs once
        "combinations_in_job": len(combos),
        "job_seconds": time.perf_counter() - START,
    }
    if family:
        write_json_atomic(smk.output[0], {"timing": timing, "runs": dict(zip(family, results, strict=True))})
    else:
        write_json_atomic(smk.output[0], {**results[0], "job_seconds": timing["job_seconds"], "timing": timing})


run_step(main, snakemake)  # noqa: F821
if __name__ == "__main__":  # the job's own process (Snakemake's script), after a success:
    # skip the interpreter's teardown of TensorFlow (1-2 s a job); the outputs are closed and
    # renamed into place, the log is flushed.
    import logging
    import os
    import sys

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
