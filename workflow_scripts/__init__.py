"""genre-factor: the Python modules behind the Snakemake workflow (one concern per module)."""
