"""More training songs from the study's other genres (issue 23), measured outside the workflow.

``seed_selection.csv`` labels 13,260 songs; its six genres give the 6,446 the workflow trains
and tests on. The other 6,814 (alternative rock, latin, country, pop rock, R&B, ...) are
never used. Per outer fold of a finished artist-disjoint run, this adds some of them to the
training rows only (never a song of a test-fold artist; each in its artist's training CV fold,
or one by the artist's name), builds the features with the workflow's own
``features.prepare`` (text models and preprocessing fit on the enlarged training rows), fits
boosting with the fold's tuned settings (seeds 42 and 43 averaged) and scores the six-genre
test rows, song by song and pooled per artist (mean and ``evidence``, the genre shares of the
six-genre training rows).

Modes: ``none`` (the baseline: nothing added), ``altrock`` ("alternative rock" songs labelled
rock), ``other`` (every other genre as a seventh class, its column dropped and the six
renormalised at test), ``catalogue`` (the training artists' other songs in the dataset, with
another genre or none in the study's labels, each labelled with its artist's majority genre
among the six: genres are labels of the artist).

    OMP_NUM_THREADS=1 .venv/bin/python experiments/extra_genres.py /tmp/adc --modes none,altrock,other

The config is the headline run's: config.yaml, configs/study.yaml,
configs/artist_disjoint.yaml and configs/ablation/recipe.yaml, with the schema's defaults.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from snakemake.utils import update_config, validate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments import fold_table  # noqa: E402
from experiments.pooled_levers import outer_run, seed_averaged_boosting, tuned_boosting  # noqa: E402
from workflow_scripts.evaluation import pooling  # noqa: E402
from workflow_scripts.features import pipeline as features  # noqa: E402

CONFIGS = ("config.yaml", "configs/study.yaml", "configs/artist_disjoint.yaml", "configs/ablation/recipe.yaml")


def headline_config() -> dict[str, Any]:
    """The headline run's config, layered as ``--configfile`` layers it (Snakemake's ``update_config``), with the schema's defaults."""
    config: dict[str, Any] = {}
    for name in CONFIGS:
        update_config(config, yaml.safe_load((ROOT / name).read_text()) or {})
    validate(config, str(ROOT / "schemas" / "config.schema.yaml"))
    return config


def extra_songs(results: Path, six: pd.DataFrame, selection: pd.DataFrame, mode: str, test_artists: set[str]) -> pd.DataFrame:
    """The songs of the other genres that ``mode`` adds, none of a test artist, with their label."""
    raw = pd.read_parquet(results / "data" / "raw.parquet").set_index("row")
    rows = selection.index[~selection["genre"].isin(set(six["genre"])) & ~selection.index.isin(six["row"])]
    extra = raw.loc[rows].assign(genre=selection.loc[rows, "genre"].to_numpy()).reset_index()
    extra = extra[~extra["Artist"].isin(test_artists)]
    if mode == "none":
        return extra.iloc[:0]
    if mode == "altrock":
        return extra[extra["genre"] == "alternative rock"].assign(genre="rock")
    if mode == "other":
        return extra.assign(genre="zz other")
    if mode == "catalogue":
        return _catalogue(raw, six, test_artists)
    raise SystemExit(f"unknown mode {mode!r}: none, altrock, other or catalogue")


def _catalogue(raw: pd.DataFrame, six: pd.DataFrame, test_artists: set[str]) -> pd.DataFrame:
    """The training artists' other songs of the dataset (another genre or none in the study's
    labels), each labelled with its artist's majority genre among its six-genre songs; none
    whose Spotify track is also a song of a test artist."""
    training = six[~six["Artist"].isin(test_artists)]
    majority = training.groupby("Artist")["genre"].agg(lambda genres: genres.value_counts().index[0])
    test_tracks = set(raw.loc[raw["Artist"].isin(test_artists), "Uri"])
    keep = raw["Artist"].isin(majority.index) & ~raw.index.isin(six["row"]) & ~raw["Uri"].isin(test_tracks)
    return raw[keep].assign(genre=raw.loc[keep, "Artist"].map(majority).to_numpy()).reset_index()


def run_fold(results: Path, k: int, mode: str, config: dict[str, Any], selection: pd.DataFrame) -> tuple[float, float, float]:
    """Song-level, mean-pooled and evidence-pooled accuracy of boosting on outer fold ``k``."""
    six = pd.read_parquet(results / "data" / "selected.parquet")
    split = pd.read_parquet(results / "outer" / str(k) / "split.parquet")
    by_row = six.set_index("row")
    extra = extra_songs(results, six, selection, mode, set(by_row.loc[split.loc[split["set"] == "test", "row"], "Artist"]))
    fold_of_artist = six.merge(split, on="row").query("set == 'train'").groupby("Artist")["fold"].first()
    n_folds = int(split.loc[split["set"] == "train", "fold"].max()) + 1
    by_name = extra["Artist"].map(lambda artist: zlib.crc32(artist.encode()) % n_folds)
    extra_split = pd.DataFrame(
        {"row": extra["row"], "set": "train", "fold": extra["Artist"].map(fold_of_artist).fillna(by_name).astype(int)}
    )
    arrays = features.prepare(
        pd.concat([six, extra], ignore_index=True),
        pd.concat([split, extra_split], ignore_index=True),
        config["features"],
        config["training"]["early_stopping_fraction"],
        config["training"]["seed"],
    )
    X, y, _, _ = features.training_set(arrays)
    classes = list(arrays["classes"])
    keep = [classes.index(genre) for genre in sorted(set(six["genre"]))]
    proba = seed_averaged_boosting(tuned_boosting(outer_run(results, k)), X, y, arrays["X_test"])[:, keep]
    proba /= proba.sum(axis=1, keepdims=True)
    y_test = np.searchsorted(keep, arrays["y_test"])
    shares = pooling.class_shares(np.searchsorted(keep, y[np.isin(y, keep)]), len(keep))
    artists = by_row.loc[arrays["row_test"], "Artist"].to_numpy()
    pooled = [pooling.pool(proba, artists, rule, shares).argmax(axis=1) for rule in ("mean", "evidence")]
    print(f"fold {k} {mode}: {len(extra)} songs added", flush=True)
    return float((proba.argmax(axis=1) == y_test).mean()), *(float((p == y_test).mean()) for p in pooled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="results_dir of a finished artist-disjoint run (outer folds)")
    parser.add_argument("--modes", default="none,altrock,other")
    parser.add_argument("--selection", type=Path, default=ROOT.parent / "shared" / "reference" / "seed_selection.csv")
    args = parser.parse_args()
    config = headline_config()
    selection = pd.read_csv(args.selection).set_index("row")
    scores = {mode: [run_fold(args.results, k, mode, config, selection) for k in range(5)] for mode in args.modes.split(",")}
    fold_table.print_table(scores, ["song accuracy", "pooled by the mean", "pooled as evidence"])


if __name__ == "__main__":
    main()
