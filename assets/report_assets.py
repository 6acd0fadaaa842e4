"""The weekly report as a Dagster asset: ``analytics/report`` writes ``curated/reports/<date>.html``
(see ``assets/analytics/report.py`` for what it holds), the job ``report`` runs it alone and the
schedule ``report_weekly`` runs that job on Mondays at 07:00 UTC, after ``analytics_daily`` (06:00)
has refreshed the forecasts.

The report date is run configuration (``date``, YYYY-MM-DD); the schedule sets it to the day of
the tick, so a late or re-executed run still files the report under the Monday it belongs to.
Without it the asset uses today (UTC), like ``soundlake report``.
"""

import datetime as dt
from typing import Optional

import dagster as dg

from resources.lake_resource import LakeResource

from .analytics_assets import ANALYTICS_ASSETS
from .factory import WAREHOUSE_KEY

REPORT_KEY = dg.AssetKey(["analytics", "report"])
REPORT_JOB = "report"
REPORT_CRON = "0 7 * * 1"  # Mondays 07:00
REPORT_OP = "analytics__report"  # the op behind the asset (its key joined by "__"), for run config


class ReportSettings(dg.Config):
    date: Optional[str] = None  # YYYY-MM-DD, the day the report is made; default: today (UTC)

    def report_date(self) -> dt.date:
        if self.date:
            try:
                return dt.date.fromisoformat(self.date)
            except ValueError:
                raise dg.Failure(f"date must be YYYY-MM-DD, got {self.date!r}") from None
        return dt.datetime.now(dt.timezone.utc).date()


def _upstream() -> list[dg.AssetKey]:
    return [WAREHOUSE_KEY] + [key for a in ANALYTICS_ASSETS for key in a.keys]


@dg.asset(key=REPORT_KEY, group_name="analytics", kinds={"html", "python"}, deps=_upstream(),
          description="The weekly HTML report (KPIs, streams, viral moments, anomalies, forecasts, markets, "
                      "ad attribution, revenue): curated reports/<date>.html, one self-contained page.")
def report(context: dg.AssetExecutionContext, config: ReportSettings, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.report import make_report, save_report

    report_date = config.report_date()
    warehouse = lake.warehouse()
    if not warehouse.path.exists():
        warehouse.refresh()
    with warehouse.connect(read_only=True) as con:
        made = make_report(con, report_date)
    uri = save_report(lake.storage(), made.html, report_date)
    context.log.info("report of %s written to %s", report_date, uri)
    summary = made.summary()
    return dg.MaterializeResult(metadata={
        "uri": dg.MetadataValue.path(uri),
        "summary": dg.MetadataValue.md(made.markdown()),
        "report_date": dg.MetadataValue.text(report_date.isoformat()),
        "period": dg.MetadataValue.text(f"{made.period_start} to {made.period_end}" if made.period_end else "no data"),
        "charts": dg.MetadataValue.int(made.charts),
        "bytes": dg.MetadataValue.int(summary["bytes"]),
        "sections": dg.MetadataValue.json(summary["sections"]),
    })


report_job = dg.define_asset_job(
    REPORT_JOB, selection=dg.AssetSelection.assets(REPORT_KEY),
    description="The weekly HTML report over the warehouse and the analytics tables (curated reports/<date>.html).",
)


@dg.schedule(cron_schedule=REPORT_CRON, job=report_job, name="report_weekly", execution_timezone="UTC",
             description="The weekly report, Mondays 07:00 UTC, filed under the day of the tick.")
def report_weekly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    tick = context.scheduled_execution_time or dt.datetime.now(dt.timezone.utc)
    day = tick.astimezone(dt.timezone.utc).date()
    return dg.RunRequest(run_key=f"report-{day.isoformat()}",
                         run_config={"ops": {REPORT_OP: {"config": {"date": day.isoformat()}}}})


REPORT_ASSETS = [report]
