"""Features beyond the study's: engineered ratios, text flags, and stacked text models.

Measured on the study's labels, artist-disjoint (5 outer folds, experiments/README.md):
gradient boosting on the study's features 65.2 %; + engineered 65.5 %; + flags 67.3 %;
+ Title/Track/Album text 69.8 %; + Description text 71.1 %; + Channel text 70.5 % (so the
Channel block is left out by default: channel names are near-identities of artists).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import FeatureUnion, Pipeline

TEXT_COLUMNS = ("Title", "Track", "Album", "Description", "Channel", "Artist")
TEXT_BLOCKS = ("song", "description", "channel")
TEXT_C = {"song": 2.0, "description": 4.0, "channel": 1.0}
# Newton-CG reaches the logistic regressions' optimum in 5-8 Newton steps where L-BFGS takes
# 60-80 iterations over ~50k-100k TF-IDF columns: 2.5-4x less time (benchmarks/bench_features.py,
# which also measures what it changes in the arrays and in accuracy).
TEXT_SOLVER = "newton-cg"


def _texts(df: pd.DataFrame) -> pd.DataFrame:
    """The text columns as plain strings, missing as empty."""
    out = df.copy()
    for column in TEXT_COLUMNS:
        out[column] = df[column].astype("string").fillna("").astype(str)
    return out


def engineered(df: pd.DataFrame) -> pd.DataFrame:
    """Engineered numeric features. Note: monotonic transforms (log) alone are no-ops after the
    QuantileTransformer and for trees; only the ratios / contrasts add information."""
    lv, ll, lc, ls = (np.log1p(df[c].astype(float)) for c in ["Views", "Likes", "Comments", "Stream"])
    out = pd.DataFrame(index=df.index)
    out["log_views"], out["log_likes"], out["log_comments"], out["log_stream"] = lv, ll, lc, ls
    out["likes_per_view"] = ll - lv
    out["comments_per_view"] = lc - lv
    out["comments_per_like"] = lc - ll
    out["stream_per_view"] = ls - lv
    out["duration_min"] = df["Duration_ms"].astype(float) / 60000.0
    out["no_youtube"] = df["Views"].isna().astype(float)
    out["energy_minus_acoustic"] = df["Energy"] - df["Acousticness"]
    out["dance_minus_energy"] = df["Danceability"] - df["Energy"]
    out["speech_x_dance"] = df["Speechiness"] * df["Danceability"]
    out["loud_per_energy"] = df["Loudness"] / (df["Energy"] + 0.05)
    return out


SCRIPTS = {
    "hangul": r"[\uac00-\ud7af\u1100-\u11ff]",
    "kana": r"[\u3040-\u30ff]",
    "cjk": r"[\u4e00-\u9fff]",
    "cyrillic": r"[\u0400-\u04ff]",
    "arabic": r"[\u0600-\u06ff]",
    "devanagari": r"[\u0900-\u097f]",
    "thai": r"[\u0e00-\u0e7f]",
    "hebrew": r"[\u0590-\u05ff]",
    "greek": r"[\u0370-\u03ff]",
}
TITLE_FLAGS = {
    "remix": r"remix|\brmx\b|\bmix\b|\bedit\b|\bbootleg\b|\bvip\b",
    "feat": r"\bfeat\b|\bft\b|\bfeaturing\b|\bx\b|\bwith\b|\&",
    "live": r"\blive\b|\bconcert\b|\bunplugged\b|\bsession\b",
    "official_video": r"official\s*(music\s*)?video|\bmv\b|\bm/v\b",
    "lyrics": r"lyric|letra",
    "audio": r"\baudio\b|visuali[sz]er|\btopic\b",
    "remaster": r"remaster",
    "acoustic": r"acoustic|piano version|stripped",
    "version": r"version|\bversión\b",
    "radio_edit": r"radio edit|extended|original mix|club mix|\bdub\b",
    "prod": r"\bprod\b|produced by",
    "explicit": r"explicit|\bclean\b|dirty",
    "classical": (
        r"\bop\b|\bno\b|\bbwv\b|\bk\b|\bhob\b|symphon|concert|sonat|allegro|andante|adagio|largo|presto"
        r"|moderato|minor|major|\bmaj\b|\bmin\b|nocturne|prelude|fugue|etude|étude|waltz|suite|"
        r"movement|\bact\b|aria|requiem|mass|overture|cantata|orchestra|quartet|\bpiano\b|violin|cello"
    ),
    "dj": r"\bdj\b",
    "anime_ost": r"\bost\b|soundtrack|anime|opening|ending|\bfrom\b",
    "latin": r"remix|reggaet|\bft\b|cumbia|bachata|\bdembow\b",
    "year_paren": r"\(\d{4}\)|\b(19|20)\d\d\b",
}
DESC_FLAGS = {
    "d_vevo": r"vevo",
    "d_lyrics": r"lyric|letra",
    "d_hiphop": r"hip[\s-]?hop|\brap\b|rapper|\btrap\b|\bdrill\b",
    "d_metal": r"metal|nuclear blast|century media|napalm|metal blade|roadrunner|\bband\b|tour",
    "d_edm": r"\bedm\b|house|techno|trance|dubstep|\bdj\b|beatport|spinnin|armada|monstercat|ncs|festival",
    "d_classic": r"orchestra|symphon|conductor|piano|violin|deutsche grammophon|decca|sony classical|naxos|concerto",
    "d_provided": r"provided to youtube|auto-generated",
    "d_records": r"records|recordings",
    "d_spotify": r"spotify",
    "d_soundcloud": r"soundcloud",
    "d_merch": r"merch",
    "d_insta": r"instagram",
    "d_pop": r"\bpop\b|k-?pop|j-?pop|idol",
    "d_rock": r"\brock\b|guitar|drums|bass",
    "d_latin": r"reggaet|latino|latin|música|musica",
    "d_copyright": r"copyright|fair use|\bno copyright\b",
    "d_umg": r"umg|universal music|sony music|warner",
    "d_label": r"\blabel\b",
}
CHAN_FLAGS = {
    "c_vevo": r"vevo$",
    "c_topic": r"- topic$",
    "c_records": r"records|recordings|\blabel\b",
    "c_music": r"music|musik|música",
    "c_official": r"official",
    "c_tv": r"\btv\b",
}


def _share(pattern: str, texts: pd.Series) -> np.ndarray:
    n = texts.str.len().clip(lower=1)
    return (texts.str.count(pattern) / n).to_numpy(float)


def flags(df: pd.DataFrame) -> pd.DataFrame:
    """Counts of telling words, script shares, lengths and relations in the song's texts."""
    df = _texts(df)
    title = (df["Title"] + " || " + df["Track"] + " || " + df["Album"]).str.lower()
    desc = df["Description"].str.lower()
    chan = df["Channel"].str.lower().str.strip()
    out = pd.DataFrame(index=df.index)
    for k, p in TITLE_FLAGS.items():
        out["t_" + k] = title.str.count(p).astype(float)
    for k, p in DESC_FLAGS.items():
        out[k] = desc.str.count(p).clip(upper=5).astype(float)
    for k, p in CHAN_FLAGS.items():
        out[k] = chan.str.contains(p).astype(float)
    alltext = df["Title"] + " " + df["Track"] + " " + df["Album"]
    for k, p in SCRIPTS.items():
        out["s_" + k] = _share(p, alltext) + _share(p, df["Description"])
    letters = alltext.str.count(r"[A-Za-z]")
    nonascii = alltext.apply(lambda s: sum(1 for ch in s if ord(ch) > 127 and ch.isalpha()))
    out["s_nonlatin"] = (nonascii / (letters + nonascii).clip(lower=1)).to_numpy(float)
    out["s_accents"] = alltext.apply(lambda s: sum(1 for ch in s if "LATIN" in unicodedata.name(ch, "") and ord(ch) > 127)).astype(float)
    out["len_title"] = df["Title"].str.len().astype(float)
    out["len_track"] = df["Track"].str.len().astype(float)
    out["len_album"] = df["Album"].str.len().astype(float)
    out["len_desc"] = np.log1p(df["Description"].str.len().astype(float))
    out["desc_lines"] = np.log1p(df["Description"].str.count("\n").astype(float))
    out["desc_urls"] = np.log1p(df["Description"].str.count("http").astype(float))
    out["desc_hashtags"] = np.log1p(df["Description"].str.count("#").astype(float))
    out["track_in_title"] = [float(t.lower() in ti.lower()) if t else 0.0 for t, ti in zip(df["Track"], df["Title"], strict=True)]
    out["artist_in_title"] = [float(a.lower() in ti.lower()) for a, ti in zip(df["Artist"], df["Title"], strict=True)]
    out["artist_in_chan"] = [
        float(a.lower().replace(" ", "") in c.lower().replace(" ", "")) for a, c in zip(df["Artist"], df["Channel"], strict=True)
    ]
    out["title_upper_share"] = _share(r"[A-Z]", df["Title"])
    out["album_eq_track"] = (df["Album"].str.lower() == df["Track"].str.lower()).astype(float)
    return out


