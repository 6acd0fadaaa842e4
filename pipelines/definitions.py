"""The one Dagster ``Definitions`` of soundlake (the code location in workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from assets.analytics_assets import ANALYTICS_ASSETS
from assets.factory import build_assets
from resources.lake_resource import LakeResource
from sensors.landing import INGEST_JOB, landing_sensor

assets, asset_checks = build_assets()
assets += ANALYTICS_ASSETS

ingest_job = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.groups("raw", "staging", "curated", "warehouse")
    | dg.AssetSelection.assets(*(a.key for a in ANALYTICS_ASSETS if a.key.path[-1] in ("viral_moments", "anomalies"))),
    description="Landing → raw → staging → curated → warehouse views, then viral moments and anomalies.",
    tags={"soundlake/writes": "curated"},
)
archive_job = dg.define_asset_job("archive", selection=dg.AssetSelection.groups("archive"))
analytics_job = dg.define_asset_job(
    "analytics", selection=dg.AssetSelection.groups("analytics"),
    description="Viral moments, anomalies, forecast backtests and forecasts over the curated model.",
)

defs = dg.Definitions(
    assets=assets,
    asset_checks=asset_checks,
    jobs=[ingest_job, archive_job, analytics_job],
    sensors=[landing_sensor],
    schedules=[
        dg.ScheduleDefinition(job=archive_job, cron_schedule="0 4 * * *", name="archive_daily"),
        dg.ScheduleDefinition(job=analytics_job, cron_schedule="0 6 * * *", name="analytics_daily"),
    ],
    resources={"lake": LakeResource()},
)
