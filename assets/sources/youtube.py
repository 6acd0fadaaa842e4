"""YouTube: YouTube Studio's analytics export (file drop) and YouTube Analytics API responses
(landed by the API puller).

- **Studio export** (Analytics → Advanced mode → Export current view → CSV): a zip named
  ``<tab> <start>_<end> <channel>.zip`` (``Content 2025-01-01_2025-03-31 Nova Lights.zip``)
  holding ``Table data.csv`` (one row per video over the window: ``Content, Video title, Video
  publish time, Duration, Views, Watch time (hours), Subscribers, Impressions, Impressions
  click-through rate (%)``; its first data row is ``Total``, which is not a video), ``Chart
  data.csv`` (per video and day: ``Date, Content, Video title, Video publish time, Duration,
  Views``) and ``Totals.csv`` (the channel per day: ``Date, Views``). Which metrics the table
  and chart hold depends on the chosen view; the known ones are read, others ignored. The
  members may also come bare (the zip unpacked): they are recognised by their names and headers,
  and the channel then comes from ``--account``.
- **Analytics API** ``reports.query`` responses (``youtubeAnalytics#resultTable``):
  ``columnHeaders`` name the dimensions and metrics, ``rows`` hold the values; dimensions ``day``
  (the channel per day) or ``day,video`` / ``video,day`` (per video and day). A response
  without ``rows`` is valid and means no data (``unused``); other dimensions (countries,
  traffic sources) are not used yet (``unused``). The channel is ``--account``, else the name
  after ``@`` in the file name (``day@Nova Lights_20250601_060000.json``), else ``channel``:
  the API's ``ids=channel==MINE`` is always the authorised channel.

Traps handled: the ``Total`` row; ISO dates in ``Chart data.csv`` and ``DD-MM-YYYY`` (or ISO) in
``Totals.csv`` (the file decides; ``M/D/YYYY`` after an Excel re-save too); publish times like
``Mar 4, 2025``; BOMs; thousands separators; ``estimatedMinutesWatched`` turned into hours.
Built from the documentation and other people's parsers: no real export was at hand.
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source, UnusedContent
from .parsing import (
    Column,
    Delimited,
    counts,
    dates,
    decode,
    frame,
    header_names,
    json_column,
    json_document,
    numbers,
    read_delimited,
    require_values,
    text,
    timestamps,
)
from .samples import base62_id, delimited_bytes, name_stamp, sample_end, spotify_breakout
from .social import (
    account,
    day_after,
    export_day,
    frames_of,
    header_sniffer,
    json_sniffer,
    name_account,
    newest_values,
    zip_members,
)

NAME = "youtube"
PLATFORM = "youtube"

# `Content 2025-01-01_2025-03-31 Nova Lights.zip` (a ` (2)` of a second download is not the channel)
_STUDIO_NAME = re.compile(r"^(?P<tab>.+?) (?P<start>\d{4}-\d{2}-\d{2})_(?P<end>\d{4}-\d{2}-\d{2}) "
                          r"(?P<account>.+?)(?:\s*\(\d+\))?\.zip$", re.IGNORECASE)
_API_NAME = re.compile(r"@(?P<account>[^@/]+?)(?:_\d{8}_\d{6}[^/]*)?\.json$", re.IGNORECASE)
MEMBERS = ("Table data.csv", "Chart data.csv", "Totals.csv")

SCHEMA = pa.schema([
    ("kind", pa.string()),  # channel_day | video_day | video_window
    ("date", pa.date32()),  # the day; for video_window the window's last day
    ("period_start", pa.date32()),  # video_window: the window's first day
    ("account", pa.string()),
    ("video_id", pa.string()),  # null on channel_day
    ("title", pa.string()),
    ("published_at", pa.timestamp("us", tz="UTC")),
    ("duration_s", pa.int64()),
    ("views", pa.int64()),
    ("watch_time_hours", pa.float64()),
    ("subscribers", pa.int64()),  # net: gained − lost
    ("subscribers_gained", pa.int64()),
    ("subscribers_lost", pa.int64()),
    ("impressions", pa.int64()),
    ("impressions_ctr", pa.float64()),  # percent, as YouTube writes it
    ("likes", pa.int64()),
    ("comments", pa.int64()),
    ("shares", pa.int64()),
])
KEY = ("kind", "date", "account", "video_id")
KINDS = ("channel_day", "video_day", "video_window")

# {field: header aliases, compared folded}
_COUNTS = {
    "views": ("Views",),
    "subscribers": ("Subscribers",),
    "subscribers_gained": ("Subscribers gained",),
    "subscribers_lost": ("Subscribers lost",),
    "impressions": ("Impressions",),
    "likes": ("Likes",),
    "comments": ("Comments added", "Comments"),
    "shares": ("Shares",),
}
_DECIMALS = {
    "watch_time_hours": ("Watch time (hours)",),
    "impressions_ctr": ("Impressions click-through rate (%)",),
}
# YouTube writes counts plainly or with "," grouping (a locale's "1,234"), never decimals
THOUSANDS = ","
DATE_STYLES = ("iso", "dash", "slash", "dot")


# --- the Studio export ----------------------------------------------------------------------------


def _window(name: str) -> tuple[date, date] | None:
    m = _STUDIO_NAME.match(Path(name).name)
    if not m:
        return None
    try:
        return date.fromisoformat(m["start"]), date.fromisoformat(m["end"])
    except ValueError:
        return None


def studio_observed_at(name: str, data: bytes = b"") -> datetime | None:
    """The day after the window's last day in the zip's name (the export was taken then at the
    earliest); None for other names. Never raises."""
    window = _window(name)
    return day_after(window[1]) if window else None


def _metrics(table: Delimited) -> dict[str, pa.Array]:
    out: dict[str, pa.Array] = {}
    for fld, aliases in _COUNTS.items():
        col = table.column(*aliases)
        if col is not None:
            out[fld] = counts(col, thousands=THOUSANDS, point_zero=True)
    for fld, aliases in _DECIMALS.items():
        col = table.column(*aliases)
        if col is not None:
            out[fld] = numbers(col, thousands=THOUSANDS, percent=True)
    if "subscribers" not in out and {"subscribers_gained", "subscribers_lost"} <= set(out):
        out["subscribers"] = pc.subtract(out["subscribers_gained"], out["subscribers_lost"])
    return out


def _video_ids(col: Column) -> pa.Array:
    ids = text(col)
    require_values(col, ids, "the video id (Content) is empty")
    bad = pc.invert(pc.match_substring_regex(ids, r"^[A-Za-z0-9_-]{6,}$"))
    if pc.any(bad).as_py():
        raise col.error(pc.index(bad, True).as_py(), "is not a YouTube video id")
    return ids


def _publish_times(table: Delimited, n: int) -> pa.Array:
    col = table.column("Video publish time", "Publish time")
    if col is None:
        return pa.nulls(n, pa.timestamp("us", tz="UTC"))
    return timestamps(col, styles=("iso", "words", "dash", "slash", "dot"), noun="a publish time")


def _durations(table: Delimited, n: int) -> pa.Array:
    col = table.column("Duration")
    return counts(col, thousands=THOUSANDS, point_zero=True) if col is not None else pa.nulls(n, pa.int64())


def _titles(table: Delimited, n: int) -> pa.Array:
    col = table.column("Video title", "Title")
    return text(col) if col is not None else pa.nulls(n, pa.string())


def _table_data(body: str, what: str, channel: str, window: tuple[date | None, date]) -> pd.DataFrame:
    table = read_delimited(body, what, header=("Content",)).drop_totals("Content")
    n = len(table)
    return frame({"kind": "video_window", "date": window[1], "period_start": window[0], "account": channel,
                  "video_id": _video_ids(table.require("Content")[0]), "title": _titles(table, n),
                  "published_at": _publish_times(table, n), "duration_s": _durations(table, n),
                  **_metrics(table)}, n)


def _chart_data(body: str, what: str, channel: str) -> pd.DataFrame:
    table = read_delimited(body, what, header=("Date", "Content")).drop_totals("Content")
    n = len(table)
    day, content = table.require("Date", "Content")
    days = dates(day, styles=DATE_STYLES)
    require_values(day, days, "the date is empty")
    return frame({"kind": "video_day", "date": days, "account": channel, "video_id": _video_ids(content),
                  "title": _titles(table, n), "published_at": _publish_times(table, n),
                  "duration_s": _durations(table, n), **_metrics(table)}, n)


def _totals(body: str, what: str, channel: str) -> pd.DataFrame:
    table = read_delimited(body, what, header=("Date",)).drop_totals("Date")
    [day] = table.require("Date")
    days = dates(day, styles=DATE_STYLES)
    require_values(day, days, "the date is empty")
    return frame({"kind": "channel_day", "date": days, "account": channel, **_metrics(table)}, len(table))


def _kind_of(body: str) -> str | None:
    """Which Studio file a bare CSV is, from its header."""
    head = body[:4096].encode("utf-8")
    for member, sniff in _MEMBER_SNIFFERS.items():
        if sniff("", head):
            return member
    return None


def parse_studio_export(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """A Studio export: the zip (every one of its three files) or one of its files bare."""
    window = _window(ctx.original_name)
    channel = account(ctx, name_account(_STUDIO_NAME, ctx.original_name), "YouTube Studio export")
    if data.startswith(b"PK\x03\x04"):
        members = zip_members(data, MEMBERS)
    else:
        body = decode(data)
        member = _kind_of(body)
        if member is None:
            raise ParseError("not a YouTube Studio export: the header has neither 'Content' (Table data.csv, "
                             "Chart data.csv) nor only 'Date' and metrics (Totals.csv)")
        members = {member: body}
    parts, other = [], []
    for member, body in members.items():
        kind = member.lower()
        if kind != "totals.csv" and "content" not in header_names(body[:4096].encode("utf-8")):
            # a table by another dimension (Geography, Traffic source, ...): its Totals.csv is still
            # the channel's daily figures; the table and chart are not used
            other.append(member)
            continue
        try:
            if kind == "table data.csv":
                end = window[1] if window else export_day(ctx)
                parts.append(_table_data(body, member, channel, (window[0] if window else None, end)))
            elif kind == "chart data.csv":
                parts.append(_chart_data(body, member, channel))
            else:
                parts.append(_totals(body, member, channel))
        except ParseError as exc:  # say which of the export's files is wrong
            message = str(exc)
            raise ParseError(message if message.startswith(member) else f"{member}: {message}") from None
    parts = [p for p in parts if len(p)]
    if not parts and other:
        raise UnusedContent(f"{' and '.join(other)} break the figures down by something other than video (Content), "
                            "and there is no Totals.csv: export from the Content tab")
    if not parts:
        raise ParseError("the export holds no data rows (only headers, or only the Total row)")
    return pd.concat(parts, ignore_index=True)


# --- the Analytics API ------------------------------------------------------------------------------

_API_COUNTS = {"views": "views", "likes": "likes", "comments": "comments", "shares": "shares",
               "subscribersGained": "subscribers_gained", "subscribersLost": "subscribers_lost"}


def parse_analytics_api(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """A ``reports.query`` response: dimension ``day`` (the channel per day) or ``day`` and
    ``video`` (per video and day); metrics by name. No ``rows``: no data (unused)."""
    doc = json_document(data)
    if not isinstance(doc, dict):
        raise ParseError(f"expected a YouTube Analytics API response (a JSON object), not a {type(doc).__name__}")
    if isinstance(doc.get("error"), dict):
        err = doc["error"]
        raise ParseError(f"the file holds a YouTube Analytics API error, not a report: {err.get('message')!r} "
                         f"(code {err.get('code')})")
    headers = doc.get("columnHeaders")
    if not isinstance(headers, list) or not all(isinstance(h, dict) and isinstance(h.get("name"), str) for h in headers):
        raise ParseError("not a YouTube Analytics API report: 'columnHeaders' must be a list of {name, columnType, dataType}")
    names = [h["name"] for h in headers]
    dims = [h["name"] for h in headers if h.get("columnType") == "DIMENSION"]
    if sorted(dims) not in (["day"], ["day", "video"]):
        raise UnusedContent(f"a report by {', '.join(dims) or 'no dimension'}: only reports by day, or by day and "
                            "video, are used")
    rows = doc.get("rows")
    if rows is None or rows == []:
        raise UnusedContent("the report has no rows (no data for the days asked; YouTube leaves out the latest days)")
    if not isinstance(rows, list):
        raise ParseError("'rows' must be a list of rows")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(names):
            raise ParseError(f"rows[{i}] has {len(row) if isinstance(row, list) else 'no list of'} values, "
                             f"'columnHeaders' name {len(names)}")

    def col(name: str, expected: str = "a number") -> Column:
        j = names.index(name)
        return json_column(name, [r[j] for r in rows], lambda i: f"rows[{i}][{j}] ({name})", expected=expected)

    n = len(rows)
    day = col("day", "a date")
    days = dates(day, styles=("iso",))
    require_values(day, days, "the day is empty")
    out: dict[str, object] = {"date": days, "account": account(ctx, name_account(_API_NAME, ctx.original_name),
                                                             "YouTube Analytics report", default="channel")}
    if "video" in dims:
        video = col("video", "a video id")
        out.update(kind="video_day", video_id=_video_ids(video))
    else:
        out["kind"] = "channel_day"
    for metric, fld in _API_COUNTS.items():
        if metric in names:
            out[fld] = counts(col(metric), thousands=None, point_zero=True, empty=("",))
    if "estimatedMinutesWatched" in names:
        out["watch_time_hours"] = pc.divide(numbers(col("estimatedMinutesWatched"), empty=("",)), 60.0)
    if {"subscribers_gained", "subscribers_lost"} <= set(out):
        out["subscribers"] = pc.subtract(out["subscribers_gained"], out["subscribers_lost"])
    return frame(out, n)


# --- recognising files ------------------------------------------------------------------------------

_MEMBER_SNIFFERS = {
    "Table data.csv": header_sniffer("Content", "Video title", without=("Date",)),
    "Chart data.csv": header_sniffer("Date", "Content", "Video title"),
    "Totals.csv": header_sniffer("Date", "Views", without=("Content", "Video title", "Impressions", "Likes",
                                                           "Engagements", "Primary")),
}


def _sniff_studio(name: str, head: bytes) -> bool:
    return any(s(name, head) for s in _MEMBER_SNIFFERS.values())


# a count of one day or video: large, never negative
_COUNT = (0, 100_000_000_000)
_SUITE = quality.suite(
    key=KEY, not_null=("kind", "date", "account"), in_set={"kind": KINDS},
    between={**{c: _COUNT for c in ("views", "impressions", "likes", "comments", "shares", "subscribers_gained",
                                    "subscribers_lost")},
             "watch_time_hours": (0, 1e9), "impressions_ctr": (0, 100), "duration_s": (0, 86_400 * 31)},
    regex={"video_id": r"^[A-Za-z0-9_-]{6,}$"},
)

STUDIO_EXPORT = Dataset(
    name="studio_export",
    description="YouTube Studio analytics export: the zip of Table data.csv (per video over the window, no Total "
                "row), Chart data.csv (per video and day) and Totals.csv (the channel per day), or one of them bare",
    schema=SCHEMA, key=KEY, parse=parse_studio_export,
    patterns=(r"^.+ \d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2} .+\.zip$", r"^(table data|chart data|totals)( ?\(\d+\))?\.csv$"),
    sniff=_sniff_studio, expectations=_SUITE, observed_at=studio_observed_at,
)
ANALYTICS_API = Dataset(
    name="analytics_api",
    description="YouTube Analytics API reports.query responses by day (the channel) or by day and video: views, "
                "watch time, likes, comments, shares, subscribers gained and lost",
    schema=SCHEMA, key=KEY, parse=parse_analytics_api,
    patterns=(r"^youtube[_-]?analytics.*\.json$",),
    sniff=json_sniffer(b"youtubeAnalytics#resultTable"), expectations=_SUITE,
)


# --- into the conformed model -----------------------------------------------------------------------

_DAILY = ["views", "likes", "comments", "shares", "impressions", "new_follows", "unfollows", "watch_time_hours",
          "subscribers"]
_POSTS = ["period_start", "title", "posted_at", "views", "impressions", "likes", "comments", "shares",
          "watch_time_hours", "subscribers"]


def _renamed(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns={"subscribers_gained": "new_follows", "subscribers_lost": "unfollows",
                              "video_id": "post_id", "published_at": "posted_at"})


def _social_daily(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The channel per day, from Studio's Totals and the API (each day's newest value of each
    metric: the API's likes and Studio's views of one day meet in one row)."""
    df = frames_of(frames, "studio_export", "analytics_api")
    if df is None:
        return pd.DataFrame(columns=["date", "platform", "account", *_DAILY, "sha256", "observed_at"])
    df = _renamed(df[df["kind"] == "channel_day"])
    return newest_values(df, ["date", "account"], _DAILY).assign(platform=PLATFORM)


