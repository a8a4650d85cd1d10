"""Rule select_songs: a genre per song, the kept genres, optional sampling, counts."""

import logging
from pathlib import Path

import pandas as pd

from workflow_scripts.core.fileio import atomic_path
from workflow_scripts.core.step import run_step
from workflow_scripts.evaluation import plots
from workflow_scripts.genres import selection as genre_selection


def main(smk) -> None:
    p = smk.params
    songs = pd.read_parquet(smk.input.songs)
    if p.source == "wikidata":
        artists, unmapped = genre_selection.artist_super_genres(pd.read_csv(smk.input.labels), p.super_genres)
        labelled = genre_selection.songs_with_genre_from_artists(songs, artists)
        available = [sg["name"] for sg in p.super_genres]
    else:
        labelled = genre_selection.songs_with_genre_from_csv(songs, Path(smk.input.labels))
        artists = (
            labelled.groupby("Artist")["genre"]
            .agg(lambda g: g.mode().iat[0] if g.notna().any() else None)
            .rename("super_genre")
            .rename_axis("artist")
            .reset_index()
        )
        unmapped = pd.DataFrame(columns=["genre", "n_artists"])
        available = sorted(labelled["genre"].dropna().astype(str).unique())
    kept = genre_selection.keep_genres(labelled, p.keep, available)
    kept = genre_selection.sample(kept, p.sampling["method"], p.sampling["cap"], p.sampling["seed"])
    counts = genre_selection.genre_counts(kept)
    logging.getLogger(__name__).info("selected %d songs:\n%s", len(kept), counts.to_string(index=False))
    for frame, path in ((artists, smk.output.artists), (counts, smk.output.counts), (unmapped, smk.output.unmapped)):
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False)
    with atomic_path(smk.output.songs) as tmp:
        kept.to_parquet(tmp, index=False)
    plots.genre_counts(counts, smk.output.figure)


run_step(main, snakemake)  # noqa: F821
