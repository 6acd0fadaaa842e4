"""What the CLI's commands do. Commands that change the lake land files (where they take files)
and then run a job of the Dagster graph (pipelines/jobs.py) through :mod:`pipelines.launch`; the
rest only read, and never build anything: on a home that holds no lake they raise
:class:`NoLake`."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from assets import freshness
from assets.factory import BATCH_TAG, LANDING_OP
from assets.lake import FileResult
from assets.lakehouse import Lakehouse
from assets.model import TABLES
from assets.sources import SOURCES
from resources.settings import Settings

from . import launch
from .jobs import (
    ANALYTICS_JOB,
    INGEST_JOB,
    REPORT_JOB,
    REPROCESS_JOB,
    analytics_selection,
    ingest_selection,
    reprocess_selection,
)

log = logging.getLogger("soundlake")


class NoLake(RuntimeError):
    """A read command on a home that holds no lake (or no warehouse yet)."""


def lakehouse(settings: Settings | None = None) -> Lakehouse:
    """The lake to change (made when missing)."""
    return Lakehouse.from_settings(settings)


def existing(settings: Settings | None = None, *, warehouse: bool = True) -> Lakehouse:
    """The lake to read: :class:`NoLake` when there is none (or, with ``warehouse``, when its
    warehouse was never built), so a reader never answers from a new empty lake."""
    house = Lakehouse.from_settings(settings, create=False)
    where = house.storage.uri("raw") if house.settings.s3 else str(house.settings.home)
    if not house.exists():
        raise NoLake(f"no lake at {where}: nothing was ever ingested there (SOUNDLAKE_HOME="
                     f"{house.settings.home}). Run `soundlake ingest PATH` or `soundlake demo` first.")
    if warehouse and not house.settings.warehouse_path.exists():
        raise NoLake(f"the lake at {where} has no warehouse yet ({house.settings.warehouse_path}): its last run "
                     "did not get that far. Run `soundlake reprocess` (or ingest again) to build it.")
    return house


@dataclass
class Outcome:
    """What a command's run did: per-file results (ingest, reprocess) and the run."""

    results: list[FileResult] = field(default_factory=list)
    run: launch.RunOutcome | None = None

    @property
    def quarantined(self) -> bool:
        return any(r.status == "quarantined" for r in self.results)


def ingest(house: Lakehouse, paths: Iterable[Path], *, source: str | None = None, as_of: date | None = None,
           options: Mapping[str, str] | None = None) -> Outcome:
    """Land files for a new run, then run the ``ingest`` job of their sources. Results come from
    the manifest rows of the landings made here."""
    run_id = launch.new_run_id()
    landed, refused = house.lake.land_paths(paths, source=source, as_of=as_of, options=options, batch=run_id)
    if not landed:
        return Outcome(refused)
    selection = ingest_selection({(i.source, i.dataset) for i in landed}, house.lake.changes(landed))
    run = launch.run_job(house.settings, INGEST_JOB, run_id=run_id, asset_selection=selection,
                         # its own landings only: drops waiting in landing are the sensor's to announce
                         run_config={"ops": {LANDING_OP: {"config": {"keys": []}}}},
                         tags={BATCH_TAG: run_id, "soundlake/files": str(len(landed))})
    rows = {r["landing_id"]: r for r in house.lake.manifest().to_dict("records")}
    results = [FileResult.of(item.path, rows[item.landing_id]) for item in landed]
    for r in results:
        if r.status == "landed":  # the run failed before taking it: it waits in landing
            r.reason = "still in landing: the run did not take it (see the run's error)"
    return Outcome(refused + results, run)


def reprocess(house: Lakehouse, source: str | None = None) -> Outcome:
    """Parse quarantined (and unused) files in raw again, then rebuild what depends on them."""
    started = datetime.now(timezone.utc)
    run = launch.run_job(house.settings, REPROCESS_JOB, asset_selection=reprocess_selection(source))
    current = house.lake.manifest()
    if current.empty:
        return Outcome([], run)
    mine = current[(current["recorded_at"] >= started) & current["status"].isin(["loaded", "quarantined", "unused"])]
    results = [FileResult.of(r["original_name"], r) for r in mine.to_dict("records")]
    return Outcome(results, run)


def analytics(house: Lakehouse, *, forecasts: bool = True) -> tuple[dict[str, int], launch.RunOutcome]:
    """Run the ``analytics`` job (without the forecasts: only the analytics every ingest runs).
    Returns rows per analytics table and the run."""
    run = launch.run_job(house.settings, ANALYTICS_JOB, asset_selection=analytics_selection(forecasts))
    counts = {key.split("/", 1)[1]: int(meta["dagster/row_count"]) for key, meta in run.materializations.items()
              if "dagster/row_count" in meta and key != "analytics/kpis"}
    return counts, run


