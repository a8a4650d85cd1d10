"""The SPARQL text of the two queries, string-literal escaping, and Wikidata Q-ids.

A batch of artists costs one artist query and, when the artists have genres, one genre
query (music-genre check, English label, P279 ancestors). Both run on the real Wikidata
query service and on Oxigraph (no ``wikibase:label`` SERVICE).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Part of every cache entry: entries written for another query version are asked again.
QUERY_VERSION = 1
PREFIXES = """PREFIX wd: <http://www.wikidata.org/entity/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
# Artists matched by English label or alias, restricted to humans and musical groups (or
# instances of their subclasses), with all their P136 values. The type test is a UNION with
# both ends of each P279* walk bound: WDQS asks for bound walks, and Oxigraph would otherwise
# start from ``VALUES ?kind`` and enumerate every human (10x slower on the fixture).
ARTIST_QUERY = (
    PREFIXES
    + """SELECT ?name ?artist ?genre WHERE {
  VALUES ?name { %s }
  ?artist rdfs:label|skos:altLabel ?name .
  { ?artist wdt:P31/wdt:P279* wd:Q5 } UNION { ?artist wdt:P31/wdt:P279* wd:Q215380 }
  OPTIONAL { ?artist wdt:P136 ?genre }
}"""
)
# Of a batch's genres, the music genres (instances of music genre or of its subclasses), with
# their English label and their P279 ancestors with English labels. Asked per batch with the
# genres bound: an OPTIONAL in the artist query that tests the genre type is evaluated over
# every P136 link of the store by Oxigraph.
GENRE_QUERY = (
    PREFIXES
    + """SELECT ?genre ?genreLabel ?ancestor ?ancestorLabel WHERE {
  VALUES ?genre { %s }
  ?genre wdt:P31/wdt:P279* wd:Q188451 .
  OPTIONAL { ?genre rdfs:label ?genreLabel . FILTER(LANG(?genreLabel) = "en") }
  OPTIONAL {
    ?genre wdt:P279+ ?ancestor .
    OPTIONAL { ?ancestor rdfs:label ?ancestorLabel . FILTER(LANG(?ancestorLabel) = "en") }
  }
}"""
)
ENTITY_PREFIX = "http://www.wikidata.org/entity/"
QID = re.compile(r"Q[0-9]+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def sparql_literal(text: str, lang: str = "en") -> str:
    """Render ``text`` as a SPARQL string literal that can only ever match ``text`` itself.

    Backslash, quote and line breaks get SPARQL escapes; a ``u``/``U`` right after a
    backslash is written as a code point, so a name holding ``\\uXXXX`` text is never
    decoded by a parser's code-point pass. Braces, ``#``, ``<``, ``>`` and any script are
    inert inside a literal.
    """
    out: list[str] = []
    previous_backslash = False
    for char in text:
        if previous_backslash and char in "uU":
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(_ESCAPES.get(char, char))
        previous_backslash = char == "\\"
    return '"' + "".join(out) + '"@' + lang


def artist_query(names: Sequence[str]) -> str:
    """The SPARQL SELECT for a batch of artist names."""
    return ARTIST_QUERY % " ".join(sparql_literal(n) for n in names)


def genre_query(genre_ids: Sequence[str]) -> str:
    """The SPARQL SELECT for the music genres among ``genre_ids`` (validated Q-ids), labels and ancestors."""
    for qid in genre_ids:
        if not QID.fullmatch(qid):
            raise ValueError(f"not a Wikidata item id: {qid!r}")
    return GENRE_QUERY % " ".join(f"wd:{q}" for q in genre_ids)


def qid(uri: str) -> str:
    """The Q-id of an entity URI (``http://www.wikidata.org/entity/Q42`` -> ``Q42``)."""
    return uri.removeprefix(ENTITY_PREFIX)


def qnum(qid: str) -> int:
    """The number of a Q-id, for sorting (0 for anything else)."""
    return int(qid[1:]) if QID.fullmatch(qid) else 0
