"""The run-failure sensor: every failed run of this code location becomes an alert.

``alert_on_run_failure`` (running by default) turns a failed run into a ``run_failure`` alert
(job, run id, each failed step's error message) and dispatches it at once, through
``assets/analytics/alerts.py:dispatch``, the function the ``analytics/alerts`` asset uses, so an
event alerted by one is never alerted by the other. A channel that fails is a warning in the
sensor's log.
"""

from datetime import datetime, timezone

import dagster as dg

from assets.analytics.alerts import dispatch, run_failure_event
from assets.analytics_assets import log_dispatch
from assets.lakehouse import Lakehouse
from resources.lake_resource import LakeResource


def failure_text(context: dg.RunFailureSensorContext) -> str:
    """The failed steps' error messages (``step: message``), else the run failure's own message."""
    lines = []
    for event in context.get_step_failure_events():
        error = getattr(event.event_specific_data, "error", None)
        while error is not None and error.cause is not None:  # Dagster wraps the op's own exception
            error = error.cause
        message = (error.message if error is not None else event.message) or ""
        lines.append(f"step {event.step_key}: {message.strip()}")
    if not lines:
        lines.append((context.failure_event.message or "the run failed before any step ran").strip())
    return "\n".join(lines)


@dg.run_failure_sensor(name="alert_on_run_failure", minimum_interval_seconds=30,
                       default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Sends an alert (webhook, e-mail) for every failed run.")
def alert_on_run_failure(context: dg.RunFailureSensorContext, lake: LakeResource) -> None:
    run = context.dagster_run
    event = run_failure_event(run.job_name, run.run_id, failure_text(context), datetime.now(timezone.utc))
    log_dispatch(context.log, dispatch(Lakehouse.from_resource(lake), events=[event], collect_events=False))


ALERT_SENSORS = [alert_on_run_failure]
