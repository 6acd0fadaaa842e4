"""Deezer for Creators: the statistics CSV a person exports → ``fct_streams_daily``.

No real export is known to us (FORMATS.md): the shape is from Deezer's help pages for Deezer for
Creators (daily streams — plays of 30 seconds or more — and daily listeners, per track and per
country). Deezer is French: its files may come ``;``-separated with day-first dates
(``31/01/2025``) and French headers (``Écoutes``, ``Auditeurs``, ``Titre``, ``Pays``). Parsed
leniently by :mod:`.dashboards` (columns matched by name without case or accents, preamble lines
skipped, the date order decided per file); a file that does not fit is quarantined with a reason
naming the column and line.

Streams are stored with ``platform`` ``deezer``; a day split by country adds its countries up,
and the countries over the file's days go to ``fct_streams_totals``. Deezer's own artist
dashboard wins ``v_streams_daily`` for an artist's Deezer streams (``stream_precedence`` 1).
Recognised by name (``deezer`` in it) or ``--source deezer``.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from .base import Source
from .dashboards import (
    DailyFormat,
    daily_dataset,
    daily_mappings,
)
from .samples import CATALOGUE, daily_curve, delimited_bytes, sample_end

NAME = "deezer"
PLATFORM = "deezer"

FORMAT = DailyFormat(
    platform=PLATFORM,
    what="Deezer for Creators export",
    columns={
        "date": ("Date", "Day", "Jour"),
        "streams": ("Streams", "Total Streams", "Daily Streams", "Écoutes", "Ecoutes", "Plays"),
        "listeners": ("Listeners", "Daily Listeners", "Unique Listeners", "Auditeurs", "Auditeurs uniques"),
        "saves": ("Favorites", "Favourites", "Favoris"),
        "track": ("Track", "Track Title", "Title", "Song", "Titre"),
        "isrc": ("ISRC",),
        "artist": ("Artist", "Artist Name", "Artiste"),
        "country": ("Country", "Pays", "Territory"),
    },
    name_token=r"deezer",
)


STREAMS = daily_dataset(
    "streams",
    "Daily streams and listeners of an artist, per track and/or country (CSV)",
    FORMAT,
    patterns=(r"deezer[^/]*\.(csv|txt)$",),
)


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """Ivy Vale's tracks per day over 90 days, as a French Excel re-save writes them: a title line,
    ``;`` separators, day-first dates, French headers, a BOM."""
    rng = random.Random(seed + 601)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    tracks = [(title, isrc) for artist, title, isrc, _ in CATALOGUE if artist == "Ivy Vale"]
    curve = daily_curve(random.Random(seed * 37 + 11), 90, 40)
    rows = [["Jour", "Titre", "ISRC", "Écoutes", "Auditeurs"]]
    for i, total in enumerate(curve):
        day = end.toordinal() - 89 + i
        when = date.fromordinal(day)
        for (title, isrc), share in zip(tracks, (0.6, 0.4)):
            streams = max(0, int(total * share * rng.uniform(0.8, 1.2)))
            rows.append([f"{when.day:02d}/{when.month:02d}/{when.year}", title, isrc, streams, int(streams * 0.75)])
    path = out_dir / "Ivy Vale - deezer for creators.csv"
    path.write_bytes(delimited_bytes(rows, sep=";", bom=True, preamble=["Statistiques Deezer for Creators"]))
    return [path]


SOURCE = Source(
    name=NAME,
    title="Deezer for Creators",
    datasets=(STREAMS,),
    mappings=(
        *daily_mappings(PLATFORM, "streams"),
    ),
    samples=write_samples,
    acquisition="file drop (CSV downloaded from Deezer for Creators; shape documented, not seen)",
    stream_precedence=1,
)
