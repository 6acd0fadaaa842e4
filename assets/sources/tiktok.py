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

import io
import random
import re
import zipfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable, Mapping, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source
from .parsing import (
    ALL_DATE_STYLES,
    Column,
    Delimited,
    counts,
    decimal_mark,
    decode,
    fold,
    frame,
    numbers,
    per_distinct,
    read_delimited,
    require_values,
    text,
    timestamps,
    yearless_dates,
)
from .samples import SPOTIFY_BREAKOUT, delimited_bytes, sample_end, zip_bytes

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
        return decode(data)
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
        return decode(raw)
    except ParseError as exc:
        raise ParseError(f"{member} in the zip: {exc}") from None


def _table(data: bytes, ctx: ParseContext, export: str, spec: Mapping[str, tuple[Sequence[str], bool]]
           ) -> tuple[Delimited, dict[str, Column]]:
    """The export's rows (no "Total" row: it sums the days) and the columns of ``spec``
    ({field: (header aliases, required)}) the header has."""
    table = read_delimited(_csv_text(data, ctx, export), f"{export}.csv").drop_totals(0)
    found = {fld: table.column(*aliases) for fld, (aliases, _) in spec.items()}
    missing = [aliases[0] for fld, (aliases, required) in spec.items() if required and found[fld] is None]
    if missing:
        raise table.missing(missing, known=sum(c is not None for c in found.values()))
    if not len(table):
        raise ParseError(f"{table.what}: the file has a header but no data rows")
    return table, {fld: col for fld, col in found.items() if col is not None}


# TikTok writes counts in the account's locale: 1,234 / 1.234 / 1 234 / 1'234 all mean 1234 (a
# count is never a fraction, so "1,5" is refused), and at times 312.0 for 312
THOUSANDS = "any"
# every date style and language TikTok has used, decided per file (see parsing.dates)
DATE_STYLES = ALL_DATE_STYLES


def _counts(col: Column | None, rows: int) -> pa.Array:
    return counts(col, thousands=THOUSANDS, point_zero=True) if col is not None else pa.nulls(rows, pa.int64())


_SHARE = "a share (like 23.5% or 0.235)"


def _shares(col: Column) -> pa.Array:
    """Shares of a whole, 0..1: ``23.5%`` and ``23,5 %`` are percentages; bare numbers are
    fractions (``0.235``) unless one of the column's bare numbers is over 1, then all are
    percentages."""
    values = pc.utf8_trim_whitespace(col.values)
    percent = pc.fill_null(pc.ends_with(values, "%"), False)
    number = numbers(col, decimal=decimal_mark([col]), percent=True, noun=_SHARE)
    negative = pc.fill_null(pc.less(number, 0), False).to_numpy(zero_copy_only=False)
    if negative.any():
        raise col.error(int(negative.nonzero()[0][0]), f"is not {_SHARE}")
    bare_over_one = pc.any(pc.and_(pc.invert(percent), pc.greater(number, 1))).as_py()
    share = pc.if_else(pc.or_(percent, pa.scalar(bool(bare_over_one))), pc.divide(number, 100.0), number)
    whole = pc.fill_null(pc.greater(share, 1.000001), False).to_numpy(zero_copy_only=False)
    if whole.any():
        raise col.error(int(whole.nonzero()[0][0]), "is more than the whole")
    return share


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
        table, cols = _table(data, ctx, export, spec)
        out = {"date": yearless_dates(cols["date"], _export_date(ctx), styles=DATE_STYLES), "account": account}
        for fld in spec:
            if fld != "date":
                out[fld] = _counts(cols.get(fld), len(table))  # an optional column absent: null
        return frame(out, len(table))

    parse.__name__ = f"parse_{_snake(export)}"
    parse.__doc__ = f"TikTok Studio's {export}.csv (bare or zipped): one row per day and account."
    return parse


