"""The zone factory: the source modules in, the lake's Dagster assets out.

Asset keys mirror the zones: ``["landing", source]`` → ``["raw", source]`` → ``["staging", source,
dataset]`` → ``["curated", table]`` → ``["warehouse", "duckdb"]``; groups by zone. This graph is
the only definition of what runs after what: the landing sensor, the schedules, the UI and every
``soundlake`` command that changes the lake launch jobs over it (``pipelines/jobs.py``).

A run takes a *batch* of files: the landings the CLI made for it (tag ``soundlake/batch``), the
objects the sensor announced (run config of ``landing``), or, in a run started by hand, whatever
waits in landing. Each staging dataset carries two checks: ``great_expectations_suite``
(blocking) validates the dataset as curated will see it — the newest observation per natural key
over every loaded file, so overlapping exports pass and a broken dataset stops curated — and
``files_parsed`` (a warning) fails when a file of this run was quarantined, with the reasons.
"""


import dataclasses
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Mapping, Optional

import dagster as dg
import pandas as pd
import pyarrow as pa

from resources.lake_resource import LakeResource

from . import quality
from .lake import UNIDENTIFIED, FileResult
from .lakehouse import Lakehouse
from .model import TABLES, CuratedTable
from .sources import SOURCES, Source

BATCH_TAG = "soundlake/batch"
REPROCESS_TAG = "soundlake/reprocess"
LANDING_OP = "landing"
UNIDENTIFIED_NAME = "unidentified"
WAREHOUSE_KEY = dg.AssetKey(["warehouse", "duckdb"])
GX_CHECK = "great_expectations_suite"
PARSED_CHECK = "files_parsed"
RECOGNISED_CHECK = "files_recognised"
PREVIEW_ROWS = 5
CLAIM_GRACE = timedelta(minutes=10)  # a claim whose run does not exist yet is presumed in progress this long
IN_PROGRESS = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")
# the Dagster concurrency pool of the assets that rewrite curated, the warehouse or raw: a deployment's
# dagster.yaml gives it one slot per run (docker/dagster.yaml), whichever job or UI selection runs them
WRITES_POOL = "soundlake_writes"


def landing_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", source])


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def staging_key(source: str, dataset: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", source, dataset])


def curated_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["curated", table])


def _zone_name(source: str) -> str:
    return UNIDENTIFIED_NAME if source == UNIDENTIFIED else source


# --- metadata --------------------------------------------------------------------------------


def table_schema(schema: pa.Schema, docs: Mapping[str, str] | None = None) -> dg.TableSchema:
    docs = docs or {}
    return dg.TableSchema(columns=[dg.TableColumn(f.name, str(f.type), description=docs.get(f.name)) for f in schema])


def curated_schema(table: CuratedTable) -> dg.TableSchema:
    return table_schema(table.schema, {c.name: c.doc for c in table.columns})


def preview(df: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(PREVIEW_ROWS).to_markdown(index=False) if len(df) else "(no rows)")


def results_metadata(results: Iterable[FileResult]) -> dict:
    """``files_<status>`` counts and the reasons of the quarantined ones."""
    results = list(results)
    counts = Counter(r.status for r in results)
    meta = {f"files_{s}": dg.MetadataValue.int(n) for s, n in sorted(counts.items())}
    reasons = [r.reason for r in results if r.status == "quarantined" and r.reason]
    if reasons:
        meta["quarantined"] = dg.MetadataValue.md("\n".join(f"- {r}" for r in reasons))
    return meta


# --- batches -----------------------------------------------------------------------------------


def batch_of(run: dg.DagsterRun) -> str:
    """The batch a run takes: the CLI's tag, else the run it re-executes, else its own id."""
    return run.tags.get(BATCH_TAG) or run.root_run_id or run.run_id


