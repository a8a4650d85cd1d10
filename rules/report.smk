# The report's landing page and the interactive grid view (snakemake --report).


# Built with the default targets (rule all): what --report's landing page includes.
REPORT_SUMMARY = f"{RESULTS}/report/summary.rst"
# The outer-fold summary when evaluation.outer_folds is on, else nothing.
OUTER_TABLE = (
    f"{RESULTS}/evaluation/outer_summary.csv" if config["evaluation"]["outer_folds"] else []
)


rule report_summary:
    input:
        metrics=f"{RESULTS}/evaluation/metrics.json",
        selection=f"{RESULTS}/hpo/selection.json",
        counts=f"{RESULTS}/genres/genre_counts.csv",
        cv=f"{RESULTS}/hpo/cv_results.csv",
        outer=OUTER_TABLE,
    output:
        summary=REPORT_SUMMARY,
        grid_view=report(
            f"{RESULTS}/report/grid_view.html",
            category="Grid search",
            caption="../report/grid_view.rst",
        ),
    log:
        f"{LOGS}/report_summary.log",
    benchmark:
        f"{BENCH}/report_summary.tsv"
    localrule: True
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        group_by=config["split"]["group_by"],
    script:
        "../workflow_scripts/steps/report_summary.py"
