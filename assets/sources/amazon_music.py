"""Amazon Music for Artists: the CSV a person exports from the web app → ``fct_streams_daily``.

No real export is known to us (FORMATS.md): the shape is from Amazon's help pages for Amazon
Music for Artists (streams and listeners per day for a chosen range — last 24 hours, 7 days,
28 days, since 2018 or custom — per song and per country; top countries cover 60 days).
Parsed leniently by :mod:`.dashboards` (columns matched by name, preamble lines skipped, the date
style decided per file); a file that does not fit is quarantined with a reason naming the column
and line.

Streams are stored with ``platform`` ``amazon_music``; a day split by country adds its countries
up (listeners then unknown), and the countries over the file's days go to
``fct_streams_totals``. Amazon's own artist dashboard wins ``v_streams_daily`` for an artist's
Amazon Music streams (``stream_precedence`` 1). Amazon's files carry nothing that tells them
from Deezer's, so they are recognised by name (``amazon`` in it) or ``--source amazon_music``.
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
from .samples import delimited_bytes, sample_end, sample_spotify_daily

NAME = "amazon_music"
PLATFORM = "amazon_music"

FORMAT = DailyFormat(
    platform=PLATFORM,
    what="Amazon Music for Artists export",
    columns={
        "date": ("Date", "Day", "Stream Date"),
        "streams": ("Streams", "Total Streams", "Plays"),
        "listeners": ("Listeners", "Total Listeners", "Unique Listeners"),
        "track": ("Song", "Song Title", "Track", "Track Name", "Title"),
        "isrc": ("ISRC",),
        "artist": ("Artist", "Artist Name"),
        "country": ("Country", "Territory", "Marketplace Country"),
    },
    name_token=r"amazon(?:[-_ ]?music)?",
)


STREAMS = daily_dataset(
    "streams",
    "Daily streams and listeners of an artist, per song and/or country (CSV)",
    FORMAT,
    patterns=(r"amazon[^/]*\.(csv|txt)$",),
)


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """Nova Lights' Amazon streams per day and country over the last 60 days (≈ 3 % of the demo's
    Spotify series), in the header variant ``Day, Artist Name, Country, Total Streams, Listeners``."""
    rng = random.Random(seed + 503)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [["Day", "Artist Name", "Country", "Total Streams", "Listeners"]]
    for day, spotify in sample_spotify_daily(seed, end)[-60:]:
        for country, share in (("US", 0.7), ("GB", 0.15), ("DE", 0.1), ("JP", 0.05)):
            streams = max(0, int(spotify * 0.03 * share * rng.uniform(0.7, 1.3)))
            rows.append([day.isoformat(), "Nova Lights", country, streams, int(streams * 0.8)])
    path = out_dir / "amazon_music_for_artists_streams.csv"
    path.write_bytes(delimited_bytes(rows, newline="\r\n"))
    return [path]


SOURCE = Source(
    name=NAME,
    title="Amazon Music for Artists",
    datasets=(STREAMS,),
    mappings=(
        *daily_mappings(PLATFORM, "streams"),
    ),
    samples=write_samples,
    acquisition="file drop (CSV downloaded from Amazon Music for Artists; shape documented, not seen)",
    stream_precedence=1,
)