def text_inputs(df: pd.DataFrame) -> dict[str, pd.Series]:
    """The text of each block: song (Title | Track | Album), description (no URLs), channel."""
    df = _texts(df)
    url = re.compile(r"https?://\S+")
    return {
        "song": (df["Title"] + " | " + df["Track"] + " | " + df["Album"]).str.lower(),
        "description": df["Description"].str.lower().str.replace(url, " ", regex=True).str[:2000],
        "channel": df["Channel"].str.lower(),
    }


def text_model(block: str) -> Pipeline:
    """TF-IDF (word and character n-grams) into a class-balanced logistic regression."""
    if block == "channel":
        vectorizer: TfidfVectorizer | FeatureUnion = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True)
    elif block == "description":
        vectorizer = FeatureUnion(
            [
                (
                    "w",
                    TfidfVectorizer(
                        analyzer="word",
                        ngram_range=(1, 2),
                        min_df=3,
                        max_df=0.5,
                        sublinear_tf=True,
                        max_features=100000,
                        token_pattern=r"(?u)\b\w[\w'-]+\b",
                    ),
                ),
                ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=5, sublinear_tf=True, max_features=50000)),
            ]
        )
    else:
        vectorizer = FeatureUnion(
            [
                ("w", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
                ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True)),
            ]
        )
    return Pipeline(
        [("vec", vectorizer), ("lr", LogisticRegression(C=TEXT_C[block], solver=TEXT_SOLVER, max_iter=2000, class_weight="balanced"))]
    )


