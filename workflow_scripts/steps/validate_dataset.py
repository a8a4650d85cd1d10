"""Rule validate_dataset: check schema, types and ranges; write typed parquet."""

from pathlib import Path

from workflow_scripts import dataset
from workflow_scripts.step import run_step


def main(smk) -> None:
    dataset.csv_to_parquet(Path(smk.input[0]), Path(smk.output[0]))


run_step(main, snakemake)  # noqa: F821
