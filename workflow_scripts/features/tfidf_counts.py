"""Token counts of documents under a TfidfVectorizer's analyzer, computed once, from which that
vectorizer's fit on any subset of the documents is reproduced exactly."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer


class TfidfCounts:
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
