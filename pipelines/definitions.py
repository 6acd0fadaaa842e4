"""The one Dagster ``Definitions`` of soundlake (the code location in workspace.yaml): the asset
graph (assets/), its jobs and schedules (pipelines/), the sensors (sensors/) and the resources."""

from __future__ import annotations

import dagster as dg

from resources.lake_resource import LakeResource
from sensors.alerts import ALERT_SENSORS
from sensors.landing import landing_sensor

from .jobs import ASSETS, JOBS
from .schedules import SCHEDULES

defs = dg.Definitions(
    assets=ASSETS,
    jobs=JOBS,
    sensors=[landing_sensor, *ALERT_SENSORS],
    schedules=SCHEDULES,
    resources={"lake": LakeResource()},
    executor=dg.in_process_executor,  # one process per run: a step costs ~0.1 s, not a new interpreter
)
