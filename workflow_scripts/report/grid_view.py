"""The interactive grid-search view: every combination's validation accuracy against its
train-validation gap, its hyperparameters on hover (Vega-Lite through Altair).

The page carries Vega, Vega-Lite and vega-embed inline (vl-convert's bundle), so it works with
no internet, also as a report item.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import altair as alt
import pandas as pd

from workflow_scripts.core.fileio import write_text_atomic

SCORE_COLUMNS = ("mean_val_accuracy", "std_val_accuracy", "mean_train_accuracy", "gap", "mean_epochs")


def frame(cv: pd.DataFrame, hyperparameters: Sequence[str], chosen: str, max_gap: float) -> pd.DataFrame:
    """The columns the view shows, one row per combination, with its status."""
    shown = [h for h in hyperparameters if h in cv.columns and cv[h].notna().any()]
    data = cv[["combo", *SCORE_COLUMNS, *shown]].copy()
    for name in shown:
        data[name] = [value_label(value) for value in data[name]]
    data["status"] = "gap above limit"
    data.loc[data["gap"] <= max_gap, "status"] = "eligible"
    data.loc[data["combo"] == chosen, "status"] = "chosen"
    return data


def value_label(value: object) -> str:
    """A hyperparameter value as the grid wrote it: 64 not 64.0, "-" where it does not apply."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def chart(cv: pd.DataFrame, hyperparameters: Sequence[str], chosen: str, max_gap: float) -> alt.LayerChart:
    """Scatter of the combinations (zoom and pan with the mouse), the gap limit as a rule."""
    data = frame(cv, hyperparameters, chosen, max_gap)
    shown = [c for c in data.columns if c not in ("combo", "status", *SCORE_COLUMNS)]
    tooltip = [
        alt.Tooltip("combo:N", title="combination"),
        alt.Tooltip("mean_val_accuracy:Q", title="validation accuracy", format=".4f"),
        alt.Tooltip("std_val_accuracy:Q", title="± (std over folds)", format=".4f"),
        alt.Tooltip("mean_train_accuracy:Q", title="train accuracy", format=".4f"),
        alt.Tooltip("gap:Q", title="train - validation", format=".4f"),
        alt.Tooltip("mean_epochs:Q", title="epochs (mean)", format=".1f"),
        *(alt.Tooltip(f"{h}:N") for h in shown),
    ]
    colour = alt.Color(
        "status:N",
        scale=alt.Scale(domain=["chosen", "eligible", "gap above limit"], range=["#d62728", "#1f77b4", "#aaaaaa"]),
        legend=alt.Legend(title=None, orient="bottom-right"),
    )
    points = (
        alt.Chart(data)
        .mark_point(filled=True, opacity=0.75)
        .encode(
            x=alt.X("gap:Q", title="train accuracy - validation accuracy (mean over folds)", scale=alt.Scale(zero=False)),
            y=alt.Y("mean_val_accuracy:Q", title="validation accuracy (mean over folds)", scale=alt.Scale(zero=False)),
            color=colour,
            shape=alt.Shape(
                "status:N",
                scale=alt.Scale(domain=["chosen", "eligible", "gap above limit"], range=["diamond", "circle", "circle"]),
                legend=None,
            ),
            size=alt.condition(alt.datum.status == "chosen", alt.value(220), alt.value(40)),
            tooltip=tooltip,
        )
        .interactive()
    )
    limit = alt.Chart(pd.DataFrame({"gap": [max_gap]})).mark_rule(strokeDash=[6, 4], color="grey").encode(x="gap:Q")
    title = alt.TitleParams(
        f"Grid search: {len(data)} combinations",
        subtitle=f"hover a point for its hyperparameters; drag to pan, scroll to zoom; dashed line: gap limit {max_gap}",
    )
    return alt.layer(points, limit).properties(width=720, height=460, title=title)


def write_html(cv: pd.DataFrame, hyperparameters: Sequence[str], chosen: str, max_gap: float, path: str | Path) -> None:
    """A self-contained HTML page (scripts inline, SVG renderer, no network access needed)."""
    with alt.data_transformers.disable_max_rows():
        html = chart(cv, hyperparameters, chosen, max_gap).to_html(inline=True, embed_options={"renderer": "svg", "actions": False})
    write_text_atomic(path, html)
