"""Run the analytics over the warehouse and store their tables in the curated zone.

Each analytics table (``assets.model.ANALYTICS_TABLES``) is one Parquet file,
``curated/<table>/data.parquet``, replaced by each run (the inputs are the curated tables, so a
run is reproducible from them), and shown by the warehouse as a view. The functions here are
plain Python over a lake and a warehouse; the CLI and the Dagster assets call them.

Viral moments and anomalies take seconds and run after every ingest. Forecasts (five models,
rolling-origin backtests) take longer and run in ``soundlake analytics``, the demo and the
Dagster assets ``analytics/forecast_backtest`` → ``analytics/forecasts``.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from assets.model import ANALYTICS_TABLES, CuratedTable
from resources.storage import LakeStorage

from .anomalies import AnomalyConfig, detect_anomalies
from .series import daily_series, monthly_revenue
from .viral import ViralConfig, detect_moments

log = logging.getLogger("soundlake.analytics")

# Metrics whose daily series get forecasts (the issue: streams, followers, social views).
FORECAST_METRICS = ("streams", "followers", "views")


@dataclass(frozen=True)
class AnalyticsConfig:
    viral: ViralConfig = field(default_factory=ViralConfig)
    anomalies: AnomalyConfig = field(default_factory=AnomalyConfig)
    forecast_metrics: tuple[str, ...] = FORECAST_METRICS


def table_bytes(table: CuratedTable, df: pd.DataFrame, created_at: datetime) -> bytes:
    """``df`` as the analytics table's Parquet (exact schema, ``created_at`` set)."""
    df = df.copy()
    df["created_at"] = pd.Timestamp(created_at)
    arrays = []
    for f in table.schema:
        col = df[f.name] if f.name in df.columns else pd.Series([None] * len(df), dtype=object)
        if pa.types.is_date32(f.type):
            col = pd.to_datetime(col).dt.date
        arrays.append(pa.array(col.astype(object).where(col.notna(), None), type=f.type, from_pandas=True))
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, schema=table.schema), buf, compression="zstd")
    return buf.getvalue()


def write_table(storage: LakeStorage, name: str, df: pd.DataFrame, created_at: datetime) -> int:
    storage.put("curated", f"{name}/data.parquet", table_bytes(ANALYTICS_TABLES[name], df, created_at))
    return len(df)


def detect(con, config: AnalyticsConfig = AnalyticsConfig()) -> dict[str, pd.DataFrame]:  # noqa: B008
    """Viral moments and anomalies of every daily series in the warehouse."""
    series = daily_series(con)
    return {
        "viral_moments": detect_moments(series, config.viral),
        "anomalies": detect_anomalies(series, config.anomalies),
    }


def forecast_inputs(con, config: AnalyticsConfig = AnalyticsConfig()) -> tuple[pd.DataFrame, pd.DataFrame]:  # noqa: B008
    """(daily series, monthly revenue) as ``series_id, ds, y`` frames for the forecasters."""
    daily = daily_series(con)
    daily = daily[daily["metric"].isin(config.forecast_metrics)]
    monthly = monthly_revenue(con)
    return _as_input(daily), _as_input(monthly)


def _as_input(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename(columns={"date": "ds", "value": "y"})[["series_id", "ds", "y"]]
    return out.assign(ds=pd.to_datetime(out["ds"]))


def forecast(con, config: AnalyticsConfig = AnalyticsConfig(), created_at: datetime | None = None  # noqa: B008
             ) -> dict[str, pd.DataFrame]:
    """Backtests and champion forecasts of the daily series and of monthly revenue."""
    from .forecast import ForecastConfig, run_forecasts

    created_at = created_at or datetime.now(timezone.utc)
    daily, monthly = forecast_inputs(con, config)
    backtest_d, forecasts_d = run_forecasts(daily, ForecastConfig(), pd.Timestamp(created_at))
    backtest_m, forecasts_m = run_forecasts(monthly, ForecastConfig.monthly(), pd.Timestamp(created_at))
    return {
        "forecast_backtest": pd.concat([backtest_d, backtest_m], ignore_index=True),
        "forecasts": pd.concat([forecasts_d, forecasts_m], ignore_index=True),
    }
