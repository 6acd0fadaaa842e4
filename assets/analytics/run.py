"""Run the analytics over the warehouse and store their tables in the curated zone.

Each analytics table (``assets.model.ANALYTICS_TABLES``) is one Parquet file,
``curated/<table>/data.parquet``, replaced by each run (the inputs are the curated tables, so a
run is reproducible from them), and shown by the warehouse as a view. The functions here are
plain Python over a lake and a warehouse; the CLI and the Dagster assets call them.

Viral moments, anomalies (:func:`detect`), ad attribution, lagged correlations, the revenue
tables and market demand (:func:`derive`) take seconds and run after every ingest. Forecasts
(five models, rolling-origin backtests) take longer and run in ``soundlake analytics``, the demo
and the Dagster assets ``analytics/forecast_backtest`` → ``analytics/forecasts``.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from assets.model import ANALYTICS_TABLES, CuratedTable
from resources.faults import checkpoint
from resources.storage import LakeStorage

from .anomalies import AnomalyConfig, detect_anomalies
from .attribution import AttributionConfig, attribute_campaigns, lagged_correlations
from .markets import MarketConfig, market_demand
from .revenue import RevenueConfig, revenue_tables
from .series import daily_series, monthly_revenue
from .viral import ViralConfig, detect_moments

log = logging.getLogger("soundlake.analytics")

# Metrics whose daily series get forecasts (the issue: streams, followers, social views).
FORECAST_METRICS = ("streams", "followers", "views")
# Above this many series in one run (a label's catalogue) the forecasts use the fast models (run._label_scale).
MANY_SERIES = 200


@dataclass(frozen=True)
class AnalyticsConfig:
    viral: ViralConfig = field(default_factory=ViralConfig)
    anomalies: AnomalyConfig = field(default_factory=AnomalyConfig)
    attribution: AttributionConfig = field(default_factory=AttributionConfig)
    revenue: RevenueConfig = field(default_factory=RevenueConfig)
    markets: MarketConfig = field(default_factory=MarketConfig)
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


def write_table(storage: LakeStorage, name: str, df: pd.DataFrame, created_at: datetime) -> bool:
    """Replace the table's file, unless only ``created_at`` would change: a run over unchanged
    inputs leaves the lake byte for byte as it was. Returns whether the file changed."""
    from assets.lake.state import mark_analytics

    key = f"{name}/data.parquet"
    data = table_bytes(ANALYTICS_TABLES[name], df, created_at)
    changed = True
    if storage.stat("curated", key) is not None:
        old = pq.read_table(io.BytesIO(storage.get("curated", key))).drop_columns(["created_at"])
        new = pq.read_table(io.BytesIO(data)).drop_columns(["created_at"])
        changed = not (old.schema.equals(new.schema) and old.to_pandas().equals(new.to_pandas()))  # NaN == NaN here
    if changed:
        storage.put("curated", key, data)
    checkpoint("analytics")
    mark_analytics(storage, name)  # computed from the warehouse as it is now (assets/lake/state.py)
    return changed


def detect(series: pd.DataFrame, config: AnalyticsConfig = AnalyticsConfig()) -> dict[str, pd.DataFrame]:  # noqa: B008
    """Viral moments and anomalies of the daily series (:func:`series.daily_series`)."""
    return {
        "viral_moments": detect_moments(series, config.viral),
        "anomalies": detect_anomalies(series, config.anomalies),
    }


def derive(con, series: pd.DataFrame, config: AnalyticsConfig = AnalyticsConfig()) -> dict[str, pd.DataFrame]:  # noqa: B008
    """Ad attribution, lagged correlations, the revenue tables and market demand."""
    return {
        "ad_attribution": attribute_campaigns(con, series, config.attribution),
        "lagged_correlation": lagged_correlations(series, config.attribution),
        **revenue_tables(con, config.revenue),
        "market_demand": market_demand(con, config.markets),
    }


def forecast_inputs(con, config: AnalyticsConfig = AnalyticsConfig(),  # noqa: B008
                    daily: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(daily series, monthly revenue) as ``series_id, ds, y`` frames for the forecasters;
    ``daily`` is :func:`series.daily_series` when the caller has it already."""
    daily = daily_series(con) if daily is None else daily
    daily = daily[daily["metric"].isin(config.forecast_metrics)]
    monthly = monthly_revenue(con)
    return _as_input(daily), _as_input(monthly)


