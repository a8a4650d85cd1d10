# Stage evaluation: every model on the held-out test set; with evaluation.outer_folds, every
# model on each outer fold over several seeds, and their summary.
EVALUATION = config["evaluation"]


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
        ensemble=EVALUATION["ensemble"],
    script:
        "../workflow_scripts/steps/evaluate.py"


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
        seeds=EVALUATION["seeds"],
        ensemble=EVALUATION["ensemble"],
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


# What `snakemake` builds of this stage: the test metrics, and the outer summary if asked.
EVALUATION_TARGETS = [f"{RESULTS}/evaluation/metrics.json"] + (
    [f"{RESULTS}/evaluation/outer_summary.md"] if EVALUATION["outer_folds"] else []
)
