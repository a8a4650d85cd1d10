"""Feature matrices: a scikit-learn Pipeline (impute, encode, QuantileTransformer(normal),
MinMaxScaler(-1, 1)) fit on training rows only, applied per CV fold and for the final split."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import KNNImputer, SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OrdinalEncoder, QuantileTransformer

from workflow_scripts.core.artist_sums import ArtistSums
from workflow_scripts.core.errors import UserError
from workflow_scripts.core.fileio import atomic_path
from workflow_scripts.features import artist_context, engineered_ratios, song_texts, text_flags, text_models, text_stacking


def feature_frame(songs: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> pd.DataFrame:
    """The feature columns with clean dtypes: floats, and strings with NaN for missing."""
    missing = [c for c in [*numeric, *categorical] if c not in songs.columns]
    if missing:
        raise UserError(
            f"Feature column(s) {', '.join(missing)} are not in the dataset.", "fix features.numeric / features.categorical in the config."
        )
    out = pd.DataFrame(index=songs.index)
    for column in numeric:
        out[column] = pd.to_numeric(songs[column], errors="coerce").astype("float64")
    for column in categorical:
        values = songs[column]
        out[column] = values.astype("string").astype(object).where(values.notna(), np.nan)
    return out


def make_preprocessor(numeric: Sequence[str], categorical: Sequence[str], imputer: str, seed: int) -> Pipeline:
    """Impute and encode, then QuantileTransformer(normal) and MinMaxScaler(-1, 1)."""
    impute = KNNImputer(n_neighbors=5) if imputer == "knn" else SimpleImputer(strategy="median")
    columns = ColumnTransformer(
        [
            ("numeric", impute, list(numeric)),
            (
                "categorical",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1),
                list(categorical),
            ),
        ]
    )
    return Pipeline(
        [
            ("columns", columns),
            ("quantile", QuantileTransformer(output_distribution="normal", n_quantiles=1000, subsample=None, random_state=seed)),
            ("scale", MinMaxScaler(feature_range=(-1, 1))),
        ]
    )


def _labels(songs: pd.DataFrame, classes: Sequence[str]) -> np.ndarray:
    return pd.Categorical(songs["genre"].astype(str), categories=list(classes)).codes.astype("int32")


def required_columns(features: Mapping[str, Any]) -> list[str]:
    """The raw dataset columns the configured features read (the Kaggle schema's names)."""
    columns = [*features["numeric"], *features["categorical"]]
    if features["engineered"]:
        columns += engineered_ratios.ENGINEERED_INPUTS
    if features["flags"] or features["text"]:
        columns += song_texts.TEXT_COLUMNS
    return list(dict.fromkeys(columns))


def input_frame(songs: pd.DataFrame, features: Mapping[str, Any]) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The Pipeline's input: engineered and flag features (when configured) before the
    configured numeric columns, then the categorical ones; and the numeric and categorical names."""
    numeric, categorical = list(features["numeric"]), list(features["categorical"])
    frame = feature_frame(songs, numeric, categorical)
    extra = [engineered_ratios.engineered(songs)] if features["engineered"] else []
    extra += [text_flags.flags(songs)] if features["flags"] else []
    if extra:
        added = pd.concat(extra, axis=1)
        frame = pd.concat([added, frame], axis=1)
        numeric = [*added.columns, *numeric]
    return frame, numeric, categorical


def feature_names(
    numeric: Sequence[str], categorical: Sequence[str], blocks: Sequence[str], classes: Sequence[str], context: bool = False
) -> list[str]:
    """The columns of the feature matrix: numeric, categorical, each text block's classes, then
    (``context``) the artist context's columns."""
    names = [*numeric, *categorical, *(f"text_{block}_{c}" for block in blocks for c in classes)]
    return artist_context.column_names(names) if context else names


@dataclass
class FittedFeatures:
    """The fitted preprocessing of the final split: raw songs in, the feature matrix out
    (what ``prepare`` gives the test rows), for the bundle and ``predict``."""

    features: dict[str, Any]
    classes: list[str]
    pipeline: Pipeline
    text_models: dict[str, Pipeline] = field(default_factory=dict)

    @property
    def uses_artist_context(self) -> bool:
        """Whether a song's features depend on the other songs of its artist in the input."""
        return bool(self.features.get("artist_context"))

    def transform(self, songs: pd.DataFrame) -> np.ndarray:
        """The float32 feature matrix of ``songs`` (typed as the dataset's validation leaves it);
        with artist context, each song's among ``songs``."""
        X = self.song_transform(songs)
        return self.with_context(X, songs["Artist"]) if self.uses_artist_context else X

    def with_context(self, X: np.ndarray, artists: Any, context_sums: ArtistSums | None = None) -> np.ndarray:
        """``song_transform``'s matrix with the artist context's columns (see ``artist_context``)."""
        return artist_context.with_context(X, artists, context_sums)

    def song_transform(self, songs: pd.DataFrame) -> np.ndarray:
        """The feature matrix before the artist context: each song on its own."""
        frame, _, _ = input_frame(songs, self.features)
        X = self.pipeline.transform(frame)
        blocks = list(self.features["text"])
        if blocks:
            texts = song_texts.text_inputs(songs)
            X = np.hstack([X, *(2 * self.text_models[block].predict_proba(texts[block]) - 1 for block in blocks)])
        return X.astype("float32")


def fit_final(songs: pd.DataFrame, split: pd.DataFrame, features: Mapping[str, Any], seed: int) -> FittedFeatures:
    """Fit the final split's preprocessing on its training rows, as ``prepare`` does: the
    Pipeline, and each text block's model refit on all training rows."""
    merged = songs.merge(split, on="row", validate="one_to_one")
    classes = sorted(merged["genre"].astype(str).unique())
    frame, numeric, categorical = input_frame(merged, features)
    train_idx = np.flatnonzero((merged["set"] == "train").to_numpy())
    pipeline = make_preprocessor(numeric, categorical, features["imputer"], seed).fit(frame.iloc[train_idx])
    y = _labels(merged, classes)
    texts = song_texts.text_inputs(merged) if features["text"] else {}
    fitted_text = {block: text_models.text_model(block).fit(texts[block].iloc[train_idx], y[train_idx]) for block in features["text"]}
    return FittedFeatures(dict(features), classes, pipeline, fitted_text)


def prepare(
    songs: pd.DataFrame, split: pd.DataFrame, features: Mapping[str, Any], early_stopping_fraction: float, seed: int
) -> dict[str, np.ndarray]:
    """Arrays for every CV fold and for the final train/test split.

    Per fold ``k``: ``fit_k``/``es_k`` (training folds, with a stratified share held out for
    early stopping) and ``val_k`` (the validation fold). Final: ``fit``/``es`` from the whole
    training set and ``test``. The pipeline is fit on the training rows of each split only.
    """
    merged = songs.merge(split, on="row", validate="one_to_one")
    classes = sorted(merged["genre"].astype(str).unique())
    frame, numeric, categorical = input_frame(merged, features)
    blocks = list(features["text"])
    y = _labels(merged, classes)
    arrays: dict[str, np.ndarray] = {
        "classes": np.array(classes),
        "feature_names": np.array(feature_names(numeric, categorical, blocks, classes, bool(features.get("artist_context")))),
    }
    artists = merged["Artist"].to_numpy()

    def transform(train_mask: np.ndarray, others: dict[str, np.ndarray], suffix: str) -> None:
        train_idx = np.flatnonzero(train_mask)
        fit_idx, es_idx = train_test_split(train_idx, test_size=early_stopping_fraction, stratify=y[train_idx], random_state=seed)
        pipeline = make_preprocessor(numeric, categorical, features["imputer"], seed)
        pipeline.fit(frame.iloc[train_idx])
        text: dict[str, np.ndarray] = {}
        if blocks:
            position = pd.Series(np.arange(len(train_idx)), index=train_idx)
            text_train, text_other = text_stacking.stacked_text(merged, y, train_idx, others, blocks, seed)
            text = {"fit": text_train[position[fit_idx].to_numpy()], "es": text_train[position[es_idx].to_numpy()], **text_other}
        sets = {"fit": fit_idx, "es": es_idx, **others}
        matrices = {}
        for name, idx in sets.items():
            X = pipeline.transform(frame.iloc[idx])
            if blocks:
                X = np.hstack([X, text[name]])
            matrices[name] = X.astype("float32")
        if features.get("artist_context"):
            matrices, sets = _with_artist_context(matrices, sets, artists, bool(features.get("context_augmentation")), seed)
        for name, idx in sets.items():
            arrays[f"X_{name}{suffix}"] = matrices[name]
            arrays[f"y_{name}{suffix}"] = y[idx]
            arrays[f"row_{name}{suffix}"] = merged["row"].to_numpy()[idx]
            arrays[f"fold_{name}{suffix}"] = merged["fold"].to_numpy()[idx]

    is_train = (merged["set"] == "train").to_numpy()
    for k in sorted(merged.loc[is_train, "fold"].unique()):
        val = merged["fold"].to_numpy() == k
        transform(is_train & ~val, {"val": np.flatnonzero(val)}, f"_{k}")
    transform(is_train, {"test": np.flatnonzero(~is_train)}, "")
    arrays["n_folds"] = np.array(len(merged.loc[is_train, "fold"].unique()))
    return arrays


def _with_artist_context(
    matrices: Mapping[str, np.ndarray], sets: Mapping[str, np.ndarray], artists: np.ndarray, augment: bool, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each set's matrix with its artist context (the training rows, fit and early-stopping,
    among themselves; every other set among itself), and each set's row indices.
    ``augment``: the fit rows twice, second with the context of a random half of their
    artist's training songs."""
    out = {name: artist_context.with_context(matrices[name], artists[idx]) for name, idx in sets.items() if name not in ("fit", "es")}
    n_fit = len(sets["fit"])
    training = np.vstack([matrices["fit"], matrices["es"]])
    training_artists = artists[np.concatenate([sets["fit"], sets["es"]])]
    both = artist_context.with_context(training, training_artists)
    out["fit"], out["es"] = both[:n_fit], both[n_fit:]
    if augment:
        halves = artist_context.with_context(training, artist_context.random_halves(training_artists, seed))
        out["fit"] = np.vstack([out["fit"], halves[:n_fit]])
        return out, {**sets, "fit": np.concatenate([sets["fit"], sets["fit"]])}
    return out, dict(sets)


def save_arrays(path: str | Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write the arrays as one .npz, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def load_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Read an .npz written by save_arrays into memory."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


class TrainingSet(NamedTuple):
    """A split's whole training set: its fit rows, then its early-stopping rows."""

    X: np.ndarray
    y: np.ndarray
    folds: np.ndarray
    rows: np.ndarray

    @property
    def n_songs(self) -> int:
        """The distinct songs among the rows (``features.context_augmentation`` repeats the fit rows)."""
        return len(np.unique(self.rows))


def training_set(arrays: Mapping[str, np.ndarray], suffix: str = "") -> TrainingSet:
    """The fit and early-stopping arrays of one split (``suffix`` ``""``: the final split;
    ``"_k"``: CV fold k) stacked, for the models that need no early-stopping rows."""
    return TrainingSet(
        *(np.concatenate([arrays[f"{name}_fit{suffix}"], arrays[f"{name}_es{suffix}"]]) for name in ("X", "y", "fold", "row"))
    )
