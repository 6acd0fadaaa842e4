"""X (Twitter) analytics exports, downloaded by hand (file drop).

- **Account overview** (current analytics, "Export data" on the overview): one row per day,
  newest first, ``Date, Impressions, Likes, Engagements, Bookmarks, Shares, New follows,
  Unfollows, Replies, Reposts, Profile visits, Create Post, Video views, Media views``, dates like
  ``"Tue, Feb 18, 2025"``.
- **Content** (current analytics, per post): ``Post id, Date, Post text, Post Link, Impressions,
  Likes, Engagements, Bookmarks, Shares, New follows, Replies, Reposts, Profile visits, ...``,
  CRLF endings, dates like ``Mon Feb 17 2025``; lifetime totals as of the export.
- **Legacy daily** ``daily_tweet_activity_metrics_<handle>_<YYYYMMDD>_<YYYYMMDD>_en.csv``:
  ``"Date","Tweets published","impressions","engagements","engagement rate","retweets",
  "replies","likes","user profile clicks","url clicks",...,"follows",...,"media views",...,
  "promoted impressions",...`` (ISO dates, about 38 columns).
- **Legacy per tweet** ``tweet_activity_metrics_<handle>_<YYYYMMDD>_<YYYYMMDD>_en.csv``: 40
  columns, ``"Tweet id","Tweet permalink","Tweet text","time","impressions",...``; ``time`` like
  ``2019-01-31 22:08 +0000``; tweet text over several lines inside quotes; counts sometimes
  ``312.0``; promoted columns ``-`` when nothing was promoted (null, never 0).

The account: ``--account``, else the handle in a legacy file's name, else an ``@handle`` in the
name (``account_overview_@novalights.csv``); current exports without either are refused, asking
for ``--account``. Per-post exports are snapshots: their day is ``--as-of``, else the last day in a
legacy name, else the name's ``YYYYMMDD_HHMMSS`` stamp, else the day the file landed. Built from
documentation and other people's parsers; no real file was at hand.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source
from .parsing import (
    Delimited,
    counts,
    dates,
    frame,
    read_delimited,
    require_values,
    text,
    timestamp_from_name,
    timestamps,
)
from .samples import delimited_bytes, name_stamp, sample_end, spotify_breakout
from .social import account, day_after, export_day, frames_of, header_sniffer, newest_values

NAME = "x"
PLATFORM = "x"

_LEGACY = re.compile(r"^(?:daily_)?tweet_activity_metrics_(?P<account>.+?)_(?P<start>\d{8})_(?P<end>\d{8})_[a-z]{2}"
                     r"(?:\s*\(\d+\))?\.csv$", re.IGNORECASE)
# `@novalights` in a name, before a `_YYYYMMDD_HHMMSS` stamp, a space, a dot or the end
_AT = re.compile(r"@(?P<account>[A-Za-z0-9_]{1,15}?)(?=_\d{8}_\d{6}|[\s.(]|$)")
# X writes plain counts, at times 312.0; never grouped
THOUSANDS = None
DATE_STYLES = ("iso", "words", "slash")

DAILY_SCHEMA = pa.schema([
    ("date", pa.date32()), ("account", pa.string()), ("impressions", pa.int64()), ("engagements", pa.int64()),
    ("likes", pa.int64()), ("replies", pa.int64()), ("reposts", pa.int64()), ("shares", pa.int64()),
    ("bookmarks", pa.int64()), ("new_follows", pa.int64()), ("unfollows", pa.int64()), ("profile_visits", pa.int64()),
    ("video_views", pa.int64()), ("media_views", pa.int64()), ("posts_published", pa.int64()),
    ("url_clicks", pa.int64()), ("promoted_impressions", pa.int64()),
])
POST_SCHEMA = pa.schema([
    ("snapshot_date", pa.date32()), ("account", pa.string()), ("post_id", pa.string()), ("text", pa.string()),
    ("url", pa.string()), ("posted_at", pa.timestamp("us", tz="UTC")), ("impressions", pa.int64()),
    ("engagements", pa.int64()), ("likes", pa.int64()), ("replies", pa.int64()), ("reposts", pa.int64()),
    ("shares", pa.int64()), ("bookmarks", pa.int64()), ("new_follows", pa.int64()), ("profile_visits", pa.int64()),
    ("url_clicks", pa.int64()), ("media_views", pa.int64()), ("promoted_impressions", pa.int64()),
])

# {field: header aliases}: current exports first, then the legacy names (compared folded)
_METRICS = {
    "impressions": ("Impressions",),
    "engagements": ("Engagements",),
    "likes": ("Likes",),
    "replies": ("Replies",),
    "reposts": ("Reposts", "Retweets"),
    "shares": ("Shares",),
    "bookmarks": ("Bookmarks",),
    "new_follows": ("New follows", "Follows"),
    "unfollows": ("Unfollows",),
    "profile_visits": ("Profile visits", "User profile clicks"),
    "video_views": ("Video views",),
    "media_views": ("Media views",),
    "posts_published": ("Tweets published", "Create Post", "Posts published"),
    "url_clicks": ("URL Clicks", "Url clicks"),
    "promoted_impressions": ("promoted impressions",),
}


def _legacy(name: str) -> re.Match | None:
    return _LEGACY.match(Path(name).name)


def _account(ctx: ParseContext, what: str) -> str:
    m = _legacy(ctx.original_name) or _AT.search(Path(ctx.original_name).name)
    return account(ctx, m["account"] if m else None, what)


def legacy_observed_at(name: str, data: bytes = b"") -> datetime | None:
    """The day after the last day in a legacy export's name; None for other names."""
    m = _legacy(name)
    if not m:
        return None
    try:
        return day_after(datetime.strptime(m["end"], "%Y%m%d").date())
    except ValueError:
        return None


