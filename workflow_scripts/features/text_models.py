"""The stacked text models: per block, TF-IDF (word and character n-grams) into a class-balanced
logistic regression.

Measured on the study's labels, artist-disjoint (5 outer folds, experiments/README.md): + flags
67.3 %; + Title/Track/Album text 69.8 %; + Description text 71.1 %; + Channel text 70.5 % (so the
Channel block is left out by default: channel names are near-identities of artists).
"""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

TEXT_BLOCKS = ("song", "description", "channel")
TEXT_C = {"song": 2.0, "description": 4.0, "channel": 1.0}
# Newton-CG reaches the logistic regressions' optimum in 5-8 Newton steps where L-BFGS takes
# 60-80 iterations over ~50k-100k TF-IDF columns: 2.5-4x less time (benchmarks/bench_features.py,
# which also measures what it changes in the arrays and in accuracy).
TEXT_SOLVER = "newton-cg"


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
