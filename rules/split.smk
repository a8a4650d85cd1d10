# Stage split: the held-out test set and the CV folds; the outer folds of the outer evaluation.
from workflow_scripts.split import folds as split_lib  # noqa: E402

SPLIT = config["split"]
SPLIT_PARAMS = split_lib.split_params(SPLIT)
N_OUTER = split_lib.n_outer_folds(SPLIT["test_size"])


rule split_data:
    input:
        f"{RESULTS}/data/selected.parquet",
    output:
        f"{RESULTS}/data/split.parquet",
    log:
        f"{LOGS}/split_data.log",
    benchmark:
        f"{BENCH}/split_data.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        split=SPLIT_PARAMS,
    script:
        "../workflow_scripts/steps/split_data.py"


rule outer_split:
    input:
        f"{RESULTS}/data/selected.parquet",
    output:
        f"{RESULTS}/outer/{{outer}}/split.parquet",
    log:
        f"{LOGS}/outer_split_{{outer}}.log",
    benchmark:
        f"{BENCH}/outer_split_{{outer}}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        split=SPLIT_PARAMS,
        outer=lambda wildcards: int(wildcards.outer),
    script:
        "../workflow_scripts/steps/split_data.py"
