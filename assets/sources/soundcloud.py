"""SoundCloud for Artists: the revenue export → ``fct_royalties``, the plays export →
``fct_streams_daily``.

* **revenue** (documented, FORMATS.md): a CSV whose first two rows are a preamble (the account id,
  then a report UUID), the header on row 3: ``Reporting Period, Partner, Artist(s), Release,
  Track, Country, Units, Revenue (USD), Revenue Share (%), Split Pay Share (%)``. The reporting
  period is read as ``2024-05``, ``May 2024``, ``05/2024``, a day in the month, or a range
  (``2024-05-01 - 2024-05-31``: its first day's month).
* **plays** (documented: SoundCloud's Insights count plays per track, country and day): a CSV with
  a date and a ``Plays`` column, and optionally the track, the country, listeners, likes,
  reposts, comments and downloads; preamble rows before the header are skipped. Read by
  :mod:`.dashboards` like the other artist dashboards.

Decisions (README):

* **Revenue goes to ``fct_royalties``, not ``fct_sales``.** Its lines are what streaming pays:
  units are plays, money is a per-period share (a statement line per period × partner × track ×
  country), exactly the shape of a distributor's statement, with no buyer, transaction or fee.
  In ``fct_royalties`` it counts in every revenue KPI and in revenue per stream, expected vs
  actual revenue and the markets by country. ``fct_sales`` is for purchases by a fan (Bandcamp).
  ``store`` is the partner (``SoundCloud`` when the column is empty); ``reporting_date`` is the
  period's last day (the export says nothing later), ``team_percentage`` the split pay share.
  Revenue in another currency than USD is refused (``fct_royalties`` is in USD).
* **Plays go to ``fct_streams_daily``, not the social tables.** A SoundCloud play is a listen of a
  track on a streaming service, counted and paid per play like a Spotify stream (the revenue
  export's units are plays), not a view of a post; ``platform`` is ``soundcloud``, and as
  SoundCloud's own artist dashboard it wins ``v_streams_daily`` (``stream_precedence`` 1).
  Likes, reposts, comments and downloads stay in staging.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import quality
from ..model import store_platform
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source
from .dashboards import (
    DailyFormat,
    daily_dataset,
    daily_mappings,
    read_with_header,
    sniff_header,
    territory,
)
from .parsing import (
    Column,
    counts,
    dates,
    frame,
    header_names,
    numbers,
    per_distinct,
    require_values,
    text,
)
from .samples import CATALOGUE, delimited_bytes, sample_end, sample_spotify_daily

NAME = "soundcloud"
PLATFORM = "soundcloud"

# --- revenue ------------------------------------------------------------------------------------

_REVENUE_COLUMNS = {
    "reporting_period": ("Reporting Period", "Period", "Month"),
    "partner": ("Partner", "Store", "Service"),
    "artist": ("Artist(s)", "Artists", "Artist"),
    "release": ("Release", "Release Title", "Album"),
    "track": ("Track", "Track Title", "Title"),
    "isrc": ("ISRC",),
    "upc": ("UPC",),
    "country": ("Country", "Territory"),
    "units": ("Units", "Plays", "Quantity"),
    "revenue_usd": ("Revenue (USD)", "Revenue USD", "Earnings (USD)", "Revenue"),
    "revenue_share": ("Revenue Share (%)", "Revenue Share"),
    "split_pay_share": ("Split Pay Share (%)", "Split Pay Share"),
}
_REVENUE_REQUIRED = ("reporting_period", "artist", "units", "revenue_usd")
THOUSANDS = ","

REVENUE_SCHEMA = pa.schema(
    [
        ("sale_month", pa.date32()),
        ("reporting_date", pa.date32()),
        ("partner", pa.string()),
        ("artist", pa.string()),
        ("release", pa.string()),
        ("track", pa.string()),
        ("isrc", pa.string()),
        ("upc", pa.string()),
        ("country", pa.string()),
        ("units", pa.int64()),
        ("revenue_usd", pa.float64()),
        ("revenue_share", pa.float64()),
        ("split_pay_share", pa.float64()),
        ("line_seq", pa.int64()),
    ]
)
REVENUE_KEY = ("sale_month", "partner", "artist", "release", "track", "country", "line_seq")
_OTHER_CURRENCY = re.compile(r"^revenue\s*\((?!usd\))([a-z]{3})\)$", re.IGNORECASE)


def _period_starts(col: Column) -> pa.Array:
    """The first day of each reporting period's month."""
    values = pc.utf8_trim_whitespace(col.values)
    values = pc.replace_substring_regex(values, r"\s+(?:-|–|to)\s+.*$", "")  # a range: its first day
    values = pc.replace_substring_regex(values, r"^([A-Za-z]+\.?)\s+(\d{4})$", r"1 \1 \2")  # "May 2024"
    shown = col.values.to_pylist()  # errors quote the value as the file has it
    days = dates(Column(col.name, values, col.lines, shown=shown), styles=("month", "iso", "words", "slash"))
    require_values(col, days, "no reporting period (expected like 2024-05 or May 2024)")
    return pc.floor_temporal(days.cast(pa.timestamp("s")), unit="month").cast(pa.date32())


