import os

# genre-factor: a song's genre from its Spotify and YouTube statistics.
# Dataset -> Wikidata labels -> genre selection -> split -> grid search -> test evaluation.


configfile: os.path.join(workflow.basedir, "config.yaml")


# One rules file per stage, in the order data flows (workflow_scripts/ has one package each).
include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/labels.smk"
include: "rules/genres.smk"
include: "rules/split.smk"
include: "rules/features.smk"
include: "rules/search.smk"
include: "rules/models.smk"
include: "rules/evaluation.smk"
include: "rules/bundle.smk"
include: "rules/report.smk"


# A run started in the background (`nohup snakemake ... &`, a script, a CI runner) inherits
# SIGINT ignored; restored here, `kill -INT <pid>` stops it as Ctrl-C stops a run in a terminal:
# its jobs cancelled, the lock released, finished results kept.
from workflow_scripts.core.interrupt import restore_default_sigint  # noqa: E402

restore_default_sigint()


report: "report/workflow.rst"


rule all:
    default_target: True
    input:
        SEARCH_TARGETS,
        EVALUATION_TARGETS,
        BUNDLE_TARGETS,
        REPORT_SUMMARY,
