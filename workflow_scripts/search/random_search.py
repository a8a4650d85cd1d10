"""Random search (config ``search.strategy: random``): ``search.random.n`` combinations drawn
from the grid with ``search.random.seed``, trained at the full budget in the grid's own files
(the same stable ids), so a later grid or halving run reuses every run it made."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workflow_scripts.search.strategy import Round, SearchStrategy


def draw(combos: Sequence[str], n: int, seed: int) -> list[str]:
    """``n`` of ``combos`` (all when fewer) drawn without replacement, in the grid's order."""
    combos = list(combos)
    if n >= len(combos):
        return combos
    picked = np.random.default_rng(seed).choice(len(combos), size=n, replace=False)
    return [combos[i] for i in sorted(picked)]


class RandomSearch(SearchStrategy):
    """One round at the full budget over a seeded draw of the grid."""

    name = "random"

    def first_candidates(self, combos: Sequence[str]) -> list[str]:
        random = self.settings["random"]
        return draw(combos, int(random["n"]), int(random["seed"]))

    def aggregate_record(self, rounds: Sequence[Round], combos: Sequence[str]) -> dict[str, Any]:
        random = self.settings["random"]
        drawn = self.first_candidates(combos)
        return {**super().aggregate_record(rounds, combos), "n_grid": len(combos), "seed": int(random["seed"]), "drawn": drawn}

    def annotate(
        self, cv: pd.DataFrame, summaries: Sequence[Mapping[str, Any]], record: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
        """The drawn networks only: a packed job's file (``search.jobs: family``) also holds the
        runs of members a grid run trained beside them, which this search did not draw."""
        cv = cv[cv["combo"].isin(record["drawn"])].reset_index(drop=True)
        extra = {"strategy": self.name, "n_grid": record["n_grid"], "seed": record["seed"], "n_drawn": len(record["drawn"])}
        return cv, cv, extra
