"""Instagram and Facebook through Meta Business Suite exports (file drop) and Graph API
insights responses (landed by the API puller). Both platforms' files have the same shapes, so
they are declared once here; ``instagram.py`` and ``facebook.py`` each declare their source with
:func:`meta_source` (this module declares none).

- **Business Suite metric files** (Insights → Export): one metric per file, **UTF-16LE with a
  BOM**, first line ``sep=,``, then a title line (``"Views"``, ``"Reach"``, ``"Instagram
  follows"``, ``"Content interactions"``), then ``"Date","Primary"`` with ISO datetimes
  (``2025-10-31T00:00:00``). Days with zero are sometimes left out: between a file's first and
  last day a missing day of a daily count is 0 (never for a running total such as followers).
  Re-saved by Excel they become ``;``-separated UTF-8: read too.
- **Business Suite content exports** (per post): dozens of columns (``Post ID, Account ID,
  Account username, Account name, Description, Duration (sec), Publish time, Permalink, Post
  type, Data comment, Date, Views, Reach, Likes, Shares, Follows, Comments, Saves``; Facebook:
  ``Page ID, Page name, Title, Reactions, Total clicks, ...``), lifetime totals as of the export.
  Some arrive with every line wrapped in one quoted field (``"Post ID,""Account ID"",..."``),
  multi-line captions breaking the wrapping: unwrapped line by line before reading.
- **Graph API insights** (``/{ig-user-id}/insights?metric=...&period=day``): ``{"data": [{name,
  period, values: [{value, end_time}], title, description, id}], "paging": {...}}``; a value's
  ``end_time`` is the end of its day (``2025-05-02T07:00:00+0000`` is May 1). With
  ``metric_type=total_value`` an item has ``total_value: {value}`` and no dates: it is stored for
  the day the file name gives as ``day-<YYYY-MM-DD>`` (the puller's
  ``graph_insights_day-2025-05-01-page-001_<stamp>.json``), else the day before the export day;
  ``--as-of`` names the day itself. Breakdown objects are
  skipped; a response with nothing else is ``unused``. Titles come in the account's language
  (only ``name`` is read); ``paging`` URLs carry the access token and are never read.

The platform is not in the files: the source decides (``--source instagram|facebook``), and a
dropped file goes to Facebook when its name or title says Facebook (``page_*`` metrics in the
API), else to Instagram. A file whose title names the other platform is refused. The account:
``--account``, else an ``@handle`` in the file name, else the content export's username / page
name or the API item's id; a metric file with none is refused, asking for ``--account``.
Built from documentation and other people's parsers: no real file was at hand.
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source, UnusedContent
from .parsing import (
    counts,
    decode,
    fold,
    frame,
    head_text,
    json_column,
    json_document,
    read_delimited,
    require_values,
    text,
    timestamp_from_name,
    timestamps,
)
from .samples import delimited_bytes, name_stamp, sample_end, spotify_breakout
from .social import account, export_day, frames_of, header_sniffer, newest_values

PLATFORMS = ("instagram", "facebook")
_AT = re.compile(r"@(?P<account>[A-Za-z0-9_.]{1,30}?)(?=_\d{8}_\d{6}|[\s(]|\.csv$|\.json$|$)", re.IGNORECASE)

METRIC_SCHEMA = pa.schema([
    ("date", pa.date32()), ("account", pa.string()), ("metric", pa.string()), ("label", pa.string()),
    ("period", pa.string()), ("value", pa.int64()),
])
METRIC_KEY = ("date", "account", "metric", "period")
POST_SCHEMA = pa.schema([
    ("snapshot_date", pa.date32()), ("account", pa.string()), ("post_id", pa.string()), ("post_type", pa.string()),
    ("title", pa.string()), ("url", pa.string()), ("posted_at", pa.timestamp("us", tz="UTC")),
    ("views", pa.int64()), ("reach", pa.int64()), ("impressions", pa.int64()), ("likes", pa.int64()),
    ("comments", pa.int64()), ("shares", pa.int64()), ("saves", pa.int64()), ("follows", pa.int64()),
    ("engagements", pa.int64()), ("link_clicks", pa.int64()),
])
POST_KEY = ("snapshot_date", "account", "post_id")

# Metric names: a Business Suite title (folded, the platform's name taken off) or a Graph API
# metric -> the name staging keeps. Unknown ones are kept under their own folded name.
METRICS = {
    "views": "views", "plays": "views", "video views": "views", "page_video_views": "views",
    "reach": "reach", "accounts reached": "reach", "page_impressions_unique": "reach",
    "impressions": "impressions", "page_impressions": "impressions",
    "follows": "new_follows", "new follows": "new_follows", "new followers": "new_follows",
    "follower_count": "new_follows", "page_fan_adds": "new_follows", "page_daily_follows": "new_follows",
    "unfollows": "unfollows", "page_fan_removes": "unfollows", "page_daily_unfollows": "unfollows",
    "content interactions": "engagements", "interactions": "engagements", "total_interactions": "engagements",
    "page_post_engagements": "engagements",
    "visits": "profile_views", "profile visits": "profile_views", "page visits": "profile_views",
    "profile_views": "profile_views", "page_views_total": "profile_views",
    "followers": "followers", "page_fans": "followers", "page_follows": "followers",
    "link clicks": "link_clicks", "website_clicks": "link_clicks",
    "likes": "likes", "comments": "comments", "shares": "shares", "saves": "saves", "saved": "saves",
}
# running totals: a day missing from a metric file is unknown, not 0
STOCKS = frozenset({"followers"})


def _metric(name: str) -> str:
    folded = fold(name)
    for platform in PLATFORMS:
        folded = re.sub(rf"^{platform}\s+|\s+on {platform}$", "", folded)
    return METRICS.get(name, METRICS.get(folded, folded.replace(" ", "_")))


def _other_platform(platform: str, *texts: str) -> str | None:
    """The other platform when one of ``texts`` names it and none names ``platform``."""
    folded = " ".join(fold(t) for t in texts)
    other = next(p for p in PLATFORMS if p != platform)
    return other if other in folded and platform not in folded else None


def _account_from_name(ctx: ParseContext) -> str | None:
    m = _AT.search(Path(ctx.original_name).name)
    return m["account"] if m else None


# --- Business Suite: one metric per file ------------------------------------------------------------


def _title(text_: str) -> str | None:
    """The title line of a metric file: the first line that is not ``sep=`` and has one field."""
    for line in text_.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:4]:
        stripped = line.strip().strip(",;\t")
        if not stripped or stripped.lower().strip('"').startswith("sep="):
            continue
        if '","' in stripped or fold(stripped.strip('"')).startswith("date"):
            return None
        return stripped.strip('"').strip()
    return None


def _metric_file_parser(platform: str) -> Callable[[bytes, ParseContext], pd.DataFrame]:
    def parse(data: bytes, ctx: ParseContext) -> pd.DataFrame:
        body = decode(data)
        title = _title(body)
        if title is None:
            raise ParseError('not a Meta Business Suite metric export: no title line (like "Views") before the '
                             '"Date","Primary" header')
        other = _other_platform(platform, title, ctx.original_name)
        if other:
            raise ParseError(f"the export is {other.title()}'s ({title!r}), not {platform.title()}'s: ingest it with "
                             f"--source {other}")
        who = account(ctx, _account_from_name(ctx), f"{platform.title()} {title!r} export")
        table = read_delimited(body, f"{title} export", header=("Date", "Primary"))
        day, primary = table.require("Date", "Primary")
        days = pc.cast(timestamps(day, styles=("iso", "slash", "dot"), noun="a date"), pa.date32())
        require_values(day, days, "the date is empty")
        values = counts(primary, thousands=",", point_zero=True)
        metric = _metric(title)
        if len(table) and metric not in STOCKS:
            # Business Suite leaves out days with nothing: they are 0 between the first and last day
            ordinals = np.asarray(pc.cast(days, pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)
            full = np.arange(ordinals.min(), ordinals.max() + 1)
            present = dict(zip(ordinals.tolist(), values.to_pylist()))
            if len(set(present)) != len(ordinals):
                raise ParseError(f"{title} export: a day appears twice")
            days = pa.array(full.astype("int32"), pa.int32()).cast(pa.date32())
            values = pa.array([present.get(int(d), 0) for d in full], pa.int64())
        if not len(days):
            raise ParseError(f"{title} export: the file has a header but no days")
        return frame({"date": days, "account": who, "metric": metric, "label": title, "period": "day",
                      "value": values}, len(days))

    parse.__name__ = "parse_business_suite"
    parse.__doc__ = f"A Meta Business Suite metric export of {platform.title()}: one row per day."
    return parse


# --- Business Suite: per-post content export --------------------------------------------------------

# a first line that is one quoted field holding commas: `"Post ID,""Account ID"",..."`
_WRAPPED = re.compile(r'^\ufeff?"(?:""[^"]*""|[^"]*),')


def unwrap_lines(body: str) -> str:
    """A CSV whose every line was wrapped in one quoted field (``"Post ID,""Account ID"",..."``),
    unwrapped line by line: an odd run of quotes at a line's start or end is the wrapping (an even
    run is escaped quotes of the data), then ``""`` is ``"``. Works whether a multi-line caption
    kept one wrapping around its lines or broke it into one per line."""
    out = []
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        lead = len(line) - len(line.lstrip('"'))
        if lead % 2:
            line = line[1:]
        trail = len(line) - len(line.rstrip('"'))
        if trail % 2 and line:
            line = line[:-1]
        out.append(line.replace('""', '"'))
    return "\n".join(out)


_POST_COUNTS = {
    "views": ("Views", "Plays", "Impressions (views)"),
    "reach": ("Reach",),
    "impressions": ("Impressions",),
    "likes": ("Likes", "Reactions"),
    "comments": ("Comments",),
    "shares": ("Shares",),
    "saves": ("Saves",),
    "follows": ("Follows",),
    "engagements": ("Reactions, Comments and Shares", "Interactions", "Engagement"),
    "link_clicks": ("Link clicks",),
}


def _content_parser(platform: str) -> Callable[[bytes, ParseContext], pd.DataFrame]:
    def parse(data: bytes, ctx: ParseContext) -> pd.DataFrame:
        body = decode(data)
        first = next((ln for ln in body.lstrip("\ufeff").splitlines() if ln.strip()), "")
        if _WRAPPED.match(first):
            body = unwrap_lines(body)
        table = read_delimited(body, f"{platform.title()} content export", header=("Post ID",))
        if not len(table):
            raise ParseError(f"{table.what}: the file has a header but no posts")
        [ident] = table.require("Post ID")
        ids = text(ident)
        require_values(ident, ids, "the post id is empty")
        n = len(table)
        page = table.column("Page name")
        other = _other_platform(platform, ctx.original_name, *(("facebook page",) if page is not None else ()))
        if other:
            raise ParseError(f"the export is {other.title()}'s (it has a 'Page name' column or the name says so), not "
                             f"{platform.title()}'s: ingest it with --source {other}")
        username = table.column("Account username", "Page name", "Account name")
        given = (ctx.options or {}).get("account") or _account_from_name(ctx)
        if given:
            who: Any = account(ctx, given, "content export")
        elif username is not None:
            who = text(username)
            require_values(username, who, "the account is empty (name it with --account NAME)")
        else:
            who = account(ctx, None, f"{platform.title()} content export")
        published = table.column("Publish time", "Published", "Post time")
        kind = table.column("Post type", "Type")
        caption = table.column("Description", "Title", "Caption")
        link = table.column("Permalink", "Link")
        stamp = timestamp_from_name(ctx.original_name)
        return frame({
            "snapshot_date": ctx.as_of or (stamp.date() if stamp else export_day(ctx)), "account": who,
            "post_id": ids, "post_type": text(kind) if kind is not None else pa.nulls(n, pa.string()),
            "title": text(caption) if caption is not None else pa.nulls(n, pa.string()),
            "url": text(link) if link is not None else pa.nulls(n, pa.string()),
            "posted_at": timestamps(published, styles=("iso", "slash", "dot", "words"), noun="a publish time")
            if published is not None else pa.nulls(n, pa.timestamp("us", tz="UTC")),
            **{fld: counts(c, thousands=",", point_zero=True) if (c := table.column(*aliases)) is not None
               else pa.nulls(n, pa.int64()) for fld, aliases in _POST_COUNTS.items()},
        }, n)

    parse.__name__ = "parse_content"
    parse.__doc__ = f"A Meta Business Suite content export of {platform.title()}: lifetime totals per post."
    return parse


# --- Graph API insights -----------------------------------------------------------------------------

# the day a total_value response is of, in the puller's names: `graph_insights_day-2025-05-01-page-001_...`
_DAY_NAME = re.compile(r"(?:^|_)day-(?P<day>\d{4}-\d{2}-\d{2})(?=[-_.@ ]|$)")


def _day_from_name(name: str) -> date | None:
    m = _DAY_NAME.search(Path(name).name)
    if not m:
        return None
    try:
        return date.fromisoformat(m["day"])
    except ValueError:
        raise ParseError(f"the file name {name!r} says day-{m['day']}, which is not a date") from None


def _insights_parser(platform: str) -> Callable[[bytes, ParseContext], pd.DataFrame]:
    def parse(data: bytes, ctx: ParseContext) -> pd.DataFrame:
        doc = json_document(data)
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            err = doc["error"]
            raise ParseError(f"the file holds a Graph API error, not insights: {err.get('message')!r} "
                             f"(type {err.get('type')}, code {err.get('code')})")
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise ParseError('not a Graph API insights response: expected {"data": [{name, period, values}], "paging"}')
        items = doc["data"]
        if not items:
            raise UnusedContent("the insights response holds no metrics")
        names = [i.get("name") if isinstance(i, dict) else None for i in items]
        for j, (item, name) in enumerate(zip(items, names)):
            if not isinstance(name, str):
                raise ParseError(f"data[{j}] is not an insights metric (no 'name')")
            if "values" not in item and "total_value" not in item:
                raise ParseError(f"data[{j}] ({name}): neither 'values' nor 'total_value'")
        other = "facebook" if any(n.startswith("page_") for n in names) else "instagram"
        if other != platform:
            raise ParseError(f"the insights are {other.title()}'s ({', '.join(names[:3])}), not {platform.title()}'s: "
                             f"ingest it with --source {other}")
        given = (ctx.options or {}).get("account") or _account_from_name(ctx)
        stamp = timestamp_from_name(ctx.original_name)
        # a total_value has no dates: --as-of, else the day the puller's file name says it asked for,
        # else the day before the export (what a daily pull asks for)
        total_day = ctx.as_of or _day_from_name(ctx.original_name) or \
            ((stamp.date() if stamp else export_day(ctx)) - timedelta(days=1))
        rows: dict[str, list] = {"date": [], "account": [], "metric": [], "label": [], "period": [], "value": [],
                                 "where": []}
        for j, item in enumerate(items):
            who = given or str(item.get("id", "")).split("/")[0] or None
            if who is None:
                raise ParseError(f"data[{j}] ({item['name']}): no id to tell the account by; name it with --account")
            entries = ([(v, f"data[{j}].values[{k}]") for k, v in enumerate(item["values"])]
                       if "values" in item else [(item["total_value"], f"data[{j}].total_value")])
            for entry, where in entries:
                if not isinstance(entry, dict):
                    raise ParseError(f"{where} is not an object")
                value = entry.get("value")
                if isinstance(value, (dict, list)):
                    continue  # a breakdown (per country, per gender and age): not a daily count
                if "end_time" in entry:
                    end = str(entry["end_time"])
                    try:
                        day = date.fromisoformat(end[:10]) - timedelta(days=1)
                    except ValueError:
                        raise ParseError(f"{where}.end_time: {end!r} is not a time") from None
                else:
                    day = total_day
                rows["date"].append(day)
                rows["account"].append(account(ctx, who, "insights"))
                rows["metric"].append(_metric(item["name"]))
                rows["label"].append(item["name"])
                rows["period"].append(str(item.get("period") or "day"))
                rows["value"].append(value)
                rows["where"].append(f"{where}.value")
        if not rows["date"]:
            raise UnusedContent("the insights response holds only breakdowns, no counts")
        wheres = rows.pop("where")
        value = counts(json_column("value", rows.pop("value"), lambda i: wheres[i]), thousands=None, point_zero=True,
                       empty=("",))
        return frame({**{k: pa.array(v) for k, v in rows.items()}, "value": value})

    parse.__name__ = "parse_graph_insights"
    parse.__doc__ = f"A Graph API insights response of {platform.title()}: one row per metric and day."
    return parse


# --- recognising files ------------------------------------------------------------------------------


def _says(name: str, head: bytes) -> str | None:
    """Which platform a file's name or title line names, if any."""
    folded = fold(Path(name).name.replace(".", " "))
    title = _title(head_text(head)) or ""
    for p, short in (("facebook", "fb"), ("instagram", "ig")):
        if p in folded or re.search(rf"(^| ){short}( |$)", folded) or p in fold(title):
            return p
    return None


