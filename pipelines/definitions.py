"""The one Dagster ``Definitions`` of soundlake (the code location in workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from assets.factory import build_assets
from resources.lake_resource import LakeResource
from sensors.landing import INGEST_JOB, landing_sensor

assets, asset_checks = build_assets()

ingest_job = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.groups("raw", "staging", "curated", "warehouse"),
    description="Landing → raw → staging → curated → warehouse views.",
    tags={"soundlake/writes": "curated"},
)
archive_job = dg.define_asset_job("archive", selection=dg.AssetSelection.groups("archive"))

defs = dg.Definitions(
    assets=assets,
    asset_checks=asset_checks,
    jobs=[ingest_job, archive_job],
    sensors=[landing_sensor],
    schedules=[dg.ScheduleDefinition(job=archive_job, cron_schedule="0 4 * * *", name="archive_daily")],
    resources={"lake": LakeResource()},
)
