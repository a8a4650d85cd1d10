"""Rule summarize_outer: mean and spread over outer folds and seeds, per model."""

import json
from pathlib import Path

from workflow_scripts.core.fileio import atomic_path, write_text_atomic
from workflow_scripts.core.step import run_step
from workflow_scripts.evaluation import outer as outer_evaluation
from workflow_scripts.evaluation import plots


def main(smk) -> None:
    folds = [json.loads(Path(path).read_text()) for path in smk.input]
    table = outer_evaluation.summarize(folds)
    with atomic_path(smk.output.table) as tmp:
        table.to_csv(tmp, index=False)
    write_text_atomic(smk.output.markdown, outer_evaluation.markdown(table))
    plots.outer_summary(table[table["level"] == "song"], smk.output.figure)


run_step(main, snakemake)  # noqa: F821
