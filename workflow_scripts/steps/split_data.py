"""Rule split_data: held-out test set and cross-validation folds."""

import pandas as pd

from workflow_scripts.core.fileio import atomic_path
from workflow_scripts.core.step import run_step
from workflow_scripts.split.folds import make_split


def main(smk) -> None:
    s = smk.params.split
    songs = pd.read_parquet(smk.input[0])
    split = make_split(songs, s["test_size"], s["n_folds"], s["seed"], s["group_by"], getattr(smk.params, "outer", None))
    with atomic_path(smk.output[0]) as tmp:
        split.to_parquet(tmp, index=False)


run_step(main, snakemake)  # noqa: F821
