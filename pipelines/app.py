"""What the CLI's commands do. Commands that change the lake land files (where they take files)
and then run a job of the Dagster graph (pipelines/jobs.py) through :mod:`pipelines.launch`; the
rest only read, and never build anything: on a home that holds no lake they raise
:class:`NoLake`."""

from __future__ import annotations

import logging
import re
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
from resources.lock import lake_lock
from resources.settings import Settings

from . import launch
from .jobs import (
    ANALYTICS_JOB,
    INGEST_ANALYTICS,
    INGEST_JOB,
    PULL_JOB,
    REPORT_JOB,
    REPROCESS_JOB,
    analytics_selection,
    heal_selection,
    ingest_selection,
    pull_selection,
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
    warehouse was never built), so a reader never answers from a new empty lake. A warehouse that
    reads the lake somewhere else (a moved or restored ``SOUNDLAKE_HOME``) is re-created over the
    lake where it is now before anything reads it."""
    house = Lakehouse.from_settings(settings, create=False)
    where = house.storage.uri("raw") if house.settings.s3 else str(house.settings.home)
    if not house.exists():
        raise NoLake(f"no lake at {where}: nothing was ever ingested there (SOUNDLAKE_HOME="
                     f"{house.settings.home}). Run `soundlake ingest PATH` or `soundlake demo` first.")
    if warehouse and not house.settings.warehouse_path.exists():
        raise NoLake(f"the lake at {where} has no warehouse yet ({house.settings.warehouse_path}): its last run "
                     "did not get that far. Run `soundlake repair` to build it.")
    if house.settings.warehouse_path.exists():
        meta = house.warehouse.meta()
        if meta is None or meta.get("root") != house.root():
            outcome = repair(house)  # a run of the warehouse asset: the views over the lake where it is now
            if outcome.run is not None and not outcome.run.success:
                raise NoLake(f"the warehouse reads a lake at {(meta or {}).get('root', 'another place')} and could "
                             f"not be re-created over {house.root()}: see run {outcome.run.run_id} (soundlake ui)")
            log.warning("the warehouse read a lake at %s; re-created over %s",
                        (meta or {}).get("root", "an older layout"), house.root())
    return house


def needs_repair(house: Lakehouse) -> list[str]:
    """Why the lake's derived tables are not what raw says (an interrupted or failed run); empty
    when they are. What `soundlake status` shows and `soundlake repair` fixes."""
    return house.stale(INGEST_ANALYTICS).reasons()


def writing_now(house: Lakehouse) -> str | None:
    """Which other run is writing the lake right now (its half-done work is not stale), if any."""
    from resources.lock import writer

    return writer(house.settings)


@dataclass
class Outcome:
    """What a command's run did: per-file results (ingest, reprocess) and the run."""

    results: list[FileResult] = field(default_factory=list)
    run: launch.RunOutcome | None = None
    repaired: list[str] = field(default_factory=list)  # derived tables an interrupted run left stale, and why

    @property
    def quarantined(self) -> bool:
        return any(r.status == "quarantined" or (r.status == "duplicate" and r.reason and QUARANTINED_COPY in r.reason)
                   for r in self.results)


QUARANTINED_COPY = "which is quarantined"


def _explain_duplicates(results: list[FileResult], current: pd.DataFrame) -> None:
    """A duplicate says what became of the copy already in raw (quarantined, unused, loaded)."""
    if current.empty:
        return
    owners = current[current["status"].isin(["loaded", "quarantined", "unused"])]
    by_sha = {r["sha256"]: r for r in owners.to_dict("records")}
    for r in results:
        owner = by_sha.get(r.sha256) if r.status == "duplicate" else None
        if owner is None:
            continue
        if owner["status"] == "quarantined":
            r.reason = f"same content as {owner['original_name']}, {QUARANTINED_COPY}: {owner['reason']}"
        else:
            r.reason = f"same content as {owner['original_name']}, already in raw ({owner['status']})"


def _lock(house: Lakehouse, on_wait=None):
    return lake_lock(house.settings, house.storage, on_wait=on_wait or (lambda m: log.warning("%s", m)))


def ingest(house: Lakehouse, paths: Iterable[Path], *, source: str | None = None, as_of: date | None = None,
           options: Mapping[str, str] | None = None, on_wait=None) -> Outcome:
    """Land files for a new run, then run the ``ingest`` job of their sources, and rebuild what
    an interrupted run left stale. Holds the lake lock throughout (a second writer waits).
    Results come from the manifest rows of the landings made here."""
    with _lock(house, on_wait):
        run_id = launch.new_run_id()
        # a folder holding the lake's own home (SOUNDLAKE_HOME inside it) never ingests the lake
        landed, refused = house.lake.land_paths(paths, source=source, as_of=as_of, options=options, batch=run_id,
                                                skip=house.settings.own_paths)
        if not landed and not refused:  # no files at all: nothing to do, and the CLI says so
            return Outcome()
        return _run_batch(house, run_id, landed, refused)