class _Counts:
    """Token counts of every document under one TfidfVectorizer's analyzer, computed once, from
    which that vectorizer's fit on any subset of rows is reproduced exactly: the same
    vocabulary (min_df, max_df, max_features from those rows only), the same idf, the same
    floats in the same stored order (so the logistic regression after it gives identical
    results). Only rows the fit is given decide the features; others are looked up like
    ``transform`` does."""

    def __init__(self, vectorizer: TfidfVectorizer, documents: Sequence[str]) -> None:
        self.vectorizer = vectorizer
        analyze = vectorizer.build_analyzer()
        vocabulary: dict[str, int] = {}
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for document in documents:
            counter: dict[int, int] = {}
            for feature in analyze(document):
                index = vocabulary.setdefault(feature, len(vocabulary))
                counter[index] = counter.get(index, 0) + 1
            indices.extend(counter)
            values.extend(counter.values())
            indptr.append(len(indices))
        # Columns in scikit-learn's order (terms sorted); each row's entries stay in the order
        # the document first uses them, which is what decides a fit's column order below.
        alphabetical = np.empty(len(vocabulary), dtype=np.int64)
        for rank, term in enumerate(sorted(vocabulary)):
            alphabetical[vocabulary[term]] = rank
        self.n_terms = len(vocabulary)
        self.matrix = sp.csr_matrix(
            (np.asarray(values, dtype=np.float64), alphabetical[np.asarray(indices, dtype=np.int64)], np.asarray(indptr, dtype=np.int64)),
            shape=(len(indptr) - 1, self.n_terms),
        )

    def _select(self, rows: np.ndarray, kept: np.ndarray, order_key: np.ndarray | None) -> sp.csr_matrix:
        """Rows ``rows`` restricted to the columns ``kept`` (renumbered in that order), each
        row's entries sorted by ``order_key`` of their column, or by column if None."""
        X = self.matrix[rows][:, kept]  # keeps each row's entries in their order
        if order_key is None:
            X.sort_indices()
            return X
        rank = np.empty(len(kept), dtype=X.indices.dtype)
        rank[np.argsort(order_key[kept])] = np.arange(len(kept))
        by_rank = np.argsort(rank).astype(X.indices.dtype)
        X.indices = rank[X.indices]
        X.has_sorted_indices = False
        X.sort_indices()
        X.indices = by_rank[X.indices]
        return X

    def fit(self, rows: np.ndarray) -> tuple[np.ndarray, TfidfTransformer, sp.csr_matrix]:
        """What ``vectorizer.fit_transform`` gives on the documents ``rows`` (in that order):
        the kept columns, the fitted idf, and the training matrix."""
        params = self.vectorizer.get_params()
        X = self.matrix[rows]
        n_doc = X.shape[0]
        max_df, min_df, limit = params["max_df"], params["min_df"], params["max_features"]
        high = max_df if isinstance(max_df, Integral) else max_df * n_doc
        low = min_df if isinstance(min_df, Integral) else min_df * n_doc
        if high < low:
            raise ValueError("max_df corresponds to < documents than min_df")
        dfs = np.bincount(X.indices, minlength=self.n_terms)
        present = np.flatnonzero(dfs > 0)
        mask = (dfs[present] <= high) & (dfs[present] >= low)
        if limit is not None and mask.sum() > limit:
            tfs = np.asarray(X.sum(axis=0)).ravel()[present]
            top = (-tfs[mask]).argsort()[:limit]
            new_mask = np.zeros(len(present), dtype=bool)
            new_mask[np.where(mask)[0][top]] = True
            mask = new_mask
        kept = present[mask]
        if len(kept) == 0:
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        # scikit-learn numbers the terms in the order the fit's documents first use them and
        # sorts each row's entries by that number (then renames the columns alphabetically).
        first_use = np.full(self.n_terms, X.nnz, dtype=np.int64)
        np.minimum.at(first_use, X.indices, np.arange(X.nnz, dtype=np.int64))
        counts = self._select(rows, kept, first_use)
        tfidf = TfidfTransformer(
            norm=params["norm"], use_idf=params["use_idf"], smooth_idf=params["smooth_idf"], sublinear_tf=params["sublinear_tf"]
        )
        return kept, tfidf, tfidf.fit(counts).transform(counts, copy=False)

    def transform(self, rows: np.ndarray, kept: np.ndarray, tfidf: TfidfTransformer) -> sp.csr_matrix:
        """What the fitted vectorizer's ``transform`` gives on the documents ``rows``."""
        return tfidf.transform(self._select(rows, kept, None), copy=False)


