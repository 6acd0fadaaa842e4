"""TikTok Studio: the CSV exports of the Analytics tabs, downloaded by hand (file drop).

TikTok Studio hands out one CSV per chart, usually zipped, named
``<Export>_<start date>_<epoch seconds>_<account>.zip`` (``Overview_2024-05-28_1748345895_zone.a0.zip``)
and holding ``<Export>.csv``. Seen: ``Overview`` (daily video views, profile views, likes,
comments, shares). Documented only: ``FollowerHistory`` (followers and the change per day),
``Viewers`` (total / new / returning viewers per day), ``Content`` (lifetime totals per video)
and ``FollowerTopTerritories`` (share of followers per country).

Traps handled:

- The member inside the zip is always ``Overview.csv``: the account and the export time live only
  in the zip's name. So the datasets claim the zip itself (the lake keeps it whole) and the parser
  reads the CSV inside; a bare CSV works too. The account comes from the name, or ``--account``
  (which wins); a bare ``Overview.csv`` without ``--account`` is refused, saying so.
- Dates have no year (``"May 28"``) and the 365 rows cross New Year. The year comes from the
  export date: the epoch in the file name, else ``--as-of``, else the day the file landed. The
  last row is on or before that date (one day of slack for time zones: the epoch is UTC, the
  rows are in the account's time zone); walking back, each earlier row is the latest date on or
  before the row after it. Rows may run oldest-first (as seen) or newest-first.
- Month names in the account's locale: English, Spanish, Portuguese, French, German, Italian and
  Dutch, full or abbreviated, either order (``May 28``, ``28 de mayo``, ``28 may.``, ``28. Mai``,
  ``1er janvier``), and ``5月28日`` / ``5월 28일``. Dates with a year (``2025-05-28``,
  ``May 28, 2025``, ``28/05/2025``) are taken as they are; for D/M versus M/D the whole column
  decides (a first number over 12 means D/M, a second over 12 means M/D; otherwise ``/`` is the
  US M/D/Y of an Excel re-save and ``-``/``.`` is D-M-Y).
- BOM, every value quoted, ``undefined`` (and ``-``, ``--``, empty) becomes null, thousands
  separators (``1,234``, ``1.234``, ``1 234``), negative counts kept as reported (platform
  corrections), a ``Total`` row skipped.
"""

from __future__ import annotations

import csv
import io
import random
import re
import unicodedata
import zipfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable, Mapping, Sequence

import pandas as pd
import pyarrow as pa

from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source, decode_text

NAME = "tiktok"
PLATFORM = "tiktok"

# --- the file name: export kind, start date, export time, account --------------------------------

# `Overview_2024-05-28_1748345895_zone.a0.zip`; a ` (2)` before the extension (a browser's second
# download, or the lake's rename of a second file with the same name in one batch) is not part of
# the account. Handles may hold dots and underscores, so the account is everything after the epoch.
_NAME = re.compile(
    r"^(?P<export>[A-Za-z]+)_(?P<start>\d{4}-\d{2}-\d{2})_(?P<epoch>\d{9,13})(?:_(?P<account>.+?))?"
    r"(?:\s*\(\d+\))?\.(?:zip|csv)$",
    re.IGNORECASE,
)


def _name_parts(name: str) -> re.Match | None:
    return _NAME.match(Path(name).name)


