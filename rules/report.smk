# Stage report: the landing page of `snakemake --report` and the interactive grid view.
REPORT_SUMMARY = f"{RESULTS}/report/summary.rst"


# Built with the default targets (rule all): what --report's landing page includes.
rule report_summary:
    input:
        metrics=f"{RESULTS}/evaluation/metrics.json",
        selection=f"{RESULTS}/hpo/selection.json",
        counts=f"{RESULTS}/genres/genre_counts.csv",
        cv=f"{RESULTS}/hpo/cv_results.csv",
        outer=(f"{RESULTS}/evaluation/outer_summary.csv" if EVALUATION["outer_folds"] else []),
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
        group_by=SPLIT["group_by"],
        n_folds=SPLIT["n_folds"],
    script:
        "../workflow_scripts/steps/report_summary.py"
