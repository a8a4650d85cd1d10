# Stage genres: raw genres to super-genres, the kept genres, optional sampling, counts.
GENRES = config["genres"]
_SAMPLING = GENRES["sampling"]


# Artist genres from Wikidata, or the configured CSV of song labels.
GENRE_SOURCE = (
    config["labels"]["csv"]
    if config["labels"]["source"] == "csv"
    else f"{RESULTS}/labels/artist_genres.csv"
)


# A checkpoint: a change of the mapping or the sampling that selects the same songs stops here.
checkpoint select_songs:
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
        super_genres=(
            GENRES.get("super_genres") if config["labels"]["source"] == "wikidata" else None
        ),
        keep=GENRES["keep"],
        # only what the method uses
        sampling={
            "method": _SAMPLING["method"],
            "cap": _SAMPLING["cap"] if _SAMPLING["method"] == "cap" else None,
            "seed": _SAMPLING["seed"] if _SAMPLING["method"] != "none" else None,
        },
    script:
        "../workflow_scripts/steps/select_songs.py"