def exported_at(name: str, data: bytes = b"") -> datetime | None:
    """When TikTok made the export: the epoch seconds in the file name (UTC). The lake's
    ``observed_at`` hook of every dataset; never raises."""
    m = _name_parts(name)
    if not m:
        return None
    epoch = int(m["epoch"])
    if epoch > 10**11:  # milliseconds
        epoch //= 1000
    try:
        return datetime.fromtimestamp(epoch, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _export_date(ctx: ParseContext) -> date:
    """The day the export was taken: the name's epoch, else --as-of, else when it landed."""
    stamp = exported_at(ctx.original_name)
    if stamp is not None:
        return stamp.date()
    if ctx.as_of is not None:
        return ctx.as_of
    landed = ctx.landed_at
    return landed.astimezone(timezone.utc).date() if landed.tzinfo else landed.date()


def _account(ctx: ParseContext, export: str) -> str:
    given = (ctx.options or {}).get("account")
    m = _name_parts(ctx.original_name)
    account = given or (m["account"] if m else None)
    account = (account or "").strip().lstrip("@").strip()
    if not account:
        raise ParseError(
            f"which account is this {export} export about? The file name {ctx.original_name!r} does not say "
            f"(TikTok names its downloads {export}_<start date>_<epoch>_<account>.zip): name the account "
            "with --account HANDLE when you ingest it"
        )
    return account


# --- reading the CSV (bare, or inside the zip TikTok hands out) -----------------------------------


def _csv_text(data: bytes, ctx: ParseContext, export: str) -> str:
    """The CSV's text: the bytes themselves, or the member of a zip (the one named like the
    export, else the only CSV in it)."""
    if not data.startswith(b"PK\x03\x04"):
        return decode_text(data, ctx.original_name)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
            csvs = [n for n in names if n.lower().endswith(".csv") and not Path(n).name.startswith(".")
                    and not n.startswith("__MACOSX/")]
            named = [n for n in csvs if Path(n).stem.lower() == export.lower()]
            if not csvs:
                raise ParseError(f"the zip holds no CSV file (it holds: {', '.join(names) or 'nothing'}); "
                                 f"download {export} from TikTok Studio as CSV")
            if len(named) != 1 and len(csvs) != 1:
                raise ParseError(f"the zip holds several CSV files ({', '.join(csvs)}) and none is {export}.csv")
            member = (named or csvs)[0]
            raw = zf.read(member)
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - damaged, encrypted, unsupported compression: one answer
        raise ParseError(f"the zip cannot be read ({type(exc).__name__}: {exc})") from None
    try:
        return decode_text(raw, member)
    except ParseError as exc:
        raise ParseError(f"{member} in the zip: {exc}") from None


def _fold(text: str) -> str:
    """Lower case without accents, collapsed spaces: how headers and month names are compared."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.lower().split())


class _Table:
    """A CSV's rows as strings, each with the line it starts on, and its columns found by alias."""

    def __init__(self, text: str, what: str):
        self.what = what
        reader = csv.reader(io.StringIO(text, newline=""))
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.lines: list[int] = []
        end = 0
        try:
            for fields in reader:
                start, end = end + 1, reader.line_num  # a quoted value may span lines
                if not self.header:
                    if any(f.strip() for f in fields):
                        self.header = [f.strip().lstrip("\ufeff").strip() for f in fields]
                        self.header_line = start
                    continue
                if not any(f.strip() for f in fields):
                    continue
                if len(fields) != len(self.header):
                    raise ParseError(
                        f"{what}: line {start} has {len(fields)} fields, the header has "
                        f"{len(self.header)} (a truncated or damaged file?)"
                    )
                # a "Total" row summing the days is not a day
                if re.fullmatch(r"totals?", _fold(fields[0])):
                    continue
                self.rows.append(fields)
                self.lines.append(start)
        except csv.Error as exc:
            raise ParseError(f"{what}: line {reader.line_num}: {exc}") from None
        if not self.header:
            raise ParseError(f"{what}: the file has no header line")
        self._index = {_fold(h): i for i, h in enumerate(self.header)}

    def find(self, aliases: Sequence[str]) -> int | None:
        for alias in aliases:
            if _fold(alias) in self._index:
                return self._index[_fold(alias)]
        return None

    def columns(self, spec: Mapping[str, tuple[Sequence[str], bool]]) -> dict[str, tuple[str, list[str]]]:
        """{field: (header as written, values)} for the fields of ``spec`` ({field: (aliases,
        required)}) that the header has; a required one missing is an error naming it."""
        found, missing = {}, []
        for fld, (aliases, required) in spec.items():
            i = self.find(aliases)
            if i is not None:
                found[fld] = (self.header[i], [r[i] for r in self.rows])
            elif required:
                missing.append(aliases[0])
        if missing:
            raise ParseError(
                f"{self.what}: line {self.header_line} (the header): missing column(s) "
                f"{', '.join(repr(c) for c in missing)}; the header has {', '.join(repr(h) for h in self.header)}"
            )
        if not self.rows:
            raise ParseError(f"{self.what}: the file has a header but no data rows")
        return found


# --- values ---------------------------------------------------------------------------------------

_NULLS = {"", "undefined", "null", "none", "n/a", "na", "-", "--", "nan"}
# whole numbers, optionally grouped by thousands with one separator (`1,234`, `1.234`, `1 234`)
_GROUPED = re.compile(r"[-+]?\d{1,3}(?:(?P<sep>[,. '\u00a0\u202f\u2019])\d{3})(?:(?P=sep)\d{3})*")


def _counts(values: Sequence[str], lines: Sequence[int], column: str) -> pd.Series:
    out = []
    for value, line in zip(values, lines):
        s = value.strip().replace("\u2212", "-")
        if s.lower() in _NULLS:
            out.append(None)
        elif re.fullmatch(r"[-+]?\d+", s):
            out.append(int(s))
        elif _GROUPED.fullmatch(s):
            out.append(int(re.sub(r"[^\d+-]", "", s)))
        elif re.fullmatch(r"[-+]?\d+\.0+", s):
            out.append(int(s.split(".")[0]))
        else:
            raise ParseError(f"column {column!r}, line {line}: {value!r} is not a whole number")
    return pd.Series(out, dtype="Int64")


def _shares(values: Sequence[str], lines: Sequence[int], column: str) -> list[float | None]:
    """Shares of a whole, 0..1: ``23.5%`` and ``23,5 %`` are percentages; bare numbers are
    fractions (``0.235``) unless one of the column's bare numbers is over 1, then all are
    percentages."""
    parsed: list[tuple[float, bool] | None] = []
    for value, line in zip(values, lines):
        s = value.strip()
        if s.lower() in _NULLS:
            parsed.append(None)
            continue
        pct = s.endswith("%")
        number = s.rstrip("%").strip().replace(",", ".")
        if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", number):
            raise ParseError(f"column {column!r}, line {line}: {value!r} is not a share (like 23.5% or 0.235)")
        parsed.append((float(number), pct))
    bare_percent = any(p is not None and not p[1] and p[0] > 1 for p in parsed)
    out = []
    for p, value, line in zip(parsed, values, lines):
        if p is None:
            out.append(None)
            continue
        share = p[0] / 100 if (p[1] or bare_percent) else p[0]
        if share > 1.000001:
            raise ParseError(f"column {column!r}, line {line}: {value!r} is more than the whole")
        out.append(share)
    return out


# Month names and abbreviations, compared without accents and case.
_MONTH_WORDS = (
    # English, Spanish, Portuguese, French, German, Italian, Dutch
    (1, "january jan enero ene janeiro janvier janv januar jänner jän gennaio gen januari"),
    (2, "february feb febrero febr fevereiro fev février févr februar febbraio februari"),
    (3, "march mar marzo março mars märz mär mrz maart mrt"),
    (4, "april apr abril abr avril avr aprile"),
    (5, "may mayo maio mai maggio mag mei"),
    (6, "june jun junio junho juin juni giugno giu"),
    (7, "july jul julio julho juillet juil juli luglio lug"),
    (8, "august aug agosto ago août augustus"),
    (9, "september sep sept septiembre setiembre set setembro septembre settembre"),
    (10, "october oct octubre outubro out octobre oktober okt ottobre ott"),
    (11, "november nov noviembre novembro novembre"),
    (12, "december dec diciembre dic dezembro dez décembre déc dezember dicembre"),
)
MONTHS: dict[str, int] = {_fold(w): month for month, words in _MONTH_WORDS for w in words.split()}
# words that may sit between the day, month and year ("28 de mayo de 2025", "1er janvier", "1st of May")
_FILLERS = {"de", "del", "do", "da", "of", "the", "le", "el", "er", "st", "nd", "rd", "th"}
_CJK = re.compile(r"(?:(\d{4})\s*[年년]\s*)?(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]?")
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{2}|\d{4})")
DATE_EXAMPLES = "'May 28', '28 de mayo', '28. Mai', '2025-05-28' or 'May 28, 2025'"

