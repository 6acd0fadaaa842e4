"""Dagster assets of the analytics: ``analytics/viral_moments``, ``analytics/anomalies``, then the
forecasting model (``analytics/forecast_backtest``: backtests and champion selection) and its
predictions (``analytics/forecasts``), as separate assets.

Every threshold is run configuration (the Launchpad shows the defaults); the logic lives in
``assets/analytics/`` as plain Python. Plots (PNG) of each moment and forecast are stored in the
curated zone under ``plots/<table>/`` and the first ones are shown in the materialization.
"""

import base64
from datetime import datetime, timezone
from typing import Optional

import dagster as dg
import pandas as pd

from resources.lake_resource import LakeResource

from .analytics import run
from .analytics.anomalies import AnomalyConfig
from .analytics.viral import ViralConfig
from .factory import WAREHOUSE_KEY, preview, table_schema
from .model import ANALYTICS_TABLES

PLOTS_SHOWN = 6


def _key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["analytics", name])


class ViralThresholds(dg.Config):
    window: int = 28
    min_history: int = 14
    z_min: float = 4.0
    ratio_min: float = 2.0
    volume_min: float = 50.0
    volume_min_by_metric: Optional[dict[str, float]] = None
    end_ratio: float = 1.2
    end_days: int = 3
    confirm_days: int = 3

    def to_config(self) -> ViralConfig:
        values = self.model_dump()
        by_metric = values.pop("volume_min_by_metric")
        config = ViralConfig(**values)
        if by_metric:
            config = ViralConfig(**values, volume_min_by_metric={**config.volume_min_by_metric, **by_metric})
        return config


class AnomalyThresholds(dg.Config):
    window: int = 28
    drop_ratio: float = 0.4
    drop_days: int = 2
    drop_min_baseline: float = 50.0
    all_zero_days: int = 7
    missing_min_days: int = 3
    stale_days: int = 7

    def to_config(self) -> AnomalyConfig:
        return AnomalyConfig(**self.model_dump())


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


ANALYTICS_ASSETS = [viral_moments, anomalies, forecast_backtest, forecasts]
