"""Artist-disjoint genre classification experiment (issue #8).

Outer split: StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=42) grouped by Artist.
No artist-identity feature is used; every model and every stacked text model is fit and tuned on
the training part of the outer fold only (inner StratifiedGroupKFold grouped by Artist).

Feature groups
  base    the study's 15 numeric columns + ordinal-encoded Album_type, Licensed, official_video
  eng     engineered numeric: log-ratios likes/views, comments/views, comments/likes,
          stream/views, duration in minutes, YouTube-missing flag, a few audio contrasts
  flags   handcrafted text flags and script shares from Title / Track / Album / Channel /
          Description (remix, feat, live, official video, lyrics, audio, classical words,
          Hangul / CJK / Cyrillic / ... share, lengths, URL counts, ...)
  txt_song  out-of-fold probabilities of a TF-IDF(word+char) LogisticRegression on
          Title + Track + Album
  txt_desc  same on Description
  txt_chan  same on Channel (channel names are close to artist identity; since the split is
          by artist it can only help through shared words such as VEVO, Records, Topic)

Text probabilities for training rows come from an inner cross_val_predict (5 folds grouped by
artist, training rows only); for test rows from the text model refit on all training rows.

Usage:  python experiments/artist_disjoint.py [--quick] [--folds 0 1 ...] [--ablation] ...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # OpenMP spin-waits badly on shared cores

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, QuantileTransformer
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workflow_scripts import song_features  # noqa: E402

warnings.filterwarnings("ignore")

DATA = Path("/work/shared/data/Spotify_Youtube.csv")
LABELS = Path("/work/shared/reference/seed_selection.csv")
GENRES = ["classic", "electronic", "hip hop", "metal", "pop", "rock"]
SEED = 42
NUMERIC = [
    "Danceability",
    "Energy",
    "Key",
    "Loudness",
    "Speechiness",
    "Acousticness",
    "Instrumentalness",
    "Liveness",
    "Valence",
    "Tempo",
    "Duration_ms",
    "Views",
    "Likes",
    "Comments",
    "Stream",
]
CATEG = ["Album_type", "Licensed", "official_video"]
TEXT_BLOCKS = ["txt_song", "txt_desc", "txt_chan"]


# --------------------------------------------------------------------------------------- data
def load() -> pd.DataFrame:
    data = pd.read_csv(DATA, index_col=0)
    sel = pd.read_csv(LABELS)
    sel = sel[sel["genre"].isin(GENRES)]
    df = data.loc[sel["row"].values].copy()
    df["genre"] = sel["genre"].values
    df["y"] = pd.Categorical(df["genre"], categories=GENRES).codes
    for c in ["Title", "Track", "Album", "Channel", "Description"]:
        df[c] = df[c].fillna("").astype(str)
    assert len(df) == 6446
    return df


def base_features(df: pd.DataFrame) -> pd.DataFrame:
    out = df[NUMERIC].astype(float).copy()
    out["Album_type"] = df["Album_type"].map({"album": 0, "compilation": 1, "single": 2}).astype(float)
    for c in ["Licensed", "official_video"]:
        out[c] = df[c].map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0}).astype(float)
    return out


# the feature code lives in workflow_scripts/song_features.py (checked identical on this data)
eng_features = song_features.engineered
flag_features = song_features.flags
# the experiment's block names -> song_features' block names
BLOCK_NAMES = {"txt_song": "song", "txt_desc": "description", "txt_chan": "channel"}


def text_inputs(df: pd.DataFrame) -> dict[str, pd.Series]:
    texts = song_features.text_inputs(df)
    return {block: texts[name] for block, name in BLOCK_NAMES.items()}


def text_model(block: str, C: float) -> Pipeline:
    """song_features' text model with the experiment's C (TEXT_C here has the module's values)."""
    return song_features.text_model(BLOCK_NAMES[block]).set_params(lr__C=C)


TEXT_C = {"txt_song": 2.0, "txt_desc": 4.0, "txt_chan": 1.0}


def stack_text(block, texts, y, groups, tr, te, cache: Path | None):
    """OOF probabilities on training rows (inner 5-fold grouped CV on tr only) + test probabilities."""
    if cache is not None and cache.exists():
        z = np.load(cache)
        return z["oof"], z["test"]
    X_tr, X_te = texts.iloc[tr], texts.iloc[te]
    inner = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=SEED)
    model = text_model(block, TEXT_C[block])
    oof = cross_val_predict(model, X_tr, y[tr], groups=groups[tr], cv=inner, method="predict_proba", n_jobs=2)
    model.fit(X_tr, y[tr])
    test = model.predict_proba(X_te)
    if cache is not None:
        np.savez(cache, oof=oof, test=test)
    return oof, test