_Parts = tuple[int | None, int, int]  # (year or None, month, day)


def _valid(year: int | None, month: int, day: int) -> bool:
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: Feb 29 without a year is fine
    except ValueError:
        return False
    return True


def _words_date(text: str) -> _Parts | None:
    tokens = re.findall(r"[^\W\d_]+|\d+", _fold(text))
    months = [MONTHS[t] for t in tokens if t in MONTHS]
    words = [t for t in tokens if not t.isdigit() and t not in MONTHS and t not in _FILLERS]
    numbers = [t for t in tokens if t.isdigit()]
    years = [int(t) for t in numbers if len(t) == 4]
    days = [int(t) for t in numbers if len(t) <= 2]
    if len(months) != 1 or words or len(days) != 1 or len(years) > 1 or len(years) + len(days) != len(numbers):
        return None
    return (years[0] if years else None, months[0], days[0])


def _date_parts(values: Sequence[str], lines: Sequence[int], column: str) -> list[_Parts]:
    """(year or None, month, day) for every value; an unreadable one names its line."""
    out: list[_Parts | None] = []
    numeric: list[tuple[int, int, int, int, str]] = []  # (position, a, b, year, separator)
    for i, value in enumerate(values):
        s = value.strip()
        parts = None
        if m := _ISO.fullmatch(s):
            parts = (int(m[1]), int(m[2]), int(m[3]))
        elif m := _NUMERIC.fullmatch(s):
            year = int(m[4]) + (2000 if len(m[4]) == 2 else 0)
            numeric.append((i, int(m[1]), int(m[3]), year, m[2]))
        elif m := _CJK.fullmatch(s):
            parts = (int(m[1]) if m[1] else None, int(m[2]), int(m[3]))
        else:
            parts = _words_date(s)
        out.append(parts)
    if numeric:
        # D/M/Y or M/D/Y is decided for the whole column, never row by row
        day_first = [n for n in numeric if n[1] > 12]
        month_first = [n for n in numeric if n[2] > 12]
        if day_first and month_first:
            i = max(day_first[0][0], month_first[0][0])
            raise ParseError(
                f"column {column!r}, line {lines[i]}: {values[i]!r} mixes day-first and month-first dates "
                f"(see line {lines[min(day_first[0][0], month_first[0][0])]})"
            )
        dmy = bool(day_first) or (not month_first and numeric[0][4] != "/")
        for i, a, b, year, _ in numeric:
            out[i] = (year, b, a) if dmy else (year, a, b)
    for i, parts in enumerate(out):
        if parts is None or not _valid(*parts):
            raise ParseError(f"column {column!r}, line {lines[i]}: {values[i]!r} is not a date (expected e.g. {DATE_EXAMPLES})")
    return out  # type: ignore[return-value]


def _latest_on_or_before(month: int, day: int, limit: date) -> date:
    """The latest date with this month and day that is not after ``limit``."""
    for year in range(limit.year, limit.year - 9, -1):  # Feb 29 may be up to 8 years back
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= limit:
            return candidate
    raise AssertionError("unreachable: every month/day occurs within 8 years")


