"""Rule bundle_model: the fitted preprocessing, every model, the manifest and the model card."""

import json
from pathlib import Path

from workflow_scripts.core.step import run_step


def main(smk) -> None:
    import pandas as pd

    from workflow_scripts.bundle import manifest as bundle_manifest
    from workflow_scripts.bundle import model_card
    from workflow_scripts.bundle import store as bundle
    from workflow_scripts.evaluation import pooling
    from workflow_scripts.features import pipeline as features
    from workflow_scripts.models import registry as models

    p = smk.params
    songs = pd.read_parquet(smk.input.songs)
    split = pd.read_parquet(smk.input.split)
    fitted = features.fit_final(songs, split, p.features, p.seed)
    arrays = features.load_arrays(smk.input.arrays)
    artists = songs.set_index("row")["Artist"]
    train = features.training_set(arrays)
    stored = {
        "network": smk.input.network,
        **{name: bundle.load_skops(path) for name, path in zip(models.ESTIMATORS, smk.input.estimators, strict=True)},
        "artist lookup": models.fit_artist_lookup(artists, train.rows, train.y, len(fitted.classes)),
    }
    metrics = json.loads(Path(smk.input.metrics).read_text())
    selection = json.loads(Path(smk.input.selection).read_text())
    dataset_info = json.loads(Path(smk.input.dataset).read_text())
    labels = dict(p.labels)
    if labels.get("source") == "wikidata":
        from workflow_scripts.labels.cache import ArtistCache

        labels["queried"] = ArtistCache(smk.config["labels"]["cache_dir"], labels["endpoint"]).queried_span(songs["Artist"].astype(str))
    outer = Path(smk.input.outer[0]).read_text() if smk.input.outer else None
    manifest = bundle_manifest.build(
        classes=fitted.classes,
        feature_names=arrays["feature_names"],
        required_columns=features.required_columns(p.features),
        features=p.features,
        ensemble=p.ensemble,
        selection=selection,
        split=p.split,
        dataset=dataset_info,
        labels=labels,
        config_digest=p.config_digest,
        metrics=metrics,
        class_shares=pooling.class_shares(train.y, len(fitted.classes)),
    )
    card = model_card.render(manifest, metrics, outer)
    bundle.write(Path(smk.output.manifest).parent, fitted, stored, manifest, card)


run_step(main, snakemake)  # noqa: F821
