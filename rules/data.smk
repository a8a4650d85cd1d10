# Stage data: the dataset from Kaggle, a URL or a path, checked and validated to typed parquet.
DATASET = config["dataset"]


# The CSV to validate: the configured path, or the downloaded copy.
RAW_CSV = (
    DATASET["path"]
    if DATASET["source"] == "path"
    else f"resources/dataset/{DATASET['source']}/Spotify_Youtube.csv"
)
# The pin (dataset.sha256) is checked whenever the workflow is read, once the CSV is there
# (validation checks a fresh download): a new pin reruns nothing. A CSV at a path is compared by
# its bytes, not its time (params): a copy with the same bytes (a share mounted again, a file
# copied back) reruns nothing. A downloaded copy changes only when the download reruns.
# (Hashing the 30 MB CSV: 0.02 s per read of the workflow, benchmarks/README.md.)
# No job's output is an ancient() input: Snakemake 9.27 skips the jobs behind a job that must
# run (dag.py update_needrun masks them) and an ancient() edge stops them being planned again,
# so they would wait for a second run.
_BY_CONTENT = DATASET["source"] == "path"
try:
    _CSV_SHA256 = (
        dataset_lib.pinned_sha256(RAW_CSV, DATASET["sha256"])
        if _BY_CONTENT or DATASET["sha256"]
        else ""
    )
except UserError as _error:
    raise WorkflowError(f"Invalid dataset: {_error}") from None
RAW_CSV_INPUT = ancient(RAW_CSV) if _BY_CONTENT else RAW_CSV
RAW_CSV_SHA256 = _CSV_SHA256 if _BY_CONTENT else ""


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


rule validate_dataset:
    input:
        csv=RAW_CSV_INPUT,
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
        csv_sha256=RAW_CSV_SHA256,
        origin=DATASET[{"kaggle": "kaggle_handle"}.get(DATASET["source"], DATASET["source"])],
    script:
        "../workflow_scripts/steps/validate_dataset.py"
