"""The bundle's model card: data, labels, protocol, metrics per model, and its limits (Markdown)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflow_scripts.models import registry as models


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _data(manifest: Mapping[str, Any], metrics: Mapping[str, Any]) -> list[str]:
    """The dataset, its digest and sizes, and where the labels came from."""
    dataset = manifest["dataset"]
    labels = manifest["labels"]
    lines = [
        "## Data and labels",
        "",
        f"- Dataset: Kaggle 'Spotify and YouTube' ({dataset.get('source')}: {dataset.get('origin')}), "
        f"SHA-256 `{dataset.get('sha256')}`; {metrics['n_train']} training and {metrics['n_test']} test songs after selection.",
    ]
    if labels.get("source") == "wikidata":
        span = labels.get("queried") or {}
        lines.append(
            f"- Labels: each artist's Wikidata genres (P136) from {labels.get('endpoint')}, grouped into super-genres; "
            f"cache entries queried {span.get('first', '?')} to {span.get('last', '?')} ({span.get('artists', 0)} artists)."
        )
    else:
        lines.append(f"- Labels: the CSV {labels.get('csv')} (row id -> genre).")
    return lines


def _protocol(manifest: Mapping[str, Any], artist_disjoint: bool) -> list[str]:
    """The split, the chosen network, the features and the input columns."""
    protocol = manifest["protocol"]
    return [
        "## Protocol",
        "",
        f"- Split: {'artist-disjoint (every artist, with the artists it shares a track with, wholly in training or test)' if artist_disjoint else 'by song (the study)'}, "
        f"test share {protocol.get('test_size')}, {protocol.get('n_folds')} CV folds, seed {protocol.get('seed')}.",
        f"- Network: combination `{manifest['network']['combo']}` {manifest['network']['params']}; "
        f"chosen because: {manifest['network'].get('reason', '')}",
        f"- Features ({len(manifest['feature_names'])}): {', '.join(manifest['feature_names'][:25])}"
        + (" ..." if len(manifest["feature_names"]) > 25 else ""),
        f"- Required input columns: {', '.join(manifest['required_columns'])}.",
        *(
            [
                "- Artist context: each song also sees the mean of its artist's songs in the same input, so a song's "
                "prediction depends on which of its artist's songs are predicted with it; predict an artist's songs in one "
                "file (a lone song sees only itself)."
            ]
            if manifest["features"].get("artist_context")
            else []
        ),
    ]


def _test_metrics(metrics: Mapping[str, Any]) -> list[str]:
    """One table row per model of the registry that has test metrics."""
    lines = [
        "## Test metrics (held-out test set)",
        "",
        "| model | what | accuracy | macro AUC-PR | micro AUC-PR |",
        "|---|---|---|---|---|",
    ]
    for model in models.REGISTRY:
        result = metrics["models"].get(model.name)
        if result:
            lines.append(
                f"| {model.name} | {model.title} | {_pct(result['accuracy'])} | {result['auc_pr_macro']:.3f} | {result['auc_pr_micro']:.3f} |"
            )
    return lines


def _limitations(artist_disjoint: bool) -> list[str]:
    """Per-artist labels, seen versus new artists, pooling, the catalogue."""
    return [
        "## Limitations",
        "",
        "- **Labels are per artist**, not per song: every song of an artist carries the artist's super-genre. A song that "
        "departs from its artist's usual genre is labelled (and scored) as the artist's.",
        "- **Accuracy on artists it has seen is not accuracy on new artists.** "
        + (
            "These figures are on artists no model saw in training, which is what to expect for new artists."
            if artist_disjoint
            else "These figures come from a split by song: most test songs' artists are also in training, so they overstate "
            "accuracy on new artists (the artist-lookup row shows how far identity alone goes). For new artists, use the "
            "artist-disjoint figures (configs/artist_disjoint.yaml)."
        ),
        "- Several songs of one artist: `--pool-by-artist` averages their probabilities, a fairer prediction for each of them.",
        "- Trained on the songs of the Kaggle dataset (popular tracks, 2023); other catalogues may differ.",
    ]


def render(manifest: Mapping[str, Any], metrics: Mapping[str, Any], outer_markdown: str | None = None) -> str:
    """The card from the manifest (without files), the test metrics and the outer summary."""
    artist_disjoint = manifest["protocol"].get("group_by") == "artist"
    lines = [
        "# Model card: genre-factor genre classifier",
        "",
        "Predicts a song's genre (one of: " + ", ".join(manifest["classes"]) + ") from its Spotify and YouTube statistics.",
        f"Default model: **{manifest['default_model']}** (soft vote of {', '.join(manifest['ensemble'])}).",
        "",
        *_data(manifest, metrics),
        "",
        *_protocol(manifest, artist_disjoint),
        "",
        *_test_metrics(metrics),
    ]
    if outer_markdown:
        lines += ["", "## Outer folds (every model on each outer fold, mean ± std over folds × seeds)", "", outer_markdown.strip()]
    lines += ["", *_limitations(artist_disjoint), ""]
    return "\n".join(lines)