def _metric_sniffer(platform: str) -> Callable[[str, bytes], bool]:
    fields = header_sniffer("Date", "Primary", header=("Date", "Primary"))

    def sniff(name: str, head: bytes) -> bool:
        if not fields(name, head):
            return False
        says = _says(name, head)
        return says == platform or (says is None and platform == "instagram")

    return sniff


def _content_sniffer(platform: str) -> Callable[[str, bytes], bool]:
    def sniff(name: str, head: bytes) -> bool:
        text_ = head_text(head).lstrip("\ufeff")
        if not (text_.startswith(("Post ID,", '"Post ID",', '"Post ID,', '"""Post ID"",')) or "\nPost ID," in text_[:400]):
            return False
        says = _says(name, head) or ("facebook" if "Page name" in text_[:2000] else None)
        return says == platform or (says is None and platform == "instagram")

    return sniff


def _insights_sniffer(platform: str) -> Callable[[str, bytes], bool]:
    def sniff(name: str, head: bytes) -> bool:
        h = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not (h[:1] == b"{" and b'"data"' in h and b'"name"' in h and (b'"values"' in h or b'"total_value"' in h)
                and b'"period"' in h):
            return False
        if b'"date_start"' in h:  # Meta Ads insights
            return False
        is_page = b'"name": "page_' in h or b'"name":"page_' in h
        return is_page == (platform == "facebook")

    return sniff


