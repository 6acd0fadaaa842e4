"""Dagster assets of the analytics, over the warehouse.

Group ``analytics`` — what every ingest run refreshes, in seconds: ``analytics/kpis``,
``analytics/viral_moments``, ``analytics/anomalies``, ``analytics/ad_attribution``,
``analytics/lagged_correlation``, the revenue tables, ``analytics/market_demand``, then
``analytics/alerts`` (dispatches what is new). Group ``forecasts`` — the forecasting model
(``analytics/forecast_backtest``: backtests and champion selection) and its predictions
(``analytics/forecasts``), as separate assets, daily. Group ``report`` — the weekly HTML report.

Every threshold is run configuration (the Launchpad shows the defaults); the logic lives in
``assets/analytics/`` as plain Python. Plots (PNG) of each moment and forecast are stored in the
curated zone under ``plots/<table>/`` and the first ones are shown in the materialization.
"""

import base64
import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone
from types import UnionType
from typing import Callable, Optional, Union, get_args, get_origin, get_type_hints

import dagster as dg
import pandas as pd
import pydantic

from resources.lake_resource import LakeResource

from .analytics import run
from .analytics.anomalies import AnomalyConfig
from .analytics.attribution import AttributionConfig
from .analytics.markets import MarketConfig
from .analytics.revenue import RevenueConfig
from .analytics.viral import ViralConfig
from .factory import WAREHOUSE_KEY, curated_schema, preview
from .lake.state import mark_analytics
from .lakehouse import Lakehouse
from .model import ANALYTICS_TABLES

PLOTS_SHOWN = 6


def _key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["analytics", name])


def _config_type(t):
    """The run-config form of a dataclass field's type: tuples (of any nesting) become lists."""
    if get_origin(t) is tuple:
        inner = {a for a in get_args(t) if a is not Ellipsis}
        if len(inner) != 1:
            raise TypeError(f"{t}: a tuple of mixed types has no run-config form")
        return list[_config_type(inner.pop())]
    return t


def _as_tuples(value):
    return tuple(_as_tuples(v) for v in value) if isinstance(value, list) else value


def run_config(cls, name: str) -> type:
    """A ``dg.Config`` class with one optional field per field of the frozen dataclass ``cls``, so
    every threshold of the plain-Python analytics is run configuration (the Launchpad shows the
    defaults). ``to_config()`` gives the dataclass back: mappings given in the run config are
    merged into the defaults (``volume_min_by_metric: {views: 500}`` changes one metric), lists
    become tuples, fields left out keep their defaults."""
    hints = get_type_hints(cls)
    fields = {}
    for f in dataclasses.fields(cls):
        t = hints[f.name]
        origin = get_origin(t)
        if t in (int, float, bool, str):
            fields[f.name] = (t, f.default)
        elif origin in (Mapping, dict):
            fields[f.name] = (Optional[dict[str, float]], None)
        elif origin is tuple:
            fields[f.name] = (Optional[_config_type(t)], None)
        elif origin in (Union, UnionType) and type(None) in get_args(t):  # Optional[x]: None means "not set"
            inner = [a for a in get_args(t) if a is not type(None)][0]
            fields[f.name] = (Optional[inner], f.default)
        else:
            raise TypeError(f"{cls.__name__}.{f.name}: {t} has no run-config form")

    def to_config(self):
        defaults, values = cls(), {}
        for k, v in self.model_dump().items():
            default = getattr(defaults, k)
            if v is None or v == default:
                continue
            if isinstance(default, Mapping):
                v = {**default, **v}
            elif isinstance(default, tuple):
                v = _as_tuples(v)
            values[k] = v
        return dataclasses.replace(defaults, **values)

    model = pydantic.create_model(name, __base__=dg.Config, __doc__=cls.__doc__, **fields)
    model.to_config = to_config
    return model


