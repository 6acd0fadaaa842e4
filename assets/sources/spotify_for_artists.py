"""Spotify for Artists: the CSV and JSON files a person exports from artists.spotify.com.

No API hands these out; a person downloads them (or a browser extractor saves the web app's
JSON) and drops them. Four kinds of file:

* **audience timeline** ``<Artist>-audience-timeline.csv`` (Audience → download): one row per
  day. Two headers are known: ``date,listeners,streams,followers`` and the newer ``date,
  listeners, monthly listeners, monthly active listeners, super listeners, streams, playlist
  adds, saves, followers``; columns are matched by name (case, spaces, ``_`` and ``-`` do not
  matter), in any order, so subsets of the newer header read too. Unknown extra columns are
  ignored. → ``fct_streams_daily`` (track null) and ``fct_audience_daily``.
* **per-song timeline** ``date,streams`` (a song's page → download). Spotify names the file
  ``<Song>-timeline.csv``; see :func:`song_timeline_names` for the names accepted and where the
  artist and the song come from. → ``fct_streams_daily`` with ``track`` set.
* **song list** ``<Artist>-songs-<window>.csv`` (Music → Songs → download): ``song, listeners,
  streams, saves, release_date`` over the window the name says (``1year``, ``28days``, ``all``,
  ...). → ``fct_streams_totals``.
* **song table** (JSON of the web app's song table: ``id, trackName, trackUri, releaseDate,
  numStreams, numListeners, numSavers, numCanvasViews`` per time filter). → ``fct_streams_totals``.

Where the artist comes from: ``--artist`` when given (it wins), else the file name. Spotify
often names files by the artist's id (``62owJQCD2XzVB2o19CVsFM-audience-timeline.csv``); an id
is not a name, so such a file needs ``--artist``. No artist anywhere is a ParseError.

Traps handled: UTF-8 byte-order marks, every value quoted, CRLF and CR-only line endings,
``;``/tab separators of European Excel re-saves, thousands separators (``"1,234"``), trailing
empty lines and Excel's empty trailing columns, a ``Total`` row added in a spreadsheet, and
Excel re-saves that turn ISO dates into ``M/D/YYYY`` (or ``M/D/YY``). The date style is decided
per file: ISO, else month-first, else day-first when only that reads every row (a European
re-save). A count with a decimal point is refused rather than guessed (``1.234`` could be a
European thousands separator). Every error names the column and line (CSV) or JSON path.

When a timeline was exported: the file carries no stamp, so its ``observed_at`` is the day after
the last day it holds (Spotify's timelines end the day before the export, or two). Of two
overlapping exports, the one reaching later days is the newer one and wins the shared days.
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Mapping

import pandas as pd
import pyarrow as pa

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source
from .parsing import (
    Column,
    Delimited,
    counts,
    dates,
    frame,
    header_names,
    json_column,
    json_document,
    read_delimited,
    require_values,
    text,
)
from .samples import CATALOGUE, base62_id, daily_curve, delimited_bytes, name_stamp, sample_end, sample_spotify_daily

NAME = "spotify_for_artists"
PLATFORM = "spotify"
DAILY_COLUMNS = ["date", "platform", "artist", "track", "isrc", "streams", "listeners", "sha256", "observed_at"]

# --- file names ---------------------------------------------------------------------------------

# what browsers, the lake (two files of one batch with one name) and people add to a file name
_COPY_SUFFIX = re.compile(r"(\s*\(\d+\))+$")
_NAME_STAMP = re.compile(r"[-_ ]?(20\d{6})[-_]?(\d{6})(?!\d)")
# a Spotify artist id: 22 base-62 characters (the prefix Spotify itself gives exported files)
_SPOTIFY_ID = re.compile(r"^(?=[0-9A-Za-z]*\d)(?=[0-9A-Za-z]*[a-z])(?=[0-9A-Za-z]*[A-Z])[0-9A-Za-z]{22}$")
# a reporting window as file names and the web app's time filters spell it
_WINDOW = re.compile(
    r"(?<![0-9a-z])(?:(?:last[-_ ]?)?(?P<n>\d+)\s*[-_ ]?\s*(?P<unit>hours?|h|days?|d|weeks?|w|months?|m|years?|yrs?|y)"
    r"|(?P<all>all[-_ ]?time|all|lifetime|since[-_ ]?\d{4}))(?![a-z])",
    re.IGNORECASE,
)
# the windows whose first day we know: label -> days counted back from the export day
_WINDOW_DAYS = {"1day": 1, "7days": 7, "28days": 28, "1year": 365}


def _stem(name: str) -> str:
    """The file name without folders, extension, name stamp and copy suffixes like `` (2)``."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"\.(csv|txt|tsv|json)$", "", base, flags=re.IGNORECASE)
    base = _COPY_SUFFIX.sub("", base)
    base = _NAME_STAMP.sub("", base)
    return _COPY_SUFFIX.sub("", base).strip()