def parse_revenue(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    what = "SoundCloud revenue export"
    table = read_with_header(data, what, [(name,) for name in _REVENUE_COLUMNS["reporting_period"]])
    for name in table.header:
        m = _OTHER_CURRENCY.match(name.strip())
        if m:
            raise ParseError(f"{what}: line {table.header_line}: column {name!r} is in {m.group(1).upper()}; "
                             "royalties are kept in USD: export the report in USD")
    table.require(*(_REVENUE_COLUMNS[c] for c in _REVENUE_REQUIRED))
    table = table.drop_totals(table.require(_REVENUE_COLUMNS["reporting_period"])[0].name)
    if not len(table):
        raise ParseError(f"{what}: a header but no lines")
    cols = {field: table.column(*aliases) for field, aliases in _REVENUE_COLUMNS.items()}
    n = len(table)
    out: dict[str, object] = {}
    months = _period_starts(cols["reporting_period"])
    out["sale_month"] = months
    ends = pd.to_datetime(pd.Series(months.to_pandas())) + pd.offsets.MonthEnd(0)
    out["reporting_date"] = pa.array(ends.dt.date, pa.date32())
    for field in ("partner", "artist", "release", "track", "isrc", "upc"):
        out[field] = text(cols[field]) if cols[field] is not None else pa.nulls(n, pa.string())
    if cols["partner"] is None:
        out["partner"] = "SoundCloud"
    else:
        out["partner"] = pc.fill_null(out["partner"], "SoundCloud")
    require_values(cols["artist"], out["artist"], "the artist is empty")
    out["country"] = (per_distinct(text(cols["country"]), territory) if cols["country"] is not None
                      else pa.nulls(n, pa.string()))
    out["units"] = counts(cols["units"], thousands=THOUSANDS, point_zero=True)
    for field in ("revenue_usd", "revenue_share", "split_pay_share"):
        col = cols[field]
        out[field] = (numbers(col, thousands=THOUSANDS, percent=field != "revenue_usd", currency=field == "revenue_usd")
                      if col is not None else pa.nulls(n, pa.float64()))
    df = frame(out, n)
    identity = [c for c in REVENUE_KEY if c != "line_seq"]
    df["line_seq"] = df.fillna({c: "" for c in ("release", "track", "country")}).groupby(
        identity, dropna=False, sort=False).cumcount() + 1
    return df[REVENUE_SCHEMA.names]


def _sniff_revenue(name: str, head: bytes) -> bool:
    header = set(header_names(head, header=("Reporting Period",)))
    return {"reporting period", "partner", "units"} <= header


REVENUE = Dataset(
    name="revenue",
    description="Revenue per reporting period × partner × track × country (CSV, two preamble rows)",
    schema=REVENUE_SCHEMA,
    key=REVENUE_KEY,
    parse=parse_revenue,
    patterns=(r"soundcloud[^/]*revenue[^/]*\.(csv|txt)$", r"revenue[^/]*soundcloud[^/]*\.(csv|txt)$"),
    sniff=_sniff_revenue,
    expectations=quality.suite(
        key=REVENUE_KEY,
        not_null=("sale_month", "reporting_date", "partner", "artist", "units", "revenue_usd"),
        between={"revenue_usd": (-10_000, 1_000_000), "units": (-10_000_000, quality.COUNT[1]),
                 "split_pay_share": (0, 100), "revenue_share": (0, 100)},
        regex={"country": r"^[A-Z]{2}$"},
        mostly={"country": 0.99},
    ),
)

# --- plays --------------------------------------------------------------------------------------

PLAYS_FORMAT = DailyFormat(
    platform=PLATFORM,
    what="SoundCloud plays export",
    columns={
        "date": ("Date", "Day"),
        "streams": ("Plays", "Play Count", "Streams"),
        "listeners": ("Listeners", "Unique Listeners"),
        "likes": ("Likes",),
        "reposts": ("Reposts",),
        "comments": ("Comments",),
        "downloads": ("Downloads",),
        "track": ("Track", "Track Title", "Title"),
        "isrc": ("ISRC",),
        "artist": ("Artist", "Artist(s)", "Artists"),
        "country": ("Country", "Territory"),
    },
    name_token=r"soundcloud",
)


def _sniff_plays(name: str, head: bytes) -> bool:
    return sniff_header(head, PLAYS_FORMAT, [("Plays",), ("Reposts", "Likes")])


PLAYS = daily_dataset(
    "plays",
    "Daily plays of an artist's tracks, per track and/or country (Insights export, CSV)",
    PLAYS_FORMAT,
    patterns=(r"soundcloud[^/]*plays[^/]*\.(csv|txt)$", r"plays[^/]*soundcloud[^/]*\.(csv|txt)$"),
    sniff=_sniff_plays,
)


# --- into the conformed model -------------------------------------------------------------------


def _royalties(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames["revenue"]
    return pd.DataFrame({
        "reporting_date": df["reporting_date"], "sale_month": df["sale_month"], "store": df["partner"],
        "platform": df["partner"].map(store_platform),
        "artist": df["artist"], "title": df["track"].fillna(df["release"]), "isrc": df["isrc"], "upc": df["upc"],
        "country": df["country"], "quantity": df["units"], "earnings_usd": df["revenue_usd"],
        "team_percentage": df["split_pay_share"], "item_type": df["track"].notna().map({True: "Song", False: "Album"}),
        "line_seq": df["line_seq"], "sha256": df["sha256"], "observed_at": df["observed_at"],
    })


# --- sample files for the demo and tests --------------------------------------------------------


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """Nova Lights' plays per track and day over 120 days (≈ 5 % of the demo's Spotify series)
    behind an account line, and six months of revenue with the two preamble rows."""
    rng = random.Random(seed + 701)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    songs = [(title, isrc) for artist, title, isrc, _ in CATALOGUE if artist == "Nova Lights"]
    rows = [["Date", "Track", "Plays", "Likes", "Reposts", "Comments", "Downloads"]]
    monthly: dict[tuple[date, str], int] = {}
    for day, spotify in sample_spotify_daily(seed, end)[-120:]:
        for (title, _), share in zip(songs, (0.5, 0.3, 0.2)):
            plays = max(0, int(spotify * 0.05 * share * rng.uniform(0.7, 1.3)))
            monthly[(day.replace(day=1), title)] = monthly.get((day.replace(day=1), title), 0) + plays
            rows.append([day.isoformat(), title, plays, int(plays * 0.04), int(plays * 0.01), rng.randint(0, 1),
                         rng.randint(0, 2)])
    plays = out_dir / "Nova Lights_soundcloud_plays.csv"
    plays.write_bytes(delimited_bytes(rows, preamble=["Account,nova-lights", ""]))

    header = ["Reporting Period", "Partner", "Artist(s)", "Release", "Track", "Country", "Units", "Revenue (USD)",
              "Revenue Share (%)", "Split Pay Share (%)"]
    lines = []
    months = sorted({m for m, _ in monthly})[:-1]  # the current month is not reported yet
    for month in months:
        for title, _ in songs:
            units = monthly.get((month, title), 0)
            for country, share in (("US", 0.6), ("DE", 0.25), ("GB", 0.15)):
                q = int(units * share)
                lines.append([month.strftime("%Y-%m"), "SoundCloud", "Nova Lights", "Midnight Arcade", title, country,
                              q, f"{q * 0.0025:.6f}", "55", "100"])
    revenue = out_dir / f"soundcloud_revenue_{end + timedelta(days=3):%Y%m%d}.csv"
    revenue.write_bytes(delimited_bytes([header] + lines, preamble=[
        "Account ID,4242424", "Report ID,3f1c9a2e-6b1d-4c55-9a1e-0c7d5e8b2f10"]))
    return [plays, revenue]


SOURCE = Source(
    name=NAME,
    title="SoundCloud for Artists",
    datasets=(REVENUE, PLAYS),
    mappings=(
        CuratedMapping("fct_royalties", ("revenue",), _royalties),
        *daily_mappings(PLATFORM, "plays"),
    ),
    samples=write_samples,
    acquisition="file drop (revenue and plays CSV exports; shapes documented, not seen)",
    stream_precedence=1,
)
