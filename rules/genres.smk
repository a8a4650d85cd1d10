# Stage genres: raw genres to super-genres, the kept genres, optional sampling, counts.
GENRES = config["genres"]


# Artist genres from Wikidata, or the configured CSV of song labels.
GENRE_SOURCE = (
    config["labels"]["csv"]
    if config["labels"]["source"] == "csv"
    else f"{RESULTS}/labels/artist_genres.csv"
)


rule select_songs:
    input:
        songs=f"{RESULTS}/data/raw.parquet",
        labels=GENRE_SOURCE,
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
        source=config["labels"]["source"],
        super_genres=footprint.in_effect(config, "genres.super_genres"),
        keep=GENRES["keep"],
        # only what the method uses (the schema's x-when)
        sampling=footprint.in_effect(config, "genres.sampling"),
    script:
        "../workflow_scripts/steps/select_songs.py"
