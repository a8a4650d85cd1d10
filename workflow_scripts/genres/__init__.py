"""Genres: group raw Wikidata genres into super-genres (mapping), then give every song a genre, keep
the chosen ones and sample (selection).
"""
