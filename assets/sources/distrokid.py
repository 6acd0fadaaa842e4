"""DistroKid: bank-details royalty statements (TSV) and the saved stats pages (HTML).

Formats (see FORMATS.md): the TSV has CR-only line endings, two header variants, and some files
need ISO-8859-1. The streams stats page holds four amCharts series (`trend365day`, `trend60day`,
`trendWeekly`, `trendMonthly`); the Apple Music page a `var chartData = {...}` object. Both pages
carry the account holder's profile (`var me = {...}`): the parsers read only the chart data, so
the profile never leaves raw.
"""

from __future__ import annotations

import html
import json
import random
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import quality
from ..model import store_platform
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source
from .parsing import (
    Column,
    counts,
    dates,
    decode,
    frame,
    json_column,
    numbers,
    read_delimited,
    require_values,
    text,
)
from .samples import CATALOGUE, delimited_bytes, name_stamp, sample_end, sample_spotify_daily

NAME = "distrokid"

# --- bank details -------------------------------------------------------------------------------

# staging column -> the header names DistroKid has used for it (two header variants)
_BANK_COLUMNS = {
    "reporting_date": ("Reporting Date",),
    "sale_month": ("Sale Month", "Sale Month (YYYY-MM)"),
    "store": ("Store",),
    "artist": ("Artist",),
    "title": ("Title",),
    "isrc": ("ISRC",),
    "upc": ("UPC",),
    "quantity": ("Quantity",),
    "team_percentage": ("Team Percentage",),
    "item_type": ("Song/Album",),
    "country": ("Country of Sale",),
    "songwriter_royalties_withheld_usd": ("Songwriter Royalties Withheld", "Songwriter Royalties Withheld (USD)"),
    "earnings_usd": ("Earnings (USD)",),
    "date_inserted": ("Date Inserted",),
    "source_type": ("Source Type",),
    "recoup_usd": ("Recoup (USD)",),
}
_BANK_REQUIRED = ("reporting_date", "sale_month", "store", "artist", "title", "quantity", "country", "earnings_usd")
# DistroKid's numbers: a decimal point, "," grouping thousands if any; quantities are whole,
# and a spreadsheet's "12.0" is 12
THOUSANDS = ","

BANK_SCHEMA = pa.schema(
    [
        ("reporting_date", pa.date32()),
        ("sale_month", pa.date32()),
        ("store", pa.string()),
        ("artist", pa.string()),
        ("title", pa.string()),
        ("isrc", pa.string()),
        ("upc", pa.string()),
        ("quantity", pa.int64()),
        ("team_percentage", pa.float64()),
        ("item_type", pa.string()),
        ("country", pa.string()),
        ("songwriter_royalties_withheld_usd", pa.float64()),
        ("earnings_usd", pa.float64()),
        ("recoup_usd", pa.float64()),
        ("date_inserted", pa.date32()),
        ("source_type", pa.string()),
        ("line_seq", pa.int64()),
    ]
)
BANK_KEY = ("reporting_date", "sale_month", "store", "artist", "title", "isrc", "upc", "country", "item_type", "line_seq")


