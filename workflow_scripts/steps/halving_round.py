"""Checkpoint halving_round: a round's table (every candidate's CV scores at the round's
budget) and the candidates that go on to the next round, as the search strategy keeps them."""

import json

import pandas as pd

from workflow_scripts.core.fileio import write_json_atomic
from workflow_scripts.core.step import run_step
from workflow_scripts.search import hpo, strategies


def main(smk) -> None:
    info = smk.params.round
    cv = hpo.collect(smk.input.runs)
    if smk.input.previous:
        with open(smk.input.previous) as handle:
            cv = cv[cv["combo"].isin(json.load(handle)["survivors"])]
    cv = pd.DataFrame(cv).reset_index(drop=True)
    write_json_atomic(smk.output[0], {**info, **strategies.create(smk.config).summarize_round(cv, info)})


run_step(main, snakemake)  # noqa: F821