def window_label(text: str | None) -> str | None:
    """The canonical label of the first reporting window ``text`` names (``1year`` for
    ``12months``/``1year``/``365days``, ``28days`` for ``28day``/``4weeks``, ``all`` for
    ``alltime``/``since2015``, ...), or None. Labels are canonical so a song list and a song
    table of the same window and day meet on one curated key."""
    if not text:
        return None
    m = _WINDOW.search(text)
    if not m:
        return None
    if m.group("all"):
        return "all"
    n, unit = int(m.group("n")), m.group("unit").lower()
    if unit.startswith("h"):
        return "1day" if n == 24 else f"{n}hours"
    if unit.startswith("w"):
        n, unit = n * 7, "d"
    if unit.startswith("d"):
        return {1: "1day", 365: "1year"}.get(n, f"{n}days")
    if unit.startswith("m"):
        return "1year" if n == 12 else f"{n}months"
    return "1year" if n == 1 else f"{n}years"


def _period_label(raw: str | None, default: str = "export") -> str:
    """A time filter or window as given → its canonical label; unknown ones are kept, compacted."""
    if raw is None or not str(raw).strip():
        return default
    return window_label(str(raw)) or re.sub(r"\s+", "", str(raw).strip().lower())


def _window_days(label: str) -> int | None:
    if label in _WINDOW_DAYS:
        return _WINDOW_DAYS[label]
    m = re.fullmatch(r"(\d+)days", label)
    return int(m.group(1)) if m else None


def _name_artist(candidate: str | None) -> tuple[str | None, str | None]:
    """(artist name, Spotify artist id) from the artist part of a file name."""
    if candidate is None or not candidate.strip():
        return None, None
    candidate = candidate.strip()
    if _SPOTIFY_ID.match(candidate):
        return None, candidate
    return candidate, None


def _resolve_artist(ctx: ParseContext, from_name: str | None, what: str, expected: str,
                    spotify_id: str | None = None, from_content: str | None = None) -> str:
    """``--artist`` wins; then the file name, then what the file itself says."""
    option = (ctx.options.get("artist") or "").strip()
    if option:
        return option
    if from_name:
        return from_name
    if from_content:
        return from_content
    if spotify_id:
        raise ParseError(
            f"{what}: the file name gives Spotify's artist id {spotify_id!r}, not the artist's name; "
            "ingest it with --artist NAME"
        )
    raise ParseError(
        f"{what}: no artist: the file name {ctx.original_name!r} is not like {expected!r}; "
        "ingest it with --artist NAME"
    )


# --- reading the CSV files ----------------------------------------------------------------------

# Spotify writes plain counts; spreadsheets add "," or space grouping (or a Swiss "'"). A "." is
# refused rather than guessed: "1.234" may be a European thousands separator or a decimal.
THOUSANDS = ", '"
# ISO as Spotify writes it, or an Excel re-save's M/D/YYYY (D/M/YYYY when the file says so):
# one style per file
DATE_STYLES = ("iso", "slash")


def _read(data: bytes, what: str, *, totals: str, unless: str | None = None) -> Delimited:
    """The file's rows without the "Total" row a spreadsheet adds (Spotify's exports have none)."""
    table = read_delimited(data, what)
    return table.drop_totals(totals, unless=unless) if table.column(totals) else table


def _count(col: Column | None, rows: int) -> pa.Array:
    return counts(col, thousands=THOUSANDS) if col is not None else pa.nulls(rows, pa.int64())


def _dates(col: Column, *, allow_empty: bool = False) -> pa.Array:
    days = dates(col, styles=DATE_STYLES, consistent=True)
    if not allow_empty:
        require_values(col, days, "no date (expected YYYY-MM-DD or M/D/YYYY)")
    return days


# --- audience timeline --------------------------------------------------------------------------

