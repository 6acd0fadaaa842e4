"""Alerts in Dagster: the run-failure sensor and the asset ``analytics/alerts``.

``alert_on_run_failure`` (running by default) turns every failed run of this code location into a
``run_failure`` alert (job, run id, each failed step's error message) and dispatches it at once.
The asset ``analytics/alerts`` runs after ``analytics/viral_moments`` and ``analytics/anomalies``
in the ingest job (and in the analytics job): it dispatches new viral moments, anomalies, stale
sources and expired browser sessions. Both use ``assets/analytics/alerts.py:dispatch``, the
function ``soundlake ingest`` and ``soundlake alerts`` use, so an event alerted by one is never
alerted by another. A channel that fails is a warning in the run's log, not a failed run.

Thresholds: the ``SOUNDLAKE_ALERT_*`` variables (see assets/analytics/alerts.py), overridden by
the asset's run configuration (:class:`AlertThresholds`, unset fields keep the variables' values).
"""

from dataclasses import replace
from datetime import datetime, timezone
from typing import Optional

import dagster as dg

from assets.analytics.alerts import AlertConfig, DispatchResult, dispatch, run_failure_event
from assets.model import ANALYTICS_TABLES
from resources.lake_resource import LakeResource

ALERTS_KEY = dg.AssetKey(["analytics", "alerts"])
SOURCES_OF_EVENTS = [dg.AssetKey(["analytics", "viral_moments"]), dg.AssetKey(["analytics", "anomalies"])]


def _platform(lake: LakeResource):
    from pipelines.app import Platform

    return Platform.from_env(lake.settings())


def _log_result(log, result: DispatchResult) -> None:
    for problem in result.problems:
        log.warning(f"alerts: {problem}")
    for error in result.failures.values():
        log.warning(f"alerts: {error} (the alerts are retried at the next dispatch)")
    sent = sum(a["status"] == "sent" for a in result.alerts)
    log.info(f"alerts: {sent} sent, {len(result.alerts) - sent} not sent, {result.already_sent} sent before, "
             f"skipped as old: {result.skipped or 'none'}; channels: {', '.join(result.channels) or 'none configured'}")


class AlertThresholds(dg.Config):
    """Overrides of the alert thresholds for this run; unset = the SOUNDLAKE_ALERT_* value or the default."""

    viral_min_score: Optional[float] = None
    max_age_days: Optional[int] = None
    anomaly_min_severity: Optional[str] = None
    stale_days: Optional[float] = None
    stale_days_by_source: Optional[dict[str, float]] = None
    session_warn_days: Optional[float] = None
    dry_run: bool = False

    def to_config(self) -> AlertConfig:
        base = AlertConfig.from_env()
        values = {k: v for k, v in self.model_dump().items() if v is not None and k != "dry_run"}
        if "stale_days_by_source" in values:
            values["stale_days_by_source"] = {**base.stale_days_by_source, **values["stale_days_by_source"]}
        return replace(base, **values)


@dg.asset(key=ALERTS_KEY, group_name="analytics", kinds={"parquet", "python"}, deps=SOURCES_OF_EVENTS,
          description=ANALYTICS_TABLES["alerts"].description + " Dispatches new events to the webhook and e-mail.")
def alerts(context: dg.AssetExecutionContext, config: AlertThresholds, lake: LakeResource) -> dg.MaterializeResult:
    result = dispatch(_platform(lake), config.to_config(), dry_run=config.dry_run)
    _log_result(context.log, result)
    return dg.MaterializeResult(metadata={
        "sent": dg.MetadataValue.int(sum(a["status"] == "sent" for a in result.alerts)),
        "not_sent": dg.MetadataValue.int(sum(a["status"] != "sent" for a in result.alerts)),
        "already_sent": dg.MetadataValue.int(result.already_sent),
        "skipped_as_old": dg.MetadataValue.json(result.skipped),
        "channels": dg.MetadataValue.json(result.channels),
        "failures": dg.MetadataValue.json(list(result.failures.values()) + result.problems),
        "alerts": dg.MetadataValue.md("\n".join(f"- **{a['severity']}** {a['subject']} ({a['status']})"
                                                 for a in result.alerts) or "(none)"),
    })


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
    _log_result(context.log, dispatch(_platform(lake), events=[event], collect_events=False))


ALERT_ASSETS = [alerts]
ALERT_SENSORS = [alert_on_run_failure]
