"""Rule download_dataset: fetch the dataset CSV from Kaggle or a URL."""

from pathlib import Path

from workflow_scripts.core.step import run_step
from workflow_scripts.data import dataset


def main(smk) -> None:
    if smk.wildcards.source == "kaggle":
        dataset.fetch_kaggle(smk.params.origin, Path(smk.output[0]))
    else:
        dataset.fetch_url(smk.params.origin, Path(smk.output[0]))


run_step(main, snakemake)  # noqa: F821
