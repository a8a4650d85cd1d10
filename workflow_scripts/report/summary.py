"""The report's landing page: the answer first, as reStructuredText for `snakemake --report`.

The page is included by report/workflow.rst; it holds the headline table (test set, and the
outer folds when run), the chosen network and why, and the songs per genre.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

SCORES = ("accuracy", "auc_pr_macro", "auc_pr_micro")
SCORE_LABELS = ("accuracy", "macro AUC-PR", "micro AUC-PR")
LOOKUP = "artist lookup"


def escape(text: Any) -> str:
    """``text`` as literal reStructuredText (no markup from names like ``*nix`` or ``r_b``)."""
    out = str(text)
    for char in ("\\", "*", "`", "_", "|", "[", "]"):
        out = out.replace(char, "\\" + char)
    return out


def list_table(header: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    """A docutils list-table with one header row."""
    lines = [f".. list-table:: {title}".rstrip(), "   :header-rows: 1", ""]
    for row in [header, *rows]:
        cells = [escape(cell) if str(cell) else "\\ " for cell in row]
        lines.append(f"   * - {cells[0]}")
        lines.extend(f"     - {cell}" for cell in cells[1:])
    return "\n".join(lines) + "\n"


def heading(text: str, underline: str) -> str:
    return f"{text}\n{underline * len(text)}\n"


def _score(value: Any) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{float(value):.3f}"


def lookup_meaning(group_by: str | None) -> str:
    """One line on what the artist-lookup row means under the configured split."""
    if group_by == "artist":
        return (
            "The *artist lookup* row predicts each song's genre as its artist's majority genre in training. "
            "The split is artist-disjoint, so it never knows a test artist and falls back to the most "
            "common genre: it is the floor a model must beat."
        )
    return (
        "The *artist lookup* row predicts each song's genre as its artist's majority genre in training. "
        "The split is by song, so most test artists were seen in training: it is the ceiling of a model that "
        "only recognises artists. A model close to it has learnt who sings, not how the song sounds; "
        "set ``split.group_by: artist`` to test on unseen artists."
    )


def headline_table(metrics: Mapping[str, Any]) -> str:
    """Each model's test accuracy and macro/micro AUC-PR, best accuracy first, lookup last."""
    models = metrics["models"]
    order = sorted((m for m in models if m != LOOKUP), key=lambda m: -float(models[m]["accuracy"]))
    if LOOKUP in models:
        order.append(LOOKUP)
    rows = [[name, *(_score(models[name].get(s)) for s in SCORES)] for name in order]
    title = f"Test set ({metrics['n_test']} songs; models trained on {metrics['n_train']})"
    return list_table(["model", *SCORE_LABELS], rows, title)


def outer_table(outer: pd.DataFrame) -> str:
    """Mean ± std over outer folds and seeds, per model."""
    rows = []
    for row in outer.to_dict("records"):
        cells = [f"{_score(row[f'{s}_mean'])} ± {_score(row.get(f'{s}_std'))}" for s in SCORES]
        rows.append([row["model"], *cells, int(row["n_runs"])])
    folds = int(outer["n_folds"].max()) if "n_folds" in outer and len(outer) else 0
    title = f"Outer folds ({folds} folds × seeds: mean ± std)"
    return list_table(["model", *SCORE_LABELS, "runs"], rows, title)


def chosen_network(selection: Mapping[str, Any]) -> str:
    """The selected combination, its hyperparameters, its CV scores and why it was chosen."""
    params = ", ".join(f"{k}={v}" for k, v in selection["params"].items())
    return (
        f"Combination ``{selection['combo']}`` of {selection['n_combinations']}: "
        f"validation accuracy {selection['mean_val_accuracy']:.3f} ± {selection['std_val_accuracy']:.3f} (3-fold CV), "
        f"train-validation gap {selection['gap']:.3f} (limit {selection['max_gap']:.3f}), "
        f"{selection['mean_epochs']:.0f} epochs on average. "
        f"Why: {escape(selection['reason'])}. Hyperparameters: {escape(params)}.\n"
    )


def genre_line(counts: pd.DataFrame) -> str:
    """Songs per kept genre, most first, and the total, as one line."""
    ordered = counts.sort_values(["songs", "genre"], ascending=[False, True])
    cells = ", ".join(f"{escape(row['genre'])} {int(row['songs'])}" for row in ordered.to_dict("records"))
    return f"{cells}; {int(counts['songs'].sum())} songs in all.\n"


# Snakemake 9.27's landing page centres its content vertically, so a page taller than the
# window loses its top: align it to the top (the class names of that container), and give
# the text column room and smaller headings so the answer fits on the first screen.
STYLE = """.. raw:: html

   <style>
   div.grow.flex.items-center.justify-center.h-screen { align-items: flex-start; }
   div.prose.max-w-lg { max-width: 44rem; }
   div.prose h1 { font-size: 1.35em; margin: 0.6em 0 0.3em; }
   div.prose td, div.prose th { padding-top: 0.2em; padding-bottom: 0.2em; }
   </style>
"""


def landing_page(
    metrics: Mapping[str, Any],
    selection: Mapping[str, Any],
    counts: pd.DataFrame,
    group_by: str | None,
    outer: pd.DataFrame | None = None,
) -> str:
    """The whole landing page (reStructuredText sections; report/workflow.rst includes it)."""
    split = "artist-disjoint split" if group_by == "artist" else "split by song"
    parts = [
        STYLE,
        heading("Headline", "-"),
        f"{len(metrics['classes'])} genres, {split}.\n",
        headline_table(metrics),
        lookup_meaning(group_by) + "\n",
    ]
    if outer is not None:
        parts.append(outer_table(outer))
    parts += [
        heading("Chosen network", "-"),
        chosen_network(selection),
        heading("Songs per genre", "-"),
        genre_line(counts),
    ]
    return "\n".join(parts)