def resolve_days(parts: Sequence[_Parts], export_day: date) -> list[date]:
    """Dates for a daily series whose rows may lack the year. The newest row is on or before the
    export day (+1 for time zones); walking towards the oldest row, each row is the latest date on
    or before the row after it, so the series crosses New Year where the months wrap. Rows with a
    year are taken as they are."""
    # which way the rows run: a step to the next row is forwards when it is less than half a year
    # ahead on the calendar (Dec 31 -> Jan 1 is one day forwards, Jan 2 -> Jan 1 one day back)
    yday = [date(2000, p[1], p[2]).timetuple().tm_yday for p in parts if p[0] is None]
    steps = [(b - a) % 366 for a, b in zip(yday, yday[1:]) if a != b]
    descending = sum(1 for s in steps if s > 183) > len(steps) / 2
    order = list(range(len(parts)))
    if not descending:
        order.reverse()  # newest row first
    out: list[date | None] = [None] * len(parts)
    limit = export_day + timedelta(days=1)
    for i in order:
        year, month, day = parts[i]
        out[i] = date(year, month, day) if year is not None else _latest_on_or_before(month, day, limit)
        limit = out[i]
    return out  # type: ignore[return-value]


def _daily_dates(values: Sequence[str], lines: Sequence[int], column: str, export_day: date) -> list[date]:
    days = resolve_days(_date_parts(values, lines, column), export_day)
    seen: dict[date, int] = {}
    for d, value, line in zip(days, values, lines):
        if d in seen:
            raise ParseError(f"column {column!r}, line {line}: {value!r} is the same day ({d}) as line {seen[d]}")
        seen[d] = line
    return days


# a time of day in a timestamp ("10:12", "10:12:33", "10:12 PM", "22h15" is not supported)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([ap])\.?\s*m\.?)?", re.IGNORECASE)


def _timestamps(values: Sequence[str], lines: Sequence[int], column: str, export_day: date) -> list[datetime | None]:
    """When videos were posted, in whatever form the export uses: ISO (``2025-05-28T10:12:33Z``),
    Unix seconds, or a date in any form the daily columns accept with an optional time of day
    (``May 28, 2025 10:12 AM``, ``28 de mayo 18:04``). A date without a year is the latest one on
    or before the export day (no slack here, unlike the daily rows: the videos of a 365-day window
    start on the export day's date a year before). Times without a zone are taken as UTC."""
    out: list[datetime | None] = [None] * len(values)
    rest: list[tuple[int, str, time]] = []
    for i, value in enumerate(values):
        s = value.strip()
        if s.lower() in _NULLS:
            continue
        if re.fullmatch(r"\d{10}|\d{13}", s):
            out[i] = datetime.fromtimestamp(int(s[:10]), tz=timezone.utc)
            continue
        try:
            stamp = datetime.fromisoformat(s)
        except ValueError:
            stamp = None
        if stamp is not None:
            out[i] = stamp.replace(tzinfo=timezone.utc) if stamp.tzinfo is None else stamp.astimezone(timezone.utc)
            continue
        at = time()
        if m := _TIME.search(s):
            hour = int(m[1])
            if m[4]:
                hour = hour % 12 + (12 if m[4].lower() == "p" else 0)
            try:
                at = time(hour, int(m[2]), int(m[3] or 0))
            except ValueError:
                raise ParseError(f"column {column!r}, line {lines[i]}: {value!r} has no valid time of day") from None
            s = (s[: m.start()] + " " + s[m.end():]).strip()
            s = re.sub(r"(?i)[\s,]*(\bat\b|\bum\b|à|às|a las)?[\s,]*$", "", s)  # "May 28, 2025 at 10:12"
        rest.append((i, s, at))
    if rest:
        parts = _date_parts([s for _, s, _ in rest], [lines[i] for i, _, _ in rest], column)
        for (i, _, at), (year, month, day) in zip(rest, parts):
            d = date(year, month, day) if year is not None else _latest_on_or_before(month, day, export_day)
            out[i] = datetime.combine(d, at, tzinfo=timezone.utc)
    return out


def _strings(values: Sequence[str]) -> list[str | None]:
    return [v if v.strip() else None for v in values]


# --- the datasets ---------------------------------------------------------------------------------

# {field: (header aliases, first as TikTok writes it; required)}
_DATE = (("Date",), True)
OVERVIEW_COLUMNS = {
    "date": _DATE,
    "views": (("Video Views", "Views"), True),  # headers are compared without case
    "profile_views": (("Profile Views",), True),
    "likes": (("Likes",), True),
    "comments": (("Comments",), True),
    "shares": (("Shares",), True),
}
FOLLOWER_COLUMNS = {
    "date": _DATE,
    "followers": (("Followers", "Total followers"), True),
    "followers_change": (("Difference in followers from previous day", "Difference in followers",
                          "Follower change", "Net followers"), False),
}
VIEWERS_COLUMNS = {
    "date": _DATE,
    "viewers": (("Total Viewers", "Viewers", "Unique viewers"), True),
    "new_viewers": (("New Viewers",), False),
    "returning_viewers": (("Returning Viewers",), False),
}
CONTENT_COLUMNS = {
    "time_label": (("Time",), False),
    "title": (("Video title", "Title", "Video description", "Caption"), True),
    "url": (("Video link", "Link", "Video URL", "URL"), True),
    "posted_at": (("Post time", "Posted time", "Posted on", "Create time", "Publish time"), False),
    "likes": (("Total likes", "Likes"), True),
    "comments": (("Total comments", "Comments"), True),
    "shares": (("Total shares", "Shares"), True),
    "views": (("Total views", "Video views", "Views"), True),
}
TERRITORY_COLUMNS = {
    "territory_name": (("Top territories", "Territory", "Territories", "Country", "Country/Region", "Region"), True),
    "share": (("Distribution", "Percentage", "Share", "Followers %"), True),
}

