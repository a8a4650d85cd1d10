# Stage bundle: everything `predict` needs in results/model/ (manifest, model card), and
# predictions for predict.input.
from workflow_scripts import predict as predict_lib  # noqa: E402
from workflow_scripts.bundle import store as bundle_lib  # noqa: E402

PREDICT = config["predict"]
# Where the labels came from, as the manifest records it: the labels' settings in effect,
# without run-time ones (the schema's x-reruns and x-when).
LABEL_ORIGIN = footprint.result_settings(config, "labels")


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
        outer=EVALUATION_TARGETS[1:],  # the outer summary, when evaluation.outer_folds is on
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
        features=FEATURES,
        seed=TRAINING["seed"],
        ensemble=EVALUATION["ensemble"],
        split=SPLIT,
        labels=LABEL_ORIGIN,
        # the digest of every setting that changes a result (schemas/config.schema.yaml)
        config_digest=bundle_lib.digest_of(footprint.model_config(config)),
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
        raw_text=PREDICT["raw_text"],
    script:
        "../workflow_scripts/steps/predict.py"


# What `snakemake` builds of this stage: the bundle, and predictions when predict.input is set.
BUNDLE_TARGETS = [f"{RESULTS}/model/manifest.json"] + (
    [f"{RESULTS}/predictions/{predict_lib.output_name(PREDICT)}.csv"] if PREDICT["input"] else []
)
