# Stage data: the dataset from Kaggle, a URL or a path, checked and validated to typed parquet.
DATASET = config["dataset"]


# The CSV to validate: the configured path, or the downloaded copy.
RAW_CSV = (
    DATASET["path"]
    if DATASET["source"] == "path"
    else f"resources/dataset/{DATASET['source']}/Spotify_Youtube.csv"
)


# Runs on the submitting machine: compute nodes often have no internet.
rule download_dataset:
    output:
        "resources/dataset/{source}/Spotify_Youtube.csv",
    log:
        "resources/dataset/{source}/download.log",
    benchmark:
        "resources/dataset/{source}/download.benchmark.tsv"
    wildcard_constraints:
        source="kaggle|url",
    localrule: True
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        origin=lambda wildcards: DATASET["kaggle_handle" if wildcards.source == "kaggle" else "url"],
    script:
        "../workflow_scripts/steps/download_dataset.py"


# The pin (dataset.sha256) is checked by its own small job, which validation waits for but
# does not depend on (ancient): pinning the file a finished run used reruns this check only.
rule check_dataset_sha256:
    input:
        RAW_CSV,
    output:
        f"{RESULTS}/data/sha256_check.json",
    log:
        f"{LOGS}/check_dataset_sha256.log",
    localrule: True
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        sha256=DATASET["sha256"],
    script:
        "../workflow_scripts/steps/check_dataset_sha256.py"


rule validate_dataset:
    input:
        csv=RAW_CSV,
        pin=ancient(f"{RESULTS}/data/sha256_check.json"),
    output:
        parquet=f"{RESULTS}/data/raw.parquet",
        info=f"{RESULTS}/data/dataset.json",
    log:
        f"{LOGS}/validate_dataset.log",
    benchmark:
        f"{BENCH}/validate_dataset.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        source=DATASET["source"],
        origin=DATASET[{"kaggle": "kaggle_handle"}.get(DATASET["source"], DATASET["source"])],
    script:
        "../workflow_scripts/steps/validate_dataset.py"
