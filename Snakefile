import os

# genre-factor: a song's genre from its Spotify and YouTube statistics.
# Dataset -> Wikidata labels -> genre selection -> split -> grid search -> test evaluation.


configfile: os.path.join(workflow.basedir, "config.yaml")


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/labels.smk"
include: "rules/hpo.smk"
include: "rules/evaluate.smk"
include: "rules/outer.smk"
include: "rules/predict.smk"


report: "report/workflow.rst"


rule all:
    default_target: True
    input:
        final_targets(),