DAILY_SCHEMAS = {
    "overview": pa.schema([("date", pa.date32()), ("account", pa.string()), ("views", pa.int64()),
                           ("profile_views", pa.int64()), ("likes", pa.int64()), ("comments", pa.int64()),
                           ("shares", pa.int64())]),
    "follower_history": pa.schema([("date", pa.date32()), ("account", pa.string()), ("followers", pa.int64()),
                                   ("followers_change", pa.int64())]),
    "viewers": pa.schema([("date", pa.date32()), ("account", pa.string()), ("viewers", pa.int64()),
                          ("new_viewers", pa.int64()), ("returning_viewers", pa.int64())]),
}
CONTENT_SCHEMA = pa.schema([
    ("snapshot_date", pa.date32()), ("account", pa.string()), ("video_id", pa.string()), ("title", pa.string()),
    ("url", pa.string()), ("posted_at", pa.timestamp("us", tz="UTC")), ("time_label", pa.string()),
    ("views", pa.int64()), ("likes", pa.int64()), ("comments", pa.int64()), ("shares", pa.int64()),
])
TERRITORY_SCHEMA = pa.schema([
    ("snapshot_date", pa.date32()), ("account", pa.string()), ("territory", pa.string()),
    ("territory_name", pa.string()), ("share", pa.float64()),
])


def _daily_parser(export: str, spec: Mapping[str, tuple[Sequence[str], bool]]) -> Callable[[bytes, ParseContext], pd.DataFrame]:
    """A parser for one of the daily exports (a Date column plus counts)."""

    def parse(data: bytes, ctx: ParseContext) -> pd.DataFrame:
        account = _account(ctx, export)
        table = _Table(_csv_text(data, ctx, export), f"{export}.csv")
        cols = table.columns(spec)
        header, values = cols.pop("date")
        out = pd.DataFrame({"date": _daily_dates(values, table.lines, header, _export_date(ctx))})
        out["account"] = account
        for fld in spec:
            if fld != "date":
                header, values = cols.get(fld, (fld, [""] * len(table.rows)))  # an optional column absent: null
                out[fld] = _counts(values, table.lines, header)
        return out

    parse.__name__ = f"parse_{_snake(export)}"
    parse.__doc__ = f"TikTok Studio's {export}.csv (bare or zipped): one row per day and account."
    return parse


