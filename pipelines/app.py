"""What the CLI's commands do, as plain functions over the lake and the warehouse."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Mapping

import pandas as pd

from assets.lake import FileResult, Lake
from assets.model import TABLES
from assets.sources import SOURCES
from resources.settings import Settings
from resources.storage import LakeStorage, open_storage
from resources.warehouse import Warehouse

log = logging.getLogger("soundlake")

Step = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class Platform:
    """The lake, the warehouse and the settings they came from."""

    settings: Settings
    storage: LakeStorage
    lake: Lake
    warehouse: Warehouse

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> "Platform":
        settings = settings or Settings.from_env()
        storage = open_storage(settings)
        return cls(settings, storage, Lake(storage), Warehouse(settings, storage))


def ingest(
    platform: Platform,
    paths: Iterable[Path],
    *,
    source: str | None = None,
    as_of: date | None = None,
    options: Mapping[str, str] | None = None,
    step: Step | None = None,
) -> list[FileResult]:
    """Land files and take them through raw, staging and curated; refresh the warehouse."""
    step = step or (lambda *_: None)
    lake = platform.lake
    step("landing", 0, 4)
    landed, refused = lake.land_paths(paths, source=source, as_of=as_of, options=options)
    step("raw", 1, 4)
    results = lake.landing_to_raw(landed)
    step("staging", 2, 4)
    staged = lake.stage()
    for r in results:
        if r.status == "loaded" and r.sha256 in staged:
            s = staged[r.sha256]
            r.source, r.dataset, r.status, r.rows, r.reason = s.source, s.dataset, s.status, s.rows, s.reason
    step("curated", 3, 4)
    if staged or not platform.settings.warehouse_path.exists():
        lake.build_curated()
        platform.warehouse.refresh()
        analytics(platform, forecasts=False)
    from assets.analytics.alerts import dispatch_quietly  # alerts never fail an ingest

    dispatch_quietly(platform)
    step("done", 4, 4)
    return refused + results


def analytics(platform: Platform, *, forecasts: bool = True, config=None) -> dict[str, int]:
    """Viral moments, anomalies, ad attribution, lagged correlations, revenue and market demand
    (and, with ``forecasts``, backtests and forecasts) from the warehouse, stored as analytics
    tables. Returns rows per table."""
    from assets.analytics import run
    from assets.analytics.series import daily_series

    config = config or run.AnalyticsConfig()
    con = platform.warehouse.connect(read_only=True)
    try:
        series = daily_series(con)
        tables = run.detect(series, config)
        tables.update(run.derive(con, series, config))
        if forecasts:
            tables.update(run.forecast(con, config, series))
    finally:
        con.close()
    created_at = datetime.now(timezone.utc)
    return {name: run.write_table(platform.storage, name, df, created_at) for name, df in tables.items()}


def reprocess(platform: Platform, source: str | None = None) -> list[FileResult]:
    """Parse quarantined raw files again (after a parser fix or a new source module)."""
    staged = platform.lake.stage(reprocess=True, source=source)
    platform.lake.build_curated()
    platform.warehouse.refresh()
    analytics(platform, forecasts=False)
    return list(staged.values())


def query(platform: Platform, sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows (DuckDB's own Python values: ints stay ints, dates stay dates)."""
    if not platform.settings.warehouse_path.exists():
        platform.warehouse.refresh()
    con = platform.warehouse.connect(read_only=True)
    try:
        cur = con.execute(sql)
        columns = [d[0] for d in cur.description] if cur.description else []
        return columns, cur.fetchall()
    finally:
        con.close()


def _unmapped_stores(platform: Platform) -> dict[str, list[dict]]:
    """Stores on royalty lines that map to no platform (dim_store.mapped = false), by source."""
    import duckdb

    try:
        _, rows = query(platform, "SELECT s.source, d.store, d.lines, d.earnings_usd FROM dim_store d, "
                                  "unnest(d.sources) AS s(source) WHERE NOT d.mapped ORDER BY d.earnings_usd DESC")
    except duckdb.CatalogException:  # a warehouse from before dim_store: nothing to report until it is refreshed
        return {}
    out: dict[str, list[dict]] = {}
    for source, store, lines, earnings in rows:
        out.setdefault(source, []).append({"store": store, "lines": lines, "earnings_usd": earnings})
    return out


