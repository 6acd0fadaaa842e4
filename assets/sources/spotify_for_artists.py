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

import csv
import json
import random
import re
import string
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd
import pyarrow as pa

from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source, decode_text, normalise_newlines

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


def _norm(header: str) -> str:
    """Header names are matched case-, space-, ``_``- and ``-``-insensitively."""
    return re.sub(r"[\s_\-]+", " ", header.replace("\ufeff", "")).strip().lower()


def _read_csv(data: bytes, what: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Every value a string, header names normalised (see :func:`_norm`), and a ``_line`` column
    with each row's line number in the file, so errors can name it. Returns the frame and the
    header as written, by normalised name."""
    text = normalise_newlines(decode_text(data, what))
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise ParseError(f"{what}: the file has no header line")
    head = lines[first]
    # Excel re-saves in European locales separate with ';'; Spotify itself uses ','
    sep = max((",", ";", "\t"), key=head.count)
    reader = csv.reader(lines[first:], delimiter=sep)
    raw_header = [h.replace("\ufeff", "").strip() for h in next(reader)]
    while raw_header and not raw_header[-1]:  # Excel's empty trailing columns
        raw_header.pop()
    header = [_norm(h) for h in raw_header]
    seen: set[str] = set()
    for h, raw in zip(header, raw_header):
        if not h:
            raise ParseError(f"{what}: line {first + 1}: the header has an empty column name")
        if h in seen:
            raise ParseError(f"{what}: line {first + 1}: the header names {raw!r} twice")
        seen.add(h)
    width = len(header)
    rows, numbers = [], []
    for fields in reader:
        line = first + reader.line_num
        if not any(f.strip() for f in fields):
            continue  # empty lines, and Excel's lines of only separators
        if len(fields) > width and not any(f.strip() for f in fields[width:]):
            fields = fields[:width]
        if len(fields) != width:
            raise ParseError(f"{what}: line {line} has {len(fields)} fields, the header has {width} "
                             "(a truncated or damaged file?)")
        rows.append([f.strip() for f in fields])
        numbers.append(line)
    df = pd.DataFrame(rows, columns=header, dtype="string")
    df["_line"] = numbers
    return df, dict(zip(header, raw_header))


_TOTAL_LABELS = {"total", "totals", "grand total", "sum", "summe", "gesamt"}


def _drop_total_rows(df: pd.DataFrame, column: str, *, unless: str | None = None) -> pd.DataFrame:
    """Spotify's exports have no total row, but a file kept in a spreadsheet often gains one;
    summed again it would double the figures, so it is dropped (``unless`` a column that a real
    row always fills, like a song's release date, says it is a real row)."""
    is_total = df[column].str.strip().str.lower().isin(_TOTAL_LABELS).fillna(False)
    if unless is not None and unless in df.columns:
        is_total &= df[unless].isna() | (df[unless].str.strip() == "")
    return df[~is_total].reset_index(drop=True)


_MISSING = {"", "-", "—", "n/a", "na", "null", "none", "undefined"}


def _int_values(df: pd.DataFrame, column: str, label: str) -> pd.Series:
    """Whole numbers; thousands separators (``,``, spaces) allowed, empty means unknown (null).
    A decimal point is refused: ``1.234`` may be a European thousands separator."""
    out: list[int | None] = []
    for value, line in zip(df[column].tolist(), df["_line"].tolist()):
        text = "" if value is None or pd.isna(value) else str(value).strip()
        if text.lower() in _MISSING:
            out.append(None)
            continue
        cleaned = re.sub(r"[,\s\u00a0\u202f']", "", text)
        if re.fullmatch(r"[+-]?\d+", cleaned):
            out.append(int(cleaned))
            continue
        why = " (counts have no decimals; a '.' thousands separator is not accepted)" if "." in cleaned else ""
        raise ParseError(f"column {label!r}, line {line}: {value!r} is not a whole number{why}")
    return pd.Series(out, dtype="Int64")


def _date_style(values: list[str]) -> str:
    """``iso`` or ``slash`` (Excel's re-save) from the first date of the file."""
    for v in values:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", v):
            return "iso"
        if re.fullmatch(r"\d{1,2}/\d{1,2}/(\d{2}|\d{4})", v):
            return "slash"
        return "unknown"
    return "iso"


def _read_date(value: str, style: str, day_first: bool) -> date | None:
    try:
        if style == "iso":
            if not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", value):
                return None
            return datetime.strptime(value, "%Y-%m-%d").date()
        if not re.fullmatch(r"\d{1,2}/\d{1,2}/(\d{2}|\d{4})", value):
            return None
        a, b, y = value.split("/")
        year = int(y) + 2000 if len(y) == 2 else int(y)  # Excel's M/D/YY: no Spotify data before 2000
        month, day = (int(b), int(a)) if day_first else (int(a), int(b))
        return date(year, month, day)
    except ValueError:
        return None


def _date_values(df: pd.DataFrame, column: str, label: str, *, allow_empty: bool = False) -> pd.Series:
    """Dates as ``YYYY-MM-DD``, or as Excel re-saves them: ``M/D/YYYY`` or ``M/D/YY`` (day-first
    only when month-first fails on some row and day-first reads them all)."""
    values = ["" if v is None or pd.isna(v) else str(v).strip() for v in df[column].tolist()]
    # a time of day after the date (some spreadsheet re-saves add one) says nothing here
    values = [re.sub(r"[ T]0{1,2}:00(:00(\.0+)?)?(Z|[+-]00:?00)?$", "", v) for v in values]
    lines = df["_line"].tolist()
    style = _date_style([v for v in values if v])
    first_bad = None
    for day_first in ([False, True] if style == "slash" else [False]):
        parsed = [_read_date(v, style, day_first) if v else None for v in values]
        bad = [i for i, (v, p) in enumerate(zip(values, parsed)) if p is None and (v or not allow_empty)]
        if not bad:
            return pd.Series(parsed, dtype="object")
        first_bad = bad[0] if first_bad is None else first_bad  # report what month-first got wrong
    example = {"iso": "2025-01-31", "slash": "1/31/2025"}.get(style)
    expected = f"like the file's other dates, e.g. {example}" if example else "YYYY-MM-DD or M/D/YYYY"
    shown = df[column].iloc[first_bad]
    what = "no date" if not values[first_bad] else f"{shown!r} is not a date"
    raise ParseError(f"column {label!r}, line {lines[first_bad]}: {what} (expected {expected})")


def _require(df: pd.DataFrame, labels: Mapping[str, str], required: Iterable[str], what: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ParseError(
            f"{what}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"the header has {', '.join(repr(v) for v in labels.values())}"
        )


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
    df, labels = _read_csv(data, what)
    _require(df, labels, _AUDIENCE_REQUIRED, what)
    df = _drop_total_rows(df, "date")
    if df.empty:
        raise ParseError(f"{what}: no data rows")
    out = pd.DataFrame({"artist": pd.Series([artist] * len(df), dtype="string"),
                        "date": _date_values(df, "date", labels["date"])})
    for header, column in _AUDIENCE_COLUMNS.items():
        if column == "date":
            continue
        out[column] = _int_values(df, header, labels[header]) if header in df.columns else pd.Series(
            [pd.NA] * len(df), dtype="Int64")
    return out


def _header_of(head: bytes) -> list[str]:
    text = head.decode("utf-8-sig", errors="replace")
    text = normalise_newlines(text).lstrip("\n").split("\n", 1)[0]
    sep = max((",", ";", "\t"), key=text.count)
    try:
        fields = next(csv.reader([text], delimiter=sep))
    except (csv.Error, StopIteration):
        return []
    return [h for h in (_norm(f) for f in fields) if h]


def _sniff_audience(name: str, head: bytes) -> bool:
    header = set(_header_of(head))
    return set(_AUDIENCE_REQUIRED) <= header <= set(_AUDIENCE_COLUMNS)


def _last_day_observed(name: str, data: bytes) -> datetime | None:
    """The day after the last date in a timeline (UTC midnight): when the export was taken, as
    near as the file tells. Never raises: a file it cannot read falls back to the lake's default."""
    try:
        df, _ = _read_csv(data, name)
        if "date" not in df.columns:
            return None
        df = _drop_total_rows(df, "date")
        dates = [d for d in _date_values(df, "date", "date") if d is not None]
        if not dates:
            return None
        return datetime.combine(max(dates) + timedelta(days=1), time(), tzinfo=timezone.utc)
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
    df, labels = _read_csv(data, what)
    _require(df, labels, ("date", "streams"), what)
    df = _drop_total_rows(df, "date")
    if df.empty:
        raise ParseError(f"{what}: no data rows")
    n = len(df)
    return pd.DataFrame({
        "artist": pd.Series([artist] * n, dtype="string"),
        "track": pd.Series([track] * n, dtype="string"),
        "date": _date_values(df, "date", labels["date"]),
        "streams": _int_values(df, "streams", labels["streams"]),
        "listeners": _int_values(df, "listeners", labels["listeners"]) if "listeners" in df.columns
        else pd.Series([pd.NA] * n, dtype="Int64"),
    })


def _sniff_song_timeline(name: str, head: bytes) -> bool:
    # ``date,streams`` alone is too common to claim a file by content: the name must say it too
    header = set(_header_of(head))
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
    df, labels = _read_csv(data, what)
    _require(df, labels, ("song", "streams"), what)
    df = _drop_total_rows(df, "song", unless="release date")
    if df.empty:
        raise ParseError(f"{what}: no data rows")
    n = len(df)
    empty = pd.Series([pd.NA] * n, dtype="Int64")
    return pd.DataFrame({
        "artist": pd.Series([artist] * n, dtype="string"),
        "period": pd.Series([period] * n, dtype="string"),
        "song": df["song"].astype("string"),
        "release_date": _date_values(df, "release date", labels["release date"], allow_empty=True)
        if "release date" in df.columns else pd.Series([None] * n, dtype="object"),
        "listeners": _int_values(df, "listeners", labels["listeners"]) if "listeners" in df.columns else empty,
        "streams": _int_values(df, "streams", labels["streams"]),
        "saves": _int_values(df, "saves", labels["saves"]) if "saves" in df.columns else empty,
    })


def _sniff_song_list(name: str, head: bytes) -> bool:
    header = set(_header_of(head))
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


def _json_int(value, where: str) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in _MISSING):
        return None
    if isinstance(value, bool):
        raise ParseError(f"{where}: {value!r} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ParseError(f"{where}: {value!r} is not a whole number")
    if isinstance(value, str):
        cleaned = re.sub(r"[,\s\u00a0\u202f]", "", value)
        if re.fullmatch(r"[+-]?\d+", cleaned):
            return int(cleaned)
    raise ParseError(f"{where}: {value!r} is not a whole number")


def _json_date(value, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
        return datetime.fromtimestamp(seconds, tz=timezone.utc).date()
    if isinstance(value, str):
        m = re.match(r"^(\d{4}-\d{2}-\d{2})(?:$|[T ])", value.strip())
        if m:
            try:
                return date.fromisoformat(m.group(1))
            except ValueError:
                pass
    if isinstance(value, dict) and {"year", "month", "day"} <= set(value):
        try:
            return date(int(value["year"]), int(value["month"]), int(value["day"]))
        except (TypeError, ValueError):
            pass
    raise ParseError(f"{where}: {value!r} is not a date (expected YYYY-MM-DD)")


def parse_song_table(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    what = "song table"
    try:
        doc = json.loads(decode_text(data, ctx.original_name))
    except json.JSONDecodeError as exc:
        raise ParseError(f"{what}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
    stem = _stem(ctx.original_name)
    m = next((p.match(stem) for p in _SONG_TABLE_NAMES if p.match(stem)), None)
    name_artist, spotify_id = _name_artist(m.group("artist") if m else None)
    content_artist = None
    if isinstance(doc, dict):
        content_artist = next((doc[k].strip() for k in ("artistName", "artist_name", "artist")
                               if isinstance(doc.get(k), str) and doc[k].strip()), None)
    artist = _resolve_artist(ctx, name_artist, what, "<Artist>-song-table.json", spotify_id, content_artist)
    rows = []
    for period, path, items in _song_groups(doc, _period_label(m.group("rest") if m else None)):
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            if not isinstance(item, dict):
                raise ParseError(f"{what}: {where} is not an object")
            name = item.get("trackName")
            if not isinstance(name, str) or not name.strip():
                raise ParseError(f"{what}: {where}.trackName is missing or empty")
            rows.append({
                "artist": artist, "period": period,
                "track_id": None if item.get("id") is None else str(item["id"]),
                "track": name.strip(),
                "track_uri": item.get("trackUri") or None,
                "release_date": _json_date(item.get("releaseDate"), f"{what}: {where}.releaseDate"),
                "streams": _json_int(item.get("numStreams"), f"{what}: {where}.numStreams"),
                "listeners": _json_int(item.get("numListeners"), f"{what}: {where}.numListeners"),
                "saves": _json_int(item.get("numSavers"), f"{what}: {where}.numSavers"),
                "canvas_views": _json_int(item.get("numCanvasViews"), f"{what}: {where}.numCanvasViews"),
            })
    if not rows:
        raise ParseError(f"{what}: no songs in the file")
    out = pd.DataFrame(rows)
    for col in ("streams", "listeners", "saves", "canvas_views"):
        out[col] = out[col].astype("Int64")
    return out


def _sniff_song_table(name: str, head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \r\n\t")[:1] in (b"{", b"[") and b'"trackName"' in head and (
        b'"numStreams"' in head or b'"trackUri"' in head)


# --- quality ------------------------------------------------------------------------------------


def _expectations(key: list[str], counts: list[str], not_null: list[str]):
    def build():
        import great_expectations.expectations as gxe

        checks = [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in not_null]
        checks += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=10_000_000_000) for c in counts]
        checks.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=key))
        return checks

    return build


AUDIENCE_TIMELINE = Dataset(
    name="audience_timeline",
    description="Daily listeners, streams and followers of one artist (Audience → download, CSV; both headers)",
    schema=AUDIENCE_SCHEMA,
    key=("artist", "date"),
    parse=parse_audience_timeline,
    patterns=(r"audience[-_ ]?timeline[^/]*\.(csv|txt)$",),
    sniff=_sniff_audience,
    expectations=_expectations(["artist", "date"], _AUDIENCE_COUNTS, ["artist", "date", "streams"]),
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
    expectations=_expectations(["artist", "period", "song", "release_date"], ["listeners", "streams", "saves"],
                               ["artist", "period", "song", "streams"]),
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
    expectations=_expectations(["artist", "track", "date"], ["streams", "listeners"],
                               ["artist", "track", "date", "streams"]),
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
    expectations=_expectations(["artist", "period", "track_uri", "track"],
                               ["streams", "listeners", "saves", "canvas_views"], ["artist", "period", "track"]),
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
    from .distrokid import _SAMPLE_TRACKS, daily_curve, sample_spotify_daily

    rng = random.Random(seed + 211)
    end = end or date.today() - timedelta(days=2)
    out_dir.mkdir(parents=True, exist_ok=True)
    days = 365
    start = end - timedelta(days=days - 1)
    # the song list and song table carry a name stamp (Spotify's own names do not) so that
    # their window ends where the timelines end, whenever the demo is ingested
    stamp = datetime.combine(end + timedelta(days=1), time()).strftime("%Y%m%d_%H%M%S")
    tracks = {artist: [(title, isrc) for a, title, isrc, _ in _SAMPLE_TRACKS if a == artist]
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
    header = ("date,listeners,monthly listeners,monthly active listeners,super listeners,streams,"
              "playlist adds,saves,followers")
    lines = [header] + [f"{r['date'].isoformat()},{r['listeners']},{r['monthly']},{r['active']},{r['super']},"
                        f"{r['streams']},{r['adds']},{r['saves']},{r['followers']}" for r in nova]
    path = out_dir / "Nova Lights-audience-timeline.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    written.append(path)

    ivy = audience(daily_curve(random.Random(seed * 31 + 5), days, 160))
    lines = ["date,listeners,streams,followers"] + [
        f"{r['date'].isoformat()},{r['listeners']},{r['streams']},{r['followers']}" for r in ivy]
    path = out_dir / "Ivy Vale-audience-timeline.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    written.append(path)

    # one song's timeline: a share of the artist's daily streams
    song, _ = tracks["Nova Lights"][1]
    song_daily = [int(v * rng.uniform(0.3, 0.4)) for v in main]
    lines = ["date,streams"] + [f"{(start + timedelta(days=i)).isoformat()},{v}" for i, v in enumerate(song_daily)]
    path = out_dir / f"Nova Lights-{song}-timeline.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    written.append(path)

    # the song list over the year: the timeline's song gets its own total, the rest is shared
    year_total = sum(main)
    shares = [year_total - sum(song_daily)]
    lines = ["song,listeners,streams,saves,release_date"]
    rest = [t for t, _ in tracks["Nova Lights"] if t != song]
    split = [int(shares[0] * 0.6), shares[0] - int(shares[0] * 0.6)]
    for i, (title, streams) in enumerate([(rest[0], split[0]), (song, sum(song_daily)), (rest[1], split[1])]):
        released = (start - timedelta(days=90 * (i + 1))).isoformat()
        lines.append(f'"{title}",{int(streams * 0.41)},{streams},{int(streams * 0.02)},{released}')
    path = out_dir / f"Nova Lights-songs-1year_{stamp}.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    written.append(path)

    # the web app's song table, keyed by time filter; numbers arrive as strings at times
    ivy_streams = [r["streams"] for r in ivy]

    def track_id(isrc: str) -> str:  # a stable 22-character base-62 id, like Spotify's
        pick = random.Random(isrc)
        return "".join(pick.choice(string.ascii_letters + string.digits) for _ in range(22))

    table: dict[str, list[dict]] = {}
    for label, n in (("7day", 7), ("28day", 28), ("1year", 365)):
        total = sum(ivy_streams[-n:])
        rows = []
        for i, (title, isrc) in enumerate(tracks["Ivy Vale"]):
            streams = int(total * (0.65 if i == 0 else 0.35))
            rows.append({"id": f"{i + 1}", "trackName": title, "trackUri": f"spotify:track:{track_id(isrc)}",
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
    acquisition="file drop (CSV/JSON exported from the web app)",
    stream_precedence=1,
)
