"""Starts an ingest run when new objects arrive in landing.

The cursor is the newest ``(modified, key)`` seen, so an object is announced once; the run key is
derived from the new objects, so a re-evaluated tick never starts the same run twice.
"""


import hashlib
import json

import dagster as dg

from resources.lake_resource import LakeResource

INGEST_JOB = "ingest"


def _mark(obj) -> list[str]:
    return [obj.modified.isoformat(), obj.key]


@dg.sensor(job_name=INGEST_JOB, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="New files in the landing zone start an ingest run.")
def landing_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
    cursor = json.loads(context.cursor) if context.cursor else None
    fresh = [o for o in lake.storage().list("landing") if cursor is None or _mark(o) > cursor]
    if not fresh:
        return dg.SkipReason("no new objects in landing")
    newest = max(fresh, key=_mark)
    digest = hashlib.sha256("\n".join(f"{o.key}@{o.modified.isoformat()}" for o in fresh).encode()).hexdigest()[:16]
    context.update_cursor(json.dumps(_mark(newest)))
    return dg.RunRequest(run_key=f"landing-{digest}", tags={"soundlake/trigger": "landing",
                                                           "soundlake/files": str(len(fresh))})
