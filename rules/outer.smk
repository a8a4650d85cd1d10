N_OUTER = split_lib.n_outer_folds(config["split"]["test_size"])


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
        split=config["split"],
        outer=lambda wildcards: int(wildcards.outer),
    script:
        "../workflow_scripts/steps/split_data.py"


rule outer_features:
    input:
        songs=f"{RESULTS}/data/selected.parquet",
        split=f"{RESULTS}/outer/{{outer}}/split.parquet",
    output:
        f"{RESULTS}/outer/{{outer}}/arrays.npz",
    log:
        f"{LOGS}/outer_features_{{outer}}.log",
    benchmark:
        f"{BENCH}/outer_features_{{outer}}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        features=config["features"],
        early_stopping_fraction=TRAINING["early_stopping_fraction"],
        seed=TRAINING["seed"],
    script:
        "../workflow_scripts/steps/prepare_features.py"


rule outer_evaluate:
    input:
        arrays=f"{RESULTS}/outer/{{outer}}/arrays.npz",
        songs=f"{RESULTS}/data/selected.parquet",
        selection=f"{RESULTS}/hpo/selection.json",
    output:
        f"{RESULTS}/outer/{{outer}}/metrics.json",
    log:
        f"{LOGS}/outer_evaluate_{{outer}}.log",
    benchmark:
        f"{BENCH}/outer_evaluate_{{outer}}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=60,
    params:
        training=TRAINING,
        settings=config["baselines"],
        seeds=config["evaluation"]["seeds"],
        ensemble=config["evaluation"]["ensemble"],
    script:
        "../workflow_scripts/steps/outer_evaluate.py"


rule summarize_outer:
    input:
        expand(f"{RESULTS}/outer/{{outer}}/metrics.json", outer=range(N_OUTER)),
    output:
        table=f"{RESULTS}/evaluation/outer_summary.csv",
        markdown=f"{RESULTS}/evaluation/outer_summary.md",
        figure=report(
            f"{RESULTS}/evaluation/outer_summary.png",
            category="Evaluation",
            caption="../report/outer_summary.rst",
        ),
    log:
        f"{LOGS}/summarize_outer.log",
    benchmark:
        f"{BENCH}/summarize_outer.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../workflow_scripts/steps/summarize_outer.py"
