"""Word embeddings that travel across languages as one more stacked text model (issue 23).

WordLlama (``pip install wordllama``, MIT) ships its 256-dimensional token embeddings (from
large language models' vocabularies, 16 MB) inside the wheel, so nothing is downloaded at run
time. Each song's text blocks (``features.song_texts.text_inputs``: title | track | album, and
the description) are embedded; a class-balanced logistic regression on each embedding gives
six probabilities per block, out-of-fold over the training rows' artist-grouped CV folds and
refit on all training rows for the test rows (as the workflow stacks its TF-IDF models), added
as ``2p - 1`` to the outer fold's columns. Boosting as in ``experiments/pooled_levers.py``:

    .venv/bin/pip install --target /tmp/wlpkg --no-deps wordllama==0.4.0.post1 safetensors tokenizers toml
    PYTHONPATH=/tmp/wlpkg OMP_NUM_THREADS=1 .venv/bin/python experiments/text_embeddings.py /tmp/ad

Variants: ``hgb`` (the run's columns), ``embed`` (with the embeddings' stacked columns),
``embed_only`` (the embeddings' stacked columns alone, for scale). WordLlama 0.4.0 looks for
its tokenizer in its package's ``tokenizer/`` but ships it in ``tokenizers/``: the script
copies it to a temporary cache folder, where the loader finds it (no download).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import PredefinedSplit, cross_val_predict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments import fold_table  # noqa: E402
from experiments.pooled_levers import Fold  # noqa: E402
from workflow_scripts.evaluation import metrics  # noqa: E402
from workflow_scripts.features import song_texts  # noqa: E402

BLOCKS = ("song", "description")


def embeddings(songs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each block's WordLlama embedding per row id, of unit length (an empty text: zeros)."""
    import shutil

    import wordllama
    from wordllama import WordLlama

    with tempfile.TemporaryDirectory() as cache:
        shutil.copytree(Path(wordllama.__file__).parent / "tokenizers", Path(cache) / "tokenizers")
        model = WordLlama.load(cache_dir=Path(cache), disable_download=True)
    texts = song_texts.text_inputs(songs)
    out = {}
    for block in BLOCKS:
        E = model.embed(texts[block].tolist())
        norm = np.linalg.norm(E, axis=1, keepdims=True)
        out[block] = pd.DataFrame(np.divide(E, norm, out=np.zeros_like(E), where=norm > 0), index=songs["row"].to_numpy())
    return out


def stacked(fold: Fold, embedded: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """The embeddings' stacked probabilities (``2p - 1``) for the training and the test rows."""
    train, test = [], []
    for block in BLOCKS:
        E, E_test = embedded[block].loc[fold.rows].to_numpy(), embedded[block].loc[fold.test_rows].to_numpy()
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
        train.append(2 * cross_val_predict(model, E, fold.y, cv=PredefinedSplit(fold.folds), method="predict_proba") - 1)
        test.append(2 * model.fit(E, fold.y).predict_proba(E_test) - 1)
    return np.hstack(train), np.hstack(test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="results_dir of a finished artist-disjoint run (outer folds)")
    args = parser.parse_args()
    songs = pd.read_parquet(args.results / "data" / "selected.parquet")
    artist_of_row = songs.set_index("row")["Artist"]
    embedded = embeddings(songs)
    scores: dict[str, list[tuple[float, ...]]] = {}
    for k in range(5):
        fold = Fold(args.results, k, artist_of_row)
        S, S_test = stacked(fold, embedded)
        for variant, (X, X_test) in {
            "hgb": (fold.X, fold.X_test),
            "embed": (np.hstack([fold.X, S]), np.hstack([fold.X_test, S_test])),
            "embed_only": (S, S_test),
        }.items():
            proba = fold.boosting(X, fold.y, X_test)
            song = metrics.metrics(fold.y_test, proba, fold.classes)
            pooled = metrics.metrics(fold.y_test, metrics.pool_by_artist(proba, fold.test_artists), fold.classes)
            scores.setdefault(variant, []).append((song["accuracy"], pooled["accuracy"], song["auc_pr_macro"]))
            print(
                f"fold {k} {variant:10s} song {song['accuracy']:.4f} pooled {pooled['accuracy']:.4f} macro AUC-PR {song['auc_pr_macro']:.3f}",
                flush=True,
            )
    fold_table.print_table(scores, ["song accuracy", "pooled accuracy", "macro AUC-PR"])


if __name__ == "__main__":
    main()
