"""The search-strategy interface: how the grid's combinations are searched, as rounds of the
workflow (in the spirit of keras-tuner's oracle and scikit-learn's ``_run_search``).

A strategy plans the rounds (the last one trains its candidates at the full budget, in the
grid's own files, so every strategy reuses and feeds the grid's runs), names the first round's
candidates, keeps the survivors of a round before the last, and shapes the final table and the
record of the choice. The kinds are registered in :mod:`workflow_scripts.search.strategies`;
the rules and steps call this interface and never branch on the kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd


@dataclass(frozen=True)
class Round:
    """One round: its index, budget (in the resource's units) and planned number of candidates."""

    index: int
    resource: str
    budget: float
    n_candidates: int
    final: bool

    def budget_spec(self) -> dict[str, Any] | None:
        """What a training job gets (``hpo.train_combinations(budget=...)``); None: the full budget."""
        return None if self.final else {"resource": self.resource, "value": self.budget}


class SearchStrategy:
    """The grid search itself: one round, every combination at the full budget.

    Subclasses override what differs; ``settings`` is the config's ``search`` section.
    """

    name: ClassVar[str] = "grid"

    def __init__(self, settings: Mapping[str, Any], max_epochs: int, n_folds: int) -> None:
        self.settings = settings
        self.max_epochs = int(max_epochs)
        self.n_folds = int(n_folds)

    def first_candidates(self, combos: Sequence[str]) -> list[str]:
        """The combinations the first round trains (ids, in the grid's order)."""
        return list(combos)

    def rounds(self, combos: Sequence[str]) -> list[Round]:
        """The rounds of the search over ``combos``; the last has the full budget."""
        return [Round(0, "epochs", float(self.max_epochs), len(self.first_candidates(combos)), True)]

    def survivors(self, cv: pd.DataFrame, record: Mapping[str, Any]) -> list[str]:
        """The candidates of a round before the last that go on (only strategies with several rounds)."""
        raise NotImplementedError(f"search strategy {self.name!r} has a single round")

    def summarize_round(self, cv: pd.DataFrame, record: Mapping[str, Any]) -> dict[str, Any]:
        """A round before the last: its survivors (and what its summary records besides)."""
        return {"n_candidates": len(cv), "survivors": self.survivors(cv, record)}

    def round_record(self, round_: Round) -> dict[str, Any]:
        """What a round's summary job depends on (its ``params``)."""
        return {"round": round_.index, "resource": round_.resource, "budget": round_.budget}

    def aggregate_record(self, rounds: Sequence[Round], combos: Sequence[str]) -> dict[str, Any]:
        """What the aggregation depends on besides the runs (its ``params.search``); ``combos``:
        the grid's ids."""
        return {"strategy": self.name, "final_round": None}

    def annotate(
        self, cv: pd.DataFrame, summaries: Sequence[Mapping[str, Any]], record: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
        """From the final round's runs (``cv``) and the earlier rounds' ``summaries``: the table
        to write, the candidates to choose among, and fields added to the choice's record
        (``reason_note`` is appended to its reason)."""
        return cv, cv, {}
