"""Rule prepare_features: preprocessed arrays for every CV fold and the final split."""

import pandas as pd

from workflow_scripts.core.step import run_step
from workflow_scripts.features import pipeline as features


def main(smk) -> None:
    songs = pd.read_parquet(smk.input.songs)
    split = pd.read_parquet(smk.input.split)
    arrays = features.prepare(songs, split, smk.params.features, smk.params.early_stopping_fraction, smk.params.seed)
    features.save_arrays(smk.output[0], arrays)


run_step(main, snakemake)  # noqa: F821
