from workflow_scripts.bundle import store as bundle_lib  # noqa: E402
from workflow_scripts import predict as predict_lib  # noqa: E402

PREDICT = config["predict"]
# What final_targets adds: the bundle, and the predictions for predict.input when it is set.
MODEL_TARGETS = [f"{RESULTS}/model/manifest.json"]
if PREDICT["input"]:
    MODEL_TARGETS.append(f"{RESULTS}/predictions/{predict_lib.output_name(PREDICT)}.csv")
# The outer summary goes into the model card when the outer evaluation is configured.
OUTER_SUMMARY = (
    [f"{RESULTS}/evaluation/outer_summary.md"] if config["evaluation"]["outer_folds"] else []
)


# The workflow's last stage: everything `predict` needs, with a manifest and a model card.
rule bundle_model:
    input:
        arrays=f"{RESULTS}/features/arrays.npz",
        songs=f"{RESULTS}/data/selected.parquet",
        split=f"{RESULTS}/data/split.parquet",
        dataset=f"{RESULTS}/data/dataset.json",
        network=f"{RESULTS}/models/network.keras",
        estimators=ESTIMATOR_FILES,
        selection=f"{RESULTS}/hpo/selection.json",
        metrics=f"{RESULTS}/evaluation/metrics.json",
        outer=OUTER_SUMMARY,
    output:
        manifest=f"{RESULTS}/model/manifest.json",
        card=report(
            f"{RESULTS}/model/model_card.md",
            category="Model",
            caption="../report/model_card.rst",
        ),
    log:
        f"{LOGS}/bundle_model.log",
    benchmark:
        f"{BENCH}/bundle_model.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        features=config["features"],
        seed=TRAINING["seed"],
        ensemble=config["evaluation"]["ensemble"],
        split=config["split"],
        labels=config["labels"],
        config_digest=bundle_lib.digest_of({k: v for k, v in config.items() if k != "predict"}),
    script:
        "../workflow_scripts/steps/bundle_model.py"


# Genres for predict.input (a CSV of songs): --config predict='{input: my_songs.csv}'.
rule predict:
    input:
        bundle=f"{RESULTS}/model/manifest.json",
        songs=lambda wildcards: PREDICT["input"],
    output:
        f"{RESULTS}/predictions/{{name}}.csv",
    log:
        f"{LOGS}/predict_{{name}}.log",
    benchmark:
        f"{BENCH}/predict_{{name}}.tsv"
    wildcard_constraints:
        name="[A-Za-z0-9._-]+",
    conda:
        "../envs/train.yaml"
    resources:
        mem_mb=3000,
        runtime=10,
    params:
        model_name=PREDICT["model_name"],
        all_models=PREDICT["all_models"],
        pool_by_artist=PREDICT["pool_by_artist"],
    script:
        "../workflow_scripts/steps/predict.py"
