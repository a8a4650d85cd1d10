LABELS = config["labels"]
GENRES = config["genres"]


# Runs on the submitting machine: it talks to the SPARQL endpoint.
rule label_artists:
    input:
        f"{RESULTS}/data/raw.parquet",
    output:
        f"{RESULTS}/labels/artist_genres.csv",
    log:
        f"{LOGS}/label_artists.log",
    benchmark:
        f"{BENCH}/label_artists.tsv"
    localrule: True
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=120,
    params:
        endpoint=LABELS["endpoint"],
        contact=LABELS["contact"],
        cache_dir=LABELS["cache_dir"],
        batch_size=LABELS["batch_size"],
        concurrency=LABELS["concurrency"],
        timeout_s=LABELS["timeout_s"],
        max_age_days=LABELS["max_age_days"],
        refresh=LABELS["refresh"],
        retry=LABELS["retry"],
    script:
        "../workflow_scripts/steps/label_artists.py"


rule select_songs:
    input:
        songs=f"{RESULTS}/data/raw.parquet",
        labels=genre_source(),
    output:
        songs=f"{RESULTS}/data/selected.parquet",
        artists=f"{RESULTS}/labels/artist_super_genres.csv",
        counts=f"{RESULTS}/genres/genre_counts.csv",
        unmapped=f"{RESULTS}/genres/unmapped_genres.csv",
        figure=report(
            f"{RESULTS}/genres/genre_counts.png",
            category="Data",
            caption="../report/genre_counts.rst",
        ),
    log:
        f"{LOGS}/select_songs.log",
    benchmark:
        f"{BENCH}/select_songs.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        source=LABELS["source"],
        super_genres=GENRES.get("super_genres"),
        keep=GENRES["keep"],
        sampling=GENRES["sampling"],
    script:
        "../workflow_scripts/steps/select_songs.py"


rule split_data:
    input:
        f"{RESULTS}/data/selected.parquet",
    output:
        f"{RESULTS}/data/split.parquet",
    log:
        f"{LOGS}/split_data.log",
    benchmark:
        f"{BENCH}/split_data.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        split=config["split"],
    script:
        "../workflow_scripts/steps/split_data.py"
