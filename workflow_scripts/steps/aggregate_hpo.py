"""Rule aggregate_hpo: the CV table, the chosen combination and why, figures.

With ``search.strategy: halving`` the table holds every round's rows (columns ``iter`` and
``n_resources``, as scikit-learn's ``cv_results_``) and the choice is made among the last
round's candidates, trained at the full budget.
"""

import json
import logging

import pandas as pd

from workflow_scripts.core.fileio import atomic_path, write_json_atomic
from workflow_scripts.core.step import run_step
from workflow_scripts.evaluation import plots
from workflow_scripts.search import halving, hpo
from workflow_scripts.search.grid import HYPERPARAMETERS


def main(smk) -> None:
    cv = hpo.collect(smk.input.runs)
    table = cv
    search = smk.params.search
    if search["strategy"] == "halving":
        rounds = []
        for path in smk.input.rounds:
            with open(path) as handle:
                rounds.append(json.load(handle))
        last = search["final_round"]
        cv = cv[cv["combo"].isin(rounds[-1]["survivors"])].reset_index(drop=True)
        earlier = pd.DataFrame([row for summary in rounds for row in summary["rows"]])
        final = pd.DataFrame(halving.round_rows(halving.ranked(cv), last["round"], last["budget"]))
        table = pd.concat([earlier, final], ignore_index=True)[[*cv.columns, "iter", "n_resources"]]
    with atomic_path(smk.output.table) as tmp:
        table.to_csv(tmp, index=False)
    chosen = hpo.choose(cv, smk.params.max_gap)
    if search["strategy"] == "halving":
        chosen.update(
            strategy="halving",
            round=last["round"],
            resource=last["resource"],
            n_resources=last["budget"],
            n_grid=int(table[table["iter"] == 0].shape[0]),
            rounds=[{k: r[k] for k in ("round", "budget", "n_candidates")} | {"survivors": len(r["survivors"])} for r in rounds]
            + [{"round": last["round"], "budget": last["budget"], "n_candidates": len(cv)}],
        )
        chosen["reason"] += f" (round {last['round']} of successive halving, at the full budget)"
    logging.getLogger(__name__).info("chosen %s: %s", chosen["combo"], chosen["reason"])
    write_json_atomic(smk.output.selection, chosen)
    plots.hyperparameter_effects(cv, HYPERPARAMETERS, smk.output.effects)
    plots.score_vs_gap(cv, chosen["combo"], smk.params.max_gap, smk.output.tradeoff)


run_step(main, snakemake)  # noqa: F821
