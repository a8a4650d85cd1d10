"""genre-factor: the Python modules behind the Snakemake workflow, one package per stage (core, data,
labels, genres, split, features, search, models, evaluation, bundle, report); ``predict`` and
``progress`` are user commands, ``steps/`` holds the thin script each rule runs."""
