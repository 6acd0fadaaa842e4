"""Dagster assets of the analytics: ``analytics/viral_moments``, ``analytics/anomalies``, then the
forecasting model (``analytics/forecast_backtest``: backtests and champion selection) and its
predictions (``analytics/forecasts``), as separate assets.

Every threshold is run configuration (the Launchpad shows the defaults); the logic lives in
``assets/analytics/`` as plain Python. Plots (PNG) of each moment and forecast are stored in the
curated zone under ``plots/<table>/`` and the first ones are shown in the materialization.
"""

import base64
import dataclasses
from collections.abc import Mapping
from datetime import datetime, timezone
from types import UnionType
from typing import Optional, Union, get_args, get_origin, get_type_hints

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
from .factory import WAREHOUSE_KEY, preview, table_schema
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


def _plots_metadata(storage, table: str, charts: dict[str, bytes]) -> dict:
    """Store every chart in the lake; show the first few inline."""
    shown = []
    for i, (name, png) in enumerate(charts.items()):
        key = f"plots/{table}/{name.replace('/', '__')}.png"
        storage.put("curated", key, png)
        if i < PLOTS_SHOWN:
            shown.append(f"**{name}**\n\n![{name}](data:image/png;base64,{base64.b64encode(png).decode()})")
    meta = {"plots": dg.MetadataValue.md("\n\n".join(shown) or "(no plots)")}
    if charts:
        meta["plots_in_lake"] = dg.MetadataValue.text(storage.uri("curated", f"plots/{table}/"))
    return meta


def _materialized(table: str, df: pd.DataFrame, extra: dict | None = None) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={
        "dagster/row_count": dg.MetadataValue.int(len(df)),
        "dagster/column_schema": table_schema(ANALYTICS_TABLES[table].schema),
        "preview": preview(df),
        **(extra or {}),
    })


@dg.asset(key=_key("viral_moments"), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description=ANALYTICS_TABLES["viral_moments"].description)
def viral_moments(config: ViralThresholds, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.plots import plot_moment
    from .analytics.series import daily_series
    from .analytics.viral import detect_moments

    with lake.warehouse().connect(read_only=True) as con:
        series = daily_series(con)
    moments = detect_moments(series, config.to_config())
    storage = lake.storage()
    run.write_table(storage, "viral_moments", moments, datetime.now(timezone.utc))
    charts = {}
    for m in moments.sort_values("score", ascending=False).itertuples(index=False):
        part = series[series["series_id"] == m.series_id]
        history = pd.Series(part["value"].to_numpy(), index=pd.to_datetime(part["date"]))
        charts[f"{m.series_id}/{m.start_date}"] = plot_moment(history, m.start_date, m.peak_date, m.end_date,
                                                             float(m.baseline), title=f"{m.series_id} from {m.start_date}")
    return _materialized("viral_moments", moments, _plots_metadata(storage, "viral_moments", charts))


@dg.asset(key=_key("anomalies"), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description=ANALYTICS_TABLES["anomalies"].description)
def anomalies(config: AnomalyThresholds, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.anomalies import detect_anomalies
    from .analytics.series import daily_series

    with lake.warehouse().connect(read_only=True) as con:
        found = detect_anomalies(daily_series(con), config.to_config())
    run.write_table(lake.storage(), "anomalies", found, datetime.now(timezone.utc))
    by_kind = found["kind"].value_counts().to_dict() if len(found) else {}
    return _materialized("anomalies", found, {"by_kind": dg.MetadataValue.json(by_kind)})


def _daily_series(lake: LakeResource) -> pd.DataFrame:
    from .analytics.series import daily_series

    with lake.warehouse().connect(read_only=True) as con:
        return daily_series(con)


@dg.asset(key=_key("ad_attribution"), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description=ANALYTICS_TABLES["ad_attribution"].description)
def ad_attribution(config: AttributionSettings, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.attribution import attribute_campaigns
    from .analytics.series import daily_series

    with lake.warehouse().connect(read_only=True) as con:
        found = attribute_campaigns(con, daily_series(con), config.to_config())
    run.write_table(lake.storage(), "ad_attribution", found, datetime.now(timezone.utc))
    significant = int(found["significant"].fillna(False).astype(bool).sum()) if len(found) else 0
    return _materialized("ad_attribution", found, {"significant_lifts": dg.MetadataValue.int(significant)})


@dg.asset(key=_key("lagged_correlation"), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description=ANALYTICS_TABLES["lagged_correlation"].description)
def lagged_correlation(config: AttributionSettings, lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.attribution import lagged_correlations

    found = lagged_correlations(_daily_series(lake), config.to_config())
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


@dg.asset(key=_key("forecast_backtest"), group_name="analytics", kinds={"parquet", "python"}, deps=[WAREHOUSE_KEY],
          description="The forecasting model: " + ANALYTICS_TABLES["forecast_backtest"].description)
def forecast_backtest(lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.forecast import summarise

    with lake.warehouse().connect(read_only=True) as con:
        scores = run.backtests(run.forecast_inputs(con))
    run.write_table(lake.storage(), "forecast_backtest", scores, datetime.now(timezone.utc))
    summary = summarise(scores) if len(scores) else {}
    champions = scores[scores["champion"]] if len(scores) else scores
    return _materialized("forecast_backtest", champions, {
        "champion_beats_seasonal_naive_at_28d": dg.MetadataValue.json({k: v for k, v in summary.items() if k != "share"}),
    })


@dg.asset(key=_key("forecasts"), group_name="analytics", kinds={"parquet", "python"},
          deps=[WAREHOUSE_KEY, _key("forecast_backtest")],
          description="The predictions: " + ANALYTICS_TABLES["forecasts"].description)
def forecasts(lake: LakeResource) -> dg.MaterializeResult:
    from .analytics.plots import plot_forecast

    storage = lake.storage()
    with lake.warehouse().connect(read_only=True) as con:
        scores = con.execute("SELECT * EXCLUDE (created_at) FROM forecast_backtest").df()
        inputs = run.forecast_inputs(con)
    predicted = run.publish(inputs, scores)
    run.write_table(storage, "forecasts", predicted, datetime.now(timezone.utc))
    history = pd.concat(inputs, ignore_index=True)
    charts = {}
    for series_id, fc in predicted.groupby("series_id", sort=True):
        part = history[history["series_id"] == series_id]
        charts[str(series_id)] = plot_forecast(pd.Series(part["y"].to_numpy(), index=part["ds"]), fc,
                                               title=f"{series_id} ({fc['model'].iloc[0]})")
    return _materialized("forecasts", predicted, _plots_metadata(storage, "forecasts", charts))


ANALYTICS_ASSETS = [viral_moments, anomalies, ad_attribution, lagged_correlation, revenue, market_demand,
                    forecast_backtest, forecasts]
# The analytics that take seconds: the ingest job runs them after every load (as `soundlake
# ingest` does); the forecasts run in the `analytics` job.
FAST_ANALYTICS = [viral_moments, anomalies, ad_attribution, lagged_correlation, revenue, market_demand]