def status(platform: Platform, now: datetime | None = None) -> list[dict]:
    """Per source: files by status, the newest file, how fresh its data is, quarantined files."""
    now = now or datetime.now(timezone.utc)
    files = platform.lake.manifest()
    unmapped = _unmapped_stores(platform)
    out = []
    for name in sorted(set(SOURCES) | set(files["source"].dropna())):
        mine = files[files["source"] == name]
        counts = mine["status"].value_counts().to_dict()
        newest = mine.sort_values("landed_at").iloc[-1] if len(mine) else None
        loaded = mine[mine["status"] == "loaded"]
        observed = loaded["observed_at"].max() if len(loaded) else None
        out.append({
            "source": name,
            "files": int(len(mine)),
            "loaded": int(counts.get("loaded", 0)),
            "duplicate": int(counts.get("duplicate", 0)),
            "quarantined": int(counts.get("quarantined", 0)),
            "unused": int(counts.get("unused", 0)),
            "last_file": None if newest is None else newest["original_name"],
            "last_landed_at": None if newest is None else newest["landed_at"].isoformat(),
            "freshness_days": None if observed is None or pd.isna(observed) else round((now - observed).total_seconds() / 86400, 1),
            "quarantined_files": [
                {"file": r.original_name, "reason": r.reason}
                for r in mine[mine["status"] == "quarantined"].itertuples(index=False)
            ],
            "unused_files": [
                {"file": r.original_name, "reason": r.reason}
                for r in mine[mine["status"] == "unused"].itertuples(index=False)
            ],
            "unmapped_stores": unmapped.get(name, []),
        })
    unknown = files[files["source"].isna()]
    if len(unknown):
        out.append({
            "source": "(no source)", "files": int(len(unknown)), "loaded": 0, "duplicate": 0,
            "quarantined": int((unknown["status"] == "quarantined").sum()), "unused": 0, "unused_files": [],
            "unmapped_stores": [], "last_file": unknown["original_name"].iloc[-1],
            "last_landed_at": unknown["landed_at"].max().isoformat(), "freshness_days": None,
            "quarantined_files": [{"file": r.original_name, "reason": r.reason} for r in unknown.itertuples(index=False)],
        })
    return out


def write_demo_exports(folder: Path, seed: int = 7) -> list[Path]:
    if folder.exists():
        shutil.rmtree(folder)
    written = []
    for name, src in sorted(SOURCES.items()):
        written += src.samples(folder / name, seed)
    return written


def forecast_summary(platform: Platform) -> dict:
    """On how many series with a year of history the champion beats the seasonal naive at 28 days."""
    from assets.analytics.forecast import summarise

    _, rows = query(platform, "SELECT * FROM forecast_backtest")
    columns, _ = query(platform, "SELECT * FROM forecast_backtest LIMIT 0")
    return summarise(pd.DataFrame(rows, columns=columns))


HIGHLIGHTS_SQL = {
    # markets worth a show, best first
    "markets": "SELECT artist, country_name, demand_score, est_ticket_demand, recommendation, reasons "
               "FROM market_demand WHERE recommendation IN ('BOOK', 'CONSIDER') AND city IS NULL "
               "ORDER BY recommendation, demand_score DESC LIMIT 3",
    # campaigns with a lift outside the counterfactual's interval
    "attribution": "SELECT campaign_name, window_start, window_end, series_id, metric, lift, lift_pct, "
                   "cost_per_incremental FROM ad_attribution WHERE significant AND lift > 0 "
                   "ORDER BY lift_pct DESC LIMIT 3",
    # platforms that lead others
    "lags": "SELECT leader_series_id, follower_series_id, best_lag_days, correlation, p_value "
            "FROM lagged_correlation WHERE p_value < 0.05 ORDER BY correlation DESC LIMIT 3",
    # the newest month's rate of the biggest platforms
    "revenue_per_stream": "SELECT platform, sale_month, sum(earnings_usd) / sum(quantity) AS revenue_per_stream "
                          "FROM revenue_per_stream WHERE sale_month = (SELECT max(sale_month) FROM revenue_per_stream) "
                          "AND platform IN ('spotify', 'apple_music') GROUP BY ALL HAVING sum(quantity) > 0 "
                          "ORDER BY sum(quantity) DESC",
}


def highlights(platform: Platform) -> dict[str, list[dict]]:
    """What the analytics found that a person acts on: markets to book, campaigns that lifted
    streams, platforms that lead others, what a stream pays."""
    out = {}
    for name, sql in HIGHLIGHTS_SQL.items():
        columns, rows = query(platform, sql)
        out[name] = [dict(zip(columns, r)) for r in rows]
    return out