def _run_batch(house: Lakehouse, run_id: str, landed: list, refused: list[FileResult]) -> Outcome:
    """Run the ``ingest`` job ``run_id`` over the landings of its batch (``landed``), with what
    an interrupted run left stale. Holds the lake lock."""
    with _lock(house):
        stale = house.stale(INGEST_ANALYTICS)
        if not landed and not stale:
            return Outcome(refused)
        selection = set(heal_selection(stale))
        config = None
        regular: set = set()
        if landed:
            regular = set(ingest_selection({(i.source, i.dataset) for i in landed}, house.lake.changes(landed)))
            selection |= regular
            # its own landings only: drops waiting in landing are the sensor's to announce
            config = {"ops": {LANDING_OP: {"config": {"keys": []}}}}
        run = launch.run_job(house.settings, INGEST_JOB, run_id=run_id, run_config=config,
                             asset_selection=sorted(selection, key=lambda k: k.to_user_string()),
                             tags={BATCH_TAG: run_id, "soundlake/files": str(len(landed))})
        current = house.lake.manifest()
    rows = {r["landing_id"]: r for r in current.to_dict("records")}
    results = [FileResult.of(item.path, rows[item.landing_id]) for item in landed]
    for r in results:
        if r.status == "landed":  # the run failed before taking it: it waits in landing
            r.reason = "still in landing: the run did not take it (see the run's error)"
    _explain_duplicates(results, current)
    # what this run rebuilt only because an earlier run left it stale (not for its own files)
    return Outcome(refused + results, run, stale.reasons(leave_out={k.to_user_string() for k in regular}))


def repair(house: Lakehouse, on_wait=None) -> Outcome:
    """Rebuild exactly what is stale (an interrupted or failed run, deleted files, a moved lake):
    staging of raw files never parsed, curated tables, the warehouse, the fast analytics."""
    with _lock(house, on_wait):
        stale = house.stale(INGEST_ANALYTICS)
        if not stale:
            return Outcome()
        run = launch.run_job(house.settings, INGEST_JOB, asset_selection=heal_selection(stale),
                             tags={"soundlake/repair": "true"})
    return Outcome([], run, stale.reasons())


@dataclass
class PullOutcome:
    """What ``soundlake pull`` did: each puller's result (``PullResult.to_json()``, or ``status:
    failed`` with the error), the pull run, and the ingest of what landed."""

    pulls: list[dict]
    run: launch.RunOutcome
    ingest: Outcome = field(default_factory=Outcome)


def pull(house: Lakehouse, sources: Iterable[str], *, since: date | None = None, ingest: bool = True) -> PullOutcome:
    """Run the ``pull`` job for these pullers, then (with ``ingest``) the ``ingest`` job over the
    responses they landed, as the landing sensor would."""
    from assets.pullers import RESULT, pull_key

    sources = list(sources)
    config = {"ops": {pull_key(s).to_python_identifier(): {"config": {"since": since.isoformat()}} for s in sources}} \
        if since else None
    run = launch.run_job(house.settings, PULL_JOB, asset_selection=pull_selection(sources), run_config=config)
    pulls = []
    for s in sources:
        result = run.metadata(pull_key(s).to_user_string()).get(RESULT)
        if result is None:
            step = pull_key(s).to_python_identifier()
            errors = [re.sub(r"^[\w.]+: ", "", f.removeprefix(f"{step}: ")) for f in run.failures
                      if f.startswith(f"{step}:")]  # "api__x: resources.api.ApiError: x: ..." → "x: ..."
            result = {"source": s, "status": "failed", "files": [], "note": "; ".join(errors) or "the run failed"}
        pulls.append(result)
    keys = [k for p in pulls for k in p["files"]]
    return PullOutcome(pulls, run, ingest_landed(house, keys) if ingest and keys else Outcome())


def ingest_landed(house: Lakehouse, keys: Iterable[str]) -> Outcome:
    """Run the ``ingest`` job over these objects waiting in landing (what the landing sensor does
    for objects it finds). Results come from the manifest rows of this run's batch."""
    with _lock(house):
        objects = [o for o in (house.storage.stat("landing", k) for k in keys) if o is not None]
        if not objects:
            return Outcome()
        claims = house.lake.landing.claims()
        planned = [item for o in objects for item in house.lake.landing.plan(o, claims.get(o.key))]
        run_id = launch.new_run_id()
        selection = set(ingest_selection({(i.source, i.dataset) for i in planned}, house.lake.changes(planned)))
        selection |= set(heal_selection(house.stale(INGEST_ANALYTICS)))
        run = launch.run_job(house.settings, INGEST_JOB, run_id=run_id,
                             asset_selection=sorted(selection, key=lambda k: k.to_user_string()),
                             run_config={"ops": {LANDING_OP: {"config": {"keys": sorted(o.key for o in objects)}}}},
                             tags={"soundlake/files": str(len(objects))})
        current = house.lake.manifest()
    mine = current[current["batch"] == run_id] if len(current) else current
    return Outcome([FileResult.of(r["landing_key"] or r["original_name"], r) for r in mine.to_dict("records")], run)


