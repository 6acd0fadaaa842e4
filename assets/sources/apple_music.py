"""Apple Music for Artists: the CSV a person exports from the Measure pages → ``fct_streams_daily``.

No real export is known to us (FORMATS.md): the shape is from Apple's help pages for Apple Music
for Artists ("Measure": plays, listeners and Shazams per day, per song and per country or
region; each chart's data can be downloaded as CSV). Parsed leniently by
:mod:`.dashboards`: the columns below are matched by name in any order, every count column but
plays is optional, preamble lines before the header are skipped, and the date style is decided
per file. A file that does not fit is quarantined with a reason naming the column and line.

One row per day (× song, × country when the file splits by them). Plays are streams
(``platform`` ``apple_music``); a day split by country adds its countries up, and the countries
over the file's days go to ``fct_streams_totals``. Shazams stay in staging (no curated column
counts them yet). As Apple's own artist dashboard it wins ``v_streams_daily`` for an artist's
Apple Music streams (``stream_precedence`` 1).
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
    sniff_header,
)
from .samples import CATALOGUE, delimited_bytes, sample_end, sample_spotify_daily

NAME = "apple_music"
PLATFORM = "apple_music"

FORMAT = DailyFormat(
    platform=PLATFORM,
    what="Apple Music for Artists export",
    columns={
        "date": ("Date", "Day"),
        "streams": ("Plays", "Total Plays", "Song Plays", "Streams"),
        "listeners": ("Listeners", "Unique Listeners", "Daily Listeners"),
        "shazams": ("Shazams", "Shazam Count", "Shazam Lookups"),
        "saves": ("Library Adds", "Song Purchases"),
        "track": ("Song", "Song Name", "Song Title", "Track", "Track Name", "Title"),
        "isrc": ("ISRC",),
        "artist": ("Artist", "Artist Name"),
        "country": ("Country or Region", "Country/Region", "Country", "Territory"),
    },
    name_token=r"apple[-_ ]?music",
)


def _sniff(name: str, head: bytes) -> bool:
    # Shazams are Apple's alone; a plays/listeners file without them needs its name to say Apple
    return sniff_header(head, FORMAT, [FORMAT.aliases("shazams")])


PLAYS = daily_dataset(
    "plays",
    "Daily plays, listeners and Shazams of an artist, per song and/or country (Measure → CSV)",
    FORMAT,
    patterns=(r"apple[-_ ]?music(?![-_ ]?stats)[^/]*\.(csv|txt)$",),
    sniff=_sniff,
)


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """Nova Lights' songs per day over six months (plays ≈ 9 % of the demo's Spotify series, as
    in the DistroKid Apple Music page), and a per-country file of the last 28 days."""
    rng = random.Random(seed + 401)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    daily = sample_spotify_daily(seed, end)[-182:]
    songs = [(title, isrc) for artist, title, isrc, _ in CATALOGUE if artist == "Nova Lights"]
    shares = (0.5, 0.3, 0.2)
    rows = [["Date", "Song", "ISRC", "Plays", "Listeners", "Shazams"]]
    for day, spotify in daily:
        for (title, isrc), share in zip(songs, shares):
            plays = max(0, int(spotify * 0.09 * share * rng.uniform(0.8, 1.2)))
            rows.append([day.isoformat(), title, isrc, plays, int(plays * 0.7), rng.randint(0, 3)])
    songs_path = out_dir / "Nova Lights_apple_music_songs.csv"
    songs_path.write_bytes(delimited_bytes(rows, bom=True))
    countries = [("United States", 0.55), ("United Kingdom", 0.2), ("Germany", 0.15), ("Mexico", 0.1)]
    rows = [["Date", "Country or Region", "Plays", "Listeners"]]
    for day, spotify in daily[-28:]:
        for country, share in countries:
            plays = max(0, int(spotify * 0.09 * share * rng.uniform(0.8, 1.2)))
            rows.append([f"{day.month}/{day.day}/{day.year}", country, f"{plays:,}", int(plays * 0.7)])
    countries_path = out_dir / "Nova Lights_apple_music_countries.csv"
    countries_path.write_bytes(delimited_bytes(rows, quote_all=True))
    return [songs_path, countries_path]


SOURCE = Source(
    name=NAME,
    title="Apple Music for Artists",
    datasets=(PLAYS,),
    mappings=(
        *daily_mappings(PLATFORM, "plays"),
    ),
    samples=write_samples,
    acquisition="file drop (CSV downloaded from Apple Music for Artists; shape documented, not seen)",
    stream_precedence=1,
)
