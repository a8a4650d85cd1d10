"""Entry point of `python -m workflow_scripts.wikidata`; the code lives in workflow_scripts.labels."""
