"""Pooling an artist's songs (workflow_scripts/evaluation/pooling.py): the mean, and the songs
as independent evidence against the training rows' genre shares; chunk by chunk as predict
streams them; each rule's own rows in the outer summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workflow_scripts.core.artist_sums import ArtistSums
from workflow_scripts.evaluation import outer as outer_evaluation
from workflow_scripts.evaluation import pooling


def test_evidence_divides_out_the_prior_that_the_mean_counts_once_per_song() -> None:
    # Three songs that each lean to the common genre less than its training share does: the
    # mean keeps the common genre, the evidence (0.7/0.8 < 0.3/0.2 per song) the rare one.
    proba = np.array([[0.7, 0.3]] * 3 + [[0.6, 0.4]])
    artists = ["a", "a", "a", "b"]
    shares = np.array([0.8, 0.2])
    mean = pooling.pool(proba, artists, "mean")
    evidence = pooling.pool(proba, artists, "evidence", shares)
    assert mean[:3].argmax(axis=1).tolist() == [0, 0, 0] and evidence[:3].argmax(axis=1).tolist() == [1, 1, 1]
    score = 3 * np.log(proba[0]) - 2 * np.log(shares)
    np.testing.assert_allclose(evidence[0], np.exp(score) / np.exp(score).sum(), rtol=1e-12)
    np.testing.assert_allclose(evidence[3], proba[3], rtol=1e-12)  # a lone song stays as it is
    np.testing.assert_allclose(evidence.sum(axis=1), 1.0)
    # With uniform shares the evidence is the normalised product of the songs' probabilities.
    uniform = pooling.pool(proba, artists, "evidence", np.array([0.5, 0.5]))
    assert uniform[0, 0] == pytest.approx(0.7**3 / (0.7**3 + 0.3**3), rel=1e-12)


def test_one_song_near_zero_does_not_veto_and_blank_artists_stay_alone() -> None:
    proba = np.array([[1e-12, 1 - 1e-12], [0.99, 0.01], [0.99, 0.01], [0.99, 0.01], [0.2, 0.8], [0.3, 0.7]])
    artists = pd.Series(["a", "a", "a", "a", None, " "], dtype="string")
    out = pooling.pool(proba, artists, "evidence", np.array([0.5, 0.5]))
    assert out[0].argmax() == 0  # floored at EVIDENCE_FLOOR (1e-4): three songs at 0.99 outweigh it
    np.testing.assert_allclose(out[4:], proba[4:], rtol=1e-12)


def test_a_genre_absent_in_training_gets_a_bounded_score() -> None:
    proba = np.array([[0.5, 0.5 - 1e-6, 1e-6]] * 4)
    out = pooling.pool(proba, ["a"] * 4, "evidence", np.array([0.5, 0.5, 0.0]))
    assert np.isfinite(out).all() and out[0].argmax() == 0


def test_unknown_rule_is_named() -> None:
    with pytest.raises(KeyError, match="known: mean, evidence"):
        pooling.pool(np.ones((1, 2)) / 2, ["a"], "median")


@pytest.mark.parametrize("rule", list(pooling.POOLINGS))
def test_chunked_sums_give_the_whole_set_pooling(rule: str) -> None:
    rng = np.random.default_rng(1)
    n, k = 600, 4
    artists = pd.Series(rng.choice(["a", "b", " ", None] + [f"x{i}" for i in range(150)], n), dtype="string")
    proba = rng.dirichlet(np.ones(k), n)
    shares = rng.dirichlet(np.ones(k))
    expected = pooling.pool(proba, artists, rule, shares)
    rule_of = pooling.get(rule)
    for size in (1, 7, 250):
        sums = ArtistSums(k)
        for start in range(0, n, size):
            sums.add(artists[start : start + size], rule_of.values(proba[start : start + size]))
        parts = []
        for start in range(0, n, size):
            chunk = artists[start : start + size]
            means = sums.means(chunk, rule_of.values(proba[start : start + size]))
            parts.append(rule_of.finish(means, sums.counts_of(chunk), shares))
        np.testing.assert_allclose(np.vstack(parts), expected, rtol=0, atol=1e-12, err_msg=f"{rule} {size}")


def test_each_rule_has_its_rows_and_table_in_the_outer_summary() -> None:
    def run(acc: float) -> dict:
        return {"seed": 1, "accuracy": acc, "auc_pr_macro": acc / 2, "auc_pr_micro": acc / 3}

    folds = [
        {"models": {"hgb": [run(0.7)]}, "pooled": {"hgb": [run(0.8)]}, "pooled_evidence": {"hgb": [run(0.82)]}},
        {"models": {"hgb": [run(0.6)]}, "pooled": {"hgb": [run(0.9)]}, "pooled_evidence": {"hgb": [run(0.94)]}},
    ]
    table = outer_evaluation.summarize(folds)
    assert table["level"].tolist() == ["song", "pooled", "pooled_evidence"]
    assert table["accuracy_mean"].tolist() == pytest.approx([0.65, 0.85, 0.88])
    text = outer_evaluation.markdown(table)
    song, rest = text.split("Unseen artist, pooled over its test songs")
    mean_part, evidence_part = rest.split("pooled as independent evidence")
    assert "| hgb | 0.650" in song and "| hgb | 0.850" in mean_part and "| hgb | 0.880" in evidence_part
    # A summary of folds evaluated before the evidence rule keeps its two tables.
    old = outer_evaluation.summarize([{k: v for k, v in f.items() if k != "pooled_evidence"} for f in folds])
    assert old["level"].tolist() == ["song", "pooled"] and "independent evidence" not in outer_evaluation.markdown(old)
