"""The one Dagster ``Definitions`` of soundlake (the code location in workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from assets.analytics_assets import ANALYTICS_ASSETS, FAST_ANALYTICS
from assets.factory import build_assets
from assets.report_assets import REPORT_ASSETS, REPORT_KEY, report_job, report_weekly
from resources.lake_resource import LakeResource
from sensors.alerts import ALERT_ASSETS, ALERT_SENSORS, ALERTS_KEY
from sensors.landing import INGEST_JOB, landing_sensor

assets, asset_checks = build_assets()
assets += ANALYTICS_ASSETS
assets += ALERT_ASSETS
assets += REPORT_ASSETS

ingest_job = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.groups("raw", "staging", "curated", "warehouse")
    | dg.AssetSelection.assets(*FAST_ANALYTICS)
    | dg.AssetSelection.assets(ALERTS_KEY),  # then alerts for what they found (sensors/alerts.py)
    description="Landing → raw → staging → curated → warehouse views, then the analytics that take seconds "
                "(viral moments, anomalies, attribution, revenue, markets).",
    tags={"soundlake/writes": "curated"},
)
archive_job = dg.define_asset_job("archive", selection=dg.AssetSelection.groups("archive"))
analytics_job = dg.define_asset_job(
    "analytics", selection=dg.AssetSelection.groups("analytics") - dg.AssetSelection.assets(REPORT_KEY),  # the report is weekly
    description="Every analytics table over the curated model: the fast ones, forecast backtests and forecasts.",
)

defs = dg.Definitions(
    assets=assets,
    asset_checks=asset_checks,
    jobs=[ingest_job, archive_job, analytics_job, report_job],
    sensors=[landing_sensor, *ALERT_SENSORS],
    schedules=[
        dg.ScheduleDefinition(job=archive_job, cron_schedule="0 4 * * *", name="archive_daily"),
        dg.ScheduleDefinition(job=analytics_job, cron_schedule="0 6 * * *", name="analytics_daily"),
        report_weekly,
    ],
    resources={"lake": LakeResource()},
)
