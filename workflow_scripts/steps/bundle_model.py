"""Rule bundle_model: the fitted preprocessing, every model, the manifest and the model card."""

import json
from pathlib import Path

from workflow_scripts.core.step import run_step


def main(smk) -> None:
    import pandas as pd

    from workflow_scripts.bundle import model_card
    from workflow_scripts.bundle import store as bundle
    from workflow_scripts.features import pipeline as features
    from workflow_scripts.models import estimators as baselines
    from workflow_scripts.models import registry as models

    p = smk.params
    songs = pd.read_parquet(smk.input.songs)
    split = pd.read_parquet(smk.input.split)
    fitted = features.fit_final(songs, split, p.features, p.seed)
    arrays = features.load_arrays(smk.input.arrays)
    artists = songs.set_index("row")["Artist"]
    train = features.training_set(arrays)
    lookup = baselines.ArtistLookup().fit(artists.loc[train.rows], train.y, len(fitted.classes))
    estimators = {name: bundle.load_skops(path) for name, path in zip(models.ESTIMATORS, smk.input.estimators, strict=True)}
    metrics = json.loads(Path(smk.input.metrics).read_text())
    selection = json.loads(Path(smk.input.selection).read_text())
    dataset_info = json.loads(Path(smk.input.dataset).read_text())
    labels = dict(p.labels)
    if labels.get("source") == "wikidata":
        from workflow_scripts.labels.cache import ArtistCache

        labels["queried"] = ArtistCache(smk.config["labels"]["cache_dir"], labels["endpoint"]).queried_span(songs["Artist"].astype(str))
    outer = Path(smk.input.outer[0]).read_text() if smk.input.outer else None
    manifest = {
        "classes": fitted.classes,
        "feature_names": [str(n) for n in arrays["feature_names"]],
        "required_columns": list(dict.fromkeys(["Artist", *features.required_columns(p.features)])),
        "features": dict(p.features),
        "models": [m.name for m in models.REGISTRY if m.in_bundle],
        "default_model": models.DEFAULT_MODEL,
        "ensemble": list(p.ensemble),
        "network": {"combo": selection["combo"], "params": selection["params"], "reason": selection.get("reason", "")},
        "protocol": dict(p.split),
        "dataset": dataset_info,
        "labels": {k: v for k, v in labels.items() if k in ("source", "endpoint", "csv", "queried")},
        "config_sha256": p.config_digest,
        "test_metrics": {n: {k: r[k] for k in ("accuracy", "auc_pr_macro", "auc_pr_micro")} for n, r in metrics["models"].items()},
    }
    card = model_card.render(manifest, metrics, outer)
    bundle.write(Path(smk.output.manifest).parent, fitted, smk.input.network, estimators, lookup, manifest, card)


run_step(main, snakemake)  # noqa: F821