def report(house: Lakehouse, report_date: date | None = None) -> tuple[dict, launch.RunOutcome]:
    """Run the ``report`` job for ``report_date`` (today, UTC, by default). Returns the report's
    summary (``uri``, ``date``, period, charts, sections, ...) and the run."""
    config = {"ops": {"analytics__report": {"config": {"date": report_date.isoformat()}}}} if report_date else None
    run = launch.run_job(house.settings, REPORT_JOB, run_config=config)
    return run.metadata("analytics/report").get("result", {}), run


def alerts(house: Lakehouse, *, dry_run: bool = False) -> tuple[dict, launch.RunOutcome]:
    """Run the ``analytics/alerts`` asset (dispatch what is new). Returns the dispatch's result
    (``{alerts, skipped, already_sent, gave_up, channels, failures, problems, newest_day}``)."""
    from assets.analytics_assets import ALERTS_KEY

    run = launch.run_job(house.settings, ANALYTICS_JOB, asset_selection=[ALERTS_KEY],
                         run_config={"ops": {"analytics__alerts": {"config": {"dry_run": dry_run}}}})
    meta = run.metadata(ALERTS_KEY.to_user_string())
    return meta.get("result") or {"error": meta.get("error")}, run


def query(house: Lakehouse, sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows (DuckDB's own Python values: ints stay ints, dates stay dates)."""
    con = house.warehouse.connect(read_only=True)
    try:
        cur = con.execute(sql)
        columns = [d[0] for d in cur.description] if cur.description else []
        return columns, cur.fetchall()
    finally:
        con.close()


def _unmapped_stores(house: Lakehouse) -> dict[str, list[dict]]:
    """Stores on royalty lines that map to no platform (dim_store.mapped = false), by source."""
    import duckdb

    if not house.settings.warehouse_path.exists():
        return {}
    try:
        _, rows = query(house, "SELECT s.source, d.store, d.lines, d.earnings_usd FROM dim_store d, "
                                  "unnest(d.sources) AS s(source) WHERE NOT d.mapped ORDER BY d.earnings_usd DESC")
    except duckdb.CatalogException:  # a warehouse from before dim_store: nothing to report until it is refreshed
        return {}
    out: dict[str, list[dict]] = {}
    for source, store, lines, earnings in rows:
        out.setdefault(source, []).append({"store": store, "lines": lines, "earnings_usd": earnings})
    return out


def status(house: Lakehouse, now: datetime | None = None) -> list[dict]:
    """Per source: files by status, the newest file, how fresh its data is, quarantined files."""
    now = now or datetime.now(timezone.utc)
    files = house.lake.manifest()
    unmapped = _unmapped_stores(house)
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
            "waiting": int(counts.get("landed", 0)),
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
            **freshness.judge(name, observed, now),  # cadence_days, stale
        })
    unknown = files[files["source"].isna()]
    if len(unknown):
        out.append({
            "source": "(no source)", "files": int(len(unknown)), "loaded": 0, "duplicate": 0,
            "quarantined": int((unknown["status"] == "quarantined").sum()), "unused": 0, "unused_files": [],
            "waiting": int((unknown["status"] == "landed").sum()),
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


def forecast_summary(house: Lakehouse) -> dict:
    """On how many series with a year of history the champion beats the seasonal naive at 28 days."""
    from assets.analytics.forecast import summarise

    _, rows = query(house, "SELECT * FROM forecast_backtest")
    columns, _ = query(house, "SELECT * FROM forecast_backtest LIMIT 0")
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


def highlights(house: Lakehouse) -> dict[str, list[dict]]:
    """What the analytics found that a person acts on: markets to book, campaigns that lifted
    streams, platforms that lead others, what a stream pays."""
    out = {}
    for name, sql in HIGHLIGHTS_SQL.items():
        columns, rows = query(house, sql)
        out[name] = [dict(zip(columns, r)) for r in rows]
    return out


def summary(house: Lakehouse) -> dict:
    """Row counts per curated table and the headline figures."""
    con = house.warehouse.connect(read_only=True)
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


def kpis(house: Lakehouse, artist: str | None = None) -> list[dict]:
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

    con = house.warehouse.connect(read_only=True)
    try:
        try:
            con.execute(f"SELECT 1 FROM {TABLE} LIMIT 0")
        except duckdb.CatalogException:  # the run that builds them never got that far
            raise NoLake("the warehouse has no `kpis` table yet: run `soundlake reprocess` (or ingest again)") from None
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
