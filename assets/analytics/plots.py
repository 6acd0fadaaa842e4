"""PNG charts for the report: a forecast with its history and intervals, and a viral moment.

Figures are drawn with matplotlib's object API on an Agg canvas (no pyplot, so no global state
and no display is touched) and returned as PNG bytes for the caller to store or embed.
"""

from __future__ import annotations

import io

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from assets.analytics.forecast import ForecastConfig, prepare

HISTORY = "#404040"
FORECAST = "#1f77b4"
MOMENT = "#d62728"


def _figure() -> tuple[Figure, object]:
    fig = Figure(figsize=(9, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(True, alpha=0.3)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _series(history: pd.Series) -> pd.Series:
    history = pd.to_numeric(pd.Series(history), errors="coerce")
    history.index = pd.to_datetime(history.index)
    return history.sort_index()


def _bounds(forecast: pd.DataFrame, level: str) -> tuple[str, str] | None:
    """Column names of an interval: the published ``yhat_lower``/``_95`` or ``fit_predict``'s ``_80``/``_95``."""
    candidates = [("yhat_lower", "yhat_upper")] if level == "80" else []
    candidates.append((f"yhat_lower_{level}", f"yhat_upper_{level}"))
    for lower, upper in candidates:
        if lower in forecast.columns and upper in forecast.columns:
            return lower, upper
    return None


def plot_forecast(
    history: pd.Series, forecast: pd.DataFrame, title: str = "", history_periods: int | None = 180
) -> bytes:
    """History (the last ``history_periods`` points; all if None), the forecast line and its 80 %/95 % bands.

    ``forecast`` is a ``forecasts`` slice of one series (``ds, yhat, yhat_lower, yhat_upper,
    yhat_lower_95, yhat_upper_95``) or a ``fit_predict`` frame (``yhat_lower_80`` ...).
    """
    history = _series(history)
    if history_periods is not None:
        history = history.iloc[-history_periods:]
    forecast = forecast.sort_values("ds")
    ds = pd.to_datetime(forecast["ds"])
    fig, ax = _figure()
    ax.plot(history.index, history.to_numpy(dtype=float), color=HISTORY, linewidth=1, label="history")
    for level, alpha in (("95", 0.15), ("80", 0.3)):
        cols = _bounds(forecast, level)
        if cols:
            ax.fill_between(ds, forecast[cols[0]].astype(float), forecast[cols[1]].astype(float),
                            color=FORECAST, alpha=alpha, linewidth=0, label=f"{level} % interval")
    model = forecast["model"].iloc[0] if "model" in forecast.columns and len(forecast) else "forecast"
    ax.plot(ds, forecast["yhat"].astype(float), color=FORECAST, linewidth=1.5, label=str(model))
    if (history.dropna() >= 0).all() and (forecast["yhat"] >= 0).all():
        ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    return _png(fig)


def plot_moment(
    history: pd.Series, start, peak, end, baseline: float, title: str = "", context_days: int | None = 60
) -> bytes:
    """A viral moment: the series, its baseline, the shaded ``start``..``end`` window and the marked peak.

    The x-axis shows ``context_days`` either side of the window (the whole series if None).
    """
    history = _series(history)
    start, peak, end = (pd.Timestamp(d) for d in (start, peak, end))
    if context_days is not None:
        pad = pd.Timedelta(days=context_days)
        history = history.loc[start - pad : end + pad]
    fig, ax = _figure()
    ax.plot(history.index, history.to_numpy(dtype=float), color=HISTORY, linewidth=1, label="series")
    ax.axvspan(start, end + pd.Timedelta(days=1), color=MOMENT, alpha=0.15, linewidth=0, label="moment")
    ax.axhline(baseline, color=HISTORY, linestyle="--", linewidth=1, label=f"baseline {baseline:,.0f}")
    if peak in history.index and np.isfinite(history.loc[peak]):
        value = float(history.loc[peak])
        ax.plot([peak], [value], marker="o", color=MOMENT, label="peak")
        lift = f" ({value / baseline:,.1f}×)" if baseline > 0 else ""
        ax.annotate(f"{value:,.0f}{lift}", (peak, value), textcoords="offset points", xytext=(6, 6), color=MOMENT)
    else:
        ax.axvline(peak, color=MOMENT, linewidth=1, label="peak")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    return _png(fig)


def plot_forecasts(series: pd.DataFrame, forecasts: pd.DataFrame, config: ForecastConfig | None = None) -> dict[str, bytes]:
    """One PNG per series in ``forecasts``, its history (``series_id, ds, y``) prepared as the forecast saw it."""
    config = config or ForecastConfig()
    charts = {}
    for series_id, fc in forecasts.groupby("series_id", sort=True):
        part = series[series["series_id"] == series_id]
        prep = prepare(pd.Series(part["y"].to_numpy(), index=part["ds"]), config)
        history = prep.y.where(prep.observed) if prep is not None else pd.Series(dtype=float)
        charts[str(series_id)] = plot_forecast(history, fc, title=str(series_id))
    return charts
