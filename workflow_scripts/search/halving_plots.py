"""The figure of a successive-halving search: score against budget, round by round."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workflow_scripts.evaluation.plots import _save, plt


def rounds(table: pd.DataFrame, chosen: str, resource: str, path: str | Path) -> None:
    """Mean validation accuracy of every candidate at each round's budget; the candidates
    that went on to the next round in colour, the others grey, the chosen one starred."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    last = int(table["iter"].max())
    went_on = {(int(r), str(c)) for r, c in zip(table["iter"], table["combo"], strict=True)}
    for _, rows in table.sort_values("iter").groupby("combo"):
        if len(rows) > 1:
            ax.plot(rows["n_resources"], rows["mean_val_accuracy"], color="tab:blue", alpha=0.3, linewidth=0.8)
    survived = [(int(r) + 1, str(c)) in went_on for r, c in zip(table["iter"], table["combo"], strict=True)]
    survived = pd.Series(survived, index=table.index) | (table["iter"] == last)
    ax.scatter(table.loc[~survived, "n_resources"], table.loc[~survived, "mean_val_accuracy"], s=8, color="lightgrey", label="dropped")
    ax.scatter(table.loc[survived, "n_resources"], table.loc[survived, "mean_val_accuracy"], s=14, color="tab:blue", label="went on")
    pick = table[(table["combo"] == chosen) & (table["iter"] == last)]
    ax.scatter(pick["n_resources"], pick["mean_val_accuracy"], s=160, marker="*", color="tab:red", label=f"chosen {chosen}")
    budgets = sorted(table["n_resources"].unique())
    ax.set_xscale("log")
    ax.set_xticks(budgets, [f"{b:g}" for b in budgets])
    ax.minorticks_off()
    ax.set_xlabel(f"budget ({resource}) per round")
    ax.set_ylabel("mean validation accuracy (CV)")
    counts = table.groupby("iter").size()
    ax.set_title("Successive halving: " + " -> ".join(str(int(n)) for n in counts) + " candidates")
    ax.legend(fontsize=8)
    _save(fig, path)
