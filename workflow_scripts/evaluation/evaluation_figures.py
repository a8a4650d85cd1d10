"""The evaluation's figures: the final network's training curves, confusion matrices,
precision-recall curves and the models compared on the test set; the outer folds' summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve

from workflow_scripts.core.figure_files import panel_grid, plt, save_figure

SCORE_LABELS = {"accuracy": "accuracy", "auc_pr_macro": "macro AUC-PR", "auc_pr_micro": "micro AUC-PR"}


def training_curves(history: Mapping[str, Sequence[float]], path: str | Path) -> None:
    """Loss and accuracy per epoch of the final network, training and early-stopping sets."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(history[metric], label="training")
        ax.plot(history[f"val_{metric}"], label="early-stopping set")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend()
    save_figure(fig, path)


def confusion_matrices(results: Mapping[str, Mapping[str, Any]], classes: Sequence[str], path: str | Path) -> None:
    """One row-normalised confusion matrix per model."""
    fig, axes = panel_grid(len(results), 3, 4.2, 4.2)
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
    save_figure(fig, path)


def pr_curves(y_true: np.ndarray, probas: Mapping[str, np.ndarray], classes: Sequence[str], path: str | Path) -> None:
    """Per model: one precision-recall curve per genre and the micro average."""
    fig, axes = panel_grid(len(probas), 3, 4.2, 3.8)
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
    save_figure(fig, path)


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
    save_figure(fig, path)


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
    save_figure(fig, path)