# normalised header name -> staging column
_AUDIENCE_COLUMNS = {
    "date": "date",
    "listeners": "listeners",
    "monthly listeners": "monthly_listeners",
    "monthly active listeners": "monthly_active_listeners",
    "super listeners": "super_listeners",
    "streams": "streams",
    "playlist adds": "playlist_adds",
    "saves": "saves",
    "followers": "followers",
}
_AUDIENCE_REQUIRED = ("date", "listeners", "streams", "followers")  # in every known header
_AUDIENCE_COUNTS = [c for c in _AUDIENCE_COLUMNS.values() if c != "date"]

AUDIENCE_SCHEMA = pa.schema(
    [("artist", pa.string()), ("date", pa.date32())] + [(c, pa.int64()) for c in _AUDIENCE_COUNTS]
)
_AUDIENCE_NAME = re.compile(r"^(?P<artist>.+?)[-_ ]+audience[-_ ]?timeline", re.IGNORECASE)


def parse_audience_timeline(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    what = "audience timeline"
    m = _AUDIENCE_NAME.match(_stem(ctx.original_name))
    name_artist, spotify_id = _name_artist(m.group("artist") if m else None)
    artist = _resolve_artist(ctx, name_artist, what, "<Artist>-audience-timeline.csv", spotify_id)
    table = _read(data, what, totals="date")
    table.require(*_AUDIENCE_REQUIRED)
    if not len(table):
        raise ParseError(f"{what}: no data rows")
    out = {"artist": artist, "date": _dates(table.column("date"))}
    for header, column in _AUDIENCE_COLUMNS.items():
        if column != "date":
            out[column] = _count(table.column(header), len(table))
    return frame(out, len(table))


def _sniff_audience(name: str, head: bytes) -> bool:
    header = set(header_names(head))
    return set(_AUDIENCE_REQUIRED) <= header <= set(_AUDIENCE_COLUMNS)


def _last_day_observed(name: str, data: bytes) -> datetime | None:
    """The day after the last date in a timeline (UTC midnight): when the export was taken, as
    near as the file tells. Never raises: a file it cannot read falls back to the lake's default."""
    try:
        table = _read(data, name, totals="date")
        days = dates(table.column("date"), styles=DATE_STYLES, consistent=True).drop_null()
        if not len(days):
            return None
        last = max(days.to_pylist())
        return datetime.combine(last + timedelta(days=1), time(), tzinfo=timezone.utc)
    except Exception:  # noqa: BLE001 - a best guess; the lake falls back to --as-of or the landing time
        return None


# --- per-song timeline --------------------------------------------------------------------------

SONG_TIMELINE_SCHEMA = pa.schema([("artist", pa.string()), ("track", pa.string()), ("date", pa.date32()),
                                  ("streams", pa.int64()), ("listeners", pa.int64())])
_WINDOW_TOKEN = r"\d+\s*[-_ ]?\s*(?:hours?|days?|weeks?|months?|years?)|all[-_ ]?time|all"
# greedy heads: the last ``-timeline`` counts, so a song called "Timeline" still reads
_SONG_TIMELINE_NAMES = (
    re.compile(r"^(?P<head>.+)[-_ ]+timeline(?:[-_ ].*)?$", re.IGNORECASE),
    re.compile(rf"^(?P<head>.+)[-_ ]+(?:{_WINDOW_TOKEN})$", re.IGNORECASE),
)


def song_timeline_names(name: str, options: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """(artist, track) of a per-song timeline, from ``--artist``/``--track`` and the file name.

    Names accepted (any ``(2)`` copy suffix or ``YYYYMMDD_HHMMSS`` stamp aside):
    ``<Song>-timeline.csv`` (Spotify's own name) and ``<Artist>-<Song>-timeline.csv``, also with
    anything after ``-timeline`` (``-timeline-2025``), or with a window instead
    (``<Artist>-<Song>-1year.csv``).

    * ``--track`` gives the song; the name then only has to say the artist (its part before
      ``-<track>``), unless ``--artist`` does.
    * ``--artist`` given: a name starting with ``<artist>-`` has the song after it; otherwise
      the whole part before ``-timeline`` is the song (Spotify's naming).
    * Neither: the name must be ``<Artist>-<Song>-...``; the artist is the part before the first
      ``-`` that has no space on either side (song versions are written ``Song - Remix``). A
      hyphenated song in Spotify's naming (``Half-Life-timeline.csv``) would be misread: ingest
      such files with ``--artist``.
    """
    options = options or {}
    artist = (options.get("artist") or "").strip() or None
    track = (options.get("track") or "").strip() or None
    stem = _stem(name)
    head = None
    for pattern in _SONG_TIMELINE_NAMES:
        m = pattern.match(stem)
        if m:
            head = m.group("head").strip()
            break
    if head is None or (artist and track):
        return artist, track
    if artist:
        prefix = re.match(rf"^{re.escape(artist)}\s*-\s*(?P<rest>.+)$", head, re.IGNORECASE)
        return artist, track or (prefix.group("rest").strip() if prefix else head)
    if track:
        suffix = re.match(rf"^(?P<artist>.+?)\s*-\s*{re.escape(track)}$", head, re.IGNORECASE)
        return (_name_artist(suffix.group("artist"))[0] if suffix else None), track
    split = re.match(r"^(?P<artist>.*?\S)-(?P<song>\S.*)$", head)
    if not split:
        return None, head
    return _name_artist(split.group("artist"))[0], split.group("song").strip()


def parse_song_timeline(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    what = "song timeline"
    artist, track = song_timeline_names(ctx.original_name, ctx.options)
    if track is None or track.lower() == "songs":
        # ``<artist>-songs-1year.csv`` holding date,streams: which song is it? Never guess.
        raise ParseError(
            f"{what}: cannot tell which song {ctx.original_name!r} is about; name the file "
            "'<Artist>-<Song>-timeline.csv' or ingest it with --track TITLE"
        )
    artist = _resolve_artist(ctx, artist, what, "<Artist>-<Song>-timeline.csv")
    table = _read(data, what, totals="date")
    day, streams = table.require("date", "streams")
    if not len(table):
        raise ParseError(f"{what}: no data rows")
    return frame({"artist": artist, "track": track, "date": _dates(day), "streams": _count(streams, len(table)),
                  "listeners": _count(table.column("listeners"), len(table))}, len(table))


def _sniff_song_timeline(name: str, head: bytes) -> bool:
    # ``date,streams`` alone is too common to claim a file by content: the name must say it too
    header = set(header_names(head))
    return {"date", "streams"} <= header <= {"date", "streams", "listeners"} and any(
        p.match(_stem(name)) for p in _SONG_TIMELINE_NAMES) and "audience" not in name.lower()


# --- song list ----------------------------------------------------------------------------------

SONG_LIST_SCHEMA = pa.schema([("artist", pa.string()), ("period", pa.string()), ("song", pa.string()),
                              ("release_date", pa.date32()), ("listeners", pa.int64()), ("streams", pa.int64()),
                              ("saves", pa.int64())])
# greedy: the last ``-songs`` counts (an artist called "The Songs")
_SONG_LIST_NAME = re.compile(r"^(?P<artist>.+)[-_ ]+songs(?:[-_ ]+(?P<rest>.*))?$", re.IGNORECASE)
_SONG_LIST_COLUMNS = {"song", "listeners", "streams", "saves", "release date"}


def parse_song_list(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    what = "song list"
    m = _SONG_LIST_NAME.match(_stem(ctx.original_name))
    name_artist, spotify_id = _name_artist(m.group("artist") if m else None)
    artist = _resolve_artist(ctx, name_artist, what, "<Artist>-songs-1year.csv", spotify_id)
    period = _period_label(m.group("rest") if m else None)
    table = _read(data, what, totals="song", unless="release date")
    song, streams = table.require("song", "streams")
    if not len(table):
        raise ParseError(f"{what}: no data rows")
    released = table.column("release date")
    n = len(table)
    return frame({
        "artist": artist, "period": period, "song": text(song),
        "release_date": _dates(released, allow_empty=True) if released else pa.nulls(n, pa.date32()),
        "listeners": _count(table.column("listeners"), n), "streams": _count(streams, n),
        "saves": _count(table.column("saves"), n),
    }, n)


def _sniff_song_list(name: str, head: bytes) -> bool:
    header = set(header_names(head))
    return {"song", "streams", "release date"} <= header <= _SONG_LIST_COLUMNS


# --- song table (the web app's JSON) ------------------------------------------------------------

SONG_TABLE_SCHEMA = pa.schema([("artist", pa.string()), ("period", pa.string()), ("track_id", pa.string()),
                               ("track", pa.string()), ("track_uri", pa.string()), ("release_date", pa.date32()),
                               ("streams", pa.int64()), ("listeners", pa.int64()), ("saves", pa.int64()),
                               ("canvas_views", pa.int64())])
_ROW_LISTS = ("songs", "rows", "recordingStats", "recordings", "tracks", "items")
_FILTER_KEYS = ("timeFilter", "time_filter", "timeframe", "timeFrame", "period")
_SONG_TABLE_NAMES = (
    re.compile(r"^spotify[-_]songs[-_](?P<artist>[^-_]+)(?:[-_](?P<rest>.*))?$", re.IGNORECASE),
    re.compile(r"^(?P<artist>.+?)[-_ ]+songs?[-_ ]?table(?:[-_ ]+(?P<rest>.*))?$", re.IGNORECASE),
    re.compile(r"^(?P<artist>.+)[-_ ]+songs(?:[-_ ]+(?P<rest>.*))?$", re.IGNORECASE),
)


def _song_groups(doc, default_period: str) -> list[tuple[str, str, list]]:
    """(period label, JSON path, rows) for each time filter in the file.

    Accepted shapes, most specific first:
    ``[row, ...]`` (period from the file name, else ``export``);
    ``{"timeFilter": "1year", "songs"|"rows"|"recordingStats"|...: [row, ...]}``, also wrapped in
    ``{"data": {...}}`` (the period from ``timeFilter``, else the file name);
    ``{"28day": [row, ...] | {"songs": [...]}, "1year": ..., ...}`` keyed by time filter.
    Scalars beside them (ids, timestamps) are ignored."""
    if isinstance(doc, list):
        return [(default_period, "$", doc)]
    if not isinstance(doc, dict):
        raise ParseError("song table: expected a JSON list of songs or an object at the top")
    path = "$"
    if isinstance(doc.get("data"), dict) and not any(isinstance(doc.get(k), list) for k in _ROW_LISTS):
        doc, path = doc["data"], "$.data"
    for key in _ROW_LISTS:
        if isinstance(doc.get(key), list):
            raw = next((doc[k] for k in _FILTER_KEYS if isinstance(doc.get(k), str)), None)
            return [(_period_label(raw, default_period), f"{path}.{key}", doc[key])]
    groups = []
    for key, value in doc.items():
        if isinstance(value, list):
            groups.append((_period_label(key), f"{path}.{key}", value))
        elif isinstance(value, dict):
            rows_key = next((k for k in _ROW_LISTS if isinstance(value.get(k), list)), None)
            if rows_key:
                raw = next((value[k] for k in _FILTER_KEYS if isinstance(value.get(k), str)), key)
                groups.append((_period_label(raw), f"{path}.{key}.{rows_key}", value[rows_key]))
    if not groups:
        raise ParseError(
            f"song table: no list of songs at {path}: expected a list of rows, an object with "
            f"'songs' or 'rows', or an object keyed by time filter; it has keys {sorted(doc)[:12]}"
        )
    return groups


def _release_day(value):
    """The web app's ``releaseDate``: ``YYYY-MM-DD`` (a time after it aside), epoch seconds or
    milliseconds, or ``{year, month, day}``; the last as ISO text, for :func:`dates`."""
    if isinstance(value, dict) and {"year", "month", "day"} <= set(value):
        try:
            return date(int(value["year"]), int(value["month"]), int(value["day"])).isoformat()
        except (TypeError, ValueError):
            return str(value)
    return value


_TABLE_COUNTS = {"streams": "numStreams", "listeners": "numListeners", "saves": "numSavers",
                 "canvas_views": "numCanvasViews"}


def parse_song_table(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    what = "song table"
    doc = json_document(data, what)
    stem = _stem(ctx.original_name)
    m = next((p.match(stem) for p in _SONG_TABLE_NAMES if p.match(stem)), None)
    name_artist, spotify_id = _name_artist(m.group("artist") if m else None)
    content_artist = None
    if isinstance(doc, dict):
        content_artist = next((doc[k].strip() for k in ("artistName", "artist_name", "artist")
                               if isinstance(doc.get(k), str) and doc[k].strip()), None)
    artist = _resolve_artist(ctx, name_artist, what, "<Artist>-song-table.json", spotify_id, content_artist)
    periods, paths, items = [], [], []
    for period, path, group in _song_groups(doc, _period_label(m.group("rest") if m else None)):
        for i, item in enumerate(group):
            where = f"{path}[{i}]"
            if not isinstance(item, dict):
                raise ParseError(f"{what}: {where} is not an object")
            name = item.get("trackName")
            if not isinstance(name, str) or not name.strip():
                raise ParseError(f"{what}: {where}.trackName is missing or empty")
            periods.append(period)
            paths.append(where)
            items.append(item)
    if not items:
        raise ParseError(f"{what}: no songs in the file")

    def field(key: str, convert=lambda v: v) -> Column:
        return json_column(key, [convert(item.get(key)) for item in items], lambda i: f"{what}: {paths[i]}.{key}")

    out = {
        "artist": artist, "period": pa.array(periods, pa.string()),
        "track_id": pa.array([None if item.get("id") is None else str(item["id"]) for item in items], pa.string()),
        "track": pa.array([item["trackName"].strip() for item in items], pa.string()),
        "track_uri": pa.array([item.get("trackUri") or None for item in items], pa.string()),
        "release_date": dates(field("releaseDate", _release_day), styles=("iso", "epoch")),
    }
    for column, key in _TABLE_COUNTS.items():
        out[column] = counts(field(key), thousands=THOUSANDS)
    return frame(out, len(items))


def _sniff_song_table(name: str, head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \r\n\t")[:1] in (b"{", b"[") and b'"trackName"' in head and (
        b'"numStreams"' in head or b'"trackUri"' in head)


# --- quality ------------------------------------------------------------------------------------


def _suite(key: tuple[str, ...], counted: tuple[str, ...], not_null: tuple[str, ...]):
    return quality.suite(key=key, not_null=not_null, between={c: quality.COUNT for c in counted})


AUDIENCE_TIMELINE = Dataset(
    name="audience_timeline",
    description="Daily listeners, streams and followers of one artist (Audience → download, CSV; both headers)",
    schema=AUDIENCE_SCHEMA,
    key=("artist", "date"),
    parse=parse_audience_timeline,
    patterns=(r"audience[-_ ]?timeline[^/]*\.(csv|txt)$",),
    sniff=_sniff_audience,
    expectations=_suite(("artist", "date"), tuple(_AUDIENCE_COUNTS), ("artist", "date", "streams")),
    observed_at=_last_day_observed,
)
SONG_LIST = Dataset(
    name="song_list",
    description="Per-song listeners, streams and saves over a window (Music → Songs → download, CSV)",
    schema=SONG_LIST_SCHEMA,
    key=("artist", "period", "song", "release_date"),
    parse=parse_song_list,
    patterns=(rf"-songs(?:[-_ ]+(?:{_WINDOW_TOKEN})[^/]*)?(?:\s*\(\d+\))?\.(csv|txt)$",),
    sniff=_sniff_song_list,
    expectations=_suite(("artist", "period", "song", "release_date"), ("listeners", "streams", "saves"),
                        ("artist", "period", "song", "streams")),
)
SONG_TIMELINE = Dataset(
    name="song_timeline",
    description="Daily streams of one song (a song's page → download, CSV)",
    schema=SONG_TIMELINE_SCHEMA,
    key=("artist", "track", "date"),
    parse=parse_song_timeline,
    # ``-<window>.csv`` also matches ``<artist>-songs-1year.csv``: the content decides (sniff)
    patterns=(r"^(?!.*audience[-_ ]?timeline).+[-_ ]timeline[^/]*\.(csv|txt)$",
              rf"^(?!.*audience).+-.+[-_ ](?:{_WINDOW_TOKEN})(?:\s*\(\d+\))?\.(csv|txt)$"),
    sniff=_sniff_song_timeline,
    expectations=_suite(("artist", "track", "date"), ("streams", "listeners"), ("artist", "track", "date", "streams")),
    observed_at=_last_day_observed,
)
SONG_TABLE = Dataset(
    name="song_table",
    description="The web app's song table (JSON): per song streams, listeners, saves, canvas views per time filter",
    schema=SONG_TABLE_SCHEMA,
    key=("artist", "period", "track_uri", "track"),
    parse=parse_song_table,
    patterns=(r"songs?[-_ ]?table[^/]*\.json$", r"^spotify[-_]songs[-_][^/]*\.json$", r"[-_ ]songs[-_ ][^/]*\.json$"),
    sniff=_sniff_song_table,
    expectations=_suite(("artist", "period", "track_uri", "track"), tuple(_TABLE_COUNTS), ("artist", "period", "track")),
)


# --- into the conformed model -------------------------------------------------------------------


def _streams_daily(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    audience = frames.get("audience_timeline")
    if audience is not None and len(audience):
        parts.append(audience.assign(platform=PLATFORM, track=None, isrc=None)[DAILY_COLUMNS])
    songs = frames.get("song_timeline")
    if songs is not None and len(songs):
        parts.append(songs.assign(platform=PLATFORM, isrc=None)[DAILY_COLUMNS])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=DAILY_COLUMNS)


def _audience_daily(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    audience = frames["audience_timeline"]
    counts = [c for c in _AUDIENCE_COUNTS if c != "streams"]  # streams go to fct_streams_daily
    return audience.assign(platform=PLATFORM)[["date", "platform", "artist", *counts, "sha256", "observed_at"]]


TOTALS_COLUMNS = ["period_start", "period_end", "period", "platform", "artist", "dimension", "item", "isrc",
                  "release_date", "streams", "listeners", "saves", "sha256", "observed_at"]


def _totals_frame(df: pd.DataFrame, item: str, extra: str | None) -> pd.DataFrame:
    """Rows of one totals dataset as ``fct_streams_totals``: the window ends on the export day
    (``observed_at``), and starts ``N - 1`` days before it for windows of known length."""
    out = df.rename(columns={item: "item"}).copy()
    out["platform"] = PLATFORM
    out["dimension"] = "track"
    out["isrc"] = None
    ends = pd.to_datetime(out["observed_at"], utc=True).dt.date
    out["period_end"] = ends
    out["period_start"] = [
        None if (days := _window_days(p)) is None else end - timedelta(days=days - 1)
        for p, end in zip(out["period"], ends)
    ]
    # Spotify reports 0 listeners and 0 saves for the all-time window (it does not count them
    # there): a column that is 0 on every row of such a file is unknown, not zero.
    for col in ("listeners", "saves"):
        for _, rows in out[out["period"] == "all"].groupby("sha256"):
            if (rows[col].fillna(0) == 0).all():
                out.loc[rows.index, col] = pd.NA
    # one title twice in a window (a single and its album version): tell them apart by release
    # date, then by the extra id, instead of letting one overwrite the other in curated
    for suffix in ("release_date", extra):
        if suffix is None:
            continue
        dup = out.duplicated(["sha256", "period", "item"], keep=False)
        if not dup.any():
            break
        tag = out.loc[dup, suffix].astype("string").fillna("?")
        out.loc[dup, "item"] = out.loc[dup, "item"].astype("string") + " [" + tag + "]"
    return out[TOTALS_COLUMNS]


def _streams_totals(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    song_list = frames.get("song_list")
    if song_list is not None and len(song_list):
        parts.append(_totals_frame(song_list, "song", None))
    table = frames.get("song_table")
    if table is not None and len(table):
        parts.append(_totals_frame(table, "track", "track_uri"))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TOTALS_COLUMNS)


# --- sample files for the demo and tests --------------------------------------------------------


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """Two artists of the DistroKid samples: Nova Lights (the main one: its streams are the
    demo's Spotify series) with an audience timeline in the newer header, a song list and one
    song's timeline; Ivy Vale with an audience timeline in the older header and a song-table JSON."""
    rng = random.Random(seed + 211)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    days = 365
    start = end - timedelta(days=days - 1)
    # the song list and song table carry a name stamp (Spotify's own names do not) so that
    # their window ends where the timelines end, whenever the demo is ingested
    stamp = name_stamp(end + timedelta(days=1))
    tracks = {artist: [(title, isrc) for a, title, isrc, _ in CATALOGUE if a == artist]
              for artist in ("Nova Lights", "Ivy Vale")}
    written = []

    def audience(streams: list[int]) -> list[dict]:
        # the 28-day window starts full, as if the artist had been streamed before the export
        rows, followers, window = [], 1200 + rng.randint(0, 300), [int(streams[0] * 0.62)] * 28
        for i, s in enumerate(streams):
            listeners = max(0, int(s * rng.uniform(0.55, 0.7)))
            window = (window + [listeners])[-28:]
            monthly = int(sum(window) * 0.62)
            followers += max(0, int(rng.gauss(s * 0.004, 1.5)))
            rows.append({"date": start + timedelta(days=i), "listeners": listeners, "monthly": monthly,
                         "active": int(monthly * 0.31), "super": int(monthly * 0.04), "streams": s,
                         "adds": int(s * rng.uniform(0.005, 0.015)), "saves": int(s * rng.uniform(0.01, 0.03)),
                         "followers": followers})
        return rows

    main = [v for _, v in sample_spotify_daily(seed, end, days)]
    nova = audience(main)
    header = ["date", "listeners", "monthly listeners", "monthly active listeners", "super listeners", "streams",
              "playlist adds", "saves", "followers"]
    lines = [header] + [[r["date"].isoformat(), r["listeners"], r["monthly"], r["active"], r["super"], r["streams"],
                         r["adds"], r["saves"], r["followers"]] for r in nova]
    path = out_dir / "Nova Lights-audience-timeline.csv"
    path.write_bytes(delimited_bytes(lines, bom=True))  # Spotify writes a BOM
    written.append(path)

    ivy = audience(daily_curve(random.Random(seed * 31 + 5), days, 160))
    lines = [["date", "listeners", "streams", "followers"]] + [
        [r["date"].isoformat(), r["listeners"], r["streams"], r["followers"]] for r in ivy]
    path = out_dir / "Ivy Vale-audience-timeline.csv"
    path.write_bytes(delimited_bytes(lines, bom=True))
    written.append(path)

    # one song's timeline: a share of the artist's daily streams
    song, _ = tracks["Nova Lights"][1]
    song_daily = [int(v * rng.uniform(0.3, 0.4)) for v in main]
    lines = [["date", "streams"]] + [[(start + timedelta(days=i)).isoformat(), v] for i, v in enumerate(song_daily)]
    path = out_dir / f"Nova Lights-{song}-timeline.csv"
    path.write_bytes(delimited_bytes(lines, bom=True))
    written.append(path)

    # the song list over the year: the timeline's song gets its own total, the rest is shared
    year_total = sum(main)
    shares = [year_total - sum(song_daily)]
    lines = [["song", "listeners", "streams", "saves", "release_date"]]
    rest = [t for t, _ in tracks["Nova Lights"] if t != song]
    split = [int(shares[0] * 0.6), shares[0] - int(shares[0] * 0.6)]
    for i, (title, streams) in enumerate([(rest[0], split[0]), (song, sum(song_daily)), (rest[1], split[1])]):
        released = (start - timedelta(days=90 * (i + 1))).isoformat()
        lines.append([title, int(streams * 0.41), streams, int(streams * 0.02), released])
    path = out_dir / f"Nova Lights-songs-1year_{stamp}.csv"
    path.write_bytes(delimited_bytes(lines, bom=True))
    written.append(path)

    # the web app's song table, keyed by time filter; numbers arrive as strings at times
    ivy_streams = [r["streams"] for r in ivy]

    table: dict[str, list[dict]] = {}
    for label, n in (("7day", 7), ("28day", 28), ("1year", 365)):
        total = sum(ivy_streams[-n:])
        rows = []
        for i, (title, isrc) in enumerate(tracks["Ivy Vale"]):
            streams = int(total * (0.65 if i == 0 else 0.35))
            rows.append({"id": f"{i + 1}", "trackName": title, "trackUri": f"spotify:track:{base62_id(isrc)}",
                         "releaseDate": (start - timedelta(days=120 * (i + 1))).isoformat(),
                         "numStreams": str(streams) if i else streams, "numListeners": int(streams * 0.5),
                         "numSavers": int(streams * 0.03), "numCanvasViews": int(streams * 0.2)})
        table[label] = rows
    path = out_dir / f"Ivy Vale-song-table_{stamp}.json"
    path.write_text(json.dumps(table, indent=2), encoding="utf-8")
    written.append(path)
    return written


SOURCE = Source(
    name=NAME,
    title="Spotify for Artists",
    datasets=(AUDIENCE_TIMELINE, SONG_LIST, SONG_TIMELINE, SONG_TABLE),
    mappings=(
        CuratedMapping("fct_streams_daily", ("audience_timeline", "song_timeline"), _streams_daily),
        CuratedMapping("fct_audience_daily", ("audience_timeline",), _audience_daily),
        CuratedMapping("fct_streams_totals", ("song_list", "song_table"), _streams_totals),
    ),
    samples=write_samples,
    acquisition="file drop (CSV/JSON exported from the web app), or its browser extractor (soundlake extract spotify_for_artists: audience CSV, song-table JSON)",
    stream_precedence=1,
)
