"""Rule aggregate_hpo: the CV table, the chosen combination and why, figures."""

import logging

from workflow_scripts import hpo, plots
from workflow_scripts.fileio import atomic_path, write_json_atomic
from workflow_scripts.grid import HYPERPARAMETERS
from workflow_scripts.step import run_step


def main(smk) -> None:
    cv = hpo.collect(smk.input.runs)
    with atomic_path(smk.output.table) as tmp:
        cv.to_csv(tmp, index=False)
    chosen = hpo.choose(cv, smk.params.max_gap)
    logging.getLogger(__name__).info("chosen %s: %s", chosen["combo"], chosen["reason"])
    write_json_atomic(smk.output.selection, chosen)
    plots.hyperparameter_effects(cv, HYPERPARAMETERS, smk.output.effects)
    plots.score_vs_gap(cv, chosen["combo"], smk.params.max_gap, smk.output.tradeoff)


run_step(main, snakemake)  # noqa: F821