def claim_checker(instance: dg.DagsterInstance, *, exclude_batch: str | None = None,
                  now: datetime | None = None) -> Callable[[dict], bool]:
    """Whether a ``landed`` claim belongs to a run that is still going (or, when no run of the
    batch exists yet, was made within the last minutes: the CLI creates its run just after
    landing). A claim of a finished, failed or vanished run is free to take."""
    now = now or datetime.now(timezone.utc)
    cache: dict[str, bool] = {}

    def active(claim: dict) -> bool:
        batch = claim.get("batch")
        if not batch or batch == exclude_batch:
            return False
        if batch not in cache:
            runs = instance.get_runs(dg.RunsFilter(tags={BATCH_TAG: batch})) or []
            own = instance.get_run_by_id(batch)
            runs = [*runs, *([own] if own is not None else [])]
            if runs:
                cache[batch] = any(r.status.value in IN_PROGRESS for r in runs)
            else:
                landed_at = pd.Timestamp(claim.get("landed_at") or now)
                landed_at = landed_at.tz_localize("UTC") if landed_at.tzinfo is None else landed_at
                cache[batch] = now - landed_at.to_pydatetime() < CLAIM_GRACE
        return cache[batch]

    return active


class LandingConfig(dg.Config):
    """Which objects waiting in landing this run takes besides the landings of its own batch:
    ``keys`` lists them (the sensor does); unset, everything no other run has claimed."""

    keys: Optional[list[str]] = None


# --- landing → raw -------------------------------------------------------------------------------


def landing_asset(sources: list[Source]) -> dg.AssetsDefinition:
    names = [s.name for s in sources] + [UNIDENTIFIED]
    specs = [dg.AssetSpec(landing_key(_zone_name(n)), group_name="landing", kinds={"file"},
                          description=(f"{SOURCES[n].title} files waiting in landing/{n}/ for a run."
                                       if n in SOURCES else "Files no source recognises, waiting in landing."))
             for n in names]

    @dg.multi_asset(specs=specs, name=LANDING_OP, can_subset=True,
                    description="Claims the files of this run in landing: what `soundlake ingest` landed for it, "
                                "and objects dropped by other means (recognised and moved to "
                                "<source>/<dataset>/<name> when dropped elsewhere).")
    def _landing(context: dg.AssetExecutionContext, config: LandingConfig, lake: LakeResource):
        house = Lakehouse.from_resource(lake)
        batch = batch_of(context.run)
        selected = {k.path[1] for k in context.selected_asset_keys}
        allowed = {UNIDENTIFIED if s == UNIDENTIFIED_NAME else s for s in selected}
        active = claim_checker(context.instance, exclude_batch=batch)
        adopted, refused = house.lake.landing.adopt(batch, active, config.keys, allowed=allowed)
        for r in refused:
            context.log.warning(r.reason)
        claimed = house.lake.claimed(batch)
        by_source: dict[str, list] = defaultdict(list)
        for item in claimed:
            by_source[_zone_name(item.source)].append(item)
        for name in sorted(selected):
            mine = by_source.get(name, [])
            yield dg.MaterializeResult(asset_key=landing_key(name), metadata={
                "files": dg.MetadataValue.int(len(mine)),
                "names": dg.MetadataValue.md("\n".join(f"- {i.key}" for i in mine) or "(none)"),
                "adopted": dg.MetadataValue.int(sum(1 for i in adopted if _zone_name(i.source) == name)),
                "batch": dg.MetadataValue.text(batch),
            })

    return _landing


