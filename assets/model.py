"""The conformed model: every curated table's columns, natural key and partitioning.

This is the single place the curated schemas live; `docs/data-model.md` is generated from it.
Dates are DATE, money is DOUBLE in USD, counts are BIGINT. Every fact row carries ``source``,
``sha256`` (of its raw file) and ``observed_at`` (when the platform produced the export).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    doc: str


@dataclass(frozen=True)
class CuratedTable:
    name: str
    grain: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition_by: str | None = None  # a DATE column: one Parquet file per month

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _lineage() -> tuple[Column, ...]:
    return (
        Column("source", pa.string(), "source module that produced the row (`distrokid`, `spotify_for_artists`, ...)"),
        Column("sha256", pa.string(), "SHA-256 of the raw file the row came from"),
        Column("observed_at", pa.timestamp("us", tz="UTC"), "when the platform produced the export"),
    )


FCT_STREAMS_DAILY = CuratedTable(
    name="fct_streams_daily",
    grain="date × platform × source × artist × track",
    description=(
        "Daily streams as each source reports them. `artist` is null when the source reports the "
        "whole account (all its artists); `track` is null on totals over all tracks. The same "
        "streams can arrive through several sources: query `v_streams_daily` for one source per "
        "platform × artist × date."
    ),
    columns=(
        Column("date", pa.date32(), "day the streams happened"),
        Column("platform", pa.string(), "store the streams were on (`spotify`, `apple_music`, ...; `all` for several stores together)"),
        Column("artist", pa.string(), "artist name as the source spells it; null = every artist of the account"),
        Column("track", pa.string(), "track title; null = all tracks"),
        Column("isrc", pa.string(), "ISRC of the track when the source gives it"),
        Column("streams", pa.int64(), "streams that day"),
        Column("listeners", pa.int64(), "unique listeners that day, when the source gives them"),
        *_lineage(),
    ),
    key=("date", "platform", "source", "artist", "track"),
    partition_by="date",
)

FCT_ROYALTIES = CuratedTable(
    name="fct_royalties",
    grain="one statement line",
    description=(
        "Royalty statement lines from distributors. `line_seq` tells apart lines that are "
        "otherwise identical within one statement (same store, track, country and months)."
    ),
    columns=(
        Column("reporting_date", pa.date32(), "day the distributor reported the line"),
        Column("sale_month", pa.date32(), "first day of the month the sale or stream happened"),
        Column("store", pa.string(), "store as the distributor names it (`YouTube (Ads)`)"),
        Column("platform", pa.string(), "conformed platform of the store (`youtube`); `unknown` when unmapped"),
        Column("artist", pa.string(), "artist name"),
        Column("title", pa.string(), "track or album title"),
        Column("isrc", pa.string(), "ISRC"),
        Column("upc", pa.string(), "UPC of the release"),
        Column("country", pa.string(), "ISO 3166 alpha-2 country of sale; DistroKid's `OU` = outside the US"),
        Column("quantity", pa.int64(), "units (streams, downloads)"),
        Column("earnings_usd", pa.float64(), "earnings in USD"),
        Column("team_percentage", pa.float64(), "share of the earnings that goes to this account, in percent"),
        Column("item_type", pa.string(), "`Song` or `Album`"),
        Column("songwriter_royalties_withheld_usd", pa.float64(), "songwriter royalties withheld, USD"),
        Column("recoup_usd", pa.float64(), "amount recouped, USD (newer statements only)"),
        Column("line_seq", pa.int64(), "1 for the first of otherwise identical lines, 2 for the next, ..."),
        *_lineage(),
    ),
    key=("reporting_date", "sale_month", "store", "artist", "title", "isrc", "upc", "country", "item_type", "line_seq", "source"),
    partition_by="reporting_date",
)

TABLES: dict[str, CuratedTable] = {t.name: t for t in (FCT_STREAMS_DAILY, FCT_ROYALTIES)}

# Stores as distributors name them -> conformed platform. Unknown stores map to `unknown`
# (reported by `soundlake status`), never silently to another platform.
STORE_PLATFORMS: dict[str, str] = {
    "spotify": "spotify",
    "apple music": "apple_music",
    "itunes songs": "itunes",
    "itunes albums": "itunes",
    "itunes match": "itunes",
    "youtube (ads)": "youtube",
    "youtube (red)": "youtube",
    "youtube (audio)": "youtube",
    "youtube music": "youtube",
    "youtube content id": "youtube",
    "amazon unlimited (streaming)": "amazon_music",
    "amazon prime (streaming)": "amazon_music",
    "amazon music": "amazon_music",
    "amazon (downloads)": "amazon_music",
    "deezer": "deezer",
    "tidal": "tidal",
    "tiktok": "tiktok",
    "facebook": "meta",
    "instagram": "meta",
    "pandora": "pandora",
    "netease": "netease",
    "flo": "flo",
    "soundcloud": "soundcloud",
    "anghami": "anghami",
    "boomplay": "boomplay",
    "audiomack": "audiomack",
    "napster": "napster",
    "snapchat": "snapchat",
    "tencent": "tencent",
    "joox": "joox",
    "kkbox": "kkbox",
    "saavn": "jiosaavn",
    "jiosaavn": "jiosaavn",
    "gaana": "gaana",
}


def store_platform(store: str | None) -> str:
    if store is None:
        return "unknown"
    return STORE_PLATFORMS.get(store.strip().lower(), "unknown")
