"""Rule check_dataset_sha256: the dataset CSV is the pinned one (config dataset.sha256)."""

from workflow_scripts.core.fileio import write_json_atomic
from workflow_scripts.core.step import run_step
from workflow_scripts.data import dataset


def main(smk) -> None:
    found = dataset.check_sha256(smk.input[0], smk.params.sha256 or None)
    write_json_atomic(smk.output[0], {"csv": str(smk.input[0]), "expected": smk.params.sha256, "sha256": found})


run_step(main, snakemake)  # noqa: F821