def _social_posts(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per video: each day (Chart data, the API) and the window totals (Table data)."""
    df = frames_of(frames, "studio_export", "analytics_api")
    if df is None:
        return pd.DataFrame(columns=["date", "period", "platform", "account", "post_id", *_POSTS, "sha256", "observed_at"])
    df = _renamed(df[df["kind"] != "channel_day"]).assign(
        period=lambda d: d["kind"].map({"video_day": "day", "video_window": "window"}))
    out = newest_values(df, ["date", "period", "account", "post_id"], _POSTS)
    return out.assign(platform=PLATFORM, post_type="video",
                      url="https://www.youtube.com/watch?v=" + out["post_id"].astype("string"))


# --- samples ----------------------------------------------------------------------------------------

_SAMPLE_CHANNEL = "Nova Lights"
_SAMPLE_VIDEOS = ("Midnight Arcade (Official Video)", "Glass Harbour (Visualizer)", "Static Bloom ft. Ivy Vale",
                  "Midnight Arcade - live at the Basement", "Making of Static Bloom", "Glass Harbour (Lyric Video)")


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """A Studio export zip of the channel over 90 days ending at ``end`` (Totals with DD-MM-YYYY
    dates, Table data with its Total row, Chart data per video and day; views jump with the
    demo's Spotify breakout) and two API responses over the last 28 days, two days short of
    ``end`` as the API lags: by day, and by day and video."""
    rng = random.Random(seed * 53 + 11)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    days = 90
    start = end - timedelta(days=days - 1)
    breakout = spotify_breakout(end)
    videos = []
    for k, title in enumerate(_SAMPLE_VIDEOS):
        published = start - timedelta(days=200) + timedelta(days=k * 55)
        videos.append((base62_id(f"yt{seed}{k}", 11), title, published, rng.randint(150, 420), rng.uniform(0.5, 2)))
    chart, totals, per_video = [], [], {v[0]: [0, 0.0, 0, 0] for v in videos}
    for i in range(days):
        d = start + timedelta(days=i)
        lift = 1 + (3.0 * 0.92 ** (d - breakout).days if d >= breakout else 0)
        total = 0
        for vid, title, published, duration, weight in videos:
            if published > d:
                continue
            views = max(0, int(rng.gauss(120 * weight * lift, 20 * weight)))
            total += views
            hours = round(views * duration * rng.uniform(0.3, 0.6) / 3600, 4)
            agg = per_video[vid]
            agg[0] += views
            agg[1] += hours
            agg[2] += int(views * rng.uniform(0.001, 0.004))
            agg[3] += int(views * rng.uniform(2, 5))
            chart.append([d.isoformat(), vid, title, published.strftime("%b %-d, %Y"), str(duration), str(views)])
        totals.append([d.strftime("%d-%m-%Y"), str(total)])
    table = [["Content", "Video title", "Video publish time", "Duration", "Views", "Watch time (hours)", "Subscribers",
              "Impressions", "Impressions click-through rate (%)"]]
    sums = [sum(a[i] for a in per_video.values()) for i in range(4)]
    table.append(["Total", "", "", "", str(sums[0]), f"{sums[1]:.4f}", str(sums[2]), str(sums[3]),
                  f"{100 * sums[0] / max(sums[3], 1) / 10:.2f}"])
    for vid, title, published, duration, _ in videos:
        v, h, s, imp = per_video[vid]
        table.append([vid, title, published.strftime("%b %-d, %Y"), str(duration), str(v), f"{h:.4f}", str(s), str(imp),
                      f"{100 * v / max(imp, 1) / 10:.2f}"])
    when = datetime.combine(end + timedelta(days=1), time(8, 15))
    zipped = out_dir / f"Content {start.isoformat()}_{end.isoformat()} {_SAMPLE_CHANNEL}.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, rows in (("Table data.csv", table),
                             ("Chart data.csv", [["Date", "Content", "Video title", "Video publish time", "Duration",
                                                  "Views"], *chart]),
                             ("Totals.csv", [["Date", "Views"], *totals])):
            info = zipfile.ZipInfo(member, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, delimited_bytes(rows, bom=True))
    zipped.write_bytes(buf.getvalue())

    api_end = end - timedelta(days=2)
    api_days = [api_end - timedelta(days=27 - i) for i in range(28)]
    metrics = ["views", "estimatedMinutesWatched", "likes", "comments", "shares", "subscribersGained", "subscribersLost"]

    def headers(dims: list[str]) -> list[dict]:
        return ([{"name": d, "columnType": "DIMENSION", "dataType": "STRING"} for d in dims]
                + [{"name": m, "columnType": "METRIC", "dataType": "INTEGER"} for m in metrics])

    def values(views: int) -> list:
        return [views, int(views * rng.uniform(1.5, 3)), int(views * 0.05), int(views * 0.006), int(views * 0.004),
                int(views * 0.003), int(views * 0.0008)]

    by_day = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers(["day"]),
              "rows": [[d.isoformat(), *values(int(rng.gauss(900, 90)))] for d in api_days]}
    by_video = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers(["day", "video"]),
                "rows": [[d.isoformat(), vid, *values(int(rng.gauss(150 * w, 20)))]
                         for d in api_days for vid, _, published, _, w in videos if published <= d]}
    stamp = name_stamp(end + timedelta(days=1), hours=6)
    files = [zipped]
    for label, doc in (("day", by_day), ("day_video", by_video)):
        path = out_dir / f"youtube_analytics_{label}@{_SAMPLE_CHANNEL}_{stamp}.json"
        path.write_text(json.dumps(doc, indent=1))
        files.append(path)
    return files


SOURCE = Source(
    name=NAME,
    title="YouTube (Studio exports, Analytics API)",
    datasets=(STUDIO_EXPORT, ANALYTICS_API),
    mappings=(
        CuratedMapping("fct_social_daily", ("studio_export", "analytics_api"), _social_daily),
        CuratedMapping("fct_social_posts", ("studio_export", "analytics_api"), _social_posts),
    ),
    samples=write_samples,
    acquisition="file drop (YouTube Studio export zip or its CSVs); API (YouTube Analytics reports.query, "
                "landed by the puller)",
)
