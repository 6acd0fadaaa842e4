"""What the CSV exports of streaming platforms' artist dashboards share (Apple Music for Artists,
Amazon Music for Artists, Deezer for Creators, SoundCloud's plays): daily counts of one artist,
per song and/or per country, under header names each platform words its own way.

This module declares no source; each platform's module declares a :class:`DailyFormat` (its
header aliases, its name in file names) and uses :func:`parse_daily`, :func:`streams_daily`,
:func:`country_totals` and :func:`last_day_observed`, so the platforms parse, map and date their
files alike.

Reading: columns are matched by name in any order (case, spaces, ``_`` and ``-`` do not matter);
preamble lines before the header are skipped (the header is the first line naming a date and a
count column); the separator, encoding, ``sep=,`` line and a "Total" row are handled by
:func:`~.parsing.read_delimited`. Dates are ISO, ``M/D/YYYY`` (or day-first where the file says
so: one order per file), ``DD-MM-YYYY``/``DD.MM.YYYY`` or words (``Jan 3, 2025``). Counts may
group thousands with ``,``, a space or ``'``; a ``.`` is refused rather than guessed.

Where the artist comes from: ``--artist`` wins, then an artist column, then the file name's part
before the platform's name (``Nova Lights_apple_music_songs.csv``); none is a ParseError asking
for ``--artist``. ``--track`` names the song of a file without a song column.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Mapping, Sequence

import pandas as pd
import pyarrow as pa
import pycountry

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError
from .parsing import (
    Delimited,
    counts,
    dates,
    decode,
    fold,
    frame,
    header_names,
    per_distinct,
    read_delimited,
    require_values,
    text,
)

# staging column -> what it is; every platform maps its own header names onto these
COUNTS = ("streams", "listeners", "shazams", "saves", "likes", "reposts", "comments", "downloads")
DAILY_SCHEMA = pa.schema(
    [("date", pa.date32()), ("artist", pa.string()), ("track", pa.string()), ("isrc", pa.string()),
     ("country", pa.string())] + [(c, pa.int64()) for c in COUNTS]
)
DAILY_KEY = ("artist", "track", "country", "date")
DATE_STYLES = ("iso", "slash", "dash", "dot", "words")
THOUSANDS = ", '"
DAILY_COLUMNS = ["date", "platform", "artist", "track", "isrc", "streams", "listeners", "sha256", "observed_at"]
TOTALS_COLUMNS = ["period_start", "period_end", "period", "platform", "artist", "dimension", "item", "isrc",
                  "streams", "listeners", "sha256", "observed_at"]


# names in common use that ISO 3166 words otherwise
_COUNTRY_NAMES = {"russia": "RU", "uk": "GB", "great britain": "GB", "england": "GB", "turkey": "TR",
                  "czech republic": "CZ", "kosovo": "XK", "holland": "NL", "ivory coast": "CI"}


@functools.lru_cache(maxsize=1024)
def country_code(value: str) -> str | None:
    """ISO 3166 alpha-2 of a country as exports write it: a code (``us``, ``USA``) or an English
    name (``United States``, ``Germany``); None when it is neither."""
    s = value.strip()
    if fold(s) in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[fold(s)]
    try:
        return pycountry.countries.lookup(s).alpha_2
    except LookupError:
        pass
    matches = [c.alpha_2 for c in pycountry.countries
               if fold(s) in (fold(getattr(c, "common_name", "")), fold(getattr(c, "official_name", "")))]
    return matches[0] if matches else None


def territory(value: str) -> str:
    """A country as :func:`country_code` reads it, else the value as written (so a check shows it)."""
    return country_code(value) or value.strip()


@dataclass(frozen=True)
class DailyFormat:
    """How one platform's daily export names its columns."""

    platform: str
    what: str  # how errors name the file ("Apple Music for Artists export")
    columns: Mapping[str, tuple[str, ...]]  # staging column -> header names, "date" and "streams" required
    name_token: str  # regex of the platform's name in file names ("apple[-_ ]?music")

    def aliases(self, column: str) -> tuple[str, ...]:
        return self.columns.get(column, ())