def raw_asset(name: str, title: str) -> dg.AssetsDefinition:
    source = UNIDENTIFIED if name == UNIDENTIFIED_NAME else name
    check_specs = [dg.AssetCheckSpec(RECOGNISED_CHECK, asset=raw_key(name),
                                     description="Fails (warning) when a file of this run matched no source.")] \
        if source == UNIDENTIFIED else []

    @dg.asset(key=raw_key(name), group_name="raw", kinds={"s3", "file"}, deps=[landing_key(name)],
              check_specs=check_specs,
              description=f"{title} files moved from landing into raw, byte for byte, content-addressed.")
    def _raw(context: dg.AssetExecutionContext, lake: LakeResource):
        house = Lakehouse.from_resource(lake)
        results = house.lake.to_raw(house.lake.claimed(batch_of(context.run), [source]))
        if source == UNIDENTIFIED and context.run.tags.get(REPROCESS_TAG) == "true":
            results += house.lake.recheck_unidentified()
        for r in results:
            if r.status == "quarantined":
                context.log.warning(f"quarantined: {r.reason}")
        # "loaded" at raw means stored; whether a file parses is staging's to say (files_parsed)
        stored = [dataclasses.replace(r, status="stored") if r.status == "loaded" else r for r in results]
        yield dg.MaterializeResult(asset_key=raw_key(name),
                                   metadata={"files": dg.MetadataValue.int(len(results)), **results_metadata(stored)})
        if check_specs:
            bad = [r for r in results if r.status == "quarantined"]
            yield dg.AssetCheckResult(asset_key=raw_key(name), check_name=RECOGNISED_CHECK, passed=not bad,
                                      severity=dg.AssetCheckSeverity.WARN,
                                      metadata={"unrecognised": dg.MetadataValue.md(
                                          "\n".join(f"- {r.reason}" for r in bad) or "none")})

    return _raw


# --- raw → staging -------------------------------------------------------------------------------


def staging_asset(source: Source) -> dg.AssetsDefinition:
    specs = [dg.AssetSpec(staging_key(source.name, ds.name), group_name="staging", kinds={"parquet"},
                          deps=[raw_key(source.name)],
                          description=f"{source.title} — {ds.description}. Natural key: {', '.join(ds.key)}.")
             for ds in source.datasets]
    checks = []
    for ds in source.datasets:
        if ds.expectations:
            checks.append(dg.AssetCheckSpec(
                GX_CHECK, asset=staging_key(source.name, ds.name), blocking=True,
                description=f"The Great Expectations suite of {source.name}/{ds.name} over the dataset as curated "
                            "will see it (the newest observation per natural key of every loaded file)."))
        checks.append(dg.AssetCheckSpec(
            PARSED_CHECK, asset=staging_key(source.name, ds.name),
            description="Fails (warning) when a file of this run could not be read and was quarantined."))

    @dg.multi_asset(specs=specs, check_specs=checks, name=f"staging__{source.name}", can_subset=True,
                    description=f"Parses {source.title}'s new raw files into typed Parquet, one per file.")
    def _staging(context: dg.AssetExecutionContext, lake: LakeResource):
        house = Lakehouse.from_resource(lake)
        selected = [ds for ds in source.datasets if staging_key(source.name, ds.name) in context.selected_asset_keys]
        reprocess = context.run.tags.get(REPROCESS_TAG) == "true"
        results = house.lake.stage(source=source.name, datasets=[d.name for d in selected], reprocess=reprocess)
        manifest = house.lake.manifest()
        files = house.lake.loaded_files(manifest)
        checks_wanted = context.selected_asset_check_keys
        for ds in selected:
            key = staging_key(source.name, ds.name)
            mine = [r for r in results.values() if r.dataset == ds.name]
            bad = [r for r in mine if r.status == "quarantined"]
            for r in bad:
                context.log.warning(f"quarantined: {r.reason}")
            snapshot = house.lake.snapshot(source.name, ds.name, manifest)
            loaded = files[(files["source"] == source.name) & (files["dataset"] == ds.name)] if len(files) else files
            yield dg.MaterializeResult(asset_key=key, metadata={
                "dagster/row_count": dg.MetadataValue.int(len(snapshot)),
                "rows_in_files": dg.MetadataValue.int(int(loaded["rows"].sum()) if len(loaded) else 0),
                "files": dg.MetadataValue.int(len(loaded)),
                "dagster/column_schema": table_schema(ds.schema),
                "preview": preview(snapshot.drop(columns=["landed_at"], errors="ignore")),
                **results_metadata(mine),
            })
            if dg.AssetCheckKey(key, GX_CHECK) in checks_wanted:
                # a dataset of one file staged in this run is that file, which just passed this very
                # suite: it is not validated twice
                just_checked = len(loaded) == 1 and loaded["sha256"].iloc[0] in {r.sha256 for r in mine
                                                                                 if r.status == "loaded"}
                failures = [] if just_checked or not len(snapshot) else \
                    quality.validate(f"{source.name}/{ds.name}", snapshot, ds.expectations())
                yield dg.AssetCheckResult(asset_key=key, check_name=GX_CHECK, passed=not failures,
                                          severity=dg.AssetCheckSeverity.ERROR, metadata={
                                              "rows": dg.MetadataValue.int(len(snapshot)),
                                              "validated": dg.MetadataValue.text(
                                                  "when its one file was staged, this run" if just_checked
                                                  else f"{len(loaded)} files, newest observation per key"),
                                              "failures": dg.MetadataValue.md(
                                                  "\n".join(f"- {f}" for f in failures) or "none")})
            if dg.AssetCheckKey(key, PARSED_CHECK) in checks_wanted:
                yield dg.AssetCheckResult(asset_key=key, check_name=PARSED_CHECK, passed=not bad,
                                          severity=dg.AssetCheckSeverity.WARN, metadata={
                                              "files_staged": dg.MetadataValue.int(len(mine)),
                                              "quarantined": dg.MetadataValue.md(
                                                  "\n".join(f"- {r.reason}" for r in bad) or "none")})

    return _staging