def _as_input(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename(columns={"date": "ds", "value": "y"})[["series_id", "ds", "y"]]
    return out.assign(ds=pd.to_datetime(out["ds"]))


def _configs():
    """The forecasters' settings of the daily series and of monthly revenue."""
    from .forecast import ForecastConfig

    return ForecastConfig(), ForecastConfig.monthly()


def _each_series(frame: pd.DataFrame):
    for series_id, part in frame.groupby("series_id", sort=True):
        yield series_id, pd.Series(part["y"].to_numpy(), index=part["ds"])


def _label_scale(frame: pd.DataFrame, config, many_series: int, previous: pd.DataFrame | None):
    """Per-series forecaster settings for a run of ``frame``: all of ``config.models`` up to
    ``many_series`` series; beyond that (a label's catalogue) the fast models
    (``forecast.FAST_MODELS``) everywhere, plus on each series the slower model that was its
    champion at the publish horizon in ``previous`` (the last run's ``forecast_backtest``), where
    it earned its place. Returns series_id -> config."""
    from dataclasses import replace

    from .forecast import FAST_MODELS

    ids = frame["series_id"].unique()
    if len(ids) <= many_series:
        return dict.fromkeys(ids, config)
    fast = FAST_MODELS
    won: dict[str, str] = {}
    if previous is not None and len(previous):
        champs = previous[previous["champion"] & (previous["horizon"] == config.publish_horizon)]
        won = dict(zip(champs["series_id"], champs["model"]))
    out = {}
    for sid in ids:
        extra = won.get(sid)
        models = fast + ((extra,) if extra and extra not in fast and extra in config.models else ())
        out[sid] = replace(config, models=models)
    log.info("forecasts: %d series (over %d): fast models %s, plus the previous champion on %d series",
             len(ids), many_series, ", ".join(fast), sum(1 for sid in ids if won.get(sid) not in (None, *fast)))
    return out


def backtests(inputs: tuple[pd.DataFrame, pd.DataFrame], configs=None, *, many_series: int = MANY_SERIES,
              previous: pd.DataFrame | None = None, progress_every: int = 50, progress=None) -> pd.DataFrame:
    """Model selection: rolling-origin backtests of every model on every series of ``inputs``
    (:func:`forecast_inputs`), champions marked (daily series at 7/28/90 days, monthly revenue at
    1/3 months; ``configs`` overrides the two forecasters' settings). Over ``many_series`` series
    in a frame, the models are restricted (:func:`_label_scale`); progress goes to ``progress``
    (a callable taking a line; default this module's logger; the Dagster asset passes its run
    log, so `soundlake ui` shows it) every ``progress_every`` series."""
    import time

    from .forecast import BACKTEST_COLUMNS, backtest_scores

    parts = []
    for frame, fc_config in zip(inputs, configs or _configs()):
        per_series = _label_scale(frame, fc_config, many_series, previous)
        total, started = len(per_series), time.monotonic()
        for i, (series_id, y) in enumerate(_each_series(frame), 1):
            try:
                scores = backtest_scores(y, per_series[series_id])
            except Exception:  # one odd series must not take the others down
                log.exception("forecast backtest of %s failed; no rows for it", series_id)
                continue
            if len(scores):
                parts.append(scores.assign(series_id=series_id))
            if progress_every and (i % progress_every == 0 or i == total) and total > progress_every:
                (progress or log.info)(f"forecast backtests: {i} of {total} series ({time.monotonic() - started:.0f} s)")
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BACKTEST_COLUMNS)
    return frame[BACKTEST_COLUMNS].astype({"horizon": "int64", "mase": "float64", "smape": "float64",
                                           "origins": "int64", "coverage_80": "float64", "coverage_95": "float64",
                                           "interval_score": "float64", "interval_scale_80": "float64",
                                           "interval_scale_95": "float64", "champion": "bool",
                                           "history_days": "int64"})


def publish(inputs: tuple[pd.DataFrame, pd.DataFrame], backtest: pd.DataFrame, configs=None) -> pd.DataFrame:
    """Predictions: each series' champion (from ``backtest``) refit on all history of ``inputs``,
    with 80 % and 95 % intervals."""
    from .forecast import FORECAST_COLUMNS, publish_forecast

    parts = []
    by_series = dict(tuple(backtest.groupby("series_id", sort=False))) if len(backtest) else {}
    for frame, fc_config in zip(inputs, configs or _configs()):
        for series_id, y in _each_series(frame):
            scores = by_series.get(series_id)
            if scores is None or scores.empty:
                continue
            try:
                fc = publish_forecast(y, scores.drop(columns="series_id"), fc_config)
            except Exception:
                log.exception("forecast of %s failed; no rows for it", series_id)
                continue
            if len(fc):
                parts.append(fc.assign(series_id=series_id))
    columns = [c for c in FORECAST_COLUMNS if c != "created_at"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def forecast(con, config: AnalyticsConfig = AnalyticsConfig(),  # noqa: B008
             daily: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Backtests and champion forecasts of the daily series and of monthly revenue."""
    inputs = forecast_inputs(con, config, daily)
    scores = backtests(inputs, previous=previous_backtest(con))
    return {"forecast_backtest": scores, "forecasts": publish(inputs, scores)}


def previous_backtest(con) -> pd.DataFrame | None:
    """The last run's ``forecast_backtest`` (its champions), or None when there is none yet."""
    try:
        return con.execute("SELECT series_id, model, horizon, champion FROM forecast_backtest").df()
    except Exception:  # no table yet, or an older one
        return None