def _snake(export: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", export).lower()


parse_overview = _daily_parser("Overview", OVERVIEW_COLUMNS)
parse_follower_history = _daily_parser("FollowerHistory", FOLLOWER_COLUMNS)
parse_viewers = _daily_parser("Viewers", VIEWERS_COLUMNS)


def parse_content(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """Content.csv: lifetime totals per video as of the export (``snapshot_date``). The video id
    is taken from the link (``.../video/<id>``, or ``/photo/<id>`` for photo posts)."""
    account = _account(ctx, "Content")
    table, cols = _table(data, ctx, "Content", CONTENT_COLUMNS)
    export_day = _export_date(ctx)
    link = cols["url"]
    from_link = pc.extract_regex(link.values, r"/(?:video|photo)/(?P<id>\d+)")
    bare = pc.match_substring_regex(link.values, r"^\d+$")
    ids = pc.if_else(from_link.is_valid(), from_link.field("id"),
                     pc.if_else(bare, link.values, pa.scalar(None, pa.string())))
    missing = pc.is_null(ids)
    if pc.any(missing).as_py():
        raise link.error(pc.index(missing, True).as_py(), "is not a video link (.../video/<id>)")
    n = len(table)
    posted, label = cols.get("posted_at"), cols.get("time_label")
    return frame({
        "snapshot_date": export_day, "account": account, "video_id": ids, "title": text(cols["title"]),
        "url": text(link),
        # a post time without a year is the latest such day on or before the export (no slack: the
        # videos of a 365-day window start on the export day's date a year before)
        "posted_at": timestamps(posted, styles=(*DATE_STYLES, "epoch"), export_day=export_day)
        if posted else pa.nulls(n, pa.timestamp("us", tz="UTC")),
        "time_label": text(label) if label else pa.nulls(n, pa.string()),
        **{fld: _counts(cols[fld], n) for fld in ("views", "likes", "comments", "shares")},
    }, n)


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
    return COUNTRY_CODES.get(fold(s), s)


def parse_follower_top_territories(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """FollowerTopTerritories.csv: the share of followers per territory as of the export."""
    account = _account(ctx, "FollowerTopTerritories")
    table, cols = _table(data, ctx, "FollowerTopTerritories", TERRITORY_COLUMNS)
    names = text(cols["territory_name"])
    require_values(cols["territory_name"], names, "the territory is empty")
    return frame({
        "snapshot_date": _export_date(ctx), "account": account, "territory": per_distinct(names, territory_code),
        "territory_name": names, "share": _shares(cols["share"]),
    }, len(table))


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


# counts may be negative (platform corrections): only absurd values are refused
_COUNT = (-10_000_000, 100_000_000_000)


def _suite(key: tuple[str, ...], not_null: tuple[str, ...], counted: tuple[str, ...] = (), *,
           between: Mapping[str, tuple[float, float]] | None = None, regex: Mapping[str, str] | None = None):
    return quality.suite(key=key, not_null=not_null, between={**{c: _COUNT for c in counted}, **(between or {})},
                         regex=regex)


OVERVIEW = Dataset(
    name="overview", description="Daily video views, profile views, likes, comments and shares of an account (Overview.csv)",
    schema=DAILY_SCHEMAS["overview"], key=("date", "account"), parse=parse_overview,
    patterns=_patterns("Overview"), sniff=_sniffer(b"Video Views", b"Profile Views"),
    expectations=_suite(("date", "account"), ("date", "account", "views"),
                        ("views", "profile_views", "likes", "comments", "shares")),
    observed_at=exported_at,
)
FOLLOWER_HISTORY = Dataset(
    name="follower_history", description="Followers of an account per day, and the change from the day before (FollowerHistory.csv)",
    schema=DAILY_SCHEMAS["follower_history"], key=("date", "account"), parse=parse_follower_history,
    patterns=_patterns("FollowerHistory"), sniff=_sniffer(b"Followers", b"Difference in followers"),
    expectations=_suite(("date", "account"), ("date", "account"), ("followers", "followers_change")),
    observed_at=exported_at,
)
VIEWERS = Dataset(
    name="viewers", description="Unique, new and returning viewers of an account per day (Viewers.csv; documented, no real file seen)",
    schema=DAILY_SCHEMAS["viewers"], key=("date", "account"), parse=parse_viewers,
    patterns=_patterns("Viewers"), sniff=_sniffer(b"Date", b"Total Viewers"),
    expectations=_suite(("date", "account"), ("date", "account"), ("viewers", "new_viewers", "returning_viewers")),
    observed_at=exported_at,
)
CONTENT = Dataset(
    name="content", description="Lifetime views, likes, comments and shares per video as of the export (Content.csv)",
    schema=CONTENT_SCHEMA, key=("snapshot_date", "account", "video_id"), parse=parse_content,
    patterns=_patterns("Content"), sniff=_sniffer(b"Video link", b"Total views"),
    expectations=_suite(("snapshot_date", "account", "video_id"), ("snapshot_date", "account", "video_id"),
                        ("views", "likes", "comments", "shares"), regex={"video_id": r"^\d+$"}),
    observed_at=exported_at,
)
FOLLOWER_TOP_TERRITORIES = Dataset(
    name="follower_top_territories",
    description="Share of an account's followers per territory as of the export (FollowerTopTerritories.csv)",
    schema=TERRITORY_SCHEMA, key=("snapshot_date", "account", "territory"), parse=parse_follower_top_territories,
    patterns=_patterns("FollowerTopTerritories"), sniff=_sniffer(b"Top territories"),
    expectations=_suite(("snapshot_date", "account", "territory"), ("snapshot_date", "account", "territory"),
                        between={"share": (0, 1)}),
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


def _social_posts(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames["content"].rename(columns={"snapshot_date": "date", "video_id": "post_id"})
    return df.assign(platform=PLATFORM, period="lifetime", post_type="video")[
        ["date", "period", "platform", "account", "post_id", "post_type", "title", "url", "posted_at", "views",
         "likes", "comments", "shares", "sha256", "observed_at"]]


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
    return delimited_bytes(rows, quote_all=True, bom=True, final_newline=False)


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """Two accounts' exports over 365 days ending at ``end`` (crossing New Year): Overview and
    FollowerHistory zipped as TikTok hands them out, Viewers, Content and FollowerTopTerritories as
    bare CSVs named the same way. Each account has a viral spike in the last two months and a day
    of negative comments; the first also one three days before the demo's Spotify breakout; the
    second account's exports use Spanish month names."""
    rng = random.Random(seed * 31 + 4)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    days = 365
    start = end - timedelta(days=days - 1)
    written = []
    for n, (account, base, locale) in enumerate(_SAMPLE_ACCOUNTS):
        when = datetime.combine(end + timedelta(days=1), time(10, 30 + n, 15), tzinfo=timezone.utc)
        stem = f"{start.isoformat()}_{int(when.timestamp())}_{account}"
        spike = days - 1 - rng.randint(12, 55)
        # the main account's clip that set off the Spotify breakout of the demo three days later
        # (samples.sample_spotify_daily breaks out SPOTIFY_BREAKOUT days before its end)
        lead = days - SPOTIFY_BREAKOUT - 3
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
        ov.write_bytes(zip_bytes("Overview.csv", _csv_bytes(
            [["Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares"], *overview]), when))
        fh = out_dir / f"FollowerHistory_{stem}.zip"
        fh.write_bytes(zip_bytes("FollowerHistory.csv", _csv_bytes(
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
        CuratedMapping("fct_social_posts", ("content",), _social_posts),
        CuratedMapping("fct_social_territories", ("follower_top_territories",), _social_territories),
    ),
    samples=write_samples,
    acquisition="file drop (CSV or zip downloaded from TikTok Studio), or its browser extractor (soundlake extract tiktok: Overview and Followers exports)",
)
