"""Figures for the report (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import precision_recall_curve  # noqa: E402

from workflow_scripts.core.fileio import atomic_path  # noqa: E402

SCORE_LABELS = {"accuracy": "accuracy", "auc_pr_macro": "macro AUC-PR", "auc_pr_micro": "micro AUC-PR"}


def _grid(n: int, ncols: int, width: float, height: float) -> tuple[plt.Figure, np.ndarray]:
    """``n`` panels in rows of at most ``ncols``, spaced by constrained layout (no overlaps);
    panels left over are hidden."""
    ncols = max(1, min(ncols, n))
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, layout="constrained")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, axes


def _save(fig: plt.Figure, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def genre_counts(counts: pd.DataFrame, path: str | Path) -> None:
    """Songs per kept genre."""
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(counts) + 2), 3.8), layout="constrained")
    bars = ax.bar(counts["genre"], counts["songs"], color="tab:blue")
    ax.bar_label(bars, fontsize=8)
    ax.set_ylabel("songs")
    ax.set_title("Songs per genre after selection")
    ax.tick_params(axis="x", rotation=30)
    for label in ax.get_xticklabels():
        label.set_ha("right")
    _save(fig, path)


def hyperparameter_effects(cv: pd.DataFrame, hyperparameters: Sequence[str], path: str | Path) -> None:
    """Mean validation accuracy and train-validation gap per value of each hyperparameter."""
    present = [h for h in hyperparameters if h in cv.columns and cv[h].nunique(dropna=True) > 0]
    fig, axes = _grid(len(present), 4, 4.2, 3.4)
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
    _save(fig, path)


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
    _save(fig, path)


def training_curves(history: Mapping[str, Sequence[float]], path: str | Path) -> None:
    """Loss and accuracy per epoch of the final network, training and early-stopping sets."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(history[metric], label="training")
        ax.plot(history[f"val_{metric}"], label="early-stopping set")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend()
    _save(fig, path)


def confusion_matrices(results: Mapping[str, Mapping[str, Any]], classes: Sequence[str], path: str | Path) -> None:
    """One row-normalised confusion matrix per model."""
    fig, axes = _grid(len(results), 3, 4.2, 4.2)
    for ax, (name, result) in zip(axes.flat, results.items(), strict=False):
        matrix = np.asarray(result["confusion"], dtype=float)
        norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7, color="white" if norm[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(classes)), classes, fontsize=7)
        ax.set_title(f"{name} ({result['accuracy']:.1%})")
        ax.set_xlabel("predicted", fontsize=8)
    for row in axes:
        row[0].set_ylabel("true", fontsize=8)
    fig.suptitle("Test set: confusion matrices (colour: share of the true genre; numbers: songs)")
    _save(fig, path)


def pr_curves(y_true: np.ndarray, probas: Mapping[str, np.ndarray], classes: Sequence[str], path: str | Path) -> None:
    """Per model: one precision-recall curve per genre and the micro average."""
    fig, axes = _grid(len(probas), 3, 4.2, 3.8)
    for ax, (name, proba) in zip(axes.flat, probas.items(), strict=False):
        for k, genre in enumerate(classes):
            precision, recall, _ = precision_recall_curve(y_true == k, proba[:, k])
            ax.plot(recall, precision, lw=1, label=genre)
        onehot = np.eye(len(classes))[y_true]
        precision, recall, _ = precision_recall_curve(onehot.ravel(), proba.ravel())
        ax.plot(recall, precision, color="black", lw=2, label="micro average")
        ax.set_title(name)
        ax.set_xlabel("recall", fontsize=8)
        ax.tick_params(labelsize=8)
    for row in axes:
        row[0].set_ylabel("precision", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 7), fontsize=8)
    fig.suptitle("Test set: precision-recall per genre")
    _save(fig, path)


def comparison(results: Mapping[str, Mapping[str, Any]], path: str | Path) -> None:
    """Accuracy and AUC-PR (macro, micro) of every model side by side."""
    names = list(results)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 3, 4), layout="constrained")
    for offset, metric in zip((-0.25, 0, 0.25), SCORE_LABELS, strict=True):
        ax.bar(x + offset, [results[n][metric] for n in names], width=0.25, label=SCORE_LABELS[metric])
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1.15)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.legend(loc="upper center", ncols=3, fontsize=9)
    ax.set_title("Test set")
    _save(fig, path)


def outer_summary(table: pd.DataFrame, path: str | Path) -> None:
    """Mean accuracy and AUC-PR per model over outer folds and seeds, with one-std bars."""
    x = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(1.6 * len(table) + 3, 4), layout="constrained")
    for offset, metric in zip((-0.25, 0, 0.25), SCORE_LABELS, strict=True):
        ax.bar(
            x + offset, table[f"{metric}_mean"], yerr=table[f"{metric}_std"].fillna(0), width=0.25, capsize=3, label=SCORE_LABELS[metric]
        )
    ax.set_xticks(x, table["model"])
    ax.set_ylim(0, 1.15)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.legend(loc="upper center", ncols=3, fontsize=9)
    ax.set_title("Outer folds × seeds: mean ± std")
    _save(fig, path)