def _name_patterns(platform: str, ext: str) -> tuple[str, ...]:
    short = {"instagram": "ig", "facebook": "fb"}[platform]
    return (rf"(^|[^a-z])({platform}|{short})([^a-z]|$).*\.{ext}$",)


_COUNT = (0, 100_000_000_000)


def datasets(platform: str) -> tuple[Dataset, ...]:
    name = platform.title()
    return (
        Dataset(
            name="business_suite",
            description=f"Meta Business Suite metric export of {name} (one metric per file: Views, Reach, Follows, "
                        "Content interactions, ...; UTF-16 with sep= and a title line); a missing day is 0",
            schema=METRIC_SCHEMA, key=METRIC_KEY, parse=_metric_file_parser(platform),
            patterns=_name_patterns(platform, "csv"), sniff=_metric_sniffer(platform),
            expectations=quality.suite(key=METRIC_KEY, not_null=METRIC_KEY, between={"value": _COUNT}),
        ),
        Dataset(
            name="content",
            description=f"Meta Business Suite content export of {name}: lifetime views, reach, likes, comments, "
                        "shares, saves per post as of the export",
            schema=POST_SCHEMA, key=POST_KEY, parse=_content_parser(platform),
            patterns=_name_patterns(platform, "csv"), sniff=_content_sniffer(platform),
            expectations=quality.suite(key=POST_KEY, not_null=POST_KEY,
                                       between={c: _COUNT for c in _POST_COUNTS}),
        ),
        Dataset(
            name="graph_insights",
            description=f"Graph API insights responses of {name} (period=day values, metric_type=total_value)",
            schema=METRIC_SCHEMA, key=METRIC_KEY, parse=_insights_parser(platform),
            patterns=_name_patterns(platform, "json"), sniff=_insights_sniffer(platform),
            # negative values happen (page_fans corrections are not, but net metrics are): only absurd ones fail
            expectations=quality.suite(key=METRIC_KEY, not_null=METRIC_KEY, between={"value": (-10_000_000, _COUNT[1])}),
        ),
    )


