"""What the demo's sample files share: one catalogue, one Spotify series, and writers of files
the way platforms write them.

Each source's ``write_samples`` draws from here so the platforms of the demo tell one story: the
DistroKid statements, the DistroKid streams page, Spotify for Artists and Linktree follow the
same daily Spotify series; TikTok and Meta Ads lead up to its breakout.
"""

from __future__ import annotations

import io
import random
import string
import zipfile
from datetime import date, datetime, time, timedelta
from typing import Sequence

# the demo catalogue: (artist, title, ISRC, UPC)
CATALOGUE = (
    ("Nova Lights", "Midnight Arcade", "QZNOV2400001", "198000000011"),
    ("Nova Lights", "Glass Harbour", "QZNOV2400002", "198000000011"),
    ("Nova Lights", "Static Bloom (feat. Ivy Vale)", "QZNOV2400003", "198000000028"),
    ("Ivy Vale", "Paper Satellites", "QZIVY2400001", "198000000035"),
    ("Ivy Vale", "Low Tide Radio", "QZIVY2400002", "198000000035"),
)
# the demo's Spotify streams break out this many days before their series ends (counting its
# last day): the day a release is pushed everywhere
SPOTIFY_BREAKOUT = 70


def sample_end(end: date | None) -> date:
    """The last day sample files cover: ``end``, or two days ago (as real exports lag)."""
    return end or date.today() - timedelta(days=2)


def name_stamp(day: date, *, hours: int = 0, seconds: int = 0) -> str:
    """The ``YYYYMMDD_HHMMSS`` stamp export tools put in file names, for a time on ``day``."""
    return (datetime.combine(day, time()) + timedelta(hours=hours, seconds=seconds)).strftime("%Y%m%d_%H%M%S")


def daily_curve(rng: random.Random, days: int, base: float, breakout_day: int | None = None) -> list[int]:
    """A plausible daily streams curve: growth, weekly rhythm, noise and an optional breakout."""
    values = []
    for i in range(days):
        level = base * (1 + i / days)
        if breakout_day is not None and i >= breakout_day:
            level *= 1 + 3.0 * (0.93 ** (i - breakout_day))
        weekly = 1.12 if (i % 7) in (4, 5) else 0.95
        values.append(max(0, int(rng.gauss(level * weekly, level * 0.08))))
    return values


def sample_spotify_daily(seed: int, end: date, days: int = 365) -> list[tuple[date, int]]:
    """The demo's daily Spotify series of the catalogue's main artist: the DistroKid streams page
    and statements, the Spotify for Artists export and Linktree's page views draw from it, so they
    agree on the days they share (as real ones roughly do). TooLost's samples are another catalogue."""
    curve = daily_curve(random.Random(seed * 7919), days, 900, breakout_day=days - SPOTIFY_BREAKOUT)
    start = end - timedelta(days=days - 1)
    return [(start + timedelta(days=i), v) for i, v in enumerate(curve)]


def spotify_breakout(end: date) -> date:
    """The day the series of :func:`sample_spotify_daily` ending on ``end`` breaks out."""
    return end - timedelta(days=SPOTIFY_BREAKOUT - 1)


def base62_id(seed: str, length: int = 22) -> str:
    """A stable id of base-62 characters, like Spotify's (22) or YouTube's video ids."""
    pick = random.Random(seed)
    return "".join(pick.choice(string.ascii_letters + string.digits) for _ in range(length))


def delimited_bytes(rows: Sequence[Sequence[object]], *, sep: str = ",", newline: str = "\n", quote_all: bool = False,
                    bom: bool = False, encoding: str = "utf-8", final_newline: bool = True,
                    preamble: Sequence[str] = ()) -> bytes:
    """A delimited file as a platform writes it: its separator and line endings, every value
    quoted or only those that need it, a byte-order mark, UTF-16 (``encoding="utf-16"`` writes
    one itself), ``preamble`` lines (``sep=,``, a title) before the header."""

    def cell(value: object) -> str:
        text = str(value)
        if quote_all or any(ch in text for ch in (sep, '"', "\n", "\r")):
            return '"' + text.replace('"', '""') + '"'
        return text

    lines = [*preamble, *(sep.join(cell(v) for v in row) for row in rows)]
    body = newline.join(lines) + (newline if final_newline else "")
    return (("\ufeff" if bom else "") + body).encode(encoding)


def zip_bytes(member: str, payload: bytes, when: datetime) -> bytes:
    """A zip holding one file, dated ``when``, as platforms hand out their downloads."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(member, date_time=when.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, payload)
    return buf.getvalue()
