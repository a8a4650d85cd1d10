"""Artist genres (P136) from a Wikidata SPARQL endpoint: batched, retried, cached per artist.

One concern per module:

- ``query``: the SPARQL text, literal escaping, Q-ids;
- ``client``: the retry policy, the HTTP client (User-Agent, Retry-After) and its counters;
- ``cache``: one JSON file per artist, written through ``workflow_scripts.core.fileio``;
- ``entries``: SPARQL bindings to cache entries, and the item an ambiguous name stands for;
- ``labelling``: ``label_artists``, which runs the batches (cache first, then the endpoint);
- ``tables``: the artist table (one row per artist) as CSV or a DataFrame;
- ``defaults``: the ``labels`` defaults, read from ``schemas/config.schema.yaml``;
- ``cli``: ``python -m workflow_scripts.wikidata {label,forget} ...``.
"""