ViralThresholds = run_config(ViralConfig, "ViralThresholds")
AnomalyThresholds = run_config(AnomalyConfig, "AnomalyThresholds")
AttributionSettings = run_config(AttributionConfig, "AttributionSettings")
RevenueSettings = run_config(RevenueConfig, "RevenueSettings")
MarketSettings = run_config(MarketConfig, "MarketSettings")


def _plots_metadata(storage, table: str, draw: Callable[[], dict[str, bytes]], changed: bool) -> dict:
    """Every chart of ``table`` in the lake under ``plots/<table>/`` (charts of rows that are gone
    removed); the first few shown inline. When the table did not change and its charts are there,
    nothing is drawn again (matplotlib is not even imported)."""
    prefix = f"plots/{table}/"
    existing = sorted(o.key for o in storage.list("curated", prefix))
    if changed or not existing:
        charts = {f"{prefix}{name.replace('/', '__')}.png": png for name, png in draw().items()}
        for key, png in charts.items():
            storage.put("curated", key, png)
        for key in set(existing) - set(charts):
            storage.delete("curated", key)
        existing = list(charts)
    shown = []
    for key in existing[:PLOTS_SHOWN]:
        name = key[len(prefix):-len(".png")].replace("__", "/")
        shown.append(f"**{name}**\n\n![{name}](data:image/png;base64,"
                     f"{base64.b64encode(storage.get('curated', key)).decode()})")
    meta = {"plots": dg.MetadataValue.md("\n\n".join(shown) or "(no plots)")}
    if existing:
        meta["plots_in_lake"] = dg.MetadataValue.text(storage.uri("curated", prefix))
    return meta


def _jsonable(value):
    """``value`` as plain JSON (dates as ISO strings, numpy numbers as numbers)."""
    import json

    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else
                                 v.item() if hasattr(v, "item") else str(v)))


def _materialized(table: str, df: pd.DataFrame, extra: dict | None = None) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={
        "dagster/row_count": dg.MetadataValue.int(len(df)),
        "dagster/column_schema": curated_schema(ANALYTICS_TABLES[table]),
        "preview": preview(df),
        **(extra or {}),
    })


MOMENT_CHARTS = 50  # moments charted in the viral_moments asset's metadata (the highest scores)


