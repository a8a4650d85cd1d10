"""Rule label_artists: every artist's Wikidata genres, from the cache or the endpoint."""

import pandas as pd

from workflow_scripts import wikidata
from workflow_scripts.fileio import atomic_path
from workflow_scripts.step import run_step


def main(smk) -> None:
    p = smk.params
    artists = pd.read_parquet(smk.input[0], columns=["Artist"])["Artist"].dropna().astype(str)
    entries, _ = wikidata.label_artists(
        artists,
        p.endpoint,
        p.cache_dir,
        p.contact,
        batch_size=p.batch_size,
        policy=wikidata.RetryPolicy(timeout_s=p.timeout_s, **p.retry),
        concurrency=p.concurrency,
        max_age_days=p.max_age_days,
        refresh=p.refresh,
    )
    with atomic_path(smk.output[0]) as tmp:
        wikidata.entries_table(entries).to_csv(tmp, index=False)


run_step(main, snakemake)  # noqa: F821