# ------------------------------------------------------------------------------------- metrics
def metrics(y, proba):
    onehot = np.eye(len(GENRES))[y]
    return {
        "acc": accuracy_score(y, proba.argmax(1)),
        "ap_macro": average_precision_score(onehot, proba, average="macro"),
        "ap_micro": average_precision_score(onehot, proba, average="micro"),
    }


# -------------------------------------------------------------------------------------- models
def scale(X_tr, X_te):
    pipe = Pipeline(
        [
            ("imp", SimpleImputer(strategy="median")),
            ("q", QuantileTransformer(output_distribution="normal", n_quantiles=1000, subsample=None, random_state=SEED)),
            ("mm", MinMaxScaler(feature_range=(-1, 1))),
        ]
    )
    return pipe.fit_transform(X_tr), np.clip(pipe.transform(X_te), -1.5, 1.5)


def inner_splits(y, groups, n=3):
    return list(StratifiedGroupKFold(n_splits=n, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y, groups))


def tune(make, grid, X, y, groups, n_inner=3, fast=None):
    """Pick the grid point with best mean inner accuracy (grouped by artist, training rows only)."""
    if len(grid) == 1:
        return grid[0], None
    splits = inner_splits(y, groups, n_inner)
    scores = []
    for params in grid:
        accs = []
        for a, b in splits:
            m = (fast or make)(**params).fit(X[a], y[a])
            accs.append(accuracy_score(y[b], m.predict(X[b])))
        scores.append(np.mean(accs))
    return grid[int(np.argmax(scores))], float(np.max(scores))


def make_hgb(lr=0.05, leaves=31, l2=1.0, min_leaf=20):
    return HistGradientBoostingClassifier(
        learning_rate=lr,
        max_leaf_nodes=leaves,
        l2_regularization=l2,
        min_samples_leaf=min_leaf,
        max_iter=500,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=20,
        random_state=SEED,
    )


def make_lr(C=1.0):
    return LogisticRegression(C=C, max_iter=3000)


def make_svm(C=3.0, gamma="scale"):
    return SVC(C=C, gamma=gamma, kernel="rbf", probability=True, random_state=SEED)


# small grids: the machine is 2 shared cores (see README for the budget this imposes)
HGB_GRID = [dict(lr=0.1, leaves=15, l2=1.0), dict(lr=0.05, leaves=31, l2=3.0)]
LR_GRID = [dict(C=c) for c in (0.03, 0.1, 0.3, 1.0, 3.0)]
SVM_GRID = [dict(C=c) for c in (1.0, 4.0)]


def fit_mlp(X_tr, y_tr, g_tr, X_te, seeds=(0, 1), units=(128, 256, 512), dropout=0.3, lr=1e-3, batch=64, patience=25, max_epochs=300):
    """Study-like Keras MLP with early stopping on an artist-grouped hold-out (1/5 of training
    artists); averaged over a few seeds."""
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    fit_idx, es_idx = next(StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=SEED).split(X_tr, y_tr, g_tr))
    probs = []
    for s in seeds:
        keras.utils.set_random_seed(SEED + s)
        layers = [keras.Input((X_tr.shape[1],))]
        for u in units:
            layers += [keras.layers.Dense(u), keras.layers.LeakyReLU(), keras.layers.Dropout(dropout)]
        layers += [keras.layers.Dense(len(GENRES), activation="softmax")]
        model = keras.Sequential(layers)
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        cb = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
        model.fit(
            X_tr[fit_idx],
            y_tr[fit_idx],
            validation_data=(X_tr[es_idx], y_tr[es_idx]),
            epochs=max_epochs,
            batch_size=batch,
            callbacks=[cb],
            verbose=0,
        )
        probs.append(model.predict(X_te, verbose=0, batch_size=1024))
    return np.mean(probs, axis=0)


# ------------------------------------------------------------------------------ artist lookup
def artist_lookup(df, tr, te):
    y = df["y"].to_numpy()
    art = df["Artist"].to_numpy()
    train = pd.DataFrame({"a": art[tr], "y": y[tr]})
    counts = pd.crosstab(train["a"], train["y"]).reindex(columns=range(len(GENRES)), fill_value=0)
    prior = np.bincount(y[tr], minlength=len(GENRES)) / len(tr)
    proba = np.tile(prior, (len(te), 1))
    known = pd.Series(art[te]).isin(counts.index).to_numpy()
    if known.any():
        c = counts.loc[art[te][known]].to_numpy(float)
        proba[known] = c / c.sum(1, keepdims=True)
    return metrics(y[te], proba), known.mean()


