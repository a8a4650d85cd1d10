"""Rule write_grid: the unique combinations of the grid, one row each."""

import pandas as pd

from workflow_scripts.core.fileio import atomic_path
from workflow_scripts.core.step import run_step


def main(smk) -> None:
    table = pd.DataFrame([{"combo": combo, **params} for combo, params in smk.params.combos.items()])
    with atomic_path(smk.output[0]) as tmp:
        table.to_csv(tmp, index=False)


run_step(main, snakemake)  # noqa: F821
