"""Rule report_summary: the report's landing page and its interactive grid view."""

import json

import pandas as pd

from workflow_scripts import grid_view, report_summary
from workflow_scripts.fileio import write_text_atomic
from workflow_scripts.grid import HYPERPARAMETERS
from workflow_scripts.step import run_step


def main(smk) -> None:
    metrics = json.loads(open(smk.input.metrics).read())
    selection = json.loads(open(smk.input.selection).read())
    outer = pd.read_csv(smk.input.outer) if smk.input.outer else None
    page = report_summary.landing_page(metrics, selection, pd.read_csv(smk.input.counts), smk.params.group_by, outer)
    write_text_atomic(smk.output.summary, page)
    cv = pd.read_csv(smk.input.cv)
    grid_view.write_html(cv, HYPERPARAMETERS, selection["combo"], selection["max_gap"], smk.output.grid_view)


run_step(main, snakemake)  # noqa: F821
