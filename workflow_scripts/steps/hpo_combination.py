"""Rule hpo_combination: one hyperparameter combination over the k folds."""

import time

START = time.perf_counter()

from workflow_scripts.model import configure_threads  # noqa: E402
from workflow_scripts.step import run_step  # noqa: E402


def main(smk) -> None:
    configure_threads(smk.threads)
    from workflow_scripts import features, hpo
    from workflow_scripts.fileio import write_json_atomic

    arrays = features.load_arrays(smk.input[0])
    result = hpo.train_combination(arrays, smk.params.hyperparameters, smk.params.training, int(smk.params.training.get("seed", 42)))
    result["job_seconds"] = time.perf_counter() - START
    write_json_atomic(smk.output[0], result)


run_step(main, snakemake)  # noqa: F821