def _snapshot_day(ctx: ParseContext) -> date:
    if ctx.as_of is not None:
        return ctx.as_of
    m = _legacy(ctx.original_name)
    if m:
        return datetime.strptime(m["end"], "%Y%m%d").date()
    stamp = timestamp_from_name(ctx.original_name)
    return stamp.date() if stamp else export_day(ctx)


def _metrics(table: Delimited, fields: Sequence[str]) -> dict[str, pa.Array]:
    out = {}
    for fld in fields:
        col = table.column(*_METRICS[fld])
        out[fld] = counts(col, thousands=THOUSANDS, point_zero=True) if col is not None else pa.nulls(len(table), pa.int64())
    return out


def _read(data: bytes, what: str, first: Sequence[str]) -> Delimited:
    for aliases in first:
        try:
            table = read_delimited(data, what, header=(aliases,))
            break
        except ParseError:
            continue
    else:
        table = read_delimited(data, what, header=first[:1])  # the error says what is missing
    if not len(table):
        raise ParseError(f"{what}: the file has a header but no data rows")
    return table


def _daily(data: bytes, ctx: ParseContext, what: str) -> pd.DataFrame:
    account_name = _account(ctx, what)
    table = _read(data, what, ("Date",)).drop_totals("Date")
    [day] = table.require("Date")
    days = dates(day, styles=DATE_STYLES)
    require_values(day, days, "the date is empty")
    return frame({"date": days, "account": account_name,
                  **_metrics(table, [f for f in DAILY_SCHEMA.names if f not in ("date", "account")])}, len(table))


