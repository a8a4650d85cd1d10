"""Checkpoint halving_round: a round's table (every candidate's CV scores at the round's
budget) and the candidates that go on to the next round."""

import json

import pandas as pd

from workflow_scripts.core.fileio import write_json_atomic
from workflow_scripts.core.step import run_step
from workflow_scripts.search import halving, hpo


def main(smk) -> None:
    info = smk.params.round
    cv = hpo.collect(smk.input.runs)
    if smk.input.previous:
        with open(smk.input.previous) as handle:
            cv = cv[cv["combo"].isin(json.load(handle)["survivors"])]
    cv = pd.DataFrame(cv).reset_index(drop=True)
    keep = halving.survivors(cv, float(info["factor"]))
    write_json_atomic(
        smk.output[0],
        {**info, "n_candidates": len(cv), "survivors": keep, "rows": halving.round_rows(halving.ranked(cv), info["round"], info["budget"])},
    )


run_step(main, snakemake)  # noqa: F821