def read_with_header(data: bytes, what: str, headers: Sequence[Sequence[str]]) -> Delimited:
    """The file from its header line on: the first of its first 10 lines naming every column of
    one of ``headers`` (the header variants), preamble and title lines before it skipped (a title
    such as "Plays, last 7 days" names one column, not all)."""
    content = decode(data)
    for names in headers:
        try:
            return read_delimited(content, what, header=tuple(names))
        except ParseError as exc:
            if "no header line" not in str(exc):
                raise
    wanted = " or ".join("+".join(repr(n) for n in names) for names in headers[:4])
    raise ParseError(f"{what}: no header line with the columns {wanted}{' or ...' if len(headers) > 4 else ''} "
                     "in the first 10 lines")


def _read(data: bytes, fmt: DailyFormat) -> Delimited:
    headers = [(d, s) for s in fmt.aliases("streams") for d in fmt.aliases("date")]
    table = read_with_header(data, fmt.what, headers)
    return table.drop_totals(table.column(*fmt.aliases("date")).name)


# what people and browsers put before a platform's name that is no artist ("export_apple_music.csv")
_NOT_ARTISTS = frozenset({"export", "exports", "data", "download", "downloads", "report", "reports", "stats",
                          "statistics", "insights", "analytics", "my", "copy of"})


def _artist_from_name(name: str, fmt: DailyFormat) -> str | None:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    m = re.match(rf"^(?P<artist>.+?)[-_ ]+(?:{fmt.name_token})(?![a-z])", base, re.IGNORECASE)
    if not m:
        return None
    artist = m.group("artist").strip(" -_")
    return artist if artist and fold(artist) not in _NOT_ARTISTS else None


def parse_daily(data: bytes, ctx: ParseContext, fmt: DailyFormat) -> pd.DataFrame:
    """One platform's daily export as :data:`DAILY_SCHEMA` rows."""
    table = _read(data, fmt)
    day_col, streams_col = table.require(fmt.aliases("date"), fmt.aliases("streams"))
    if not len(table):
        raise ParseError(f"{fmt.what}: a header but no data rows")
    n = len(table)
    out: dict[str, object] = {"date": dates(day_col, styles=DATE_STYLES, consistent=True)}
    require_values(day_col, out["date"], "no date")
    option = (ctx.options.get("artist") or "").strip()
    artist_col = table.column(*fmt.aliases("artist")) if fmt.aliases("artist") else None
    if option:
        out["artist"] = option
    elif artist_col is not None:
        artists = text(artist_col)
        require_values(artist_col, artists, "the artist is empty (or ingest the file with --artist NAME)")
        out["artist"] = artists
    else:
        named = _artist_from_name(ctx.original_name, fmt)
        if named is None:
            raise ParseError(f"{fmt.what}: no artist: the file has no artist column and its name "
                             f"{ctx.original_name!r} does not start with one; ingest it with --artist NAME")
        out["artist"] = named
    track = (ctx.options.get("track") or "").strip()
    cols = {c: table.column(*fmt.aliases(c)) if fmt.aliases(c) else None for c in ("track", "isrc", "country", *COUNTS)}
    for column in ("track", "isrc", "country"):
        out[column] = text(cols[column]) if cols[column] is not None else pa.nulls(n, pa.string())
    if track:
        out["track"] = track
    if cols["country"] is not None:  # names ("United States") or codes, as ISO 3166 alpha-2
        out["country"] = per_distinct(out["country"], territory)
    for column in COUNTS:
        col = cols[column]
        out[column] = counts(col, thousands=THOUSANDS) if col is not None else pa.nulls(n, pa.int64())
    df = frame(out, n)
    dup = df.duplicated(list(DAILY_KEY), keep=False)
    if dup.any():
        rows = [int(table.lines[i]) for i in dup.to_numpy().nonzero()[0][:2]]
        raise ParseError(f"{fmt.what}: lines {rows[0]} and {rows[1]} are the same day, song and country "
                         "(two exports pasted together?)")
    return df[DAILY_SCHEMA.names]


def sniff_header(head: bytes, fmt: DailyFormat, must: Sequence[Sequence[str]]) -> bool:
    """Whether the file's header (found as :func:`_read` finds it) has a date column, a count
    column and, for each group of ``must``, one of its names."""
    for count in fmt.aliases("streams"):
        for day in fmt.aliases("date"):
            header = set(header_names(head, header=(day, count)))
            if header and all(header & {fold(n) for n in group} for group in must):
                return True
    return False


