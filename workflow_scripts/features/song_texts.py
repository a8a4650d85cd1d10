"""The songs' texts: the raw text columns, read as plain strings, and the text of each stacked
text block (song: Title | Track | Album; description without URLs; channel)."""

from __future__ import annotations

import re

import pandas as pd

TEXT_COLUMNS = ("Title", "Track", "Album", "Description", "Channel", "Artist")


def plain_texts(df: pd.DataFrame) -> pd.DataFrame:
    """The text columns as plain strings, missing as empty."""
    out = df.copy()
    for column in TEXT_COLUMNS:
        out[column] = df[column].astype("string").fillna("").astype(str)
    return out


def text_inputs(df: pd.DataFrame) -> dict[str, pd.Series]:
    """The text of each block: song (Title | Track | Album), description (no URLs), channel."""
    df = plain_texts(df)
    url = re.compile(r"https?://\S+")
    return {
        "song": (df["Title"] + " | " + df["Track"] + " | " + df["Album"]).str.lower(),
        "description": df["Description"].str.lower().str.replace(url, " ", regex=True).str[:2000],
        "channel": df["Channel"].str.lower(),
    }