# --- curated ----------------------------------------------------------------------------------------

_DAILY = ["views", "profile_views", "likes", "comments", "shares", "followers", "impressions", "reach", "engagements",
          "new_follows", "unfollows"]
_POSTS = ["post_type", "title", "url", "posted_at", "views", "reach", "impressions", "likes", "comments", "shares",
          "saves", "engagements"]


def _social_daily(platform: str) -> Callable[[Mapping[str, pd.DataFrame]], pd.DataFrame]:
    def build(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        df = frames_of(frames, "business_suite", "graph_insights")
        empty = pd.DataFrame(columns=["date", "platform", "account", *_DAILY, "sha256", "observed_at"])
        if df is None:
            return empty
        df = df[(df["period"] == "day") & df["metric"].isin(_DAILY)]
        if not len(df):
            return empty
        # one value per day × account × metric (the newest export's), then one column per metric
        newest = df.sort_values(["observed_at", "sha256"], kind="stable").drop_duplicates(
            ["date", "account", "metric"], keep="last")
        wide = newest.pivot(index=["date", "account"], columns="metric", values="value").reset_index()
        wide.columns.name = None
        wide = wide.astype({c: "Int64" for c in wide.columns if c not in ("date", "account")})
        lineage = newest.drop_duplicates(["date", "account"], keep="last")[["date", "account", "sha256", "observed_at"]]
        out = wide.merge(lineage, on=["date", "account"])
        if "new_follows" in out and "unfollows" in out:
            out["followers_change"] = out["new_follows"].astype("Int64") - out["unfollows"].astype("Int64")
        return out.assign(platform=platform)

    return build


def _social_posts(platform: str) -> Callable[[Mapping[str, pd.DataFrame]], pd.DataFrame]:
    def build(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        df = frames.get("content")
        if df is None or not len(df):
            return pd.DataFrame(columns=["date", "period", "platform", "account", "post_id", *_POSTS, "sha256",
                                         "observed_at"])
        out = newest_values(df.assign(date=df["snapshot_date"]), ["date", "account", "post_id"], _POSTS)
        return out.assign(platform=platform, period="lifetime")

    return build


# --- samples ----------------------------------------------------------------------------------------

_SAMPLE = {"instagram": ("novalights", "Instagram follows", 4000), "facebook": ("Nova Lights", "Facebook follows", 1200)}


def _samples(platform: str) -> Callable[..., list[Path]]:
    def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
        """Business Suite metric files over 90 days ending at ``end`` (UTF-16LE, ``sep=,``, a
        title line; the follows file leaves out its zero days), a content export (Instagram's
        wrapped line by line, with a multi-line caption) and Graph API insights: for Instagram
        two responses (``period=day`` values and a ``total_value``), for Facebook a Page's
        ``page_*`` metrics by day."""
        rng = random.Random(seed * 97 + len(platform))
        end = sample_end(end)
        out_dir.mkdir(parents=True, exist_ok=True)
        handle, follows_title, base = _SAMPLE[platform]
        breakout = spotify_breakout(end)
        days = 90
        start = end - timedelta(days=days - 1)
        stamp = name_stamp(end + timedelta(days=1), hours=8)
        tag = "@" + handle.replace(" ", "")
        files = []
        series: dict[str, list[tuple[date, int]]] = {"Views": [], "Reach": [], follows_title: [], "Content interactions": []}
        for i in range(days):
            d = start + timedelta(days=i)
            level = base * (1 + (4 * 0.88 ** (d - breakout).days if d >= breakout - timedelta(days=2) else 0))
            views = max(0, int(rng.gauss(level, level * 0.15)))
            series["Views"].append((d, views))
            series["Reach"].append((d, int(views * rng.uniform(0.4, 0.6))))
            follows = max(0, int(rng.gauss(2, 2.5)))
            if follows:  # Business Suite leaves the zero days out
                series[follows_title].append((d, follows))
            series["Content interactions"].append((d, int(views * rng.uniform(0.03, 0.06))))
        for title, rows in series.items():
            body = [["Date", "Primary"], *[[f"{d.isoformat()}T00:00:00", str(v)] for d, v in rows]]
            path = out_dir / f"{platform}_{title.lower().replace(' ', '_')}_{tag}_{stamp}.csv"
            path.write_bytes(delimited_bytes(body, quote_all=True, encoding="utf-16", preamble=("sep=,", f'"{title}"')))
            files.append(path)

        header = ["Post ID", "Account ID", "Account username", "Account name", "Description", "Duration (sec)",
                  "Publish time", "Permalink", "Post type", "Data comment", "Date", "Views", "Reach", "Likes", "Shares",
                  "Follows", "Comments", "Saves"]
        if platform == "facebook":
            header = ["Post ID", "Page ID", "Page name", "Title", "Description", "Duration (sec)", "Publish time",
                      "Permalink", "Post type", "Date", "Views", "Reach", "Reactions, Comments and Shares", "Reactions",
                      "Comments", "Shares", "Link clicks"]
        posts = []
        for k in range(6):
            d = start + timedelta(days=4 + k * 15)
            pid = str(18000000000000000 + rng.randrange(10**15))
            views = rng.randint(800, 20000)
            caption = "New single out now!\nLink in bio 🎧" if k == 2 else f"Studio session #{k + 1}"
            published = f"{d.month:02d}/{d.day:02d}/{d.year} {17 + k % 5}:{10 + k:02d}"
            if platform == "instagram":
                posts.append([pid, "17841400000000001", handle, "Nova Lights", caption, "" if k % 2 else "31",
                              published, f"https://www.instagram.com/p/{pid[-11:]}/", "IG reel" if k % 2 == 0 else "IG image",
                              "", "Lifetime", views, int(views * 0.6), int(views * 0.08), int(views * 0.01),
                              rng.randint(0, 9), int(views * 0.005), int(views * 0.01)])
            else:
                posts.append([pid, "100000000000001", handle, "", caption, "", published,
                              f"https://www.facebook.com/{pid}", "Photos", "Lifetime", views, int(views * 0.7),
                              int(views * 0.05), int(views * 0.04), int(views * 0.005), int(views * 0.005),
                              int(views * 0.01)])
        csv_text = delimited_bytes([header, *posts], quote_all=platform == "instagram").decode("utf-8")
        if platform == "instagram":  # every line wrapped in one quoted field, the caption's lines each on their own
            csv_text = "\n".join('"' + ln.replace('"', '""') + '"' for ln in csv_text.rstrip("\n").split("\n")) + "\n"
        content = out_dir / f"{platform}_content_{tag}_{stamp}.csv"
        content.write_bytes(("\ufeff" + csv_text).encode("utf-8"))
        files.append(content)

        if platform == "instagram":
            ig_id = "17841400000000001"
            api_days = [end - timedelta(days=29 - i) for i in range(30)]

            def end_time(d: date) -> str:
                return datetime.combine(d + timedelta(days=1), time(7), tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")

            data = [{"name": metric, "period": "day", "title": title, "description": "…",
                     "id": f"{ig_id}/insights/{metric}/day",
                     "values": [{"value": int(v), "end_time": end_time(d)} for d, v in zip(api_days, values)]}
                    for metric, title, values in (
                        ("reach", "Alcance", [rng.gauss(base * 0.5, base * 0.05) for _ in api_days]),
                        ("follower_count", "Follower Count", [rng.randint(0, 8) for _ in api_days]))]
            paging = {"previous": f"https://graph.facebook.com/v21.0/{ig_id}/insights?access_token=REDACTED&since=1",
                      "next": f"https://graph.facebook.com/v21.0/{ig_id}/insights?access_token=REDACTED&until=2"}
            daily = out_dir / f"instagram_insights_day_{tag}_{stamp}.json"
            daily.write_text(json.dumps({"data": data, "paging": paging}, indent=1, ensure_ascii=False))
            total = out_dir / f"instagram_insights_total_{tag}_{stamp}.json"
            total.write_text(json.dumps({"data": [
                {"name": "profile_views", "period": "day", "title": "Profile Views", "description": "…",
                 "total_value": {"value": rng.randint(60, 140)}, "id": f"{ig_id}/insights/profile_views/day"},
                {"name": "total_interactions", "period": "day", "title": "Interactions", "description": "…",
                 "total_value": {"value": rng.randint(100, 400), "breakdowns": []},
                 "id": f"{ig_id}/insights/total_interactions/day"}]}, indent=1))
            files += [daily, total]
        else:  # a Page's Graph API insights (``page_*`` metrics, ``period=day``)
            page_id = "100000000000001"
            api_days = [end - timedelta(days=29 - i) for i in range(30)]
            data = [{"name": metric, "period": "day", "title": title, "description": "…",
                     "id": f"{page_id}/insights/{metric}/day",
                     "values": [{"value": int(v), "end_time": datetime.combine(d + timedelta(days=1), time(7),
                                                                             tzinfo=timezone.utc).strftime(
                         "%Y-%m-%dT%H:%M:%S+0000")} for d, v in zip(api_days, values)]}
                    for metric, title, values in (
                        ("page_impressions_unique", "Daily Page reach", [rng.gauss(base * 0.5, base * 0.05)
                                                                          for _ in api_days]),
                        ("page_post_engagements", "Daily Post Engagements", [rng.gauss(base * 0.04, base * 0.01)
                                                                              for _ in api_days]),
                        ("page_daily_follows", "Daily follows", [rng.randint(0, 6) for _ in api_days]))]
            page = out_dir / f"facebook_insights_day_{tag}_{stamp}.json"
            page.write_text(json.dumps({"data": data, "paging": {
                "previous": f"https://graph.facebook.com/v21.0/{page_id}/insights?access_token=REDACTED&since=1",
                "next": f"https://graph.facebook.com/v21.0/{page_id}/insights?access_token=REDACTED&until=2"}},
                indent=1, ensure_ascii=False))
            files.append(page)
        return files

    return write_samples


def meta_source(platform: str) -> Source:
    """The source of one platform served by Meta Business Suite and the Graph API."""
    return Source(
        name=platform,
        title=f"{platform.title()} (Meta Business Suite exports, Graph API insights)",
        datasets=datasets(platform),
        mappings=(
            CuratedMapping("fct_social_daily", ("business_suite", "graph_insights"), _social_daily(platform)),
            CuratedMapping("fct_social_posts", ("content",), _social_posts(platform)),
        ),
        samples=_samples(platform),
        acquisition="file drop (Meta Business Suite CSV exports); API (Graph API insights, landed by the puller)",
    )