# --------------------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="run outer fold 0 only")
    ap.add_argument("--folds", type=int, nargs="*", default=None)
    ap.add_argument("--ablation", action="store_true", help="per-feature-group ablation with HGB (fixed params)")
    ap.add_argument("--models", nargs="*", default=["hgb", "lr", "svm", "mlp", "text_lr"])
    ap.add_argument("--features", default="base,eng,flags,txt_song,txt_desc,txt_chan")
    ap.add_argument("--no-tune", action="store_true")
    ap.add_argument(
        "--artist-context",
        action="store_true",
        help="ALSO report a transductive variant: test probabilities averaged over the test songs "
        "that share an Artist string (no labels, no training-artist identity; not the "
        "per-song protocol, reported separately)",
    )
    ap.add_argument("--cache", default="/tmp/genre_factor_cache")
    ap.add_argument("--out", default=None, help="write per-fold results as JSON")
    args = ap.parse_args()

    t0 = time.time()
    df = load()
    y = df["y"].to_numpy()
    groups = df["Artist"].to_numpy()
    blocks = {"base": base_features(df), "eng": eng_features(df), "flags": flag_features(df)}
    texts = text_inputs(df)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"data {df.shape}, features built in {time.time() - t0:.1f}s", flush=True)

    # artist lookup: study's song split and artist-disjoint split
    tr_s, te_s = train_test_split(np.arange(len(df)), test_size=0.2, stratify=y, random_state=SEED)
    m, known = artist_lookup(df, tr_s, te_s)
    print(
        f"ARTIST LOOKUP song split (80/20 seed 42): acc {m['acc']:.4f} apM {m['ap_macro']:.3f} "
        f"apm {m['ap_micro']:.3f} known-artist share {known:.3f}"
    )

    outer = list(StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y, groups))
    folds = [0] if args.quick else (args.folds if args.folds is not None else range(5))
    results = []  # rows: fold, model, acc, ap_macro, ap_micro, seconds
    lookup = [artist_lookup(df, *outer[k])[0] for k in range(5)]
    print(
        "ARTIST LOOKUP artist-disjoint 5 folds: acc %.4f ± %.4f apM %.3f"
        % (np.mean([r["acc"] for r in lookup]), np.std([r["acc"] for r in lookup]), np.mean([r["ap_macro"] for r in lookup]))
    )

    feats = args.features.split(",")
    for k in folds:
        tf0 = time.time()
        tr, te = outer[k]
        # text stacks
        txt = {}
        for b in TEXT_BLOCKS:
            t1 = time.time()
            oof, test = stack_text(b, texts[b], y, groups, tr, te, cache / f"{b}_fold{k}_C{TEXT_C[b]}_v2.npz")
            txt[b] = (oof, test)
            mt = metrics(y[te], test)
            results.append(dict(fold=k, model=f"text_lr[{b}]", **mt, sec=time.time() - t1))
            print(
                f"  fold {k} {b}: test acc {mt['acc']:.4f} apM {mt['ap_macro']:.3f}  oof acc "
                f"{accuracy_score(y[tr], oof.argmax(1)):.4f} ({time.time() - t1:.0f}s)",
                flush=True,
            )

        def design(groups_):
            tr_parts, te_parts = [], []
            dense = [g for g in groups_ if g in blocks]
            if dense:
                X = pd.concat([blocks[g] for g in dense], axis=1).to_numpy(float)
                a, b = scale(X[tr], X[te])
                tr_parts.append(a)
                te_parts.append(b)
            for g in groups_:
                if g in txt:
                    tr_parts.append(txt[g][0] * 2 - 1)
                    te_parts.append(txt[g][1] * 2 - 1)
            return np.hstack(tr_parts), np.hstack(te_parts)

        if args.ablation:
            configs = {
                "base": ["base"],
                "base+eng": ["base", "eng"],
                "base+eng+flags": ["base", "eng", "flags"],
                "base+eng+flags+song": ["base", "eng", "flags", "txt_song"],
                "base+eng+flags+song+desc": ["base", "eng", "flags", "txt_song", "txt_desc"],
                "all": ["base", "eng", "flags", "txt_song", "txt_desc", "txt_chan"],
                "all-flags": ["base", "eng", "txt_song", "txt_desc", "txt_chan"],
            }
            for name, gs in configs.items():
                t1 = time.time()
                Xtr, Xte = design(gs)
                m = make_hgb(lr=0.1, leaves=15, l2=1.0).fit(Xtr, y[tr])
                mt = metrics(y[te], m.predict_proba(Xte))
                results.append(dict(fold=k, model=f"abl_hgb[{name}]", **mt, sec=time.time() - t1))
                print(f"  fold {k} ablation {name:28s} acc {mt['acc']:.4f} apM {mt['ap_macro']:.3f} apm {mt['ap_micro']:.3f}", flush=True)

        Xtr, Xte = design(feats)
        probas = {}
        g_tr = groups[tr]
        for name in args.models:
            t1 = time.time()
            if name == "hgb":
                p, s = tune(make_hgb, HGB_GRID[:1] if args.no_tune else HGB_GRID, Xtr, y[tr], g_tr)
                probas[name] = make_hgb(**p).fit(Xtr, y[tr]).predict_proba(Xte)
            elif name == "lr":
                p, s = tune(make_lr, LR_GRID[2:3] if args.no_tune else LR_GRID, Xtr, y[tr], g_tr)
                probas[name] = make_lr(**p).fit(Xtr, y[tr]).predict_proba(Xte)
            elif name == "svm":
                p, s = tune(
                    make_svm,
                    SVM_GRID[:1] if args.no_tune else SVM_GRID,
                    Xtr,
                    y[tr],
                    g_tr,
                    fast=lambda C: SVC(C=C, kernel="rbf", gamma="scale"),
                )
                probas[name] = make_svm(**p).fit(Xtr, y[tr]).predict_proba(Xte)
            elif name == "mlp":
                p, s = {"units": "128-256-512", "dropout": 0.3, "seeds": 2}, None
                probas[name] = fit_mlp(Xtr, y[tr], g_tr, Xte)
            elif name == "text_lr":
                # the three text models' test probabilities averaged (no numeric features)
                p, s = {}, None
                probas[name] = np.mean([txt[b][1] for b in TEXT_BLOCKS], axis=0)
            else:
                raise SystemExit(f"unknown model {name}")
            mt = metrics(y[te], probas[name])
            results.append(dict(fold=k, model=name, **mt, sec=time.time() - t1, params=json.dumps(p)))
            print(
                f"  fold {k} {name:8s} acc {mt['acc']:.4f} apM {mt['ap_macro']:.3f} apm {mt['ap_micro']:.3f}"
                f"  params {p} inner {s}  ({time.time() - t1:.0f}s)",
                flush=True,
            )
        ens_sets = [
            m
            for m in [
                ("hgb", "lr"),
                ("hgb", "mlp"),
                ("lr", "mlp"),
                ("hgb", "lr", "mlp"),
                ("hgb", "svm", "mlp"),
                ("hgb", "lr", "svm", "mlp"),
            ]
            if all(x in probas for x in m)
        ]
        for members in dict.fromkeys(ens_sets):
            mt = metrics(y[te], np.mean([probas[x] for x in members], axis=0))
            name = "vote[" + "+".join(members) + "]"
            results.append(dict(fold=k, model=name, **mt, sec=0.0))
            print(f"  fold {k} {name:22s} acc {mt['acc']:.4f} apM {mt['ap_macro']:.3f} apm {mt['ap_micro']:.3f}")
        if args.artist_context:
            art_te = pd.Series(groups[te])
            for name in list(probas) + [tuple(m) for m in dict.fromkeys(ens_sets)]:
                pr = probas[name] if isinstance(name, str) else np.mean([probas[x] for x in name], axis=0)
                pr = pd.DataFrame(pr).groupby(art_te.values).transform("mean").to_numpy()
                label = name if isinstance(name, str) else "vote[" + "+".join(name) + "]"
                mt = metrics(y[te], pr)
                results.append(dict(fold=k, model=f"ctx:{label}", **mt, sec=0.0))
                print(f"  fold {k} ctx:{label:22s} acc {mt['acc']:.4f} apM {mt['ap_macro']:.3f}")
        print(f"fold {k} done in {time.time() - tf0:.0f}s", flush=True)
        if args.out:
            pd.DataFrame(results).to_csv(args.out, index=False)

    res = pd.DataFrame(results)
    if args.out:
        res.to_csv(args.out, index=False)
    table = res.groupby("model", sort=False).agg(
        acc=("acc", "mean"),
        acc_std=("acc", "std"),
        ap_macro=("ap_macro", "mean"),
        ap_macro_std=("ap_macro", "std"),
        ap_micro=("ap_micro", "mean"),
        sec=("sec", "mean"),
        n=("fold", "count"),
    )
    print("\nFINAL TABLE (mean over outer folds; std = sample std)")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
