"""Rule aggregate_hpo: the CV table, the chosen combination and why, figures.

The search strategy shapes the table and the record (with ``search.strategy: halving`` the
table holds every round's rows, columns ``iter`` and ``n_resources`` as scikit-learn's
``cv_results_``, and the choice is made among the last round's candidates at the full budget).
"""

import json
import logging

from workflow_scripts.core.fileio import atomic_path, write_json_atomic
from workflow_scripts.core.step import run_step
from workflow_scripts.evaluation import plots
from workflow_scripts.search import hpo, strategies
from workflow_scripts.search.grid import HYPERPARAMETERS


def main(smk) -> None:
    summaries = []
    for path in smk.input.rounds:
        with open(path) as handle:
            summaries.append(json.load(handle))
    table, cv, extra = strategies.create(smk.config).annotate(hpo.collect(smk.input.runs), summaries, smk.params.search)
    with atomic_path(smk.output.table) as tmp:
        table.to_csv(tmp, index=False)
    chosen = hpo.choose(cv, smk.params.max_gap)
    note = extra.pop("reason_note", "")
    chosen.update(extra)
    chosen["reason"] += note
    logging.getLogger(__name__).info("chosen %s: %s", chosen["combo"], chosen["reason"])
    write_json_atomic(smk.output.selection, chosen)
    plots.hyperparameter_effects(cv, HYPERPARAMETERS, smk.output.effects)
    plots.score_vs_gap(cv, chosen["combo"], smk.params.max_gap, smk.output.tradeoff)


run_step(main, snakemake)  # noqa: F821
