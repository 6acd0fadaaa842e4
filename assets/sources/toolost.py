"""TooLost: JSON from the distributor portal's internal API (Spotify and Apple Music stats).

Spotify: ``{streams: [{date, streams: "string"}], discovery: [{date, streams, fees}]}``.
Apple: ``{totalStreams: [{date, streams}], totalShazam: [...], tracksTotal: [{isrc, streams, track,
release, cover}], countryTotal: [{country, streams}], streamTotal}``. Rows are unordered; the
Apple file's ``streamTotal`` must equal its daily streams, or the file is incomplete.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Mapping

import pandas as pd
import pyarrow as pa

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source
from .parsing import Column, counts, dates, frame, json_column, json_document, numbers, require_values, text
from .samples import daily_curve, name_stamp, sample_end

NAME = "toolost"
DAILY_COLUMNS = ["date", "platform", "artist", "track", "isrc", "streams", "listeners", "sha256", "observed_at"]


# the portal's numbers: plain digits (as JSON numbers or strings), a decimal point for fees
THOUSANDS = ","


def _load(data: bytes, ctx: ParseContext, required: tuple[str, ...]) -> dict:
    doc = json_document(data)
    if not isinstance(doc, dict):
        raise ParseError("expected a JSON object at the top")
    missing = [k for k in required if not isinstance(doc.get(k), list)]
    if missing:
        raise ParseError(f"missing list(s) {', '.join(repr(k) for k in missing)}; the file has {sorted(doc)}")
    return doc


def _records(doc: dict, key: str, fields: tuple[str, ...]) -> dict[str, Column]:
    """The list ``key`` of the document as one column per field (``streams.date``, ...)."""
    rows = doc.get(key)
    rows = [] if rows is None else rows
    if not isinstance(rows, list):
        raise ParseError(f"{key!r} is a {type(rows).__name__}, not a list")
    bad = [i for i, r in enumerate(rows, start=1) if not isinstance(r, dict)]
    if bad:
        raise ParseError(f"{key}[{bad[0]}] is not an object")
    return {f: json_column(f"{key}.{f}", [r.get(f) for r in rows]) for f in fields}


def _count(col: Column) -> pa.Array:
    return counts(col, thousands=THOUSANDS, point_zero=True)


def _dates(col: Column) -> pa.Array:
    days = dates(col)
    require_values(col, days, "no date")
    return days


SPOTIFY_SCHEMA = pa.schema([("metric", pa.string()), ("date", pa.date32()), ("streams", pa.int64()),
                           ("fees_usd", pa.float64())])


def parse_spotify(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    doc = _load(data, ctx, ("streams",))
    parts = []
    for metric in ("streams", "discovery"):
        cols = _records(doc, metric, ("date", "streams", "fees"))
        parts.append(frame({"metric": metric, "date": _dates(cols["date"]), "streams": _count(cols["streams"]),
                            "fees_usd": numbers(cols["fees"], thousands=THOUSANDS)}, len(cols["date"])))
    return pd.concat(parts, ignore_index=True)


APPLE_SCHEMA = pa.schema([("series", pa.string()), ("date", pa.date32()), ("isrc", pa.string()),
                         ("track", pa.string()), ("release", pa.string()), ("country", pa.string()),
                         ("value", pa.int64())])


def parse_apple(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    doc = _load(data, ctx, ("totalStreams",))
    parts = []
    for series in ("totalStreams", "totalShazam"):
        cols = _records(doc, series, ("date", "streams"))
        parts.append(frame({"series": series, "date": _dates(cols["date"]), "value": _count(cols["streams"])},
                           len(cols["date"])))
    tracks = _records(doc, "tracksTotal", ("isrc", "streams", "track", "release"))
    parts.append(frame({"series": "tracksTotal", "isrc": text(tracks["isrc"]), "track": text(tracks["track"]),
                        "release": text(tracks["release"]), "value": _count(tracks["streams"])},
                       len(tracks["isrc"])))
    countries = _records(doc, "countryTotal", ("country", "streams"))
    parts.append(frame({"series": "countryTotal", "country": text(countries["country"]),
                        "value": _count(countries["streams"])}, len(countries["country"])))
    out = pd.concat(parts, ignore_index=True)[APPLE_SCHEMA.names]
    total = doc.get("streamTotal")
    daily = int(out.loc[out["series"] == "totalStreams", "value"].sum())
    if total is not None and int(total) != daily:
        raise ParseError(f"streamTotal is {total} but the daily totalStreams add up to {daily}: an incomplete export?")
    return out


def _sniff_spotify(name: str, head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and b'"discovery"' in head and b'"streams"' in head


def _sniff_apple(name: str, head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and b'"totalStreams"' in head


def _suite(value: str, key: tuple[str, ...]):
    return quality.suite(key=key, not_null=(value,), between={value: quality.COUNT})


SPOTIFY = Dataset(
    name="spotify", description="Spotify daily streams and Discovery Mode months (portal JSON)",
    schema=SPOTIFY_SCHEMA, key=("metric", "date"), parse=parse_spotify,
    patterns=(r"toolost_spotify.*\.json$",), sniff=_sniff_spotify,
    expectations=_suite("streams", ("metric", "date")),
)
APPLE = Dataset(
    name="apple", description="Apple Music daily streams, Shazams, per-track (ISRC) and per-country totals (portal JSON)",
    schema=APPLE_SCHEMA, key=("series", "date", "isrc", "country"), parse=parse_apple,
    patterns=(r"toolost_apple.*\.json$",), sniff=_sniff_apple,
    expectations=_suite("value", ("series", "date", "isrc", "country")),
)


def _streams_daily(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    spotify = frames.get("spotify")
    if spotify is not None and len(spotify):
        daily = spotify[spotify["metric"] == "streams"]
        parts.append(daily.assign(platform="spotify", artist=None, track=None, isrc=None, listeners=pd.NA)[DAILY_COLUMNS])
    apple = frames.get("apple")
    if apple is not None and len(apple):
        daily = apple[apple["series"] == "totalStreams"].rename(columns={"value": "streams"})
        parts.append(daily.assign(platform="apple_music", artist=None, track=None, isrc=None, listeners=pd.NA)[DAILY_COLUMNS])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=DAILY_COLUMNS)


TOTALS_COLUMNS = ["period_start", "period_end", "period", "platform", "artist", "dimension", "item", "isrc",
                  "streams", "sha256", "observed_at"]


def _streams_totals(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Apple Music per-track (ISRC) and per-country totals. The portal gives no window for them:
    they are taken to cover the days of the same file's daily series (``period = 'export'``)."""
    apple = frames.get("apple")
    if apple is None or not len(apple):
        return pd.DataFrame(columns=TOTALS_COLUMNS)
    days = apple[apple["series"] == "totalStreams"].groupby("sha256")["date"].agg(["min", "max"])
    rows = apple[apple["series"].isin(["tracksTotal", "countryTotal"])]
    rows = rows.join(days, on="sha256")
    is_track = rows["series"] == "tracksTotal"
    return pd.DataFrame({
        "period_start": rows["min"], "period_end": rows["max"], "period": "export", "platform": "apple_music",
        "artist": None, "dimension": is_track.map({True: "track", False: "country"}),
        "item": rows["track"].where(is_track, rows["country"]), "isrc": rows["isrc"].where(is_track),
        "streams": rows["value"], "sha256": rows["sha256"], "observed_at": rows["observed_at"],
    })[TOTALS_COLUMNS]


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    rng = random.Random(seed + 101)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = name_stamp(end + timedelta(days=1))
    days = 110
    start = end - timedelta(days=days - 1)
    # TooLost delivers other releases than DistroKid: its own, smaller catalogue (distributors'
    # numbers add up in v_streams_account_daily, they are not the same streams)
    spotify = daily_curve(random.Random(seed * 31 + 5), days, 220, breakout_day=days - 40)
    rows = [{"date": (start + timedelta(days=i)).isoformat(), "streams": str(v)} for i, v in enumerate(spotify)]
    rng.shuffle(rows)  # the portal's rows are unordered
    month = end.replace(day=1) - timedelta(days=1)
    doc = {"streams": rows, "discovery": [{"date": month.replace(day=1).isoformat(),
                                           "streams": str(sum(spotify[-30:]) // 5), "fees": "2.93076245"}]}
    sp = out_dir / f"toolost_spotify_{stamp}.json"
    sp.write_text(json.dumps(doc, indent=2))
    apple = [max(0, int(v * 0.03 + rng.gauss(0, 2))) for v in spotify]
    total = [{"date": (start + timedelta(days=i)).isoformat(), "streams": v} for i, v in enumerate(apple)]
    rng.shuffle(total)
    doc = {
        "totalStreams": total,
        "totalShazam": [{"date": (start + timedelta(days=i)).isoformat(), "streams": str(rng.randint(0, 9))}
                        for i in range(0, days, 9)],
        "tracksTotal": [{"isrc": f"QZTLS25000{i:02d}", "streams": sum(apple) // (i + 2), "track": t, "release": "Tidal Lines",
                         "cover": "https://example.invalid/cover.jpg"} for i, t in enumerate(["Undertow", "Salt Glass", "Pier 9"])],
        "countryTotal": [{"country": c, "streams": int(sum(apple) * s)} for c, s in (("US", 0.5), ("JP", 0.15), ("DE", 0.1))],
        "streamTotal": sum(apple),
    }
    ap = out_dir / f"toolost_apple_{stamp}.json"
    ap.write_text(json.dumps(doc, indent=2))
    return [sp, ap]


SOURCE = Source(
    name=NAME,
    title="TooLost",
    datasets=(SPOTIFY, APPLE),
    mappings=(
        CuratedMapping("fct_streams_daily", ("spotify", "apple"), _streams_daily),
        CuratedMapping("fct_streams_totals", ("apple",), _streams_totals),
    ),
    samples=write_samples,
    acquisition="file drop (JSON saved from the portal), or its browser extractor (soundlake extract toolost)",
    stream_precedence=2,
)
