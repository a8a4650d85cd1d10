"""The search's figures: what each hyperparameter does (hyperparameter_effects), accuracy
against overtraining (score_vs_gap), and a successive-halving search round by round
(halving_rounds)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from workflow_scripts.core.figure_files import panel_grid, plt, save_figure


def hyperparameter_effects(cv: pd.DataFrame, hyperparameters: Sequence[str], path: str | Path) -> None:
    """Mean validation accuracy and train-validation gap per value of each hyperparameter."""
    present = [h for h in hyperparameters if h in cv.columns and cv[h].nunique(dropna=True) > 0]
    fig, axes = panel_grid(len(present), 4, 4.2, 3.4)
    for ax, name in zip(axes.flat, present, strict=False):
        grouped = cv.groupby(cv[name].astype(str))[["mean_val_accuracy", "gap"]].mean()
        x = np.arange(len(grouped))
        ax.bar(x - 0.2, grouped["mean_val_accuracy"], width=0.4, label="validation accuracy")
        ax.bar(x + 0.2, grouped["gap"], width=0.4, label="train - validation gap")
        ax.set_xticks(x, grouped.index, rotation=30 if len(grouped) > 3 else 0, ha="right" if len(grouped) > 3 else "center", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_title(name, fontsize=10)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=9)
    fig.suptitle("Grid search: mean over combinations per hyperparameter value")
    save_figure(fig, path)


def score_vs_gap(cv: pd.DataFrame, chosen: str, max_gap: float, path: str | Path) -> None:
    """Validation accuracy against overtraining, the chosen combination marked."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    ax.scatter(cv["gap"], cv["mean_val_accuracy"], s=10, alpha=0.5, label="combinations")
    pick = cv[cv["combo"] == chosen]
    ax.scatter(pick["gap"], pick["mean_val_accuracy"], s=120, marker="*", color="tab:red", label=f"chosen {chosen}")
    ax.axvline(max_gap, color="grey", linestyle="--", label=f"gap limit {max_gap}")
    ax.set_xlabel("train accuracy - validation accuracy")
    ax.set_ylabel("mean validation accuracy (CV)")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8)
    ax.set_title("Grid search: accuracy against overtraining")
    save_figure(fig, path)


def halving_rounds(table: pd.DataFrame, chosen: str, resource: str, path: str | Path) -> None:
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
    save_figure(fig, path)