def last_day_observed(name: str, data: bytes, fmt: DailyFormat) -> datetime | None:
    """The day after the file's last date (UTC midnight): dashboards export up to yesterday, so
    of two overlapping exports the one reaching later days is the newer. Never raises."""
    try:
        table = _read(data, fmt)
        days = dates(table.column(*fmt.aliases("date")), styles=DATE_STYLES, consistent=True).drop_null()
        if not len(days):
            return None
        return datetime.combine(max(days.to_pylist()) + timedelta(days=1), time(), tzinfo=timezone.utc)
    except Exception:  # noqa: BLE001 - a best guess; the lake falls back to --as-of or the landing time
        return None


def suite():
    return quality.suite(key=DAILY_KEY, not_null=("date", "artist", "streams"),
                         between={c: quality.COUNT for c in COUNTS}, regex={"country": r"^[A-Z]{2}$"},
                         mostly={"country": 0.95})


def streams_daily(df: pd.DataFrame, platform: str) -> pd.DataFrame:
    """Daily streams per artist × song (song null: the artist's total), countries added up. A
    day's listeners are kept only where the file does not split the day by country (unique
    listeners of several countries do not add up)."""
    if not len(df):
        return pd.DataFrame(columns=DAILY_COLUMNS)
    keys = ["sha256", "observed_at", "date", "artist", "track"]
    work = df.assign(track=df["track"].astype("object"), isrc=df["isrc"].astype("object"))
    grouped = work.groupby(keys, dropna=False, sort=False)
    out = grouped.agg(streams=("streams", lambda s: s.sum(min_count=1)), rows=("streams", "size"),
                      listeners=("listeners", "first"), isrc=("isrc", "first")).reset_index()
    out.loc[out["rows"] > 1, "listeners"] = pd.NA
    return out.assign(platform=platform)[DAILY_COLUMNS]


def country_totals(df: pd.DataFrame, platform: str) -> pd.DataFrame:
    """Per file, an artist's streams per country over the days the file covers
    (``fct_streams_totals``, dimension ``country``, window ``<N>days``)."""
    rows = df[df["country"].notna()]
    if not len(rows):
        return pd.DataFrame(columns=TOTALS_COLUMNS)
    spans = rows.groupby(["sha256", "artist"])["date"].agg(period_start="min", period_end="max").reset_index()
    sums = rows.groupby(["sha256", "observed_at", "artist", "country"], sort=False).agg(
        streams=("streams", lambda s: s.sum(min_count=1))).reset_index()
    out = sums.merge(spans, on=["sha256", "artist"])
    days = (pd.to_datetime(out["period_end"]) - pd.to_datetime(out["period_start"])).dt.days + 1
    return out.assign(period=days.astype(int).astype(str) + "days", platform=platform, dimension="country",
                      item=out["country"], isrc=None, listeners=pd.NA)[TOTALS_COLUMNS]


def daily_dataset(name: str, description: str, fmt: DailyFormat, patterns: tuple[str, ...],
                  sniff=None) -> Dataset:
    """A dashboard's daily CSV as a dataset: read by :func:`parse_daily` with ``fmt``, the
    shared schema, key and suite, observed on the day after its last date."""
    def parse(data: bytes, ctx: ParseContext) -> pd.DataFrame:
        return parse_daily(data, ctx, fmt)

    parse.__name__ = f"parse_{name}"
    return Dataset(name=name, description=description, schema=DAILY_SCHEMA, key=DAILY_KEY, parse=parse,
                   patterns=patterns, sniff=sniff, expectations=suite(),
                   observed_at=lambda file_name, data: last_day_observed(file_name, data, fmt))


def daily_mappings(platform: str, dataset: str) -> tuple[CuratedMapping, CuratedMapping]:
    """A dashboard dataset's days into ``fct_streams_daily`` and its countries into
    ``fct_streams_totals``, as ``platform``."""
    return (CuratedMapping("fct_streams_daily", (dataset,), lambda frames: streams_daily(frames[dataset], platform)),
            CuratedMapping("fct_streams_totals", (dataset,), lambda frames: country_totals(frames[dataset], platform)))
