# Stage labels: each artist's Wikidata genres (P136) with their P279 ancestry, cached per artist.
LABELS = config["labels"]


# Runs on the submitting machine: it talks to the SPARQL endpoint. A checkpoint: when its
# table comes out byte-identical (an endpoint mirror, a refresh that changed nothing), the
# jobs after it do not run (Snakemake re-plans after a checkpoint and compares checksums).
# Run-time settings (contact, cache_dir, batch_size, concurrency, timeout_s, retry) are
# read from snakemake.config by the step: they change no result.
checkpoint label_artists:
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
        max_age_days=LABELS["max_age_days"],
        refresh=LABELS["refresh"],
    script:
        "../workflow_scripts/steps/label_artists.py"
