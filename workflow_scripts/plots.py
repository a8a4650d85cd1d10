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

from workflow_scripts.fileio import atomic_path  # noqa: E402


def _save(fig: plt.Figure, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def genre_counts(counts: pd.DataFrame, path: str | Path) -> None:
    """Songs per kept genre."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(counts["genre"], counts["songs"], color="tab:blue")
    ax.set_ylabel("songs")
    ax.set_title("Songs per genre after selection")
    ax.tick_params(axis="x", rotation=30)
    _save(fig, path)


def hyperparameter_effects(cv: pd.DataFrame, hyperparameters: Sequence[str], path: str | Path) -> None:
    """Mean validation accuracy and train-validation gap per value of each hyperparameter."""
    present = [h for h in hyperparameters if h in cv.columns and cv[h].nunique(dropna=True) > 0]
    ncols = 4
    nrows = max(1, -(-len(present) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 3 * nrows), squeeze=False)
    for ax, name in zip(axes.flat, present, strict=False):
        grouped = cv.groupby(cv[name].astype(str))[["mean_val_accuracy", "gap"]].mean()
        x = np.arange(len(grouped))
        ax.bar(x - 0.2, grouped["mean_val_accuracy"], width=0.4, label="validation accuracy")
        ax.bar(x + 0.2, grouped["gap"], width=0.4, label="train - validation")
        ax.set_xticks(x, grouped.index, rotation=20)
        ax.set_title(name)
    for ax in list(axes.flat)[len(present) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Grid search: mean over combinations per hyperparameter value")
    _save(fig, path)


def score_vs_gap(cv: pd.DataFrame, chosen: str, max_gap: float, path: str | Path) -> None:
    """Validation accuracy against overtraining, the chosen combination marked."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(cv["gap"], cv["mean_val_accuracy"], s=10, alpha=0.5, label="combinations")
    pick = cv[cv["combo"] == chosen]
    ax.scatter(pick["gap"], pick["mean_val_accuracy"], s=120, marker="*", color="tab:red", label=f"chosen {chosen}")
    ax.axvline(max_gap, color="grey", linestyle="--", label=f"gap limit {max_gap}")
    ax.set_xlabel("train accuracy - validation accuracy")
    ax.set_ylabel("mean validation accuracy (CV)")
    ax.legend(fontsize=8)
    _save(fig, path)


def training_curves(history: Mapping[str, Sequence[float]], path: str | Path) -> None:
    """Loss and accuracy per epoch of the final network, training and early-stopping sets."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(history[metric], label="training")
        ax.plot(history[f"val_{metric}"], label="early-stopping set")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend()
    _save(fig, path)


def confusion_matrices(results: Mapping[str, Mapping[str, Any]], classes: Sequence[str], path: str | Path) -> None:
    """One row-normalised confusion matrix per model."""
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 4), squeeze=False)
    for ax, (name, result) in zip(axes.flat, results.items(), strict=True):
        matrix = np.asarray(result["confusion"], dtype=float)
        norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7, color="white" if norm[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(classes)), classes, fontsize=7)
        ax.set_title(f"{name} ({result['accuracy']:.1%})")
        ax.set_xlabel("predicted")
    axes.flat[0].set_ylabel("true")
    _save(fig, path)


def pr_curves(y_true: np.ndarray, probas: Mapping[str, np.ndarray], classes: Sequence[str], path: str | Path) -> None:
    """Per model: one precision-recall curve per genre and the micro average."""
    fig, axes = plt.subplots(1, len(probas), figsize=(4.2 * len(probas), 4), squeeze=False)
    for ax, (name, proba) in zip(axes.flat, probas.items(), strict=True):
        for k, genre in enumerate(classes):
            precision, recall, _ = precision_recall_curve(y_true == k, proba[:, k])
            ax.plot(recall, precision, lw=1, label=genre)
        onehot = np.eye(len(classes))[y_true]
        precision, recall, _ = precision_recall_curve(onehot.ravel(), proba.ravel())
        ax.plot(recall, precision, color="black", lw=2, label="micro average")
        ax.set_title(name)
        ax.set_xlabel("recall")
    axes.flat[0].set_ylabel("precision")
    axes.flat[0].legend(fontsize=7)
    _save(fig, path)


def comparison(results: Mapping[str, Mapping[str, Any]], path: str | Path) -> None:
    """Accuracy and AUC-PR (macro, micro) of every model side by side."""
    names = list(results)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 3, 4))
    for offset, metric in zip((-0.25, 0, 0.25), ("accuracy", "auc_pr_macro", "auc_pr_micro"), strict=True):
        ax.bar(x + offset, [results[n][metric] for n in names], width=0.25, label=metric)
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("Test set")
    _save(fig, path)


def outer_summary(table: pd.DataFrame, path: str | Path) -> None:
    """Mean accuracy and AUC-PR per model over outer folds and seeds, with one-std bars."""
    x = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(1.6 * len(table) + 3, 4))
    for offset, metric in zip((-0.25, 0, 0.25), ("accuracy", "auc_pr_macro", "auc_pr_micro"), strict=True):
        ax.bar(x + offset, table[f"{metric}_mean"], yerr=table[f"{metric}_std"].fillna(0), width=0.25, capsize=3, label=metric)
    ax.set_xticks(x, table["model"])
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title("Outer folds × seeds: mean ± std")
    _save(fig, path)