# --- staging → curated → warehouse -------------------------------------------------------------


def curated_asset(table: CuratedTable, inputs: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(key=curated_key(table.name), group_name="curated", kinds={"parquet"}, deps=inputs, pool=WRITES_POOL,
              description=f"{table.description} Grain: {table.grain}.")
    def _curated(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        result = Lakehouse.from_resource(lake).lake.build_curated([table.name])[table.name]
        return dg.MaterializeResult(metadata={
            "dagster/row_count": dg.MetadataValue.int(result.rows),
            "dagster/column_schema": curated_schema(table),
            "partitions_written": result.partitions_written,
            "partitions_archived": result.partitions_archived,
            "preview": preview(result.head.to_pandas()),
        })

    return _curated


def warehouse_asset(curated: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(key=WAREHOUSE_KEY, group_name="warehouse", kinds={"duckdb"}, deps=curated, pool=WRITES_POOL,
              description="DuckDB views over the curated Parquet, the analytics tables and the lake_files manifest, "
                          "the reference tables and the views of sql/.")
    def _warehouse(lake: LakeResource) -> dg.MaterializeResult:
        house = Lakehouse.from_resource(lake)
        views = house.refresh_warehouse()
        return dg.MaterializeResult(metadata={"views": dg.MetadataValue.json(views),
                                              "path": dg.MetadataValue.path(str(house.warehouse.path))})

    return _warehouse


class RetentionConfig(dg.Config):
    raw_max_age_days: int = 365


@dg.asset(key=["archive", "raw"], group_name="archive", kinds={"s3", "file"}, deps=[WAREHOUSE_KEY], pool=WRITES_POOL,
          description="Raw objects past the retention age moved to archive (copied and verified "
                      "first: the last copy is never deleted). Curated partitions are archived when rewritten.")
def archive_raw(context: dg.AssetExecutionContext, config: RetentionConfig, lake: LakeResource) -> dg.MaterializeResult:
    moved = Lakehouse.from_resource(lake).lake.archive_raw(config.raw_max_age_days)
    return dg.MaterializeResult(metadata={"moved": len(moved), "max_age_days": config.raw_max_age_days})


def build_assets(sources: Mapping[str, Source] | None = None):
    """Every asset and check of the lake for the given sources (default: all of them)."""
    sources = list((SOURCES if sources is None else sources).values())
    assets: list = [landing_asset(sources), raw_asset(UNIDENTIFIED_NAME, "Unrecognised")]
    feeds: dict[str, list[dg.AssetKey]] = defaultdict(list)
    for src in sources:
        assets.append(raw_asset(src.name, src.title))
        assets.append(staging_asset(src))
        for m in src.mappings:
            feeds[m.table] += [staging_key(src.name, d) for d in m.datasets]
    curated = [curated_asset(TABLES[t], keys) for t, keys in feeds.items()]
    assets += curated
    assets.append(warehouse_asset([c.key for c in curated]))
    assets.append(archive_raw)
    return assets
