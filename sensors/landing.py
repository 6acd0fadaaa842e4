"""Starts an ingest run for files that arrive in landing by any means (a person, a sync tool, an
extractor).

The sensor asks the lake which objects wait in landing unclaimed (no ``landed`` manifest row of a
run still going), so a file is found whatever its modification time (``cp -p``, ``rsync -a`` and
``unzip`` keep old ones). Its cursor remembers what it announced (key, size, modified), so the
next ticks do not announce it again while its run is queued; an object still unclaimed an hour
later (its run failed before taking it) is announced again. The run request selects the sources
the objects belong to and what depends on them, and lists the objects in the run config of
``landing``, which claims them (a drop outside ``<source>/<dataset>/`` is sorted there by that
run, so sorting never starts a second run). Derived tables an interrupted run left stale are
added to the selection (assets/lake/state.py).
"""

from __future__ import annotations

import hashlib
import json
import time

import dagster as dg

from assets.factory import LANDING_OP, claim_checker
from assets.lakehouse import Lakehouse
from pipelines.jobs import INGEST_ANALYTICS, INGEST_JOB, heal_selection, ingest_selection
from resources.lake_resource import LakeResource

REANNOUNCE_AFTER_S = 3600


def _fingerprint(obj) -> list:
    return [obj.size, obj.modified.isoformat()]


@dg.sensor(job_name=INGEST_JOB, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="New files in the landing zone start an ingest run of their sources.")
def landing_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
    house = Lakehouse.from_resource(lake)
    announced = json.loads(context.cursor) if context.cursor else {}
    if not isinstance(announced, dict):  # a cursor of an older version of this sensor
        announced = {}
    now = time.time()
    waiting = house.lake.landing.waiting(claim_checker(context.instance))
    fresh, cursor = [], {}
    for o in waiting:
        seen = announced.get(o.key)
        if seen and seen[:2] == _fingerprint(o) and now - seen[2] < REANNOUNCE_AFTER_S:
            cursor[o.key] = seen
            continue
        fresh.append(o)
        cursor[o.key] = [*_fingerprint(o), now]
    if not fresh:
        context.update_cursor(json.dumps(cursor))
        return dg.SkipReason("no new objects in landing")
    claims = house.lake.landing.claims()
    planned = [item for o in fresh for item in house.lake.landing.plan(o, claims.get(o.key))]
    destinations = {(item.source, item.dataset) for item in planned}
    keys = sorted(o.key for o in fresh)
    digest = hashlib.sha256("\n".join(f"{o.key}@{o.size}@{o.modified.isoformat()}" for o in fresh).encode()).hexdigest()
    context.update_cursor(json.dumps(cursor))
    # what an interrupted run left stale is rebuilt by this run too (assets/lake/state.py)
    selection = set(ingest_selection(destinations, house.lake.changes(planned))) | set(
        heal_selection(house.stale(INGEST_ANALYTICS)))
    return dg.RunRequest(
        run_key=f"landing-{digest[:16]}",
        asset_selection=sorted(selection, key=lambda k: k.to_user_string()),
        run_config={"ops": {LANDING_OP: {"config": {"keys": keys}}}},
        tags={"soundlake/trigger": "landing", "soundlake/files": str(len(fresh))},
    )