_COUNTS_CACHE: dict[tuple[str, str, str], list[_Counts]] = {}


def _block_counts(block: str, column: pd.Series) -> list[_Counts]:
    """The counts of each vectorizer of ``text_model(block)`` over ``column``, computed once
    per process for the same texts (prepare_features calls stacked_text once per fold)."""
    vectorizer = text_model(block).named_steps["vec"]
    parts = [v for _, v in vectorizer.transformer_list] if isinstance(vectorizer, FeatureUnion) else [vectorizer]
    digest = hashlib.sha1(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes()).hexdigest()
    key = (block, repr([v.get_params() for v in parts]), digest)
    if key not in _COUNTS_CACHE:
        while len(_COUNTS_CACHE) >= 4:
            _COUNTS_CACHE.pop(next(iter(_COUNTS_CACHE)))
        _COUNTS_CACHE[key] = [_Counts(v, column.tolist()) for v in parts]
    return _COUNTS_CACHE[key]


def _fit_predict(
    counts: list[_Counts], lr: LogisticRegression, y: np.ndarray, fit_rows: np.ndarray, predict_rows: list[np.ndarray]
) -> list[np.ndarray]:
    """``text_model`` fit on ``fit_rows`` (labels ``y``), its probabilities for each of ``predict_rows``."""
    fitted = [c.fit(fit_rows) for c in counts]
    X = fitted[0][2] if len(counts) == 1 else sp.hstack([f[2] for f in fitted]).tocsr()
    model = clone(lr).fit(X, y)
    out = []
    for rows in predict_rows:
        parts = [c.transform(rows, kept, tfidf) for c, (kept, tfidf, _) in zip(counts, fitted, strict=True)]
        out.append(model.predict_proba(parts[0] if len(parts) == 1 else sp.hstack(parts).tocsr()))
    return out


def stacked_text(
    songs: pd.DataFrame, y: np.ndarray, train_idx: np.ndarray, other_idx: dict[str, np.ndarray], blocks: Sequence[str], seed: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Class probabilities (as 2p - 1) of one text model per block: out-of-fold for the training
    rows (5 inner folds grouped by artist, training rows only), refit on all training rows for
    the others. Returns the training block and one block per entry of ``other_idx``.

    The same numbers as ``cross_val_predict(text_model(block), ...)`` and
    ``text_model(block).fit(...)``, to the last bit (tests/test_song_features.py), without
    tokenising every document again for every fit (_Counts)."""
    texts = text_inputs(songs)
    groups = songs["Artist"].astype(str).to_numpy()
    train_idx = np.asarray(train_idx)
    labels = np.unique(y[train_idx])
    encoded = np.searchsorted(labels, y[train_idx])  # as cross_val_predict encodes them
    train_parts: list[np.ndarray] = []
    other_parts: dict[str, list[np.ndarray]] = {name: [] for name in other_idx}
    inner = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    for block in blocks:
        lr = text_model(block).named_steps["lr"]
        counts = _block_counts(block, texts[block])
        oof = np.zeros((len(train_idx), len(labels)))
        for fit, held_out in inner.split(train_idx, encoded, groups[train_idx]):
            (proba,) = _fit_predict(counts, lr, encoded[fit], train_idx[fit], [train_idx[held_out]])
            fold_labels = np.unique(encoded[fit])
            oof[np.ix_(held_out, fold_labels)] = proba
        train_parts.append(2 * oof - 1)
        predictions = _fit_predict(counts, lr, y[train_idx], train_idx, [np.asarray(idx) for idx in other_idx.values()])
        for name, proba in zip(other_idx, predictions, strict=True):
            other_parts[name].append(2 * proba - 1)
    return np.hstack(train_parts), {name: np.hstack(parts) for name, parts in other_parts.items()}
