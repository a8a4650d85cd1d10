"""Rule plot_halving: the rounds of a successive-halving search (score against budget)."""

import json

import pandas as pd

from workflow_scripts.core.step import run_step
from workflow_scripts.search import halving_plots


def main(smk) -> None:
    with open(smk.input.selection) as handle:
        selection = json.load(handle)
    halving_plots.rounds(pd.read_csv(smk.input.table), selection["combo"], selection["resource"], smk.output[0])


run_step(main, snakemake)  # noqa: F821