def parse_bank_details(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    table = read_delimited(data, "bank details TSV", sep="\t")
    table.require(*(_BANK_COLUMNS[c] for c in _BANK_REQUIRED))
    cols = {field: table.column(*aliases) for field, aliases in _BANK_COLUMNS.items()}
    out: dict[str, pa.Array] = {}
    for field in BANK_SCHEMA.names[:-1]:  # line_seq comes last, from the others
        col, kind = cols[field], BANK_SCHEMA.field(field).type
        if col is None:
            out[field] = pa.nulls(len(table), kind)
        elif field in ("reporting_date", "date_inserted"):
            out[field] = dates(col, styles=("iso", "slash"))
        elif field == "sale_month":
            out[field] = dates(col, styles=("month", "iso"))
        elif field == "quantity":
            out[field] = counts(col, thousands=THOUSANDS, point_zero=True)
        elif pa.types.is_floating(kind):
            out[field] = numbers(col, thousands=THOUSANDS)
        else:
            out[field] = text(col)
    require_values(cols["store"], out["store"], "the store is empty")
    for field in ("reporting_date", "sale_month"):
        require_values(cols[field], out[field], "no date")
    df = frame(out)
    # identical lines of one statement (DistroKid repeats them) stay apart, numbered in file order
    identity = [c for c in BANK_KEY if c != "line_seq"]
    df["line_seq"] = df.fillna({c: "" for c in ("isrc", "upc", "item_type")}).groupby(
        identity, dropna=False, sort=False
    ).cumcount() + 1
    return df


# --- stats pages ---------------------------------------------------------------------------------

STREAMS_SERIES = {"trend365day": "day", "trend60day": "day", "trendWeekly": "week", "trendMonthly": "month"}

STREAMS_SCHEMA = pa.schema(
    [
        ("series", pa.string()),
        ("period", pa.string()),
        ("date", pa.date32()),
        ("streams", pa.int64()),
        ("store_label", pa.string()),
        ("platform", pa.string()),
    ]
)

_DECODER = json.JSONDecoder()


def _json_after(text: str, pos: int, what: str):
    """The JSON value (array or object) that starts at the first ``[`` or ``{`` after ``pos``."""
    starts = [i for i in (text.find("[", pos), text.find("{", pos)) if i >= 0]
    if not starts:
        raise ParseError(f"{what}: no data after it")
    try:
        value, _ = _DECODER.raw_decode(text, min(starts))
    except json.JSONDecodeError as exc:
        raise ParseError(f"{what}: the chart data is not valid JSON ({exc.msg} at offset {exc.pos})") from None
    return value


def _selected_store(text: str) -> str | None:
    """The store the page says its streams series is for (the selected streams/downloads option)."""
    m = re.search(r'<select[^>]*id="trendingDownloadsorStreams"[^>]*>(.*?)</select>', text, re.S)
    if not m:
        return None
    opt = re.search(r"<option[^>]*\bselected\b[^>]*>(.*?)</option>", m.group(1), re.S)
    return html.unescape(opt.group(1)).strip() if opt else None


def _points(points: object, series: str, fields: tuple[str, str]) -> tuple[Column, Column]:
    """A chart's ``dataProvider`` as two columns (its category/field and its value)."""
    if not isinstance(points, list):
        raise ParseError(f"chart {series!r}: dataProvider is not a list")
    for i, point in enumerate(points, start=1):
        if not isinstance(point, dict):
            raise ParseError(f"chart {series!r}, point {i}: not an object")
    return tuple(json_column(f"{series}.{name}", [p.get(name) for p in points]) for name in fields)


def parse_streams_stats(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    page = decode(data)
    store = _selected_store(page)
    platform = store_platform(store) if store else "all"
    if platform == "unknown":
        platform = "all"
    charts = []
    for series, period in STREAMS_SERIES.items():
        m = re.search(r'AmCharts\.makeChart\(\s*"' + series + r'"', page)
        if not m:
            continue
        dp = page.find('"dataProvider"', m.end())
        if dp < 0:
            raise ParseError(f"chart {series!r} has no dataProvider")
        category, value = _points(_json_after(page, dp + len('"dataProvider"'), f"chart {series!r}"), series,
                                  ("category", "column-1"))
        charts.append(frame({"series": series, "period": period, "date": dates(category),
                             "streams": counts(value, thousands=THOUSANDS, point_zero=True)}, len(category)))
    if not charts:
        raise ParseError(
            "no streams chart found (expected AmCharts.makeChart(\"trend365day\", ...)); "
            "save the DistroKid stats page completely, with its scripts"
        )
    if not any(f["series"].iloc[0] == "trend365day" for f in charts if len(f)):
        raise ParseError("the daily chart 'trend365day' is missing or empty")
    out = pd.concat(charts, ignore_index=True)
    out["store_label"] = store
    out["platform"] = platform
    return out


APPLE_SCHEMA = pa.schema(
    [
        ("series", pa.string()),
        ("period", pa.string()),
        ("date", pa.date32()),
        ("label", pa.string()),
        ("item_id", pa.int64()),
        ("value", pa.int64()),
    ]
)


def _week_starts(weeks: Column) -> pa.Array:
    """``"36/24"``: the Monday-first week 36 of 2024 (MySQL's WEEK mode 1, weeks 0..53) as its
    first day; a week split by New Year starts on Jan 1."""
    parts = pc.extract_regex(pc.utf8_trim_whitespace(weeks.values), r"^(?P<week>\d{1,2})/(?P<year>\d{2})$")
    valid = pc.fill_null(parts.is_valid(), False)
    ok = np.asarray(valid.to_numpy(zero_copy_only=False), dtype=bool)

    def number(name: str) -> np.ndarray:
        return np.asarray(pc.if_else(valid, parts.field(name), pa.scalar("0")).cast(pa.int64()).to_numpy())

    week, year = number("week"), 2000 + number("year")
    jan1 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    jan4 = jan1 + 3
    first_monday = jan4 - (jan4 + 3) % 7  # 1970-01-01 was a Thursday
    start = first_monday + (week - 1) * 7
    next_year = (year + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    bad = ~ok | (week > 53) | (start >= next_year)
    if bad.any():
        raise weeks.error(int(np.flatnonzero(bad)[0]), "is not a week like '36/24'")
    return pa.array(np.maximum(start, jan1).astype("int32")).cast(pa.date32())


def _month_starts(months: Column) -> pa.Array:
    """``"09-24"``: September 2024, as its first day."""
    iso = pc.replace_substring_regex(pc.utf8_trim_whitespace(months.values), r"^(\d{1,2})-(\d{2})$", r"20\2-\1")
    return dates(Column(months.name, iso, where=months.where, shown=months.shown), styles=("month",))


_APPLE_PERIOD = {"last365days": "day", "byWeek": "week", "byMonth": "month"}
_APPLE_DATES = {"last365days": dates, "byWeek": _week_starts, "byMonth": _month_starts}


def parse_applemusic_stats(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    page = decode(data)
    m = re.search(r"var\s+chartData\s*=", page)
    if not m:
        raise ParseError(
            "no Apple Music chart data found (expected 'var chartData = {...}'); "
            "save the DistroKid Apple Music stats page completely, with its scripts"
        )
    charts = _json_after(page, m.end(), "var chartData")
    if not isinstance(charts, dict) or "last365days" not in charts:
        raise ParseError("var chartData has no 'last365days' series")
    parts = []
    for series, chart in charts.items():
        if not isinstance(chart, dict):
            continue
        points = chart.get("dataProvider") or []
        field, value = _points(points, series, ("field", "value"))
        item_id = _points(points, series, ("id", "value"))[0]
        day = _APPLE_DATES[series](field) if series in _APPLE_DATES else pa.nulls(len(field), pa.date32())
        parts.append(frame({
            "series": series, "period": _APPLE_PERIOD.get(series, "year"), "date": day,
            "label": text(field) if series not in _APPLE_DATES else pa.nulls(len(field), pa.string()),
            "item_id": counts(item_id, thousands=None), "value": counts(value, thousands=THOUSANDS, point_zero=True),
        }, len(field)))
    return pd.concat(parts, ignore_index=True)[APPLE_SCHEMA.names]


# --- recognising files ---------------------------------------------------------------------------


def _sniff_bank(name: str, head: bytes) -> bool:
    first = head.split(b"\r", 1)[0].split(b"\n", 1)[0]
    return b"Reporting Date\t" in first and b"Earnings (USD)" in first


def _sniff_streams(name: str, head: bytes) -> bool:
    return b'AmCharts.makeChart("trend365day"' in head or (b"distrokid" in head.lower() and b"trend365day" in head)


def _sniff_apple(name: str, head: bytes) -> bool:
    return b"var chartData" in head and b"last365days" in head


def _series_suite(value: str, key: tuple[str, ...]):
    return quality.suite(key=key, not_null=("series", value), between={value: quality.COUNT})


BANK_DETAILS = Dataset(
    name="bank_details",
    description="Royalty statement lines (Bank → Details → Export, TSV)",
    schema=BANK_SCHEMA,
    key=BANK_KEY,
    parse=parse_bank_details,
    patterns=(r"bank_?details.*\.(tsv|txt|csv)$", r"^dk_.*\.tsv$"),
    sniff=_sniff_bank,
    expectations=quality.suite(
        key=BANK_KEY,
        not_null=("reporting_date", "sale_month", "store", "quantity", "earnings_usd"),
        regex={"country": r"^[A-Z]{2}$"},
        between={"earnings_usd": (-10_000, 1_000_000), "team_percentage": (0, 100)},
        mostly={"country": 0.99},
    ),
)
STREAMS_STATS = Dataset(
    name="streams_stats",
    description="The stats page's streams charts: daily (365 and 60 days), weekly and monthly",
    schema=STREAMS_SCHEMA,
    key=("series", "date"),
    parse=parse_streams_stats,
    patterns=(r"streams?_stats.*\.html?$",),
    sniff=_sniff_streams,
    expectations=_series_suite("streams", ("series", "date")),
)
APPLEMUSIC_STATS = Dataset(
    name="applemusic_stats",
    description="The Apple Music stats page: daily, weekly, monthly, country, track and audience series",
    schema=APPLE_SCHEMA,
    key=("series", "date", "label"),
    parse=parse_applemusic_stats,
    patterns=(r"apple_?music_stats.*\.html?$",),
    sniff=_sniff_apple,
    expectations=_series_suite("value", ("series", "date", "label")),
)


# --- into the conformed model --------------------------------------------------------------------


def _royalties(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames["bank_details"].copy()
    df["platform"] = df["store"].map(store_platform)
    return df


def _streams_daily(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    streams = frames.get("streams_stats")
    if streams is not None and len(streams):
        daily = streams[streams["series"] == "trend365day"]
        parts.append(daily.assign(artist=None, track=None, isrc=None, listeners=pd.NA)[
            ["date", "platform", "artist", "track", "isrc", "streams", "listeners", "sha256", "observed_at"]
        ])
    apple = frames.get("applemusic_stats")
    if apple is not None and len(apple):
        daily = apple[apple["series"] == "last365days"]
        parts.append(
            daily.assign(platform="apple_music", artist=None, track=None, isrc=None, listeners=pd.NA)
            .rename(columns={"value": "streams"})[
                ["date", "platform", "artist", "track", "isrc", "streams", "listeners", "sha256", "observed_at"]
            ]
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


TOTALS_COLUMNS = ["period_start", "period_end", "period", "platform", "artist", "dimension", "item", "isrc",
                  "streams", "sha256", "observed_at"]
_APPLE_BREAKDOWNS = {"tracks1year": "track", "country1year": "country"}


def _streams_totals(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The Apple Music page's one-year charts by track and by country. The page does not say
    which days its "1 year" covers: the 365 days up to the day before the page was saved."""
    apple = frames.get("applemusic_stats")
    if apple is None or not len(apple):
        return pd.DataFrame(columns=TOTALS_COLUMNS)
    rows = apple[apple["series"].isin(list(_APPLE_BREAKDOWNS))].copy()
    end = pd.to_datetime(rows["observed_at"], utc=True).dt.date - timedelta(days=1)
    rows = rows.assign(
        period_end=end, period_start=end - timedelta(days=364), period="1year", platform="apple_music",
        artist=None, dimension=rows["series"].map(_APPLE_BREAKDOWNS), item=rows["label"], isrc=None,
        streams=rows["value"],
    )
    return rows[TOTALS_COLUMNS]


# --- sample files for the demo and tests ---------------------------------------------------------

_SAMPLE_STORES = [
    ("Spotify", 0.0036, 60), ("Apple Music", 0.0068, 8), ("YouTube (Red)", 0.0069, 5),
    ("YouTube (Ads)", 0.0015, 6), ("Amazon Unlimited (Streaming)", 0.0081, 2), ("Deezer", 0.0028, 1),
    ("Tidal", 0.0098, 1), ("TikTok", 0.0011, 3), ("Facebook", 0.0001, 1),
]
_SAMPLE_COUNTRIES = ["US", "US", "US", "GB", "DE", "CA", "MX", "BR", "FR", "AU", "SE", "NL"]


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    rng = random.Random(seed)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = name_stamp(end + timedelta(days=2))

    rows = [["Reporting Date", "Sale Month", "Store", "Artist", "Title", "ISRC", "UPC", "Quantity", "Team Percentage",
             "Song/Album", "Country of Sale", "Songwriter Royalties Withheld", "Earnings (USD)"]]
    # Twelve sale months, each reported 62-82 days after it starts (as DistroKid does, about two
    # months late): the newest is three months before `end`'s, so no line is reported after `end`.
    # Spotify's quantities split the month's streams of the daily series (the DistroKid streams
    # page draws from it too), so statements and daily streams agree as real ones roughly do.
    spotify_by_month: dict[date, int] = {}
    for day, streams in sample_spotify_daily(seed, end):
        spotify_by_month[day.replace(day=1)] = spotify_by_month.get(day.replace(day=1), 0) + streams
    for months_back in range(14, 2, -1):
        index = end.year * 12 + end.month - 1 - months_back
        sale = date(index // 12, index % 12 + 1, 1)
        reported = sale + timedelta(days=62 + rng.randint(0, 20))
        month_streams = spotify_by_month.get(sale) if sale >= end - timedelta(days=364) else None
        for artist, title, isrc, upc in CATALOGUE:
            for store, rate, weight in _SAMPLE_STORES:
                for country in rng.sample(_SAMPLE_COUNTRIES, k=3):
                    qty = max(1, int(rng.expovariate(1 / (weight * 4 * (15 - months_back)))))
                    if store == "Spotify" and month_streams:  # a share of the month's streams
                        qty = max(1, int(month_streams / (len(CATALOGUE) * 3) * rng.uniform(0.7, 1.3)))
                    rows.append([reported.isoformat(), sale.strftime("%Y-%m"), store, artist, title, isrc, upc,
                                 str(qty), "100", "Song", country, "0", f"{qty * rate:.8f}"])
    bank = out_dir / f"dk_bank_details_{stamp}.tsv"
    bank.write_bytes(delimited_bytes(rows, sep="\t", newline="\r", final_newline=False))  # CR-only, as DistroKid writes

    me_block = (
        "var me = {\nplan : 'musician',\nid : 4242,\ndisplayName: \"Sample Person\",\n"
        "email : 'sample.person@example.invalid',\n};\n"
    )
    daily = sample_spotify_daily(seed, end)

    def chart(name: str, points: list[tuple[date, int]], period: str) -> str:
        provider = ",".join(f'{{"category": "{d.isoformat()}","column-1": {v}}}' for d, v in points)
        return (f'AmCharts.makeChart("{name}",\n{{\n"type": "serial",\n"categoryField": "category",\n'
                f'"categoryAxis": {{"minPeriod": "{period}"}},\n"dataProvider": [\n{provider}\n]\n}}\n);\n')

    weekly: dict[date, int] = {}
    monthly: dict[date, int] = {}
    for d, v in daily:
        weekly[d - timedelta(days=d.weekday())] = weekly.get(d - timedelta(days=d.weekday()), 0) + v
        monthly[d.replace(day=1)] = monthly.get(d.replace(day=1), 0) + v
    page = (
        "<!DOCTYPE html><html><head><title>DistroKid Stats</title><script>\n" + me_block + "</script></head><body>\n"
        '<select id="trendingDownloadsorStreams" class="coolSelect">\n'
        '<option value="downloads">iTunes + Amazon (Sales)</option>\n'
        '<option selected="" value="streams">Spotify</option>\n'
        '<option value="applemusic">Apple Music</option>\n</select>\n<script>\n'
        + chart("trendWeekly", sorted(weekly.items()), "WW")
        + chart("trendMonthly", sorted(monthly.items()), "MM")
        + chart("trend60day", daily[-60:], "DD")
        + chart("trend365day", daily, "DD")
        + "</script></body></html>\n"
    )
    streams = out_dir / f"streams_stats_{stamp}.html"
    streams.write_text(page, encoding="utf-8")

    apple_daily = [(d, max(0, int(v * 0.09 + rng.gauss(0, 4)))) for d, v in daily]
    by_month: dict[str, int] = {}
    by_week: dict[str, int] = {}
    for d, v in apple_daily:
        by_month[d.strftime("%m-%y")] = by_month.get(d.strftime("%m-%y"), 0) + v
        iso = d.isocalendar()
        by_week[f"{iso.week}/{iso.year % 100:02d}"] = by_week.get(f"{iso.week}/{iso.year % 100:02d}", 0) + v
    total = sum(v for _, v in apple_daily)
    chart_data = {
        "byMonth": {"dataProvider": [{"field": k, "value": v} for k, v in by_month.items()], "total": total},
        "last365days": {"dataProvider": [{"field": d.isoformat(), "value": v} for d, v in apple_daily]},
        "byWeek": {"dataProvider": [{"field": k, "value": v} for k, v in by_week.items()]},
        "country1year": {"dataProvider": [{"field": c, "value": int(total * s)} for c, s in
                                          (("US", 0.55), ("GB", 0.12), ("DE", 0.09), ("MX", 0.06), ("BR", 0.05))]},
        "tracks1year": {"dataProvider": [{"field": t, "id": 1000 + i, "value": int(total / (i + 2))}
                                         for i, (_, t, _, _) in enumerate(CATALOGUE)]},
        "playlists1year": {"dataProvider": []},
    }
    apple = out_dir / f"applemusic_stats_{stamp}.html"
    apple.write_text(
        "<!DOCTYPE html><html><head><script>\n" + me_block + "</script></head><body><script>\nvar chartData = "
        + json.dumps(chart_data) + ";\n</script></body></html>\n",
        encoding="utf-8",
    )
    return [bank, streams, apple]


SOURCE = Source(
    name=NAME,
    title="DistroKid",
    datasets=(BANK_DETAILS, STREAMS_STATS, APPLEMUSIC_STATS),
    mappings=(
        CuratedMapping("fct_royalties", ("bank_details",), _royalties),
        CuratedMapping("fct_streams_daily", ("streams_stats", "applemusic_stats"), _streams_daily),
        CuratedMapping("fct_streams_totals", ("applemusic_stats",), _streams_totals),
    ),
    samples=write_samples,
    acquisition="file drop (bank details export, saved stats pages), or its browser extractor (soundlake extract distrokid)",
    stream_precedence=3,
)