def _snake(export: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", export).lower()


parse_overview = _daily_parser("Overview", OVERVIEW_COLUMNS)
parse_follower_history = _daily_parser("FollowerHistory", FOLLOWER_COLUMNS)
parse_viewers = _daily_parser("Viewers", VIEWERS_COLUMNS)

_VIDEO_ID = re.compile(r"/(?:video|photo)/(\d+)")


def parse_content(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """Content.csv: lifetime totals per video as of the export (``snapshot_date``). The video id
    is taken from the link (``.../video/<id>``, or ``/photo/<id>`` for photo posts)."""
    account = _account(ctx, "Content")
    table = _Table(_csv_text(data, ctx, "Content"), "Content.csv")
    cols = table.columns(CONTENT_COLUMNS)
    export_day = _export_date(ctx)
    url_header, urls = cols["url"]
    ids = []
    for url, line in zip(urls, table.lines):
        m = _VIDEO_ID.search(url)
        vid = m[1] if m else url.strip() if url.strip().isdigit() else None
        if vid is None:
            raise ParseError(f"column {url_header!r}, line {line}: {url!r} is not a video link (.../video/<id>)")
        ids.append(vid)
    out = pd.DataFrame({"snapshot_date": export_day, "account": account, "video_id": ids,
                        "title": pd.Series(_strings(cols["title"][1]), dtype="string"),
                        "url": pd.Series(_strings(urls), dtype="string")})
    posted_header, posted = cols.get("posted_at", ("Post time", [""] * len(urls)))
    out["posted_at"] = pd.Series(_timestamps(posted, table.lines, posted_header, export_day), dtype="object")
    out["time_label"] = pd.Series(_strings(cols.get("time_label", ("Time", [""] * len(urls)))[1]), dtype="string")
    for fld in ("views", "likes", "comments", "shares"):
        header, values = cols[fld]
        out[fld] = _counts(values, table.lines, header)
    return out


# English names TikTok may write instead of codes; anything else is kept as written
COUNTRY_CODES = {
    "united states": "US", "united states of america": "US", "usa": "US", "united kingdom": "GB", "uk": "GB",
    "great britain": "GB", "canada": "CA", "mexico": "MX", "brazil": "BR", "argentina": "AR", "chile": "CL",
    "colombia": "CO", "peru": "PE", "venezuela": "VE", "ecuador": "EC", "guatemala": "GT", "costa rica": "CR",
    "dominican republic": "DO", "puerto rico": "PR", "germany": "DE", "france": "FR", "spain": "ES",
    "italy": "IT", "portugal": "PT", "netherlands": "NL", "belgium": "BE", "switzerland": "CH", "austria": "AT",
    "ireland": "IE", "sweden": "SE", "norway": "NO", "denmark": "DK", "finland": "FI", "poland": "PL",
    "czechia": "CZ", "czech republic": "CZ", "romania": "RO", "hungary": "HU", "greece": "GR", "ukraine": "UA",
    "russia": "RU", "turkey": "TR", "turkiye": "TR", "israel": "IL", "saudi arabia": "SA",
    "united arab emirates": "AE", "egypt": "EG", "morocco": "MA", "nigeria": "NG", "kenya": "KE",
    "south africa": "ZA", "india": "IN", "pakistan": "PK", "bangladesh": "BD", "indonesia": "ID",
    "philippines": "PH", "vietnam": "VN", "viet nam": "VN", "thailand": "TH", "malaysia": "MY",
    "singapore": "SG", "japan": "JP", "south korea": "KR", "korea": "KR", "taiwan": "TW", "hong kong": "HK",
    "china": "CN", "australia": "AU", "new zealand": "NZ",
}


def territory_code(name: str) -> str:
    """ISO 3166 alpha-2 for a territory as TikTok writes it: a code, or an English country name
    from a small table; other names (``Others``) are kept as written."""
    s = name.strip()
    if re.fullmatch(r"[A-Za-z]{2}", s):
        return s.upper()
    return COUNTRY_CODES.get(_fold(s), s)


def parse_follower_top_territories(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """FollowerTopTerritories.csv: the share of followers per territory as of the export."""
    account = _account(ctx, "FollowerTopTerritories")
    table = _Table(_csv_text(data, ctx, "FollowerTopTerritories"), "FollowerTopTerritories.csv")
    cols = table.columns(TERRITORY_COLUMNS)
    header, names = cols["territory_name"]
    for name, line in zip(names, table.lines):
        if not name.strip():
            raise ParseError(f"column {header!r}, line {line}: the territory is empty")
    share_header, shares = cols["share"]
    return pd.DataFrame({
        "snapshot_date": _export_date(ctx), "account": account, "territory": [territory_code(n) for n in names],
        "territory_name": pd.Series(names, dtype="string"), "share": _shares(shares, table.lines, share_header),
    })


# --- recognising files ----------------------------------------------------------------------------


def _first_line(head: bytes) -> bytes:
    return head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].split(b"\r", 1)[0].lower()


def _sniffer(*needles: bytes) -> Callable[[str, bytes], bool]:
    """A bare CSV (no telling name) whose header holds all ``needles``."""

    def sniff(name: str, head: bytes) -> bool:
        first = _first_line(head)
        return all(n.lower() in first for n in needles)

    return sniff


def _patterns(export: str) -> tuple[str, ...]:
    # TikTok's own download names only; a bare `Overview.csv` is too generic a name to claim, so
    # bare files are recognised by their header instead
    return (rf"^{export}_\d{{4}}-\d{{2}}-\d{{2}}_\d{{9,13}}(_.*)?\.(zip|csv)$",)


def _expectations(key: Sequence[str], not_null: Sequence[str], counts: Sequence[str] = (),
                  extra: Callable[[], list] | None = None) -> Callable[[], list]:
    def build():
        import great_expectations.expectations as gxe

        out = [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in not_null]
        # counts may be negative (platform corrections): only absurd values are refused
        out += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=-10_000_000, max_value=100_000_000_000)
                for c in counts]
        out.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(key)))
        return out + (extra() if extra else [])

    return build


def _territory_extra() -> list:
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToBeBetween(column="share", min_value=0, max_value=1)]


def _content_extra() -> list:
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToMatchRegex(column="video_id", regex=r"^\d+$")]


OVERVIEW = Dataset(
    name="overview", description="Daily video views, profile views, likes, comments and shares of an account (Overview.csv)",
    schema=DAILY_SCHEMAS["overview"], key=("date", "account"), parse=parse_overview,
    patterns=_patterns("Overview"), sniff=_sniffer(b"Video Views", b"Profile Views"),
    expectations=_expectations(("date", "account"), ("date", "account", "views"),
                               ("views", "profile_views", "likes", "comments", "shares")),
    observed_at=exported_at,
)
FOLLOWER_HISTORY = Dataset(
    name="follower_history", description="Followers of an account per day, and the change from the day before (FollowerHistory.csv)",
    schema=DAILY_SCHEMAS["follower_history"], key=("date", "account"), parse=parse_follower_history,
    patterns=_patterns("FollowerHistory"), sniff=_sniffer(b"Followers", b"Difference in followers"),
    expectations=_expectations(("date", "account"), ("date", "account"), ("followers", "followers_change")),
    observed_at=exported_at,
)
VIEWERS = Dataset(
    name="viewers", description="Unique, new and returning viewers of an account per day (Viewers.csv; documented, no real file seen)",
    schema=DAILY_SCHEMAS["viewers"], key=("date", "account"), parse=parse_viewers,
    patterns=_patterns("Viewers"), sniff=_sniffer(b"Date", b"Total Viewers"),
    expectations=_expectations(("date", "account"), ("date", "account"), ("viewers", "new_viewers", "returning_viewers")),
    observed_at=exported_at,
)
CONTENT = Dataset(
    name="content", description="Lifetime views, likes, comments and shares per video as of the export (Content.csv)",
    schema=CONTENT_SCHEMA, key=("snapshot_date", "account", "video_id"), parse=parse_content,
    patterns=_patterns("Content"), sniff=_sniffer(b"Video link", b"Total views"),
    expectations=_expectations(("snapshot_date", "account", "video_id"), ("snapshot_date", "account", "video_id"),
                               ("views", "likes", "comments", "shares"), _content_extra),
    observed_at=exported_at,
)
FOLLOWER_TOP_TERRITORIES = Dataset(
    name="follower_top_territories",
    description="Share of an account's followers per territory as of the export (FollowerTopTerritories.csv)",
    schema=TERRITORY_SCHEMA, key=("snapshot_date", "account", "territory"), parse=parse_follower_top_territories,
    patterns=_patterns("FollowerTopTerritories"), sniff=_sniffer(b"Top territories"),
    expectations=_expectations(("snapshot_date", "account", "territory"), ("snapshot_date", "account", "territory"),
                               extra=_territory_extra),
    observed_at=exported_at,
)


