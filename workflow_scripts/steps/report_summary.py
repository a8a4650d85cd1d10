"""Rule report_summary: the report's landing page and its interactive grid view."""

import json
from pathlib import Path

import pandas as pd

from workflow_scripts.core.fileio import write_text_atomic
from workflow_scripts.core.step import run_step
from workflow_scripts.report import grid_view
from workflow_scripts.report import summary as report_summary
from workflow_scripts.search.grid import HYPERPARAMETERS


def main(smk) -> None:
    metrics = json.loads(Path(smk.input.metrics).read_text())
    selection = json.loads(Path(smk.input.selection).read_text())
    outer = pd.read_csv(smk.input.outer) if smk.input.outer else None
    page = report_summary.landing_page(metrics, selection, pd.read_csv(smk.input.counts), smk.params.group_by, outer)
    write_text_atomic(smk.output.summary, page)
    cv = pd.read_csv(smk.input.cv)
    grid_view.write_html(cv, HYPERPARAMETERS, selection["combo"], selection["max_gap"], smk.output.grid_view)


run_step(main, snakemake)  # noqa: F821
