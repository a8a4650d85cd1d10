"""Rule summarize_outer: mean and spread over outer folds and seeds, per model."""

import json
from pathlib import Path

from workflow_scripts import outer_evaluation, plots
from workflow_scripts.fileio import atomic_path, write_text_atomic
from workflow_scripts.step import run_step


def main(smk) -> None:
    folds = [json.loads(Path(path).read_text()) for path in smk.input]
    table = outer_evaluation.summarize(folds)
    with atomic_path(smk.output.table) as tmp:
        table.to_csv(tmp, index=False)
    write_text_atomic(smk.output.markdown, outer_evaluation.markdown(table))
    plots.outer_summary(table[table["level"] == "song"], smk.output.figure)


run_step(main, snakemake)  # noqa: F821