@dataclass
class Extraction:
    """What ``soundlake extract`` did for one source: ``landed`` (``files`` of them), ``not
    configured`` (no saved session) or ``failed`` (``message`` says why: an expired session
    says ``log in again to SOURCE``)."""

    source: str
    status: str
    files: int = 0
    message: str | None = None
    run_id: str | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


def login(settings: Settings, source: str, *, prompt=None, headless: bool = False, wait_s: float | None = None) -> dict:
    """Sign in to ``source``'s dashboard (a window the person types into, or ``prompt`` answering
    for them) and save the session encrypted. Returns its summary (cookie names and expiries)."""
    from assets.extract import EXTRACTORS
    from assets.extract.base import LOGIN_WAIT_S
    from assets.extract.base import login as sign_in
    from resources.browser import Sessions

    return sign_in(EXTRACTORS[source], Sessions(settings), prompt=prompt, headless=headless,
                   wait_s=LOGIN_WAIT_S if wait_s is None else wait_s)


def extract(house: Lakehouse, sources: Iterable[str]) -> tuple[list[Extraction], Outcome]:
    """Run the browser extractor of each source (a run of the ``extract`` job each, so one
    source's expired session stops no other), then one ``ingest`` run over everything they
    landed. A source without a saved session is ``not configured``. When a session expired and
    nothing was ingested (whose run dispatches alerts), the alerts are dispatched here."""
    from assets.extract_assets import extract_key
    from resources.browser import Sessions

    from .jobs import EXTRACT_JOB

    batch = launch.new_run_id()  # the ingest run's id: its landing takes what the extractions land
    sessions = Sessions(house.settings)
    done: list[Extraction] = []
    for source in sources:
        if not sessions.configured(source):
            done.append(Extraction(source, "not configured", message=f"no saved session: run `soundlake login {source}`"))
            continue
        run = launch.run_job(house.settings, EXTRACT_JOB, asset_selection=[extract_key(source)], tags={BATCH_TAG: batch})
        if run.success:
            done.append(Extraction(source, "landed", int(run.metadata(f"extract/{source}").get("files", 0)), run_id=run.run_id))
        else:
            # "step: module.Failure: text" → the text
            message = "; ".join(re.sub(r"^[\w.]+: (?:[\w.]+(?:Failure|Error): )?", "", f) for f in run.failures) \
                or "the run failed"
            done.append(Extraction(source, "failed", message=message, run_id=run.run_id))
    with _lock(house):
        outcome = _run_batch(house, batch, house.lake.claimed(batch), [])
    if outcome.run is None and any(e.status == "failed" for e in done):
        alerts(house)
    return done, outcome


def reprocess(house: Lakehouse, source: str | None = None, on_wait=None) -> Outcome:
    """Parse quarantined (and unused) files in raw again, then rebuild what depends on them."""
    with _lock(house, on_wait):
        started = datetime.now(timezone.utc)
        stale = house.stale(INGEST_ANALYTICS)
        selection = sorted(set(reprocess_selection(source)) | set(heal_selection(stale)),
                           key=lambda k: k.to_user_string())
        run = launch.run_job(house.settings, REPROCESS_JOB, asset_selection=selection)
        current = house.lake.manifest()
    if current.empty:
        return Outcome([], run, stale.reasons())
    mine = current[(current["recorded_at"] >= started) & current["status"].isin(["loaded", "quarantined", "unused"])]
    results = [FileResult.of(r["original_name"], r) for r in mine.to_dict("records")]
    return Outcome(results, run, stale.reasons())


def analytics(house: Lakehouse, *, forecasts: bool = True) -> tuple[dict[str, int], launch.RunOutcome]:
    """Run the ``analytics`` job (without the forecasts: only the analytics every ingest runs).
    Returns rows per analytics table and the run."""
    with _lock(house):
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

    with _lock(house):
        run = launch.run_job(house.settings, ANALYTICS_JOB, asset_selection=[ALERTS_KEY],
                             run_config={"ops": {"analytics__alerts": {"config": {"dry_run": dry_run}}}})
    meta = run.metadata(ALERTS_KEY.to_user_string())
    return meta.get("result") or {"error": meta.get("error")}, run


def query(house: Lakehouse, sql: str, *, sandbox: bool = False) -> tuple[list[str], list[tuple]]:
    """Column names and rows (DuckDB's own Python values: ints stay ints, dates stay dates).
    ``sandbox`` for SQL a person typed: one read-only statement, no file outside the curated zone
    and the manifest (:meth:`resources.warehouse.Warehouse.sandbox`); else :class:`QueryRefused`."""
    from resources.warehouse import one_read_statement

    con = house.warehouse.sandbox() if sandbox else house.warehouse.connect(read_only=True)
    try:
        if sandbox:
            one_read_statement(con, sql)
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
    except duckdb.IOException:  # files the warehouse reads are gone: status says the lake needs repair
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
