# Stage models: the chosen network on the whole training set, and every estimator of the
# model registry (workflow_scripts/models/registry.py), one job each.
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