# --- into the conformed model ---------------------------------------------------------------------

SOCIAL_DAILY_COLUMNS = ["date", "platform", "account", "views", "profile_views", "likes", "comments", "shares",
                        "followers", "followers_change", "viewers", "new_viewers", "sha256", "observed_at"]
_DAILY_FIELDS = {
    "overview": ("views", "profile_views", "likes", "comments", "shares"),
    "follower_history": ("followers", "followers_change"),
    "viewers": ("viewers", "new_viewers"),
}


def _newest(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """One row per key: the newest export's (then the highest sha256, as the lake does)."""
    return df.sort_values(["observed_at", "sha256"], kind="stable").drop_duplicates(key, keep="last")


def _social_daily(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per date × account from the three daily exports, outer-joined: each export first
    reduced to its newest observation of the day, then merged. The row's lineage (sha256,
    observed_at) is the Overview file's when it has the day, else FollowerHistory's, else Viewers'."""
    key = ["date", "account"]
    merged = None
    for name, fields in _DAILY_FIELDS.items():
        df = frames.get(name)
        if df is None or not len(df):
            continue
        part = _newest(df, key)[key + list(fields) + ["sha256", "observed_at"]].rename(
            columns={"sha256": f"sha256_{name}", "observed_at": f"observed_at_{name}"})
        merged = part if merged is None else merged.merge(part, on=key, how="outer")
    if merged is None:
        return pd.DataFrame(columns=SOCIAL_DAILY_COLUMNS)
    sha = pd.Series(pd.NA, index=merged.index, dtype="string")
    observed = pd.Series(pd.NaT, index=merged.index, dtype="datetime64[us, UTC]")
    for name in reversed(_DAILY_FIELDS):  # the first dataset in _DAILY_FIELDS wins: it is applied last
        if f"sha256_{name}" in merged:
            has = merged[f"sha256_{name}"].notna()
            sha = sha.where(~has, merged[f"sha256_{name}"].astype("string"))
            observed = observed.where(~has, pd.to_datetime(merged[f"observed_at_{name}"], utc=True).astype(observed.dtype))
    merged = merged.assign(platform=PLATFORM, sha256=sha, observed_at=observed)
    for col in SOCIAL_DAILY_COLUMNS:
        if col not in merged:
            merged[col] = pd.NA
    return merged[SOCIAL_DAILY_COLUMNS].reset_index(drop=True)


def _social_videos(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames["content"]
    return df.assign(platform=PLATFORM)[["snapshot_date", "platform", "account", "video_id", "title", "url",
                                         "posted_at", "views", "likes", "comments", "shares", "sha256", "observed_at"]]


def _social_territories(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames["follower_top_territories"]
    return df.assign(platform=PLATFORM)[["snapshot_date", "platform", "account", "territory", "share",
                                         "sha256", "observed_at"]]


# --- sample files for the demo and tests ----------------------------------------------------------

_EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]
_ES_MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
              "octubre", "noviembre", "diciembre"]
# (account, base daily views, locale of its exports)
_SAMPLE_ACCOUNTS = (("nova.lights", 9000, "en"), ("ivy_vale", 3500, "es"))
_SAMPLE_TERRITORIES = (("United States", "US", 0.41), ("Mexico", "MX", 0.14), ("United Kingdom", "GB", 0.09),
                       ("Brazil", "BR", 0.07), ("Germany", "DE", 0.05), ("Others", "Others", 0.24))


def _day_label(d: date, locale: str) -> str:
    return f"{_EN_MONTHS[d.month - 1]} {d.day}" if locale == "en" else f"{d.day} de {_ES_MONTHS[d.month - 1]}"


def _csv_bytes(rows: list[list[str]]) -> bytes:
    """Like TikTok writes them: BOM, every value quoted, LF, no newline at the end."""
    return ("\ufeff" + "\n".join(",".join(f'"{v}"' for v in row) for row in rows)).encode("utf-8")


def _zip_bytes(member: str, payload: bytes, when: datetime) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(member, date_time=when.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, payload)
    return buf.getvalue()


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """Two accounts' exports over 365 days ending at ``end`` (crossing New Year): Overview and
    FollowerHistory zipped as TikTok hands them out, Viewers, Content and FollowerTopTerritories as
    bare CSVs named the same way. Each account has a viral spike in the last two months and a day
    of negative comments; the first also one three days before the demo's Spotify breakout; the
    second account's exports use Spanish month names."""
    rng = random.Random(seed * 31 + 4)
    end = end or date.today() - timedelta(days=2)
    out_dir.mkdir(parents=True, exist_ok=True)
    days = 365
    start = end - timedelta(days=days - 1)
    written = []
    for n, (account, base, locale) in enumerate(_SAMPLE_ACCOUNTS):
        when = datetime.combine(end + timedelta(days=1), time(10, 30 + n, 15), tzinfo=timezone.utc)
        stem = f"{start.isoformat()}_{int(when.timestamp())}_{account}"
        spike = days - 1 - rng.randint(12, 55)
        # the main account's clip that set off the Spotify breakout of the demo three days later
        # (distrokid.sample_spotify_daily breaks out on day days - 70)
        lead = days - 73
        negative = rng.randint(30, days - 80)
        overview, followers, viewers = [], [], []
        total = int(base * 2.5)
        for i in range(days):
            d = start + timedelta(days=i)
            level = base * (0.6 + 0.8 * i / days) * (1.15 if d.weekday() >= 4 else 0.95)
            if i >= spike:
                level *= 1 + 14 * 0.82 ** (i - spike)
            if n == 0 and i >= lead:
                level *= 1 + 6 * 0.8 ** (i - lead)
            views = max(0, int(rng.gauss(level, level * 0.12)))
            likes = int(views * rng.uniform(0.08, 0.13))
            comments = int(likes * rng.uniform(0.05, 0.12))
            if i == negative:
                comments = -rng.randint(1, 6)  # TikTok's corrections show up as negative days
            overview.append([_day_label(d, locale), str(views), str(int(views * rng.uniform(0.008, 0.015))),
                             str(likes), str(comments), str(int(likes * rng.uniform(0.03, 0.07)))])
            change = int(views * rng.uniform(0.002, 0.006)) - rng.randint(0, 8)
            total += change
            # the first day has no day before it: TikTok writes `undefined`
            followers.append([_day_label(d, locale), str(total), "undefined" if i == 0 else str(change)])
            unique = int(views * rng.uniform(0.55, 0.7))
            new = int(unique * rng.uniform(0.6, 0.8))
            viewers.append([_day_label(d, locale), str(unique), str(new), str(unique - new)])
        viewers[-1][1:] = ["undefined"] * 3  # the newest day is not counted yet

        ov = out_dir / f"Overview_{stem}.zip"
        ov.write_bytes(_zip_bytes("Overview.csv", _csv_bytes(
            [["Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares"], *overview]), when))
        fh = out_dir / f"FollowerHistory_{stem}.zip"
        fh.write_bytes(_zip_bytes("FollowerHistory.csv", _csv_bytes(
            [["Date", "Followers", "Difference in followers from previous day"], *followers]), when))
        vw = out_dir / f"Viewers_{stem}.csv"
        vw.write_bytes(_csv_bytes([["Date", "Total Viewers", "New Viewers", "Returning Viewers"], *viewers]))

        videos = []
        for k in range(18):
            # not within days of a year before the export: a yearless post date that old is ambiguous
            posted = min(start + timedelta(days=5 + int(k * days / 18) + rng.randint(0, 15)), end)
            age = (end - posted).days + 1
            views = int(base * rng.uniform(0.3, 2.5) * min(age, 30)) + (int(base * 9) if abs((posted - start).days - spike) < 4 else 0)
            likes = int(views * rng.uniform(0.08, 0.14))
            vid = 7300000000000000000 + rng.randrange(10**17)
            label = _day_label(posted, locale)
            videos.append([label, f"{account} clip {k + 1} #newmusic", f"https://www.tiktok.com/@{account}/video/{vid}",
                           label, str(likes), str(int(likes * 0.09)), str(int(likes * 0.05)), str(views)])
        ct = out_dir / f"Content_{stem}.csv"
        ct.write_bytes(_csv_bytes([["Time", "Video title", "Video link", "Post time", "Total likes",
                                    "Total comments", "Total shares", "Total views"], *videos]))

        # the English account gets names and percentages, the other codes and fractions
        territories = [[name if locale == "en" else code, f"{share * 100:.1f}%" if locale == "en" else f"{share:.3f}"]
                       for name, code, share in _SAMPLE_TERRITORIES]
        tt = out_dir / f"FollowerTopTerritories_{stem}.csv"
        tt.write_bytes(_csv_bytes([["Top territories", "Distribution"], *territories]))
        written += [ov, fh, vw, ct, tt]
    return written


SOURCE = Source(
    name=NAME,
    title="TikTok Studio",
    datasets=(OVERVIEW, FOLLOWER_HISTORY, VIEWERS, CONTENT, FOLLOWER_TOP_TERRITORIES),
    mappings=(
        CuratedMapping("fct_social_daily", ("overview", "follower_history", "viewers"), _social_daily),
        CuratedMapping("fct_social_videos", ("content",), _social_videos),
        CuratedMapping("fct_social_territories", ("follower_top_territories",), _social_territories),
    ),
    samples=write_samples,
    acquisition="file drop (CSV or zip downloaded from TikTok Studio)",
)
