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
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Mapping

import pandas as pd
import pyarrow as pa

from ..model import store_platform
from .base import (
    CuratedMapping,
    Dataset,
    ParseContext,
    ParseError,
    Source,
    decode_text,
    read_delimited,
    require_columns,
    to_date,
    to_float,
    to_int,
)

NAME = "distrokid"

# --- bank details -------------------------------------------------------------------------------

# header (either variant) -> staging column
_BANK_COLUMNS = {
    "Reporting Date": "reporting_date",
    "Sale Month": "sale_month",
    "Sale Month (YYYY-MM)": "sale_month",
    "Store": "store",
    "Artist": "artist",
    "Title": "title",
    "ISRC": "isrc",
    "UPC": "upc",
    "Quantity": "quantity",
    "Team Percentage": "team_percentage",
    "Song/Album": "item_type",
    "Country of Sale": "country",
    "Songwriter Royalties Withheld": "songwriter_royalties_withheld_usd",
    "Songwriter Royalties Withheld (USD)": "songwriter_royalties_withheld_usd",
    "Earnings (USD)": "earnings_usd",
    "Date Inserted": "date_inserted",
    "Source Type": "source_type",
    "Recoup (USD)": "recoup_usd",
}
_BANK_REQUIRED = ("reporting_date", "sale_month", "store", "artist", "title", "quantity", "country", "earnings_usd")

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
    raw = read_delimited(decode_text(data, ctx.original_name), "\t", "bank details TSV")
    known = {h: _BANK_COLUMNS[h] for h in raw.columns if h in _BANK_COLUMNS}
    df = raw[list(known)].rename(columns=known)
    missing = [c for c in _BANK_REQUIRED if c not in df.columns]
    if missing:
        wanted = {v: k for k, v in reversed(list(_BANK_COLUMNS.items()))}
        require_columns(raw, [wanted[c] for c in missing], "bank details TSV")
    out = pd.DataFrame(index=df.index)
    out["reporting_date"] = to_date(df["reporting_date"], "Reporting Date", ("%Y-%m-%d", "%m/%d/%Y"))
    out["sale_month"] = to_date(df["sale_month"], "Sale Month", ("%Y-%m", "%Y-%m-%d", "%m/%Y"))
    for col in ("store", "artist", "title", "isrc", "upc", "item_type", "country", "source_type"):
        out[col] = df[col].str.strip().replace("", pd.NA) if col in df else pd.NA
    out["quantity"] = to_int(df["quantity"], "Quantity")
    out["earnings_usd"] = to_float(df["earnings_usd"], "Earnings (USD)")
    for col, label in (
        ("team_percentage", "Team Percentage"),
        ("songwriter_royalties_withheld_usd", "Songwriter Royalties Withheld"),
        ("recoup_usd", "Recoup (USD)"),
    ):
        out[col] = to_float(df[col], label) if col in df else float("nan")
    out["date_inserted"] = (
        to_date(df["date_inserted"], "Date Inserted", ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y"))
        if "date_inserted" in df
        else None
    )
    if out["store"].isna().any():
        line = int(out["store"].isna().to_numpy().nonzero()[0][0]) + 2
        raise ParseError(f"column 'Store', line {line}: the store is empty")
    identity = [c for c in BANK_KEY if c != "line_seq"]
    out["line_seq"] = out.fillna({c: "" for c in ("isrc", "upc", "item_type")}).groupby(
        identity, dropna=False, sort=False
    ).cumcount() + 1
    return out


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


def parse_streams_stats(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    text = decode_text(data, ctx.original_name)
    store = _selected_store(text)
    platform = store_platform(store) if store else "all"
    if platform == "unknown":
        platform = "all"
    frames = []
    for series, period in STREAMS_SERIES.items():
        m = re.search(r'AmCharts\.makeChart\(\s*"' + series + r'"', text)
        if not m:
            continue
        dp = text.find('"dataProvider"', m.end())
        if dp < 0:
            raise ParseError(f"chart {series!r} has no dataProvider")
        points = _json_after(text, dp + len('"dataProvider"'), f"chart {series!r}")
        if not isinstance(points, list):
            raise ParseError(f"chart {series!r}: dataProvider is not a list")
        df = pd.DataFrame(points, columns=["category", "column-1"], dtype="string")
        frames.append(
            pd.DataFrame(
                {
                    "series": series,
                    "period": period,
                    "date": to_date(df["category"], f"{series}.category", "%Y-%m-%d", line_offset=1),
                    "streams": to_int(df["column-1"], f"{series}.column-1", line_offset=1),
                }
            )
        )
    if not frames:
        raise ParseError(
            "no streams chart found (expected AmCharts.makeChart(\"trend365day\", ...)); "
            "save the DistroKid stats page completely, with its scripts"
        )
    if not any(f["series"].iloc[0] == "trend365day" for f in frames if len(f)):
        raise ParseError("the daily chart 'trend365day' is missing or empty")
    out = pd.concat(frames, ignore_index=True)
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


def _apple_point_date(series: str, field: str) -> date | None:
    if series == "last365days":
        return date.fromisoformat(field)
    if series == "byWeek":  # "36/24": Monday-first week 36 of 2024 (MySQL WEEK mode 1, 0..53)
        week, year = (int(x) for x in field.split("/"))
        jan4 = date(2000 + year, 1, 4)
        first_monday = jan4 - timedelta(days=jan4.weekday())
        start = first_monday + timedelta(weeks=week - 1)
        if not 0 <= week <= 53 or start.year > 2000 + year:
            raise ValueError(field)
        return max(start, date(2000 + year, 1, 1))  # a week split by New Year starts on Jan 1
    if series == "byMonth":  # "09-24"
        month, year = field.split("-")
        return date(2000 + int(year), int(month), 1)
    return None


_APPLE_PERIOD = {"last365days": "day", "byWeek": "week", "byMonth": "month"}


def parse_applemusic_stats(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    text = decode_text(data, ctx.original_name)
    m = re.search(r"var\s+chartData\s*=", text)
    if not m:
        raise ParseError(
            "no Apple Music chart data found (expected 'var chartData = {...}'); "
            "save the DistroKid Apple Music stats page completely, with its scripts"
        )
    charts = _json_after(text, m.end(), "var chartData")
    if not isinstance(charts, dict) or "last365days" not in charts:
        raise ParseError("var chartData has no 'last365days' series")
    rows = []
    for series, chart in charts.items():
        if not isinstance(chart, dict):
            continue
        for i, point in enumerate(chart.get("dataProvider") or [], start=1):
            field, value = point.get("field"), point.get("value")
            try:
                day = _apple_point_date(series, str(field))
                count = int(value)
            except (ValueError, TypeError):
                raise ParseError(f"chart {series!r}, point {i}: cannot read field {field!r} / value {value!r}") from None
            label = None if day is not None else str(field)
            item_id = point.get("id")
            rows.append((series, _APPLE_PERIOD.get(series, "year"), day, label, item_id, count))
    out = pd.DataFrame(rows, columns=APPLE_SCHEMA.names)
    out["item_id"] = out["item_id"].astype("Int64")
    return out


# --- recognising files ---------------------------------------------------------------------------


def _sniff_bank(name: str, head: bytes) -> bool:
    first = head.split(b"\r", 1)[0].split(b"\n", 1)[0]
    return b"Reporting Date\t" in first and b"Earnings (USD)" in first


def _sniff_streams(name: str, head: bytes) -> bool:
    return b'AmCharts.makeChart("trend365day"' in head or (b"distrokid" in head.lower() and b"trend365day" in head)


def _sniff_apple(name: str, head: bytes) -> bool:
    return b"var chartData" in head and b"last365days" in head


def _bank_expectations():
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="reporting_date"),
        gxe.ExpectColumnValuesToNotBeNull(column="sale_month"),
        gxe.ExpectColumnValuesToNotBeNull(column="store"),
        gxe.ExpectColumnValuesToNotBeNull(column="quantity"),
        gxe.ExpectColumnValuesToNotBeNull(column="earnings_usd"),
        gxe.ExpectColumnValuesToMatchRegex(column="country", regex=r"^[A-Z]{2}$", mostly=0.99),
        gxe.ExpectColumnValuesToBeBetween(column="earnings_usd", min_value=-10_000, max_value=1_000_000),
        gxe.ExpectColumnValuesToBeBetween(column="team_percentage", min_value=0, max_value=100, mostly=1.0),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(BANK_KEY)),
    ]


