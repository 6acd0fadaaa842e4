"""The zone factory: a source module in, Dagster assets out (raw → staging → curated).

Asset keys mirror the zones: ``["raw", source]``, ``["staging", source, dataset]``,
``["curated", table]``; groups by zone. Every staging dataset gets a Great Expectations asset
check, blocking, so a failing dataset does not spread into curated.
"""


from collections import defaultdict
from typing import Mapping

import dagster as dg
import pandas as pd
import pyarrow as pa

from resources.lake_resource import LakeResource

from . import quality
from .model import TABLES, CuratedTable
from .sources import SOURCES, Source
from .sources.base import Dataset

UNIDENTIFIED_KEY = dg.AssetKey(["raw", "unidentified"])
WAREHOUSE_KEY = dg.AssetKey(["warehouse", "duckdb"])
GX_CHECK = "great_expectations_suite"
PREVIEW_ROWS = 5


def table_schema(schema: pa.Schema) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(f.name, str(f.type)) for f in schema])


def preview(df: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(PREVIEW_ROWS).to_markdown(index=False) if len(df) else "(no rows)")


def _results_metadata(results) -> dict:
    by_status: dict[str, int] = defaultdict(int)
    for r in results:
        by_status[r.status] += 1
    meta = {f"files_{s}": dg.MetadataValue.int(n) for s, n in sorted(by_status.items())}
    reasons = [r.reason for r in results if r.status == "quarantined" and r.reason]
    if reasons:
        meta["quarantined"] = dg.MetadataValue.md("\n".join(f"- {r}" for r in reasons))
    return meta


def unidentified_asset() -> dg.AssetsDefinition:
    @dg.asset(key=UNIDENTIFIED_KEY, group_name="raw", kinds={"parquet"},
              description="Sorts files dropped anywhere in landing to their source; what no source "
                          "recognises is kept in raw and quarantined.")
    def raw_unidentified(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        engine = lake.lake()
        moved = engine.sort_landing()
        results = engine.landing_to_raw(prefix="_unidentified/")
        context.log.info("sorted %d landing objects; %d unidentified", len(moved), len(results))
        return dg.MaterializeResult(metadata={"sorted": len(moved), **_results_metadata(results)})

    return raw_unidentified


def raw_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(key=["raw", source.name], group_name="raw", kinds={"s3", "file"}, deps=[UNIDENTIFIED_KEY],
              description=f"{source.title} files moved from landing into raw, content-addressed.")
    def _raw(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        results = lake.lake().landing_to_raw(prefix=f"{source.name}/")
        return dg.MaterializeResult(metadata={"files": len(results), **_results_metadata(results)})

    return _raw


def staging_asset(source: Source, ds: Dataset) -> dg.AssetsDefinition:
    key = dg.AssetKey(["staging", source.name, ds.name])

    @dg.asset(key=key, group_name="staging", kinds={"parquet"}, deps=[dg.AssetKey(["raw", source.name])],
              description=f"{source.title} — {ds.description}. Natural key: {', '.join(ds.key)}.")
    def _staging(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        engine = lake.lake()
        results = list(engine.stage(source=source.name, dataset=ds.name).values())
        files = engine.loaded_files()
        files = files[(files["source"] == source.name) & (files["dataset"] == ds.name)]
        newest = engine.read_staging(source.name, ds.name, files["sha256"].tail(1))
        return dg.MaterializeResult(metadata={
            "dagster/row_count": dg.MetadataValue.int(int(files["rows"].sum())),
            "files": dg.MetadataValue.int(len(files)),
            "dagster/column_schema": table_schema(ds.schema),
            "preview": preview(newest.drop(columns=["landed_at"], errors="ignore")),
            **_results_metadata(results),
        })

    return _staging


def staging_check(source: Source, ds: Dataset) -> dg.AssetChecksDefinition:
    key = dg.AssetKey(["staging", source.name, ds.name])

    @dg.asset_check(asset=key, name=GX_CHECK, blocking=True,
                    description=f"Great Expectations suite of {source.name}/{ds.name} over every loaded file.")
    def _check(lake: LakeResource) -> dg.AssetCheckResult:
        engine = lake.lake()
        rows = engine.read_staging(source.name, ds.name, engine.loaded_shas().get((source.name, ds.name), []))
        failures = quality.validate(f"{source.name}/{ds.name}", rows, ds.expectations() if ds.expectations else [])
        return dg.AssetCheckResult(
            passed=not failures,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"rows": len(rows), "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures) or "none")},
        )

    return _check


def curated_asset(table: CuratedTable, inputs: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(key=["curated", table.name], group_name="curated", kinds={"parquet"}, deps=inputs,
              description=f"{table.description} Grain: {table.grain}.")
    def _curated(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        result = lake.lake().build_curated([table.name])[table.name]
        return dg.MaterializeResult(metadata={
            "dagster/row_count": dg.MetadataValue.int(result.rows),
            "dagster/column_schema": table_schema(table.schema),
            "partitions_written": result.partitions_written,
            "partitions_archived": result.partitions_archived,
            "preview": preview(result.head.to_pandas()),
        })

    return _curated


def warehouse_asset(curated: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(key=WAREHOUSE_KEY, group_name="warehouse", kinds={"duckdb"}, deps=curated, pool="duckdb_writer",
              description="DuckDB views over the curated Parquet (and the lake_files manifest).")
    def _warehouse(lake: LakeResource) -> dg.MaterializeResult:
        warehouse = lake.warehouse()
        views = warehouse.refresh()
        return dg.MaterializeResult(metadata={"views": dg.MetadataValue.json(views), "path": str(warehouse.path)})

    return _warehouse


class RetentionConfig(dg.Config):
    raw_max_age_days: int = 365


@dg.asset(key=["archive", "raw"], group_name="archive", kinds={"s3", "file"}, deps=[WAREHOUSE_KEY],
          description="Raw objects past the retention age moved to archive (copied and verified "
                      "first: the last copy is never deleted). Curated partitions are archived when rewritten.")
def archive_raw(context: dg.AssetExecutionContext, config: RetentionConfig, lake: LakeResource) -> dg.MaterializeResult:
    moved = lake.lake().archive_raw(config.raw_max_age_days)
    return dg.MaterializeResult(metadata={"moved": len(moved), "max_age_days": config.raw_max_age_days})


def build_assets(sources: Mapping[str, Source] | None = None):
    """Every asset and check for the given sources (default: all of them)."""
    sources = list((SOURCES if sources is None else sources).values())
    assets: list = [unidentified_asset()]
    checks: list = []
    feeds: dict[str, list[dg.AssetKey]] = defaultdict(list)
    for src in sources:
        assets.append(raw_asset(src))
        for ds in src.datasets:
            assets.append(staging_asset(src, ds))
            if ds.expectations:
                checks.append(staging_check(src, ds))
        for m in src.mappings:
            feeds[m.table] += [dg.AssetKey(["staging", src.name, d]) for d in m.datasets]
    curated = [curated_asset(TABLES[t], keys) for t, keys in feeds.items()]
    assets += curated
    assets.append(warehouse_asset([c.key for c in curated]))
    assets.append(archive_raw)
    return assets, checks