def summary(platform: Platform) -> dict:
    """Row counts per curated table and the headline figures."""
    con = platform.warehouse.connect(read_only=True)
    try:
        tables = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
        royalties = con.execute(
            "SELECT coalesce(sum(quantity), 0), coalesce(round(sum(earnings_usd), 2), 0) FROM fct_royalties"
        ).fetchone()
        streams = con.execute(
            "SELECT platform, count(*) AS days, sum(streams) AS streams FROM v_streams_account_daily "
            "GROUP BY platform ORDER BY streams DESC"
        ).fetchall()
        files = con.execute("SELECT status, count(*) FROM lake_files GROUP BY status ORDER BY status").fetchall()
    finally:
        con.close()
    return {
        "tables": tables,
        "royalties": {"quantity": int(royalties[0]), "earnings_usd": float(royalties[1])},
        "streams_by_platform": [{"platform": p, "days": int(d), "streams": int(s)} for p, d, s in streams],
        "files": {s: int(n) for s, n in files},
    }


class UnknownArtist(ValueError):
    """``--artist`` names no artist of the lake; ``known`` lists the artists there are."""

    def __init__(self, name: str, known: list[str]):
        self.name, self.known = name, known
        listed = ", ".join(known) if known else "none yet (ingest some exports first)"
        super().__init__(f"no artist {name!r} in the lake; known artists: {listed}")


def kpis(platform: Platform, artist: str | None = None) -> list[dict]:
    """The KPIs (the warehouse table ``kpis``, see ``assets/kpis.py`` and ``docs/kpis.md``).

    Without ``artist``: the rows across all artists. With it: that artist's rows; any spelling
    or social handle of the name works (resolved through ``dim_artist_alias`` by ``artist_key``),
    an unknown name raises :class:`UnknownArtist`. Every KPI appears: one without a row for the
    artist gets a row with a null value and a breakdown saying why. Each row is ``{kpi, value,
    unit, period, as_of, artist, breakdown}``, in the order of ``docs/kpis.md``, the headline row
    first, then breakdown rows newest period first, largest value first.
    """
    import duckdb

    from assets.kpis import TABLE, discover

    if not platform.settings.warehouse_path.exists():
        platform.warehouse.refresh()
    con = platform.warehouse.connect(read_only=True)
    try:
        try:
            con.execute(f"SELECT 1 FROM {TABLE} LIMIT 0")
        except duckdb.CatalogException:  # a warehouse from before the KPIs: build them once
            con.close()
            platform.warehouse.refresh()
            con = platform.warehouse.connect(read_only=True)
        canonical = None
        if artist is not None:
            found = con.execute("SELECT DISTINCT artist FROM dim_artist_alias WHERE artist_key = artist_key(?) "
                                "ORDER BY artist", [artist]).fetchall()
            if not found:
                known = [r[0] for r in con.execute("SELECT artist FROM dim_artist ORDER BY lower(artist), artist").fetchall()]
                raise UnknownArtist(artist, known)
            canonical = found[0][0]
        cur = con.execute(f"SELECT kpi, value, unit, period, as_of, artist, breakdown FROM {TABLE} "
                          "WHERE artist IS NOT DISTINCT FROM ?", [canonical])
        columns = [d[0] for d in cur.description]
        rows = [dict(zip(columns, r)) for r in cur.fetchall()]
        per_artist = {r[0] for r in con.execute(f"SELECT DISTINCT kpi FROM {TABLE} WHERE artist IS NOT NULL").fetchall()}
    finally:
        con.close()
    defs = discover()
    if canonical is not None:
        have = {r["kpi"] for r in rows}
        for d in defs:
            if d.id not in have:
                why = f"no data for {canonical}" if d.id in per_artist else "not broken down by artist"
                rows.append({"kpi": d.id, "value": None, "unit": d.unit, "period": d.period, "as_of": None,
                             "artist": canonical, "breakdown": f"no data: {why}"})
    order = {d.id: i for i, d in enumerate(defs)}
    rows.sort(key=lambda r: r["breakdown"] or "")
    rows.sort(key=lambda r: -r["value"] if r["value"] is not None else float("inf"))
    rows.sort(key=lambda r: r["period"] or "", reverse=True)
    rows.sort(key=lambda r: (order.get(r["kpi"], len(order)), r["kpi"], r["breakdown"] is not None))
    return rows