def parse_account_overview(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """The current account overview: one row per day."""
    return _daily(data, ctx, "X account overview")


def parse_daily_activity(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """The legacy ``daily_tweet_activity_metrics_*`` export: one row per day."""
    return _daily(data, ctx, "X daily activity")


def _posts(data: bytes, ctx: ParseContext, what: str) -> pd.DataFrame:
    account_name = _account(ctx, what)
    table = _read(data, what, ("Post id", "Tweet id"))
    ident = table.require(("Post id", "Tweet id"))[0]
    ids = text(ident)
    require_values(ident, ids, "the post id is empty")
    bad = pc.invert(pc.match_substring_regex(ids, r"^\d{1,20}$"))
    if pc.any(bad).as_py():
        raise ident.error(pc.index(bad, True).as_py(), "is not a post id (digits)")
    n = len(table)
    when = table.column("time", "Date", "Post date")
    body = table.column("Post text", "Tweet text", "Text")
    link = table.column("Post Link", "Link", "Tweet permalink", "Permalink")
    url = text(link) if link is not None else pa.nulls(n, pa.string())
    # the link X writes, or the canonical one built from the id
    url = pc.fill_null(url, pc.binary_join_element_wise("https://x.com/i/status/", ids, ""))
    return frame({
        "snapshot_date": _snapshot_day(ctx), "account": account_name, "post_id": ids,
        "text": text(body) if body is not None else pa.nulls(n, pa.string()), "url": url,
        "posted_at": timestamps(when, styles=DATE_STYLES, noun="a post time") if when is not None
        else pa.nulls(n, pa.timestamp("us", tz="UTC")),
        **_metrics(table, [f for f in POST_SCHEMA.names if f in _METRICS]),
    }, n)


def parse_content(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """The current per-post content export: lifetime totals per post as of the export."""
    return _posts(data, ctx, "X content export")


def parse_tweet_activity(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """The legacy ``tweet_activity_metrics_*`` export: lifetime totals per tweet of the window."""
    return _posts(data, ctx, "X tweet activity")


# --- datasets -------------------------------------------------------------------------------------

_COUNT = (0, 100_000_000_000)
_DAILY_COUNTS = [f for f in DAILY_SCHEMA.names if f not in ("date", "account")]
_POST_COUNTS = [f for f in POST_SCHEMA.names if f in _METRICS]

ACCOUNT_OVERVIEW = Dataset(
    name="account_overview",
    description="Account overview export: impressions, likes, engagements, bookmarks, shares, follows, unfollows, "
                "replies, reposts, profile visits, video and media views per day",
    schema=DAILY_SCHEMA, key=("date", "account"), parse=parse_account_overview,
    patterns=(r"^account[_-]?overview.*\.csv$",),
    sniff=header_sniffer("Date", "Impressions", "New follows", "Unfollows"),
    expectations=quality.suite(key=("date", "account"), not_null=("date", "account"),
                               between={c: _COUNT for c in _DAILY_COUNTS}),
)
CONTENT = Dataset(
    name="content",
    description="Content export: lifetime impressions, likes, engagements, replies, reposts, ... per post as of "
                "the export",
    schema=POST_SCHEMA, key=("snapshot_date", "account", "post_id"), parse=parse_content,
    patterns=(r"^account[_-]?analytics[_-]?content.*\.csv$", r"^x[_-]content.*\.csv$"),
    sniff=header_sniffer("Post id", "Post text", "Impressions"),
    expectations=quality.suite(key=("snapshot_date", "account", "post_id"), not_null=("snapshot_date", "account", "post_id"),
                               between={c: _COUNT for c in _POST_COUNTS}),
)
DAILY_ACTIVITY = Dataset(
    name="daily_activity",
    description="Legacy daily_tweet_activity_metrics export: tweets published, impressions, engagements, "
                "retweets, replies, likes, profile clicks, follows per day",
    schema=DAILY_SCHEMA, key=("date", "account"), parse=parse_daily_activity,
    patterns=(r"^daily_tweet_activity_metrics_.+_\d{8}_\d{8}_[a-z]{2}.*\.csv$",),
    sniff=header_sniffer("Date", "Tweets published", "impressions"),
    expectations=quality.suite(key=("date", "account"), not_null=("date", "account"),
                               between={c: _COUNT for c in _DAILY_COUNTS}),
    observed_at=legacy_observed_at,
)
TWEET_ACTIVITY = Dataset(
    name="tweet_activity",
    description="Legacy tweet_activity_metrics export: lifetime impressions, engagements, retweets, replies, likes "
                "per tweet of the window",
    schema=POST_SCHEMA, key=("snapshot_date", "account", "post_id"), parse=parse_tweet_activity,
    patterns=(r"^tweet_activity_metrics_.+_\d{8}_\d{8}_[a-z]{2}.*\.csv$",),
    sniff=header_sniffer("Tweet id", "Tweet permalink", "impressions"),
    expectations=quality.suite(key=("snapshot_date", "account", "post_id"), not_null=("snapshot_date", "account", "post_id"),
                               between={c: _COUNT for c in _POST_COUNTS}),
    observed_at=legacy_observed_at,
)


# --- curated --------------------------------------------------------------------------------------

_DAILY = ["views", "profile_views", "likes", "comments", "shares", "impressions", "engagements", "new_follows",
          "unfollows", "followers_change"]
_POSTS = ["title", "url", "posted_at", "impressions", "likes", "comments", "shares", "saves", "engagements", "views"]


def _shares(df: pd.DataFrame) -> pd.Series:
    """Reposts + shares (both pass a post on), where either is known."""
    both_null = df["reposts"].isna() & df["shares"].isna()
    return (df["reposts"].astype("Int64").fillna(0) + df["shares"].astype("Int64").fillna(0)).mask(both_null)


def _social_daily(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames_of(frames, "account_overview", "daily_activity")
    if df is None:
        return pd.DataFrame(columns=["date", "platform", "account", *_DAILY, "sha256", "observed_at"])
    df = df.assign(views=df["video_views"], profile_views=df["profile_visits"], comments=df["replies"],
                   shares=_shares(df),
                   followers_change=df["new_follows"].astype("Int64") - df["unfollows"].astype("Int64"))
    return newest_values(df, ["date", "account"], _DAILY).assign(platform=PLATFORM)


def _social_posts(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames_of(frames, "content", "tweet_activity")
    if df is None:
        return pd.DataFrame(columns=["date", "period", "platform", "account", "post_id", *_POSTS, "sha256", "observed_at"])
    df = df.assign(date=df["snapshot_date"], title=df["text"], comments=df["replies"], saves=df["bookmarks"],
                   shares=_shares(df), views=df["media_views"])
    out = newest_values(df, ["date", "account", "post_id"], _POSTS)
    return out.assign(platform=PLATFORM, period="lifetime", post_type="post")


# --- samples --------------------------------------------------------------------------------------

_HANDLE = "novalights"
_POSTS_TEXT = ("New single \"Midnight Arcade\" out Friday 🌃", "Static Bloom with @ivyvale is out now!\nLink in bio ✨",
               "Thank you Berlin,\nthank you London.\nSee you soon", "Studio day. Something new is coming",
               "Glass Harbour visualizer is live on YouTube", "Pre-save the next one → link in bio")


def _x_day(d: date) -> str:
    return f"{d.strftime('%a')}, {d.strftime('%b')} {d.day}, {d.year}"


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """The current account overview (90 days ending at ``end``, newest first, ``Tue, Feb 18,
    2025`` dates) and content export of ``@novalights``, and the legacy daily and per-tweet
    exports of the 90 days before (promoted columns ``-``, a multi-line tweet, ``312.0`` counts)."""
    rng = random.Random(seed * 89 + 3)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    breakout = spotify_breakout(end)
    stamp = name_stamp(end + timedelta(days=1), hours=9)
    days = 90
    start = end - timedelta(days=days - 1)

    overview = [["Date", "Impressions", "Likes", "Engagements", "Bookmarks", "Shares", "New follows", "Unfollows",
                 "Replies", "Reposts", "Profile visits", "Create Post", "Video views", "Media views"]]
    for i in reversed(range(days)):  # newest first
        d = start + timedelta(days=i)
        level = 1500 * (1 + (2.5 * 0.9 ** (d - breakout).days if d >= breakout else 0))
        imp = max(0, int(rng.gauss(level, level * 0.15)))
        likes = int(imp * rng.uniform(0.01, 0.03))
        overview.append([_x_day(d), imp, likes, int(likes * rng.uniform(2, 3)), int(likes * 0.1), int(likes * 0.05),
                         rng.randint(0, 9), rng.randint(0, 3), int(likes * 0.1), int(likes * 0.2),
                         int(imp * 0.01), rng.randint(0, 2), int(imp * 0.2), int(imp * 0.3)])
    ov = out_dir / f"account_overview_analytics_@{_HANDLE}_{stamp}.csv"
    ov.write_bytes(delimited_bytes(overview, newline="\r\n"))

    content = [["Post id", "Date", "Post text", "Post Link", "Impressions", "Likes", "Engagements", "Bookmarks", "Shares",
                "New follows", "Replies", "Reposts", "Profile visits", "Detail Expands", "URL Clicks"]]
    for k, body in enumerate(_POSTS_TEXT):
        d = start + timedelta(days=5 + k * 14)
        pid = str(1890000000000000000 + rng.randrange(10**15))
        imp = rng.randint(800, 9000)
        content.append([pid, f"{d.strftime('%a %b')} {d.day:02d} {d.year}", body,
                        f"https://x.com/{_HANDLE}/status/{pid}", imp, int(imp * 0.02), int(imp * 0.05), int(imp * 0.002),
                        int(imp * 0.001), rng.randint(0, 5), int(imp * 0.002), int(imp * 0.004), int(imp * 0.01),
                        int(imp * 0.01), int(imp * 0.004)])
    ct = out_dir / f"account_analytics_content_@{_HANDLE}_{stamp}.csv"
    ct.write_bytes(delimited_bytes(content, newline="\r\n"))

    l_end = start - timedelta(days=1)
    l_start = l_end - timedelta(days=days - 1)
    span = f"{l_start:%Y%m%d}_{l_end:%Y%m%d}"
    promoted = ["promoted impressions", "promoted engagements", "promoted engagement rate", "promoted retweets",
                "promoted replies", "promoted likes", "promoted user profile clicks", "promoted url clicks",
                "promoted hashtag clicks", "promoted detail expands", "promoted permalink clicks", "promoted app opens",
                "promoted app installs", "promoted follows", "promoted email tweet", "promoted dial phone",
                "promoted media views", "promoted media engagements"]
    organic = ["impressions", "engagements", "engagement rate", "retweets", "replies", "likes", "user profile clicks",
               "url clicks", "hashtag clicks", "detail expands", "permalink clicks", "app opens", "app installs",
               "follows", "email tweet", "dial phone", "media views", "media engagements"]
    daily = [["Date", "Tweets published", *organic, *promoted]]
    for i in range(days):
        d = l_start + timedelta(days=i)
        imp = max(0, int(rng.gauss(900, 120)))
        eng = int(imp * rng.uniform(0.02, 0.05))
        values = [imp, eng, round(eng / max(imp, 1), 4), int(eng * 0.1), int(eng * 0.05), int(eng * 0.4),
                  int(eng * 0.2), int(eng * 0.1), 0, int(eng * 0.1), 0, 0, 0, rng.randint(0, 4), 0, 0, int(imp * 0.1), 0]
        daily.append([d.isoformat(), rng.randint(0, 3), *values, *(["-"] * len(promoted))])
    dl = out_dir / f"daily_tweet_activity_metrics_{_HANDLE}_{span}_en.csv"
    dl.write_bytes(delimited_bytes(daily, quote_all=True))

    tweets = [["Tweet id", "Tweet permalink", "Tweet text", "time", *organic, *promoted]]
    for k in range(4):
        d = l_start + timedelta(days=10 + k * 20)
        tid = str(1100000000000000000 + rng.randrange(10**15))
        imp = rng.randint(300, 5000)
        eng = int(imp * 0.03)
        text_ = "Rehearsal tonight.\nNew songs,\nold friends" if k == 1 else f"Tour update #{k + 1}"
        values = [f"{imp}.0", f"{eng}.0", round(eng / imp, 4), int(eng * 0.1), int(eng * 0.05), int(eng * 0.4),
                  int(eng * 0.2), int(eng * 0.1), 0, int(eng * 0.1), 0, 0, 0, 1, 0, 0, int(imp * 0.1), 0]
        tweets.append([tid, f"https://twitter.com/{_HANDLE}/status/{tid}", text_,
                       f"{d.isoformat()} {18 + k:02d}:{7 * k:02d} +0000", *values, *(["-"] * len(promoted))])
    tw = out_dir / f"tweet_activity_metrics_{_HANDLE}_{span}_en.csv"
    tw.write_bytes(delimited_bytes(tweets, quote_all=True))
    return [ov, ct, dl, tw]


SOURCE = Source(
    name=NAME,
    title="X (Twitter) analytics",
    datasets=(ACCOUNT_OVERVIEW, CONTENT, DAILY_ACTIVITY, TWEET_ACTIVITY),
    mappings=(
        CuratedMapping("fct_social_daily", ("account_overview", "daily_activity"), _social_daily),
        CuratedMapping("fct_social_posts", ("content", "tweet_activity"), _social_posts),
    ),
    samples=write_samples,
    acquisition="file drop (CSV exports of X analytics: account overview, content; legacy daily and per-tweet)",
)
