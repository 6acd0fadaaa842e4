"""Linktree: GraphQL responses captured from the admin app's analytics page.

Linktree has no export button; the old system saved the JSON the admin app
(linktr.ee/admin/analytics) receives from its GraphQL endpoint, one response per file, named
``graphql_<YYYYMMDD_HHMMSS_ffffff>.json``. Every capture is one dataset, ``graphql``, whichever
query it holds.

Seen (a real file): ``data.getAccountAnalytics.overview.{totalViews, totalClicks,
clickThroughRate, timeToClick, clickThroughBenchmark, timeseries: [{date, totalViews, totalClicks,
uniqueViews, uniqueClicks, clickThroughRate, __typename}]}``: one row per day, the last day being
the (partial) day of the capture; ``clickThroughRate`` is clicks per view as a fraction (0.5046 =
1,767 / 3,502), daily values above 1 happen (more clicks than views).

Documented only (no real capture known; shapes accepted leniently, each field under any of the
names listed in ``_LOCATION`` / ``_REFERRER`` / ``_LINK`` below), as further fields of
``data.getAccountAnalytics``, several of them possibly in one capture:

* ``locations`` (or ``topLocations``, ``countries``, ``topCountries``):
  ``[{countryCode?, country?, city?, totalViews?, totalClicks?, uniqueViews?, uniqueClicks?}]``
* ``referrers`` (or ``topReferrers``, ``referrals``): ``[{referrer, totalViews?, totalClicks?}]``
* ``links`` (or ``topLinks``): ``[{id, title, url, totalClicks, totalViews?, uniqueClicks?}]``
* the window they cover: ``dateRange``/``period`` ``{startDate|start|from, endDate|end|to}`` or
  ``startDate``/``endDate`` beside them (or in a ``variables`` object at the top of the capture).

Each list may also come wrapped as ``{items: [...]}``, ``{nodes: [...]}`` or ``{edges: [{node}]}``.

Traps handled: numbers as strings (thousands separators too) or null (kept null, never 0); ISO
dates with a time part; a UTF-8 BOM; duplicate days; overview totals that disagree with the
timeseries (an incomplete capture: quarantined rather than silently short); a GraphQL error
envelope ``{"errors": [...]}`` (quarantined, quoting the first message, also when partial
``data`` came with it); a truncated capture. A capture of a query soundlake does not use
(``data.getLinkAppSettings``, ``data.me``, ...) raises :class:`UnusedContent`: it stays in raw with
status ``unused`` and the query named in the reason. Problems are reported with their JSON path,
indexes counting from 0 (``data.getAccountAnalytics.overview.timeseries[12].totalClicks``).
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source, UnusedContent
from .parsing import counts, dates, frame, json_column, json_document, numbers, require_values
from .samples import name_stamp, sample_end, sample_spotify_daily, spotify_breakout

NAME = "linktree"
QUERY = "getAccountAnalytics"
ROOT = f"data.{QUERY}"

SCHEMA = pa.schema([
    ("section", pa.string()),            # overview | location | referrer | link
    ("date", pa.date32()),               # the day, for overview rows; null for breakdowns
    ("item", pa.string()),               # country, referrer or link title; null for overview rows
    ("link_id", pa.string()),            # Linktree's id of the link, for link rows
    ("url", pa.string()),                # the link's target, for link rows
    ("views", pa.int64()),
    ("unique_views", pa.int64()),
    ("clicks", pa.int64()),
    ("unique_clicks", pa.int64()),
    ("click_through_rate", pa.float64()),  # clicks per view, a fraction, as Linktree reports it
    ("period_start", pa.date32()),       # the window the capture covers, when known
    ("period_end", pa.date32()),
    ("account", pa.string()),            # --account; the capture does not name the page
])
KEY = ("section", "date", "item")
COLUMNS = SCHEMA.names

# field names accepted for each documented section, and for the fields of their entries
_LOCATION = ("locations", "topLocations", "countries", "topCountries")
_REFERRER = ("referrers", "topReferrers", "referrals")
_LINK = ("links", "topLinks")
_SECTIONS = (("location", _LOCATION), ("referrer", _REFERRER), ("link", _LINK))
_VIEWS, _CLICKS = ("totalViews", "views"), ("totalClicks", "clicks")
_UNIQUE_VIEWS, _UNIQUE_CLICKS = ("uniqueViews", "unique_views"), ("uniqueClicks", "unique_clicks")
_RATE = ("clickThroughRate", "ctr")
_RANGE_OBJECTS = ("dateRange", "period", "range")
_RANGE_START, _RANGE_END = ("startDate", "start", "from"), ("endDate", "end", "to")
# fields of getAccountAnalytics that are only the window or GraphQL bookkeeping, not content
_META = {"__typename", *_RANGE_OBJECTS, *_RANGE_START, *_RANGE_END}
# the admin app's counts: JSON numbers, or strings with "," grouping ("1,234"), "5.0" for 5
THOUSANDS = ","


# --- reading values, each error naming its JSON path ------------------------------------------


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _counts(values: list, paths: list[str]) -> pa.Array:
    """View and click counts; null stays null, never 0."""
    col = json_column("count", values, paths.__getitem__, expected="a count")
    out = counts(col, thousands=THOUSANDS, point_zero=True)
    negative = pc.fill_null(pc.less(out, 0), False)
    if pc.any(negative).as_py():
        raise col.error(pc.index(negative, True).as_py(), "is negative; Linktree views and clicks cannot be")
    return out


def _rates(values: list, paths: list[str]) -> pa.Array:
    """Clicks per view as a fraction. A percent string (``"50.46%"``) is turned into one, so the
    column has one unit."""
    col = json_column("rate", values, paths.__getitem__, expected="a number")
    percent = pc.fill_null(pc.ends_with(pc.utf8_trim_whitespace(col.values), "%"), False)
    out = numbers(col, thousands=THOUSANDS, percent=True)
    out = pc.if_else(percent, pc.divide(out, 100.0), out)
    negative = pc.fill_null(pc.less(out, 0), False)
    if pc.any(negative).as_py():
        raise col.error(pc.index(negative, True).as_py(), "is not a click-through rate")
    return out


def _dates(values: list, paths: list[str], *, required: bool = True) -> pa.Array:
    """``YYYY-MM-DD``, also with a time part (``2025-05-27T00:00:00.000Z``: the day as written)."""
    col = json_column("date", values, paths.__getitem__, expected="a date")
    out = dates(col)
    if required:
        require_values(col, out, "the date is missing")
    return out


def _date(value: Any, path: str) -> date | None:
    return _dates([value], [path], required=False)[0].as_py()


def _pick(entry: dict, names: tuple[str, ...], path: str) -> tuple[Any, str, bool]:
    """The first of ``names`` the entry has: (value, its path, whether it was there at all)."""
    for n in names:
        if n in entry:
            return entry[n], f"{path}.{n}", True
    return None, f"{path}.{names[0]}", False


def _picked(entries: list[tuple[str, dict]], names: tuple[str, ...]) -> tuple[list, list[str]]:
    """The value of the first of ``names`` each entry has (null when it has none), and its path."""
    values, paths = [], []
    for path, entry in entries:
        value, where, _ = _pick(entry, names, path)
        values.append(value)
        paths.append(where)
    return values, paths


def _measures(entries: list[tuple[str, dict]]) -> dict[str, pa.Array]:
    out = {column: _counts(*_picked(entries, names)) for column, names in
           (("views", _VIEWS), ("unique_views", _UNIQUE_VIEWS), ("clicks", _CLICKS), ("unique_clicks", _UNIQUE_CLICKS))}
    out["click_through_rate"] = _rates(*_picked(entries, _RATE))
    return out


def _entries(value: Any, path: str) -> list[tuple[str, dict]]:
    """The objects of a list section, as (path, object); a list may come wrapped Relay-style."""
    if isinstance(value, dict):
        for wrapper in ("items", "nodes", "data", "results"):
            if isinstance(value.get(wrapper), list):
                return _entries(value[wrapper], f"{path}.{wrapper}")
        if isinstance(value.get("edges"), list):
            out = []
            for i, edge in enumerate(value["edges"]):
                p = f"{path}.edges[{i}]"
                if not isinstance(edge, dict) or not isinstance(edge.get("node"), dict):
                    raise ParseError(f"{p}: expected an object with a 'node' object")
                out.append((f"{p}.node", edge["node"]))
            return out
    if not isinstance(value, list):
        raise ParseError(f"{path}: expected a list, found {_kind(value)}")
    out = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise ParseError(f"{path}[{i}]: expected an object, found {_kind(entry)}")
        out.append((f"{path}[{i}]", entry))
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# --- the capture ------------------------------------------------------------------------------


def _load(data: bytes, ctx: ParseContext) -> dict:
    """The whole response, once it is known to be a clean answer with a ``data`` object."""
    doc = json_document(data, hint=": a truncated capture?")
    if not isinstance(doc, dict):
        raise ParseError(f"expected a GraphQL response (a JSON object) at the top, found {_kind(doc)}")
    errors = doc.get("errors")
    if errors:
        # with errors, any data is partial (the failed fields are null): never load half an answer
        first = errors[0] if isinstance(errors, list) else errors
        message = first.get("message") if isinstance(first, dict) else first
        more = f" (and {len(errors) - 1} more)" if isinstance(errors, list) and len(errors) > 1 else ""
        partial = "; its data is partial" if doc.get("data") else ""
        raise ParseError(f"the capture is a GraphQL error response: {message!r}{more}{partial}")
    if "data" not in doc:
        raise ParseError(f"not a GraphQL response: no 'data'; the top level has {sorted(doc)}")
    if not isinstance(doc["data"], dict):
        raise ParseError(f"data: expected an object, found {_kind(doc['data'])}")
    return doc


def _window(obj: dict, path: str) -> tuple[date | None, date | None, bool]:
    """(start, end, found) of a date range given in ``obj`` in any of the accepted shapes."""
    for name in _RANGE_OBJECTS:
        rng = obj.get(name)
        if isinstance(rng, dict):
            s, sp, _ = _pick(rng, _RANGE_START, f"{path}.{name}")
            e, ep, _ = _pick(rng, _RANGE_END, f"{path}.{name}")
            if s is not None or e is not None:
                return _date(s, sp), _date(e, ep), True
    s, sp, _ = _pick(obj, ("startDate",), path)
    e, ep, _ = _pick(obj, ("endDate",), path)
    if s is not None or e is not None:
        return _date(s, sp), _date(e, ep), True
    return None, None, False


def _capture_window(doc: dict, gaa: dict) -> tuple[date | None, date | None, bool]:
    start, end, found = _window(gaa, ROOT)
    if not found and isinstance(doc.get("variables"), dict):  # a capture tool that kept the request
        start, end, found = _window(doc["variables"], "variables")
    if start and end and start > end:
        raise ParseError(f"{ROOT}: the date range starts {start} after it ends {end}")
    return start, end, found


def _overview(ov: Any, path: str) -> pd.DataFrame | None:
    """Daily rows of the overview timeseries; None when the overview has no timeseries."""
    if not isinstance(ov, dict):
        raise ParseError(f"{path}: expected an object, found {_kind(ov)}")
    if ov.get("timeseries") is None:
        return None
    entries = _entries(ov["timeseries"], f"{path}.timeseries")
    day_paths = [f"{p}.date" for p, _ in entries]
    days = _dates([e.get("date") for _, e in entries], day_paths)
    repeated = pd.Series(days.to_pylist()).duplicated()
    if repeated.any():
        i = int(repeated.to_numpy().nonzero()[0][0])
        first = days.to_pylist().index(days[i].as_py())
        raise ParseError(f"{day_paths[i]}: {days[i].as_py()} appears twice (also at {entries[first][0]})")
    rows = frame({"section": "overview", "date": days, **_measures(entries)}, len(entries))
    # the overview's totals cover the same days: when they disagree, the capture is incomplete
    # (or days were lost), and loading it would make the daily table silently short
    for total_names, column in ((_VIEWS, "views"), (_CLICKS, "clicks")):
        value, where, _ = _pick(ov, total_names, path)
        total = _counts([value], [where])[0].as_py()
        summed = int(rows[column].sum())
        if total is not None and total != summed:
            raise ParseError(f"{path}.{total_names[0]} is {total:,} but the timeseries' {total_names[0]} add "
                             f"up to {summed:,}: an incomplete capture?")
    return rows


def _breakdown(section: str, value: Any, path: str) -> pd.DataFrame:
    entries = _entries(value, path)
    items = []
    for p, e in entries:
        if not any(n in e for n in (*_VIEWS, *_CLICKS)):
            raise ParseError(f"{p}: has neither totalClicks nor totalViews (it has {sorted(e)})")
        row: dict[str, Any] = {"link_id": None, "url": None}
        if section == "location":
            # the ISO code when given (it is what other tables use), else the name as given
            names = ("countryCode", "country", "countryName", "location", "name")
            if not any(n in e for n in names):
                raise ParseError(f"{p}: no country (expected one of {', '.join(names)}; it has {sorted(e)})")
            country = next((_text(e[n]) for n in names if _text(e.get(n))), None) or "(unknown)"
            city = _text(e.get("city"))
            row["item"] = f"{city}, {country}" if city else country
        elif section == "referrer":
            names = ("referrer", "source", "domain", "name")
            if not any(n in e for n in names):
                raise ParseError(f"{p}: no referrer (expected one of {', '.join(names)}; it has {sorted(e)})")
            # Linktree shows visits without a referrer as "Direct"
            row["item"] = next((_text(e[n]) for n in names if _text(e.get(n))), None) or "(direct)"
        else:
            row["link_id"] = _text(e.get("id") if "id" in e else e.get("linkId"))
            row["url"] = _text(e.get("url"))
            title = _text(e.get("title") if "title" in e else e.get("name"))
            # an untitled link (a music embed, say) is named by its target, then by its id
            row["item"] = title or row["url"] or row["link_id"]
            if row["item"] is None:
                raise ParseError(f"{p}: a link with neither title, url nor id")
        items.append(row)
    if section == "link":
        _tell_links_apart(items)
    texts = {k: pa.array([r[k] for r in items], pa.string()) for k in ("item", "link_id", "url")}
    return frame({"section": section, **texts, **_measures(entries)}, len(entries))


def _tell_links_apart(rows: list[dict]) -> None:
    """Two links of one page may share a title ("Spotify" twice); ``item`` must tell them apart,
    so those get their target added: ``Spotify (https://...)``, then their id."""
    for extra in ("url", "link_id"):
        titles = pd.Series([r["item"] for r in rows], dtype="object")
        for i in titles[titles.duplicated(keep=False)].index:
            if rows[i][extra]:
                rows[i]["item"] = f"{rows[i]['item']} ({rows[i][extra]})"


def parse_graphql(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    doc = _load(data, ctx)
    fields = [k for k in doc["data"] if k != "__typename"]
    if QUERY not in doc["data"]:
        if not fields:
            raise ParseError("data is empty: the capture holds no query result")
        plural = "query" if len(fields) == 1 else "queries"
        raise UnusedContent(f"holds the GraphQL {plural} {', '.join(fields)}, which soundlake does not use")
    gaa = doc["data"][QUERY]
    if not isinstance(gaa, dict):
        raise ParseError(f"{ROOT}: expected an object, found {_kind(gaa)}")

    start, end, has_window = _capture_window(doc, gaa)
    parts: list[pd.DataFrame] = []
    used: list[str] = []
    overview_totals_only = False
    if gaa.get("overview") is not None:
        daily = _overview(gaa["overview"], f"{ROOT}.overview")
        if daily is None:
            overview_totals_only = True
        else:
            parts.append(daily)
            used.append("overview")
            if not has_window and len(daily):
                # breakdowns of the same capture cover the timeseries' days
                start, end = daily["date"].min(), daily["date"].max()
    for section, names in _SECTIONS:
        for name in names:
            if gaa.get(name) is not None:
                parts.append(_breakdown(section, gaa[name], f"{ROOT}.{name}"))
                used.append(name)

    if not used:
        other = [k for k in gaa if k not in _META and gaa[k] is not None]
        if overview_totals_only:
            raise UnusedContent(f"holds only the overview totals of {QUERY} (no timeseries); "
                                "soundlake uses the daily timeseries and the breakdowns")
        if other:
            raise UnusedContent(f"holds {QUERY}.{', '.join(other)}, which soundlake does not use")
        raise ParseError(f"{ROOT}: holds no overview, locations, referrers or links")

    df = pd.concat(parts, ignore_index=True).reindex(columns=COLUMNS)
    df["period_start"], df["period_end"] = start, end
    df["account"] = ctx.options.get("account")
    return df


def _sniff(name: str, head: bytes) -> bool:
    # the query's field name is specific to Linktree's admin API; the name pattern catches
    # captures of other queries (which are recognised, then recorded as unused)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") and f'"{QUERY}"'.encode() in head


def _observed_at(name: str, data: bytes) -> datetime | None:
    """For a capture whose name has no stamp: the last day it covers (at 00:00 UTC)."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
        gaa = doc["data"][QUERY]
        _, last, _ = _capture_window(doc, gaa)
        if last is None:
            series = gaa["overview"]["timeseries"]
            last = max(_dates([r["date"] for r in series], ["date"] * len(series)).to_pylist())
    except Exception:  # a best guess only: the lake falls back to --as-of or the landing time
        return None
    return datetime.combine(last, datetime.min.time(), tzinfo=timezone.utc)


GRAPHQL = Dataset(
    name="graphql",
    description=("Admin-app GraphQL captures: the overview's daily views and clicks, and views/clicks "
                 "by location, referrer and link over the capture's window"),
    schema=SCHEMA, key=KEY, parse=parse_graphql,
    patterns=(r"^graphql_.*\.json$", r"linktree.*\.json$"), sniff=_sniff,
    expectations=quality.suite(
        key=KEY, not_null=("section",), in_set={"section": ["overview", "location", "referrer", "link"]},
        between={c: quality.COUNT for c in ("views", "unique_views", "clicks", "unique_clicks")},
        non_negative=("click_through_rate",),
    ),
    observed_at=_observed_at,
)


# --- curated ----------------------------------------------------------------------------------

DAILY_COLUMNS = ["date", "platform", "account", "views", "unique_views", "clicks", "unique_clicks",
                 "click_through_rate", "sha256", "observed_at"]
BREAKDOWN_COLUMNS = ["period_start", "period_end", "platform", "account", "dimension", "item", "url", "views",
                     "clicks", "sha256", "observed_at"]


def _clicks_daily(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames.get("graphql")
    if df is None or not len(df):
        return pd.DataFrame(columns=DAILY_COLUMNS)
    return df[df["section"] == "overview"].assign(platform=NAME)[DAILY_COLUMNS]


def _breakdown_table(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames.get("graphql")
    if df is None or not len(df):
        return pd.DataFrame(columns=BREAKDOWN_COLUMNS)
    parts = df[df["section"] != "overview"]
    return parts.rename(columns={"section": "dimension"}).assign(platform=NAME)[BREAKDOWN_COLUMNS]


# --- samples ----------------------------------------------------------------------------------


def _capture(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"))  # the app's responses are minified


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """An overview capture (365 days), a capture of locations + referrers + links over the last
    28 days, and a capture of a query soundlake does not use (recorded as ``unused``)."""
    rng = random.Random(seed + 307)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)

    # page views follow the demo's Spotify series (about one per 120 streams), with a spike on the
    # release day (the day the streams break out) when the link is pushed everywhere
    spotify = sample_spotify_daily(seed, end)
    release = spotify_breakout(end)
    series = []
    for day, streams in spotify:
        level = streams / 120
        if day >= release:
            level *= 1 + 7.0 * (0.6 ** (day - release).days)
        views = max(0, int(rng.gauss(level, level * 0.25 + 1)))
        clicks = sum(rng.random() < 0.48 for _ in range(views))
        uviews = views - int(views * rng.uniform(0.2, 0.4))
        uclicks = clicks - int(clicks * rng.uniform(0.3, 0.5))
        series.append({"totalViews": views, "totalClicks": clicks, "uniqueViews": uviews, "uniqueClicks": uclicks,
                       "clickThroughRate": round(clicks / views, 4) if views else 0, "date": day.isoformat(),
                       "__typename": "AccountActivity"})
    views, clicks = sum(s["totalViews"] for s in series), sum(s["totalClicks"] for s in series)
    overview = {"data": {QUERY: {"overview": {
        "totalViews": views, "totalClicks": clicks, "clickThroughRate": round(clicks / max(views, 1), 4),
        "timeToClick": 0, "clickThroughBenchmark": 80.6429, "timeseries": series, "__typename": "AccountOverview",
    }, "__typename": "AccountAnalytics"}}}

    # the breakdowns over the last 28 days add up to the overview's days
    last = series[-28:]
    v28, c28 = sum(s["totalViews"] for s in last), sum(s["totalClicks"] for s in last)

    def split(total: int, shares: list[float]) -> list[int]:
        parts = [int(total * s) for s in shares]
        parts[0] += total - sum(parts)
        return parts

    countries = [("US", "United States", 0.46), ("GB", "United Kingdom", 0.14), ("DE", "Germany", 0.1),
                 ("JP", "Japan", 0.08), ("BR", "Brazil", 0.07), ("CA", "Canada", 0.15)]
    cv, cc = split(v28, [c[2] for c in countries]), split(c28, [c[2] for c in countries])
    referrers = [("instagram.com", 0.41), ("tiktok.com", 0.33), (None, 0.16), ("youtube.com", 0.1)]
    rv, rc = split(v28, [r[1] for r in referrers]), split(c28, [r[1] for r in referrers])
    links = [("Tidal Lines (pre-save)", "https://distrokid.com/hyperfollow/sample/tidal-lines", 0.52),
             ("Spotify", "https://open.spotify.com/artist/0sampleartist", 0.27),
             ("Apple Music", "https://music.apple.com/artist/sample/1", 0.12),
             ("Merch", "https://sample.bandcamp.com/merch", 0.09)]
    lc = split(c28, [link[2] for link in links])
    breakdown = {"data": {QUERY: {
        "dateRange": {"startDate": last[0]["date"], "endDate": last[-1]["date"]},
        "locations": [{"countryCode": code, "country": name, "totalViews": v, "totalClicks": c,
                       "__typename": "LocationAnalytics"} for (code, name, _), v, c in zip(countries, cv, cc)],
        "referrers": [{"referrer": ref, "totalViews": v, "totalClicks": c, "__typename": "ReferrerAnalytics"}
                      for (ref, _), v, c in zip(referrers, rv, rc)],
        "links": [{"id": str(400000 + i), "title": title, "url": url, "totalClicks": c, "__typename": "LinkAnalytics"}
                  for i, ((title, url, _), c) in enumerate(zip(links, lc))],
        "__typename": "AccountAnalytics",
    }}}

    unused = {"data": {"getLinkAppSettings": {"theme": "midnight", "showShareButton": True,
                                              "sensitiveContentWarning": False,
                                              "__typename": "LinkAppSettings"}}}
    out = []
    for offset, doc in enumerate((overview, breakdown, unused)):
        stamp = name_stamp(end + timedelta(days=1), hours=9, seconds=5 * offset)
        path = out_dir / f"graphql_{stamp}_{rng.randint(0, 999_999):06d}.json"
        path.write_text(_capture(doc))
        out.append(path)
    return out


SOURCE = Source(
    name=NAME,
    title="Linktree",
    datasets=(GRAPHQL,),
    mappings=(CuratedMapping("fct_link_clicks_daily", ("graphql",), _clicks_daily),
              CuratedMapping("fct_link_breakdown", ("graphql",), _breakdown_table)),
    samples=write_samples,
    acquisition="file drop (GraphQL responses captured from the admin app), or its browser extractor (soundlake extract linktree)",
)
