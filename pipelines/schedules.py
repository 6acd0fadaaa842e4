"""The schedules, on by default (the README says they run): raw retention at 04:00 UTC, the API
pullers and the browser extractors at 05:00 (the landing sensor ingests what they land before the
analytics), every analytics table with the forecasts at 06:00, the weekly report on Mondays at 07:00."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from .jobs import analytics_job, archive_job, extract_job, pull_job, report_job

REPORT_OP = "analytics__report"  # the op behind the report asset (its key joined by "__"), for run config
REPORT_CRON = "0 7 * * 1"  # Mondays 07:00, after analytics_daily (06:00) refreshed the forecasts

archive_daily = dg.ScheduleDefinition(job=archive_job, cron_schedule="0 4 * * *", name="archive_daily",
                                      execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING)
pull_daily = dg.ScheduleDefinition(job=pull_job, cron_schedule="0 5 * * *", name="pull_daily",
                                   execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING)
analytics_daily = dg.ScheduleDefinition(job=analytics_job, cron_schedule="0 6 * * *", name="analytics_daily",
                                        execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING)


@dg.schedule(cron_schedule=REPORT_CRON, job=report_job, name="report_weekly", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="The weekly report, Mondays 07:00 UTC, filed under the day of the tick.")
def report_weekly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    tick = context.scheduled_execution_time or dt.datetime.now(dt.timezone.utc)
    day = tick.astimezone(dt.timezone.utc).date()
    return dg.RunRequest(run_key=f"report-{day.isoformat()}",
                         run_config={"ops": {REPORT_OP: {"config": {"date": day.isoformat()}}}})


@dg.schedule(cron_schedule="0 5 * * *", job=extract_job, name="extract_daily", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Browser extractors, 05:00 UTC: a run per source with a saved session (others are not configured).")
def extract_daily(context: dg.ScheduleEvaluationContext):
    from assets.extract_assets import EXTRACT_ASSETS
    from resources.browser import Sessions
    from resources.settings import Settings

    sessions = Sessions(Settings.from_env())
    day = (context.scheduled_execution_time or dt.datetime.now(dt.timezone.utc)).date().isoformat()
    keys = [k for a in EXTRACT_ASSETS for k in a.keys if sessions.configured(k.path[-1])]
    return [dg.RunRequest(run_key=f"extract-{k.path[-1]}-{day}", asset_selection=[k]) for k in keys] or \
        dg.SkipReason("no browser extractor is configured (soundlake login SOURCE)")


SCHEDULES = [archive_daily, pull_daily, extract_daily, analytics_daily, report_weekly]
