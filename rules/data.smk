DATASET = config["dataset"]


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
        source=DATASET["source"],
        kaggle_handle=DATASET["kaggle_handle"],
        url=DATASET["url"],
    script:
        "../workflow_scripts/steps/download_dataset.py"


rule validate_dataset:
    input:
        raw_csv(),
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
        sha256=DATASET["sha256"],
        source=DATASET["source"],
        origin=DATASET[{"kaggle": "kaggle_handle"}.get(DATASET["source"], DATASET["source"])],
    script:
        "../workflow_scripts/steps/validate_dataset.py"
