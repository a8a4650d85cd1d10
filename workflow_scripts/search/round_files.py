"""Which files the search's rounds are made of: the plan the rules of the search stage
(rules/search.smk) read to name each round's jobs, and the one place that decides them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workflow_scripts.search import grid
from workflow_scripts.search.strategy import Round, SearchStrategy


@dataclass(frozen=True)
class RoundFiles:
    """The rounds of ``strategy`` over ``combos`` under ``results``; ``families`` pack the last
    round's jobs (``search.jobs``; empty: one job per combination) and ``round_packs`` the
    rounds before it (``search.halving.jobs``)."""

    results: str
    strategy: SearchStrategy
    rounds: Sequence[Round]
    combos: Sequence[str]
    families: Mapping[str, Sequence[str]]
    round_packs: Mapping[str, Sequence[str]]

    @property
    def folder(self) -> str:
        """The strategy's own folder of round files, with a ``{round}`` field."""
        return f"{self.results}/hpo/{self.strategy.name}/round{{round}}"

    def summary(self, index: int) -> str:
        """The summary (checkpoint halving_round) of round ``index``: its table and survivors."""
        return f"{self.results}/hpo/{self.strategy.name}/round{index}.json"

    def candidates(self, index: int, checkpoints: Any) -> list[str]:
        """The combinations round ``index`` trains: the strategy's first candidates, then the
        survivors of the round before (``checkpoints``: Snakemake's, to wait for that round)."""
        if index == 0:
            return self.strategy.first_candidates(list(self.combos))
        with open(checkpoints.halving_round.get(round=str(index - 1)).output[0]) as handle:
            return json.load(handle)["survivors"]

    def pack_kind(self, index: int, grid_jobs: str, round_jobs: str) -> str:
        """How a packed job of round ``index`` is packed: as the grid in the last round, as
        the earlier rounds are packed before it."""
        return grid_jobs if self.rounds[index].final else round_jobs

    def members(self, index: int, pack: str, members_id: str, checkpoints: Any) -> list[str]:
        """The members a packed job of round ``index`` trains (checked against its file name)."""
        packs = {**self.families, **self.round_packs}
        return grid.pack_members(packs[pack], self.candidates(index, checkpoints), members_id)

    def run_files(self, index: int, checkpoints: Any) -> list[str]:
        """The files of round ``index``'s jobs: the last round packed as the grid, in the grid's
        own files; the rounds before packed as ``round_packs``. A family of which only some
        members are candidates is trained as those members alone, unless the grid already
        trained it."""
        final = self.rounds[index].final
        packs = self.families if final else self.round_packs
        jobs = grid.round_jobs(self.candidates(index, checkpoints), packs or None)
        where = self.folder.format(round=index)
        if not packs:
            folder = f"{self.results}/hpo/runs" if final else f"{where}/runs"
            return [f"{folder}/{combo}.json" for combo in jobs]
        files = []
        for job, members in jobs.items():
            grid_file = f"{self.results}/hpo/families/{job}.json"
            if final and (len(members) == len(self.families[job]) or os.path.exists(grid_file)):
                files.append(grid_file)
            else:
                files.append(f"{where}/families/{job}-{grid.members_id(members)}.json")
        return files
