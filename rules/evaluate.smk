# The estimators of the model registry (workflow_scripts/models.py), one job each.
ESTIMATOR_FILES = expand(f"{RESULTS}/models/{{model}}.skops", model=models_lib.ESTIMATORS)


rule train_network:
    input:
        arrays=f"{RESULTS}/features/arrays.npz",
        selection=f"{RESULTS}/hpo/selection.json",
    output:
        model=f"{RESULTS}/models/network.keras",
        history=f"{RESULTS}/models/network_history.json",
    log:
        f"{LOGS}/train_network.log",
    benchmark:
        f"{BENCH}/train_network.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        training=TRAINING,
    script:
        "../workflow_scripts/steps/train_network.py"


rule train_baseline:
    input:
        f"{RESULTS}/features/arrays.npz",
    output:
        f"{RESULTS}/models/{{model}}.skops",
    log:
        f"{LOGS}/train_baseline_{{model}}.log",
    benchmark:
        f"{BENCH}/train_baseline_{{model}}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=lambda wildcards: config["baselines"][wildcards.model],
        seed=TRAINING["seed"],
    script:
        "../workflow_scripts/steps/train_baseline.py"


rule evaluate:
    input:
        arrays=f"{RESULTS}/features/arrays.npz",
        songs=f"{RESULTS}/data/selected.parquet",
        network=f"{RESULTS}/models/network.keras",
        history=f"{RESULTS}/models/network_history.json",
        estimators=ESTIMATOR_FILES,
    output:
        metrics=f"{RESULTS}/evaluation/metrics.json",
        table=f"{RESULTS}/evaluation/metrics.csv",
        probabilities=f"{RESULTS}/evaluation/test_probabilities.parquet",
        confusion=report(
            f"{RESULTS}/evaluation/confusion_matrices.png",
            category="Evaluation",
            caption="../report/confusion_matrices.rst",
        ),
        pr_curves=report(
            f"{RESULTS}/evaluation/precision_recall.png",
            category="Evaluation",
            caption="../report/precision_recall.rst",
        ),
        curves=report(
            f"{RESULTS}/evaluation/training_curves.png",
            category="Evaluation",
            caption="../report/training_curves.rst",
        ),
        comparison=report(
            f"{RESULTS}/evaluation/comparison.png",
            category="Evaluation",
            caption="../report/comparison.rst",
        ),
    log:
        f"{LOGS}/evaluate.log",
    benchmark:
        f"{BENCH}/evaluate.tsv"
    conda:
        "../envs/train.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        ensemble=config["evaluation"]["ensemble"],
    script:
        "../workflow_scripts/steps/evaluate.py"