@dg.asset(key=_key("viral_moments"), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description=ANALYTICS_TABLES["viral_moments"].description)
def viral_moments(context: dg.AssetExecutionContext, config: ViralThresholds, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.viral import detect_moments

    series = _daily_series(context, lake)
    moments = detect_moments(series, config.to_config())
    storage = lake.storage()
    changed = run.write_table(storage, "viral_moments", moments, datetime.now(timezone.utc))

    def draw() -> dict[str, bytes]:
        if moments.empty:  # nothing to draw: matplotlib is not even imported
            return {}
        from .analytics.plots import plot_moment

        charts = {}
        for m in moments.sort_values("score", ascending=False).head(MOMENT_CHARTS).itertuples(index=False):
            part = series[series["series_id"] == m.series_id]
            history = pd.Series(part["value"].to_numpy(), index=pd.to_datetime(part["date"]))
            charts[f"{m.series_id}/{m.start_date}"] = plot_moment(
                history, m.start_date, m.peak_date, m.end_date, float(m.baseline),
                title=f"{m.series_id}: {m.kind} from {m.start_date}")
        return charts

    return _materialized("viral_moments", moments, _plots_metadata(storage, "viral_moments", draw, changed))


@dg.asset(key=_key("anomalies"), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description=ANALYTICS_TABLES["anomalies"].description)
def anomalies(context: dg.AssetExecutionContext, config: AnomalyThresholds, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.anomalies import detect_anomalies

    found = detect_anomalies(_daily_series(context, lake), config.to_config())
    run.write_table(lake.storage(), "anomalies", found, datetime.now(timezone.utc))
    by_kind = found["kind"].value_counts().to_dict() if len(found) else {}
    return _materialized("anomalies", found, {"by_kind": dg.MetadataValue.json(by_kind)})


_SERIES: dict[str, pd.DataFrame] = {}


def _daily_series(context: dg.AssetExecutionContext, lake: LakeResource) -> pd.DataFrame:
    """The daily series (assets/analytics/series.py), read once per run: every analytics step of
    a run sees the same warehouse, which no step of theirs changes."""
    from .analytics.series import daily_series

    if context.run_id not in _SERIES:
        _SERIES.clear()
        with lake.warehouse().connect(read_only=True) as con:
            _SERIES[context.run_id] = daily_series(con)
    return _SERIES[context.run_id]


@dg.asset(key=_key("ad_attribution"), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description=ANALYTICS_TABLES["ad_attribution"].description)
def ad_attribution(context: dg.AssetExecutionContext, config: AttributionSettings,
                   lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.attribution import attribute_campaigns

    series = _daily_series(context, lake)
    with lake.warehouse().connect(read_only=True) as con:
        found = attribute_campaigns(con, series, config.to_config())
    run.write_table(lake.storage(), "ad_attribution", found, datetime.now(timezone.utc))
    significant = int(found["significant"].fillna(False).astype(bool).sum()) if len(found) else 0
    return _materialized("ad_attribution", found, {"significant_lifts": dg.MetadataValue.int(significant)})


@dg.asset(key=_key("lagged_correlation"), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description=ANALYTICS_TABLES["lagged_correlation"].description)
def lagged_correlation(context: dg.AssetExecutionContext, config: AttributionSettings,
                       lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.attribution import lagged_correlations

    found = lagged_correlations(_daily_series(context, lake), config.to_config())
    run.write_table(lake.storage(), "lagged_correlation", found, datetime.now(timezone.utc))
    return _materialized("lagged_correlation", found)


REVENUE_TABLES = ("revenue_per_stream", "payment_delay", "revenue_expected")


@dg.multi_asset(
    specs=[dg.AssetSpec(_key(t), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
                        description=ANALYTICS_TABLES[t].description) for t in REVENUE_TABLES],
    name="revenue",
)
def revenue(config: RevenueSettings, lake: LakeResource):
    from .analytics.revenue import revenue_tables

    with lake.warehouse().connect(read_only=True) as con:
        tables = revenue_tables(con, config.to_config())
    created_at = datetime.now(timezone.utc)
    for name in REVENUE_TABLES:
        run.write_table(lake.storage(), name, tables[name], created_at)
        result = _materialized(name, tables[name])
        yield dg.MaterializeResult(asset_key=_key(name), metadata=result.metadata)


@dg.asset(key=_key("market_demand"), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description=ANALYTICS_TABLES["market_demand"].description)
def market_demand(config: MarketSettings, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.markets import market_demand as compute

    with lake.warehouse().connect(read_only=True) as con:
        found = compute(con, config.to_config())
    run.write_table(lake.storage(), "market_demand", found, datetime.now(timezone.utc))
    counts = found["recommendation"].value_counts().to_dict() if len(found) else {}
    return _materialized("market_demand", found, {"recommendations": dg.MetadataValue.json(counts)})


FORECAST_CHARTS = 50  # series charted in the forecasts asset's metadata


@dg.asset(key=_key("forecast_backtest"), group_name="forecasts", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description="The forecasting model: " + ANALYTICS_TABLES["forecast_backtest"].description)
def forecast_backtest(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.forecast import summarise

    with lake.warehouse().connect(read_only=True) as con:
        scores = run.backtests(run.forecast_inputs(con, daily=_daily_series(context, lake)),
                               previous=run.previous_backtest(con), progress=context.log.info)
    run.write_table(lake.storage(), "forecast_backtest", scores, datetime.now(timezone.utc))
    summary = summarise(scores) if len(scores) else {}
    champions = scores[scores["champion"]] if len(scores) else scores
    return _materialized("forecast_backtest", champions, {
        "champion_beats_seasonal_naive_at_28d": dg.MetadataValue.json({k: v for k, v in summary.items() if k != "share"}),
    })


@dg.asset(key=_key("forecasts"), group_name="forecasts", kinds={"parquet", "python"},
          deps=[WAREHOUSE_KEY, _key("forecast_backtest")],
          description="The predictions: " + ANALYTICS_TABLES["forecasts"].description)
def forecasts(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    storage = lake.storage()
    with lake.warehouse().connect(read_only=True) as con:
        scores = con.execute("SELECT * EXCLUDE (created_at) FROM forecast_backtest").df()
        inputs = run.forecast_inputs(con, daily=_daily_series(context, lake))
    predicted = run.publish(inputs, scores)
    changed = run.write_table(storage, "forecasts", predicted, datetime.now(timezone.utc))

    def draw() -> dict[str, bytes]:
        if predicted.empty:
            return {}
        from .analytics.plots import plot_forecast

        history = pd.concat(inputs, ignore_index=True)
        charts = {}
        # a label's thousand series: charts of the biggest FORECAST_CHARTS only (drawing is ~0.1 s each)
        biggest = predicted.groupby("series_id")["yhat"].sum().nlargest(FORECAST_CHARTS).index
        for series_id, fc in predicted[predicted["series_id"].isin(biggest)].groupby("series_id", sort=True):
            part = history[history["series_id"] == series_id]
            charts[str(series_id)] = plot_forecast(pd.Series(part["y"].to_numpy(), index=part["ds"]), fc,
                                                   title=f"{series_id} ({fc['model'].iloc[0]})")
        return charts

    return _materialized("forecasts", predicted, _plots_metadata(storage, "forecasts", draw, changed))


@dg.asset(key=_key("kpis"), group_name="analytics", kinds={"duckdb", "sql"}, deps=[WAREHOUSE_KEY],
          description="The KPIs (sql/kpis/, docs/kpis.md): `curated/kpis/data.parquet` (the warehouse's view "
                      "`kpis`), computed with its small input tables from the curated model.")
def kpis(lake: LakeResource) -> dg.MaterializeResult:
    from .kpis import TABLE, build_kpis, kpis_parquet

    with lake.warehouse().connect(read_only=True) as con:
        frame = build_kpis(con, store=False)
    storage = lake.storage()
    storage.put("curated", f"{TABLE}/data.parquet", kpis_parquet(frame))
    mark_analytics(storage, TABLE)
    heads = frame[frame["breakdown"].isna() | frame["breakdown"].fillna("").str.startswith(("no data:", "error:"))]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "kpis": dg.MetadataValue.int(frame["kpi"].nunique()),
        "with_a_value": dg.MetadataValue.int(int(heads.dropna(subset=["value"])["kpi"].nunique())),
        "errors": dg.MetadataValue.int(int(frame["breakdown"].fillna("").str.startswith("error:").sum())),
        "table": dg.MetadataValue.text(TABLE),
        "headline": preview(heads[["kpi", "value", "unit", "period", "as_of", "breakdown"]].head(30)),
    })


# --- alerts ------------------------------------------------------------------------------------

ALERTS_KEY = _key("alerts")


class AlertThresholds(dg.Config):
    """Overrides of the alert thresholds for this run; unset = the SOUNDLAKE_ALERT_* value or the default."""

    viral_min_score: Optional[float] = None
    max_age_days: Optional[int] = None
    anomaly_min_severity: Optional[str] = None
    stale_days: Optional[float] = None
    stale_days_by_source: Optional[dict[str, float]] = None
    session_warn_days: Optional[float] = None
    dry_run: bool = False

    def to_config(self):
        from .analytics.alerts import AlertConfig

        base = AlertConfig.from_env()
        values = {k: v for k, v in self.model_dump().items() if v is not None and k != "dry_run"}
        if "stale_days_by_source" in values:
            values["stale_days_by_source"] = {**base.stale_days_by_source, **values["stale_days_by_source"]}
        return replace(base, **values)


def log_dispatch(log, result) -> None:
    """A dispatch's outcome in a run's (or a sensor's) log; channel failures are warnings."""
    for problem in result.problems:
        log.warning(f"alerts: {problem}")
    for error in result.failures.values():
        log.warning(f"alerts: {error} (the alerts are retried at the next dispatch)")
    sent = sum(a["status"] == "sent" for a in result.alerts)
    log.info(f"alerts: {sent} sent, {len(result.alerts) - sent} not sent, {result.already_sent} sent before, "
             f"skipped as old: {result.skipped or 'none'}; channels: {', '.join(result.channels) or 'none configured'}")


@dg.asset(key=ALERTS_KEY, group_name="analytics", kinds={"parquet", "python"},
          deps=[_key("viral_moments"), _key("anomalies")],
          description=ANALYTICS_TABLES["alerts"].description + " Dispatches new events to the webhook and e-mail.")
def alerts(context: dg.AssetExecutionContext, config: AlertThresholds, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.alerts import dispatch_quietly

    result, error = dispatch_quietly(Lakehouse.from_resource(lake), config.to_config, dry_run=config.dry_run)
    if result is None:  # a bad threshold or an unreadable table: a warning without secrets, never a failed run
        context.log.warning(error)
        return dg.MaterializeResult(metadata={"error": dg.MetadataValue.text(error)})
    log_dispatch(context.log, result)
    return dg.MaterializeResult(metadata={
        "sent": dg.MetadataValue.int(sum(a["status"] == "sent" for a in result.alerts)),
        "not_sent": dg.MetadataValue.int(sum(a["status"] != "sent" for a in result.alerts)),
        "already_sent": dg.MetadataValue.int(result.already_sent),
        "skipped_as_old": dg.MetadataValue.json(result.skipped),
        "channels": dg.MetadataValue.json(result.channels),
        "failures": dg.MetadataValue.json(list(result.failures.values()) + result.problems),
        "alerts": dg.MetadataValue.md("\n".join(f"- **{a['severity']}** {a['subject']} ({a['status']})"
                                                 for a in result.alerts) or "(none)"),
        "result": dg.MetadataValue.json(_jsonable(result.to_json())),
    })


# --- the weekly report -----------------------------------------------------------------------

REPORT_KEY = _key("report")


class ReportSettings(dg.Config):
    date: Optional[str] = None  # YYYY-MM-DD, the day the report is made; default: today (UTC)

    def report_date(self) -> dt.date:
        if self.date:
            try:
                return dt.date.fromisoformat(self.date)
            except ValueError:
                raise dg.Failure(f"date must be YYYY-MM-DD, got {self.date!r}") from None
        return dt.datetime.now(dt.timezone.utc).date()


FAST_ANALYTICS = [kpis, viral_moments, anomalies, ad_attribution, lagged_correlation, revenue, market_demand, alerts]
FORECASTS = [forecast_backtest, forecasts]


@dg.asset(key=REPORT_KEY, group_name="report", kinds={"html", "python"},
          deps=[WAREHOUSE_KEY] + [key for a in FAST_ANALYTICS + FORECASTS for key in a.keys if key != ALERTS_KEY],
          description="The weekly HTML report (KPIs, streams, viral moments, anomalies, forecasts, markets, "
                      "ad attribution, revenue): curated reports/<date>.html, one self-contained page.")
def report(context: dg.AssetExecutionContext, config: ReportSettings, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.report import make_report, save_report

    report_date = config.report_date()
    house = Lakehouse.from_resource(lake)
    if not house.settings.warehouse_path.exists():  # a lake nothing was ingested into: a report saying so
        house.refresh_warehouse()
    with lake.warehouse().connect(read_only=True) as con:
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
        "result": dg.MetadataValue.json(_jsonable({"uri": uri, "date": report_date.isoformat(), **summary})),
    })


ANALYTICS_ASSETS = [*FAST_ANALYTICS, *FORECASTS, report]
