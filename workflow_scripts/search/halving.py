"""Successive halving over the grid (config ``search.strategy: halving``): the rounds, their
budgets, and who survives a round.

Round 0 trains every combination at the smallest budget; each round keeps the best
``1 / factor`` of its candidates (``ceil``, as scikit-learn's ``HalvingGridSearchCV``) by mean
validation accuracy, ties broken as :func:`hpo.choose` breaks them (lower std, then id); the
next round trains them at ``factor`` times the budget. The last round's budget is the full
one (every fold, ``training.max_epochs``, every training row): exactly the grid's own run.

The resource that grows (``search.halving.resource``):

- ``epochs``: the maximum epochs of each fit (early stopping as configured);
- ``folds``: how many of the CV folds are trained (the first ones);
- ``rows``: the share of each fold's training rows (stratified, seeded per fold); the
  early-stopping rows and the validation fold stay whole.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workflow_scripts.search.hpo import ranked
from workflow_scripts.search.strategy import Round, SearchStrategy

RESOURCES = ("epochs", "folds", "rows")
_EPS = 1e-9


def full_budget(resource: str, max_epochs: int, n_folds: int) -> float:
    """The full budget in the resource's units: max epochs, number of folds, or all rows (1.0)."""
    return {"epochs": float(max_epochs), "folds": float(n_folds), "rows": 1.0}[resource]


def n_rounds(n_combinations: int, factor: float, min_budget: float, resource: str, full: float) -> int:
    """As many rounds as the candidates need (``1 + floor(log_factor(n))``, scikit-learn's
    ``n_required_iterations``) and the smallest budget allows: the first round's budget
    ``full / factor ** (rounds - 1)`` stays at least ``min_budget * full`` (and at least one
    epoch or fold)."""
    needed = 1
    while factor**needed <= n_combinations * (1 + _EPS):
        needed += 1
    smallest = max(min_budget * full, 0.0 if resource == "rows" else 1.0)
    possible = 1
    while full / factor**possible >= smallest * (1 - _EPS):
        possible += 1
    return max(1, min(needed, possible))


def plan(n_combinations: int, factor: float, min_budget: float, resource: str, max_epochs: int, n_folds: int) -> list[Round]:
    """The rounds of a halving search over ``n_combinations`` (``min_budget``: the smallest
    round's budget as a share of the full one)."""
    full = full_budget(resource, max_epochs, n_folds)
    count = n_rounds(n_combinations, factor, min_budget, resource, full)
    rounds: list[Round] = []
    candidates = n_combinations
    for index in range(count):
        budget = full / factor ** (count - 1 - index)
        if resource != "rows":
            budget = float(max(1, round(budget)))
        rounds.append(Round(index, resource, full if index == count - 1 else budget, candidates, index == count - 1))
        candidates = math.ceil(candidates / factor)
    return rounds


def survivors(cv: Any, factor: float) -> list[str]:
    """The ids of the best ``ceil(n / factor)`` combinations of a round."""
    return [str(c) for c in ranked(cv)["combo"].head(math.ceil(len(cv) / factor))]


def subsample_rows(y: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Indices (sorted) of a stratified ``share`` of the rows: per class ``round(share * n)``
    (at least one), drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    keep = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        keep.append(rng.choice(rows, max(1, int(round(share * len(rows)))), replace=False))
    return np.sort(np.concatenate(keep))


def apply_budget(
    arrays: Mapping[str, np.ndarray], max_epochs: int, budget: Mapping[str, Any] | None, seed: int
) -> tuple[dict[str, np.ndarray], int]:
    """The arrays and max epochs a fit gets under ``budget`` (None: unchanged)."""
    arrays = dict(arrays)
    if not budget:
        return arrays, int(max_epochs)
    resource, value = budget["resource"], budget["value"]
    if resource == "epochs":
        return arrays, int(value)
    if resource == "folds":
        arrays["n_folds"] = np.asarray(min(int(arrays["n_folds"]), int(value)))
        return arrays, int(max_epochs)
    if resource == "rows":
        for k in range(int(arrays["n_folds"])):
            rows = subsample_rows(arrays[f"y_fit_{k}"], float(value), seed + k)
            arrays[f"X_fit_{k}"], arrays[f"y_fit_{k}"] = arrays[f"X_fit_{k}"][rows], arrays[f"y_fit_{k}"][rows]
        return arrays, int(max_epochs)
    raise ValueError(f"unknown halving resource {resource!r}")


def round_rows(cv: Any, round_index: int, budget: float) -> list[dict[str, Any]]:
    """A round's table as rows with scikit-learn's ``iter`` and ``n_resources`` (unused
    settings, NaN in the table, left out)."""
    table = cv.assign(iter=round_index, n_resources=budget)
    return [{k: _plain(v) for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))} for row in table.to_dict("records")]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class SuccessiveHalving(SearchStrategy):
    """Successive halving over the grid: rounds of growing budget, the last the grid's own run."""

    name = "halving"

    def rounds(self, combos: Sequence[str]) -> list[Round]:
        h = self.settings["halving"]
        return plan(len(combos), h["factor"], h["min_budget"], h["resource"], self.max_epochs, self.n_folds)

    def round_record(self, round_: Round) -> dict[str, Any]:
        return {**super().round_record(round_), "factor": self.settings["halving"]["factor"]}

    def survivors(self, cv: pd.DataFrame, record: Mapping[str, Any]) -> list[str]:
        return survivors(cv, float(record["factor"]))

    def summarize_round(self, cv: pd.DataFrame, record: Mapping[str, Any]) -> dict[str, Any]:
        """A round's summary: its candidates, survivors and table rows."""
        return {
            "n_candidates": len(cv),
            "survivors": self.survivors(cv, record),
            "rows": round_rows(ranked(cv), record["round"], record["budget"]),
        }

    def aggregate_record(self, rounds: Sequence[Round], combos: Sequence[str]) -> dict[str, Any]:
        final = rounds[-1]
        return {"strategy": self.name, "final_round": {"round": final.index, "resource": final.resource, "budget": final.budget}}

    def annotate(
        self, cv: pd.DataFrame, summaries: Sequence[Mapping[str, Any]], record: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
        last = record["final_round"]
        cv = cv[cv["combo"].isin(summaries[-1]["survivors"])].reset_index(drop=True)
        earlier = pd.DataFrame([row for summary in summaries for row in summary["rows"]])
        final = pd.DataFrame(round_rows(ranked(cv), last["round"], last["budget"]))
        table = pd.concat([earlier, final], ignore_index=True)[[*cv.columns, "iter", "n_resources"]]
        extra = {
            "strategy": self.name,
            "round": last["round"],
            "resource": last["resource"],
            "n_resources": last["budget"],
            "n_grid": int(table[table["iter"] == 0].shape[0]),
            "rounds": [{k: r[k] for k in ("round", "budget", "n_candidates")} | {"survivors": len(r["survivors"])} for r in summaries]
            + [{"round": last["round"], "budget": last["budget"], "n_candidates": len(cv)}],
            "reason_note": f" (round {last['round']} of successive halving, at the full budget)",
        }
        return table, cv, extra
