"""Rule prepare_features: preprocessed arrays for every CV fold and the final split."""

import pandas as pd

from workflow_scripts import features
from workflow_scripts.step import run_step


def main(smk) -> None:
    songs = pd.read_parquet(smk.input.songs)
    split = pd.read_parquet(smk.input.split)
    arrays = features.prepare(songs, split, smk.params.features, smk.params.early_stopping_fraction, smk.params.seed)
    features.save_arrays(smk.output[0], arrays)


run_step(main, snakemake)  # noqa: F821