def _series_expectations(value_column: str, key: list[str]):
    def build():
        import great_expectations.expectations as gxe

        return [
            gxe.ExpectColumnValuesToNotBeNull(column="series"),
            gxe.ExpectColumnValuesToNotBeNull(column=value_column),
            gxe.ExpectColumnValuesToBeBetween(column=value_column, min_value=0, max_value=10_000_000_000),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=key),
        ]

    return build


BANK_DETAILS = Dataset(
    name="bank_details",
    description="Royalty statement lines (Bank → Details → Export, TSV)",
    schema=BANK_SCHEMA,
    key=BANK_KEY,
    parse=parse_bank_details,
    patterns=(r"bank_?details.*\.(tsv|txt|csv)$", r"^dk_.*\.tsv$"),
    sniff=_sniff_bank,
    expectations=_bank_expectations,
)
STREAMS_STATS = Dataset(
    name="streams_stats",
    description="The stats page's streams charts: daily (365 and 60 days), weekly and monthly",
    schema=STREAMS_SCHEMA,
    key=("series", "date"),
    parse=parse_streams_stats,
    patterns=(r"streams?_stats.*\.html?$",),
    sniff=_sniff_streams,
    expectations=_series_expectations("streams", ["series", "date"]),
)
APPLEMUSIC_STATS = Dataset(
    name="applemusic_stats",
    description="The Apple Music stats page: daily, weekly, monthly, country, track and audience series",
    schema=APPLE_SCHEMA,
    key=("series", "date", "label"),
    parse=parse_applemusic_stats,
    patterns=(r"apple_?music_stats.*\.html?$",),
    sniff=_sniff_apple,
    expectations=_series_expectations("value", ["series", "date", "label"]),
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

_SAMPLE_TRACKS = [
    ("Nova Lights", "Midnight Arcade", "QZNOV2400001", "198000000011"),
    ("Nova Lights", "Glass Harbour", "QZNOV2400002", "198000000011"),
    ("Nova Lights", "Static Bloom (feat. Ivy Vale)", "QZNOV2400003", "198000000028"),
    ("Ivy Vale", "Paper Satellites", "QZIVY2400001", "198000000035"),
    ("Ivy Vale", "Low Tide Radio", "QZIVY2400002", "198000000035"),
]
_SAMPLE_STORES = [
    ("Spotify", 0.0036, 60), ("Apple Music", 0.0068, 8), ("YouTube (Red)", 0.0069, 5),
    ("YouTube (Ads)", 0.0015, 6), ("Amazon Unlimited (Streaming)", 0.0081, 2), ("Deezer", 0.0028, 1),
    ("Tidal", 0.0098, 1), ("TikTok", 0.0011, 3), ("Facebook", 0.0001, 1),
]
_SAMPLE_COUNTRIES = ["US", "US", "US", "GB", "DE", "CA", "MX", "BR", "FR", "AU", "SE", "NL"]


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
    """The demo's daily Spotify series of the DistroKid catalogue: the DistroKid streams page and
    the main artist's Spotify for Artists export draw from it, so they agree on the days they
    share (as real ones roughly do). TooLost's samples are another catalogue."""
    curve = daily_curve(random.Random(seed * 7919), days, 900, breakout_day=days - 70)
    start = end - timedelta(days=days - 1)
    return [(start + timedelta(days=i), v) for i, v in enumerate(curve)]


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    rng = random.Random(seed)
    end = end or date.today() - timedelta(days=2)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.combine(end + timedelta(days=2), datetime.min.time()).strftime("%Y%m%d_%H%M%S")

    lines = ["\t".join(["Reporting Date", "Sale Month", "Store", "Artist", "Title", "ISRC", "UPC", "Quantity",
                        "Team Percentage", "Song/Album", "Country of Sale", "Songwriter Royalties Withheld",
                        "Earnings (USD)"])]
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
        for artist, title, isrc, upc in _SAMPLE_TRACKS:
            for store, rate, weight in _SAMPLE_STORES:
                for country in rng.sample(_SAMPLE_COUNTRIES, k=3):
                    qty = max(1, int(rng.expovariate(1 / (weight * 4 * (15 - months_back)))))
                    if store == "Spotify" and month_streams:  # a share of the month's streams
                        qty = max(1, int(month_streams / (len(_SAMPLE_TRACKS) * 3) * rng.uniform(0.7, 1.3)))
                    lines.append("\t".join([reported.isoformat(), sale.strftime("%Y-%m"), store, artist, title, isrc,
                                            upc, str(qty), "100", "Song", country, "0", f"{qty * rate:.8f}"]))
    bank = out_dir / f"dk_bank_details_{stamp}.tsv"
    bank.write_bytes("\r".join(lines).encode("utf-8"))

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
                                         for i, (_, t, _, _) in enumerate(_SAMPLE_TRACKS)]},
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
    acquisition="file drop (bank details export, saved stats pages)",
    stream_precedence=3,
)
