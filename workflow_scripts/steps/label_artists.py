"""Rule label_artists: every artist's Wikidata genres, from the cache or the endpoint."""

import pandas as pd

from workflow_scripts.core.step import run_step
from workflow_scripts.labels.client import RetryPolicy
from workflow_scripts.labels.labelling import label_artists
from workflow_scripts.labels.tables import write_table


def main(smk) -> None:
    p = smk.params  # what the labels depend on: endpoint, max_age_days, refresh
    run = smk.config["labels"]  # run-time settings: they change no result, so they are not params
    artists = pd.read_parquet(smk.input[0], columns=["Artist"])["Artist"].dropna().astype(str)
    entries, _ = label_artists(
        artists,
        p.endpoint,
        run["cache_dir"],
        run["contact"],
        batch_size=run["batch_size"],
        policy=RetryPolicy(timeout_s=run["timeout_s"], **run["retry"]),
        concurrency=run["concurrency"],
        max_age_days=p.max_age_days,
        refresh=p.refresh,
    )
    write_table(entries, smk.output[0])


run_step(main, snakemake)  # noqa: F821
