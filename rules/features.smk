# Stage features: the preprocessing Pipeline fit on training rows, arrays for every fold.
# (a key out of its mode, as the schema's x-when says, is None: setting it reruns nothing)
FEATURES = footprint.in_effect(config, "features")


rule prepare_features:
    input:
        songs=f"{RESULTS}/data/selected.parquet",
        split=f"{RESULTS}/data/split.parquet",
    output:
        f"{RESULTS}/features/arrays.npz",
    log:
        f"{LOGS}/prepare_features.log",
    benchmark:
        f"{BENCH}/prepare_features.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        features=FEATURES,
        early_stopping_fraction=config["training"]["early_stopping_fraction"],
        seed=TRAINING["seed"],
    script:
        "../workflow_scripts/steps/prepare_features.py"


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
        features=FEATURES,
        early_stopping_fraction=config["training"]["early_stopping_fraction"],
        seed=TRAINING["seed"],
    script:
        "../workflow_scripts/steps/prepare_features.py"
