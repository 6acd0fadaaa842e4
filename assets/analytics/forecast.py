"""Forecasts and rolling-origin backtests: the analytics tables ``forecasts`` and ``forecast_backtest``.

Pure logic over pandas (no Dagster, no lake I/O). Input is a long frame ``series_id, ds, y``: daily
streams per platform × artist, followers, social views (``ForecastConfig()``), or monthly revenue
(``ForecastConfig.monthly()``, one call per frequency). Decisions, each chosen so that a user of
the tables gets what they would expect:

* **Preparation.** Rows with a missing ``y`` are dropped, dates are normalised to the period
  (day, or month start) and duplicates aggregated (daily: mean, as two sources of the same count
  agree; monthly: sum, as revenue comes as statement lines). The series is reindexed to the full
  range *from its first to its last observation*: nothing is invented before the first or after
  the last one. Gaps inside are filled for the model input only (daily: linear interpolation;
  monthly: 0, a month without statement lines earned nothing). Backtest errors are computed on
  observed periods only.
* **Eligibility.** A series shorter than ``min_baseline_history + min(horizons)`` periods gets no
  rows at all (a 5-day series: no backtest, no forecast; there is nothing to judge a model by).
  Models beyond the baselines need ``min_history`` (56 days / 24 months) of training data at every
  origin, at least ``min_observed_share`` of the periods actually observed (sparse series get
  baselines only) and a non-constant series: an all-zero (or constant) series gets ``naive``
  only. ``seasonal_naive`` needs two full seasons of training data.
* **Backtest origins.** One set of origins per series, shared by all models and horizons: with
  ``H`` the longest horizon the series can be backtested at, origin ``k`` is ``n - H - k·step``
  (``k < origins``, 6), ``step = publish_horizon`` (28 days; ``H`` if shorter) when history
  allows and narrower otherwise (at least 1 period); origins whose training window would be
  shorter than the minimum are dropped (``origins`` says how many were used). Each model is fitted
  **once per origin**, forecasts ``H`` periods, and every horizon ``h ≤ H`` is scored on the first
  ``h`` of them. So a 2-year daily series costs 6 fits per model, plus one refit of the champion.
  Why 6 origins 28 days apart rather than 3 non-overlapping 90-day windows: the intervals are
  calibrated from the backtest (below), and three windows were too few: on the BEDROT exports the
  champions' 95 % intervals held 84 % of hold-out days with 3 origins, 93 % with 6; the 1-28-day
  windows of the origins still do not overlap, so coverage at 28 days is measured on unseen days.
* **Scores.** Per origin, MASE = mean absolute error over the horizon / mean absolute in-sample
  seasonal-naive (lag ``season``) error of that origin's training window; if that is 0 (or the
  window is shorter than a season) the lag-1 naive error is used; if that is 0 too (a constant
  series) MASE is NaN. sMAPE is in percent, ``200·|y-ŷ|/(|y|+|ŷ|)`` with 0/0 = 0. Both are averaged
  over the origins. Beside them, per model × horizon, the calibrated intervals' ``coverage_80`` /
  ``coverage_95`` (share of observed hold-out points in steps 1..h inside them) and
  ``interval_score``: the interval (Winkler) score of the 95 % interval, width + (2/α)·distance of a
  point outside it (Gneiting & Raftery 2007), divided by the same scale as MASE (M4's MSIS).
* **Calibrated intervals (split-conformal by horizon).** A model's own intervals are only as good
  as its assumptions (Prophet's 80 % band held about 60 % of hold-out points; the baselines' √h
  bands are far too wide on trending series). Each hold-out point of the backtest gets a
  normalised nonconformity score: its error divided by the model's own half-width on the error's
  side (1 = on the model's bound). Steps are grouped by horizon bucket (1-7, 8-28, 29-90 days; 1,
  2-3 months), and per bucket and level the factor is the split-conformal quantile
  ``⌈(n+1)·level⌉``-th smallest of its n scores (Lei et al. 2018, normalised conformity scores;
  by horizon as in Stankevičiūtė et al. 2021). The published forecast's intervals are the refit
  model's own, stretched (factor > 1) or narrowed (< 1) around ``yhat`` by the factors from all
  origins (``interval_scale_80/95``), the 95 % kept around the 80 %. The coverage and interval
  score in the backtest are *out of sample*: the points of each origin are judged with factors
  from the other origins only (cross-conformal); with one origin they are NaN.
* **Champion (accuracy and calibration together).** Per series and horizon, the models whose
  calibrated intervals held their level in the backtest (``coverage_80`` within 70-90 % and
  ``coverage_95`` ≥ 85 %) rank first, by lowest MASE (NaN last), then sMAPE, then the simpler
  model (naive, seasonal_naive, ets, sarima, prophet). When coverage was measured but no model
  held, all rank by the lowest interval score (which charges both width and misses), then MASE.
  When coverage could not be measured (one origin) the lowest MASE wins. The published forecast is
  the champion at ``publish_horizon`` (28 days / 3 months; the longest backtested horizon below
  it on shorter series), refit on all history, ``forecast_horizon`` periods ahead (90 days / 6
  months). If that refit fails, the next-ranked model is used.
* **Intervals.** Two levels (80 % and 95 %). In ``forecasts`` one row per ``ds``: ``yhat_lower`` /
  ``yhat_upper`` hold the 80 % interval, ``yhat_lower_95`` / ``yhat_upper_95`` the 95 % one (one row
  per day keeps the table joinable by ``series_id, ds`` and ``yhat`` unduplicated; with other
  ``levels`` the first goes to ``yhat_lower``/``yhat_upper`` and the second to the ``_95`` columns). Counts and money cannot be negative:
  ``yhat`` and all bounds are clipped at 0. The models' own intervals, before calibration:
  baselines: normal intervals with σ the RMS of the in-sample one-step errors (naive: ``y_t -
  y_{t-1}``; seasonal naive: ``y_t - y_{t-m}``), widened by ``√h`` (naive) or ``√(⌊(h-1)/m⌋+1)``
  (seasonal naive), as in Hyndman & Athanasopoulos, FPP3 §5.5. ETS and SARIMAX use statsmodels'
  own prediction intervals; Prophet the quantiles of its predictive samples (seeded, so reruns
  agree).
* **log1p: off by default**, decided by backtest. With ``log1p=True`` ETS, SARIMAX and Prophet
  model ``log1p(y)`` of non-negative series and back-transform with ``expm1`` (``yhat`` is then the
  median). On 19 series (the real DistroKid 276-day and TooLost daily streams, 16 synthetic
  two-year streams, followers, views, release decays and viral spikes) the champion's MASE with
  log / without log was 0.96 at 7 days, 1.01 at 28 and 1.19 at 90 (geometric means): the log helps
  release-decay and viral series but extrapolates trends exponentially (Prophet on the real
  DistroKid series: MASE 88 at 90 days), and the published forecast runs 90 days. Baselines
  always work on the original scale.
* **Failures never crash a run**: a model raising (or returning non-finite numbers) at any origin
  is dropped for that series with a log line; the baselines cannot fail on a prepared series.

Speed: statsmodels' state-space code calls BLAS on tiny matrices; with OpenBLAS's thread pool on a
busy 2-core machine one SARIMAX fit took ~10× longer (11 s instead of 1 s), so fits run with one
BLAS thread.
SARIMAX warm-starts each fit from the previous origin's parameters; ETS and SARIMAX see at most
``max_fit_history`` periods (2 years); Prophet uses ``prophet_samples`` predictive samples.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import math
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

MODEL_ORDER = ("naive", "seasonal_naive", "ses", "ets", "sarima", "prophet")
"""All models, simplest first (the tie-break order)."""
BASELINES = frozenset({"naive", "seasonal_naive"})
FAST_MODELS = ("naive", "seasonal_naive", "ses")
"""Models that cost milliseconds per fit: what a label's thousand series get (run.backtests)."""

INTERVAL_COLUMNS = ["coverage_80", "coverage_95", "interval_score", "interval_scale_80", "interval_scale_95"]
SCORE_COLUMNS = ["model", "horizon", "mase", "smape", "origins", *INTERVAL_COLUMNS]
BACKTEST_COLUMNS = ["series_id", "model", "horizon", "mase", "smape", "origins", *INTERVAL_COLUMNS, "champion",
                    "history_days"]
FORECAST_COLUMNS = [
    "series_id", "model", "ds", "yhat", "yhat_lower", "yhat_upper", "yhat_lower_95", "yhat_upper_95", "created_at",
]


@dataclass(frozen=True)
class ForecastConfig:
    """How series are backtested and forecast. Lengths and horizons are in periods of ``freq``.

    ``min_history`` is the training length (at every backtest origin and for the refit) below which
    only the baselines run; ``min_baseline_history`` the one below which nothing runs.
    """

    freq: str = "D"
    season: int = 7
    horizons: tuple[int, ...] = (7, 28, 90)
    models: tuple[str, ...] = ("prophet", "ets", "sarima", "naive", "seasonal_naive")
    min_history: int = 56
    min_baseline_history: int = 14
    origins: int = 6
    origin_step: int | None = None  # None: the publish horizon (or the longest backtested, if shorter), narrower when history is short
    publish_horizon: int = 28
    forecast_horizon: int = 90
    levels: tuple[float, float] = (0.8, 0.95)
    log1p: bool = False
    fill: str = "interpolate"  # or "zero"
    aggregate: str = "mean"  # duplicates within a period: "mean" or "sum"
    min_observed_share: float = 0.5
    max_fit_history: int | None = 730
    prophet_samples: int = 300
    sarima_order: tuple[int, int, int] = (1, 0, 1)
    sarima_seasonal_order: tuple[int, int, int] = (1, 1, 1)

    def __post_init__(self) -> None:
        unknown = set(self.models) - set(MODEL_ORDER)
        if unknown:
            raise ValueError(f"unknown models {sorted(unknown)}; choose from {list(MODEL_ORDER)}")
        if not self.horizons or min(self.horizons) < 1:
            raise ValueError(f"horizons must be positive, got {self.horizons}")
        if len(self.levels) != 2 or not all(0 < lv < 1 for lv in self.levels) or self.levels[0] >= self.levels[1]:
            raise ValueError(f"levels must be two increasing coverages in (0, 1), got {self.levels}")
        if self.fill not in ("interpolate", "zero"):
            raise ValueError(f"fill must be 'interpolate' or 'zero', got {self.fill!r}")
        if self.aggregate not in ("mean", "sum"):
            raise ValueError(f"aggregate must be 'mean' or 'sum', got {self.aggregate!r}")
        if self.freq not in ("D", "MS"):
            raise ValueError(f"freq must be 'D' (daily) or 'MS' (monthly), got {self.freq!r}")

    @classmethod
    def monthly(cls, **overrides) -> ForecastConfig:
        """Monthly revenue: month-start periods, yearly season, horizons 1 and 3 months, 6 published.

        Months are summed (statement lines), a month without lines is 0. Models beyond the
        baselines need two years of training data (25 months of history for the 1-month backtest),
        the seasonal naive two years too; from 7 months of history the naive runs alone.
        """
        monthly = dict(
            freq="MS", season=12, horizons=(1, 3), min_history=24, min_baseline_history=6,
            publish_horizon=3, forecast_horizon=6, fill="zero", aggregate="sum", max_fit_history=None,
        )
        return cls(**{**monthly, **overrides})


# --------------------------------------------------------------------------------------- models


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2)


def _pct(level: float) -> str:
    return f"{level * 100:g}".replace(".", "_")


def interval_columns(levels: Sequence[float]) -> list[str]:
    """``yhat_lower_80, yhat_upper_80, yhat_lower_95, ...`` for the given levels."""
    return [f"yhat_{side}_{_pct(lv)}" for lv in levels for side in ("lower", "upper")]


class Model:
    """A forecasting model: ``fit_predict(y, horizon, levels)`` → ``ds, yhat, yhat_lower_80, ...``.

    ``y`` has a regular DatetimeIndex and no missing values. Subclasses implement ``_forecast`` on
    the (optionally log1p-transformed) values; this class does the dates, the back-transform, the
    clipping at 0 and the checks. One instance serves one series (SARIMAX keeps warm-start state).
    """

    name = ""
    transformable = True  # log1p applies (baselines: no)

    def __init__(self, season: int, log1p: bool = False, nonnegative: bool = True) -> None:
        self.season = season
        self.log1p = log1p
        self.nonnegative = nonnegative

    def fit_predict(self, y: pd.Series, horizon: int, levels: Sequence[float] = (0.8, 0.95)) -> pd.DataFrame:
        if not isinstance(y.index, pd.DatetimeIndex) or len(y) < 2:
            raise ValueError(f"{self.name}: y needs a DatetimeIndex and at least 2 values")
        freq = y.index.freq or pd.infer_freq(y.index)
        if freq is None:
            raise ValueError(f"{self.name}: y needs a regular frequency (reindex and fill gaps first)")
        values = np.asarray(y, dtype=float)
        if not np.isfinite(values).all():
            raise ValueError(f"{self.name}: y has missing or infinite values (fill gaps first)")
        ds = pd.date_range(y.index[-1], periods=horizon + 1, freq=freq)[1:]
        logged = self.log1p and self.transformable and values.min() >= 0
        with _fitting():
            mean, bounds = self._forecast(np.log1p(values) if logged else values, horizon, tuple(levels), y.index, ds)
        # numpy until the end: pandas' per-column overhead cost more than a fast model's fit
        yhat = np.asarray(mean, dtype=float)
        cols = {"yhat": yhat}
        for lv in levels:
            lo, hi = (np.asarray(b, dtype=float) for b in bounds[lv])
            cols[f"yhat_lower_{_pct(lv)}"], cols[f"yhat_upper_{_pct(lv)}"] = np.minimum(lo, yhat), np.maximum(hi, yhat)
        for name, col in cols.items():
            if logged:
                col = np.expm1(np.minimum(col, np.log1p(np.finfo(float).max) - 1))
            if not np.isfinite(col).all():
                raise ArithmeticError(f"{self.name}: non-finite forecast")
            cols[name] = np.maximum(col, 0) if self.nonnegative else col
        return pd.DataFrame({"ds": ds, **cols})

    def _forecast(self, values: np.ndarray, horizon: int, levels: tuple[float, ...], index: pd.DatetimeIndex, future: pd.DatetimeIndex):
        """Values (training dates ``index``) → forecast for the ``future`` dates: (mean[horizon], {level: (lower[horizon], upper[horizon])})."""
        raise NotImplementedError


class Naive(Model):
    """The last value; σ from one-step errors, growing with √h."""

    name = "naive"
    transformable = False

    def _forecast(self, values, horizon, levels, index, future):
        sigma = float(np.sqrt(np.mean(np.diff(values) ** 2)))
        mean = np.full(horizon, values[-1])
        sd = sigma * np.sqrt(np.arange(1, horizon + 1))
        return mean, {lv: (mean - _z(lv) * sd, mean + _z(lv) * sd) for lv in levels}


class SeasonalNaive(Model):
    """The value one season ago; σ from seasonal one-step errors, growing with √(completed seasons + 1)."""

    name = "seasonal_naive"
    transformable = False

    def _forecast(self, values, horizon, levels, index, future):
        m = self.season
        if len(values) <= m:
            raise ValueError(f"seasonal_naive needs more than {m} values, got {len(values)}")
        sigma = float(np.sqrt(np.mean((values[m:] - values[:-m]) ** 2)))
        steps = np.arange(horizon)
        mean = values[len(values) - m + steps % m]
        sd = sigma * np.sqrt(steps // m + 1)
        return mean, {lv: (mean - _z(lv) * sd, mean + _z(lv) * sd) for lv in levels}


class SES(Model):
    """Simple exponential smoothing of the seasonally adjusted series (ETS(A,N,A) in spirit, fitted
    in closed form): the additive weekly (or yearly) profile is the median deviation of each phase
    from a centred moving average over the last 8 seasons, the smoothing weight α the one of a grid
    with the smallest in-sample one-step squared error (a recursive filter, no optimiser), and the
    interval normal with σ the RMS one-step error widened by √(1 + (h−1)α²) (FPP3 §8.7). A fit
    costs about a millisecond, so it is what a label's thousand series can afford."""

    name = "ses"
    alphas = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)

    def _forecast(self, values, horizon, levels, index, future):
        from scipy.signal import lfilter

        n, m = len(values), self.season
        profile = np.zeros(m)
        if m > 1 and n >= 2 * m + 1:
            recent = values[-8 * m - m:] if n > 9 * m else values
            offset = n - len(recent)
            ma = np.convolve(recent, np.ones(m) / m, mode="valid")  # ma[i] averages recent[i : i + m]
            centre = (m - 1) // 2
            dev = recent[centre : centre + len(ma)] - ma
            phase = (offset + centre + np.arange(len(ma))) % m
            profile = np.array([np.median(dev[phase == j]) if (phase == j).any() else 0.0 for j in range(m)])
            profile -= profile.mean()
        adjusted = values - profile[np.arange(n) % m]
        best = None
        for a in self.alphas:
            level, _ = lfilter([a], [1, -(1 - a)], adjusted, zi=[(1 - a) * adjusted[0]])
            err = adjusted[1:] - level[:-1]
            sse = float(np.dot(err, err))
            if best is None or sse < best[0]:
                best = (sse, a, level[-1], err)
        _, a, last, err = best
        sigma = float(np.sqrt(np.mean(err**2))) if len(err) else 0.0
        steps = np.arange(1, horizon + 1)
        mean = last + profile[(n - 1 + steps) % m]
        sd = sigma * np.sqrt(1 + (steps - 1) * a**2)
        return mean, {lv: (mean - _z(lv) * sd, mean + _z(lv) * sd) for lv in levels}


class ETS(Model):
    """statsmodels ETSModel: additive error, additive damped trend, additive season once two seasons exist."""

    name = "ets"

    def _forecast(self, values, horizon, levels, index, future):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        seasonal = len(values) >= 2 * self.season + 2
        res = ETSModel(
            pd.Series(values), error="add", trend="add", damped_trend=True,
            seasonal="add" if seasonal else None, seasonal_periods=self.season if seasonal else None,
        ).fit(disp=False)
        pred = res.get_prediction(start=len(values), end=len(values) + horizon - 1)
        bounds = {}
        for lv in levels:
            frame = pred.summary_frame(alpha=1 - lv)
            bounds[lv] = (frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy())
        return np.asarray(pred.predicted_mean), bounds


class Sarima(Model):
    """SARIMAX (1,0,1)(1,1,1,m) (non-seasonal (1,1,1) under three seasons), warm-started from the last fit."""

    name = "sarima"

    def __init__(self, season, log1p=False, nonnegative=True, order=(1, 0, 1), seasonal_order=(1, 1, 1)):
        super().__init__(season, log1p, nonnegative)
        self.order, self.seasonal_order = order, seasonal_order
        self._start_params: dict[tuple, np.ndarray] = {}

    def _forecast(self, values, horizon, levels, index, future):
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        if len(values) >= 3 * self.season:
            spec = (tuple(self.order), (*self.seasonal_order, self.season))
        else:
            spec = ((1, 1, 1), (0, 0, 0, 0))
        res = SARIMAX(values, order=spec[0], seasonal_order=spec[1]).fit(
            disp=False, start_params=self._start_params.get(spec)
        )
        self._start_params[spec] = res.params
        fc = res.get_forecast(horizon)
        bounds = {}
        for lv in levels:
            ci = np.asarray(fc.conf_int(alpha=1 - lv))
            bounds[lv] = (ci[:, 0], ci[:, 1])
        return np.asarray(fc.predicted_mean), bounds


class ProphetModel(Model):
    """Prophet with weekly seasonality (daily data) and yearly seasonality from two years of history."""

    name = "prophet"

    def __init__(self, season, log1p=False, nonnegative=True, samples=300):
        super().__init__(season, log1p, nonnegative)
        self.samples = samples

    def _forecast(self, values, horizon, levels, index, future):
        from cmdstanpy.utils import get_logger
        from prophet import Prophet

        get_logger().setLevel(logging.WARNING)  # creates cmdstanpy's logger first, or its INFO lines come back
        logging.getLogger("prophet").setLevel(logging.WARNING)
        daily = (index[1] - index[0]) <= pd.Timedelta(days=1)
        two_years = index[-1] - index[0] >= pd.Timedelta(days=730)  # Prophet's own threshold
        m = Prophet(
            weekly_seasonality=daily, yearly_seasonality=two_years, daily_seasonality=False,
            uncertainty_samples=0,
        )
        m.fit(pd.DataFrame({"ds": index, "y": values}), seed=0)
        future = pd.DataFrame({"ds": future})
        mean = m.predict(future)["yhat"].to_numpy()
        m.uncertainty_samples = self.samples
        state = np.random.get_state()
        np.random.seed(0)
        try:
            draws = m.predictive_samples(future)["yhat"]
        finally:
            np.random.set_state(state)
        bounds = {lv: (np.quantile(draws, 0.5 - lv / 2, axis=1), np.quantile(draws, 0.5 + lv / 2, axis=1)) for lv in levels}
        return mean, bounds


def make_models(config: ForecastConfig, names: Sequence[str] | None = None) -> dict[str, Model]:
    """Fresh model instances (one set per series), simplest first."""
    kw = dict(season=config.season, log1p=config.log1p)
    factories = {
        "naive": lambda: Naive(**kw),
        "seasonal_naive": lambda: SeasonalNaive(**kw),
        "ses": lambda: SES(**kw),
        "ets": lambda: ETS(**kw),
        "sarima": lambda: Sarima(**kw, order=config.sarima_order, seasonal_order=config.sarima_seasonal_order),
        "prophet": lambda: ProphetModel(**kw, samples=config.prophet_samples),
    }
    wanted = set(config.models if names is None else names)
    return {name: factories[name]() for name in MODEL_ORDER if name in wanted}


# ---------------------------------------------------------------------------------- preparation


@dataclass
class PreparedSeries:
    """A series on its full regular range (first to last observation), gaps filled for the models."""

    y: pd.Series
    observed: np.ndarray
    history_days: int

    @property
    def n(self) -> int:
        return len(self.y)


def prepare(y: pd.Series, config: ForecastConfig) -> PreparedSeries | None:
    """Regular, gap-filled series (see the module docstring); None when nothing was observed."""
    y = pd.to_numeric(pd.Series(y), errors="coerce").dropna()
    if y.empty:
        return None
    index = pd.DatetimeIndex(pd.to_datetime(y.index))
    if index.tz is not None:
        index = index.tz_localize(None)
    index = index.to_period("M").to_timestamp() if config.freq == "MS" else index.normalize()
    y = pd.Series(y.to_numpy(dtype=float), index=index).groupby(level=0).agg(config.aggregate)
    full = pd.date_range(y.index[0], y.index[-1], freq=config.freq)
    y = y.reindex(full)
    observed = y.notna().to_numpy()
    y = y.interpolate() if config.fill == "interpolate" else y.fillna(0.0)
    return PreparedSeries(y=y, observed=observed, history_days=(full[-1] - full[0]).days + 1)


# ------------------------------------------------------------------------------------- backtest


def _scale(train: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive, else of the naive; NaN when both are 0 or undefined."""
    for lag in (season, 1):
        if len(train) > lag:
            mae = float(np.mean(np.abs(train[lag:] - train[:-lag])))
            if mae > 0:
                return mae
    return math.nan


def _smape(actual: np.ndarray, pred: np.ndarray) -> float:
    denom = np.abs(actual) + np.abs(pred)
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(denom == 0, 0.0, 200 * np.abs(actual - pred) / denom)
    return float(np.mean(terms))


@dataclass
class _Plan:
    models: list[str]
    horizons: list[int]
    origins: list[int]


def _plan(prep: PreparedSeries, config: ForecastConfig) -> _Plan:
    """Which models, horizons and origins a series supports (module docstring, *Eligibility*)."""
    n, values = prep.n, prep.y.to_numpy()
    h_min = min(config.horizons)
    advanced = [m for m in config.models if m not in BASELINES]
    full = (
        bool(advanced)
        and n - h_min >= config.min_history
        and prep.observed.mean() >= config.min_observed_share
        and np.ptp(values) > 0
    )
    min_train = config.min_history if full else config.min_baseline_history
    horizons = sorted(h for h in config.horizons if n - h >= min_train)
    if not horizons:
        return _Plan([], [], [])
    longest = horizons[-1]
    k = max(config.origins, 1)
    room = n - longest - min_train
    stride = min(longest, config.publish_horizon)
    step = config.origin_step or max(1, min(stride, room // (k - 1) if k > 1 else stride))
    origins = sorted(o for o in (n - longest - i * step for i in range(k)) if o >= min_train)
    if np.ptp(values) == 0:
        models = ["naive"] if "naive" in config.models else []
    else:
        models = [m for m in MODEL_ORDER if m in config.models and (full or m in BASELINES)]
        if min_train < 2 * config.season:
            models = [m for m in models if m != "seasonal_naive"]
    return _Plan(models, horizons, origins)


def _fit_window(y: pd.Series, name: str, config: ForecastConfig) -> pd.Series:
    """ETS and SARIMAX see the last ``max_fit_history`` periods: old dynamics add fit time, not accuracy."""
    if name in ("ets", "sarima") and config.max_fit_history is not None:
        return y.iloc[-config.max_fit_history :]
    return y


@dataclass
class _Fold:
    """One model's forecast from one backtest origin: the hold-out and the model's own intervals."""

    origin: int
    scale: float
    actual: np.ndarray  # the longest horizon's values after the origin
    observed: np.ndarray
    yhat: np.ndarray
    bounds: dict[float, tuple[np.ndarray, np.ndarray]]  # level -> (lower, upper), the model's own


def _side_scores(fold: _Fold, level: float) -> np.ndarray:
    """Normalised nonconformity of each hold-out point: the error over the model's own interval
    half-width on the error's side (0 inside the forecast, 1 on the model's bound)."""
    lo, hi = fold.bounds[level]
    err = fold.actual - fold.yhat
    floor = 1e-9 + 0.01 * (fold.scale if np.isfinite(fold.scale) else 0.0)
    up, down = np.maximum(hi - fold.yhat, floor), np.maximum(fold.yhat - lo, floor)
    return np.where(err > 0, err / up, -err / down)


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """Split-conformal quantile: the ⌈(n + 1)·level⌉-th smallest score (the largest when that is
    past n); NaN without scores."""
    scores = np.sort(scores[np.isfinite(scores)])
    if not len(scores):
        return math.nan
    k = math.ceil((len(scores) + 1) * level)
    return float(scores[min(k, len(scores)) - 1])


def _buckets(horizons: Sequence[int]) -> list[tuple[int, int]]:
    """Steps (exclusive start, inclusive end) calibrated together: 1-7, 8-28, 29-90 for 7/28/90."""
    edges = [0, *sorted(horizons)]
    return list(zip(edges[:-1], edges[1:]))


def _stretch(yhat: np.ndarray, bounds: tuple[np.ndarray, np.ndarray], factor: np.ndarray,
             nonnegative: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The model's interval stretched (or narrowed) around ``yhat`` by ``factor`` (per step) on
    each side; steps with a NaN factor keep the model's own bounds."""
    lo, hi = bounds
    factor = np.asarray(factor, dtype=float)
    ok = np.isfinite(factor)
    f = np.where(ok, factor, 1.0)
    lo, hi = yhat - f * (yhat - lo), yhat + f * (hi - yhat)
    return (np.maximum(lo, 0) if nonnegative else lo), hi


def _factors(folds: list[_Fold], buckets: list[tuple[int, int]], levels: Sequence[float]) -> dict[tuple[float, int], float]:
    """(level, bucket end) -> conformal factor from the observed hold-out points of ``folds``."""
    out = {}
    for lv in levels:
        scores = [(_side_scores(f, lv), f.observed) for f in folds]
        for a, b in buckets:
            pooled = np.concatenate([sc[a:b][ob[a:b]] for sc, ob in scores]) if scores else np.array([])
            out[(lv, b)] = conformal_quantile(pooled, lv)
    return out


def _per_step(factors: dict[tuple[float, int], float], level: float, buckets: list[tuple[int, int]], steps: int) -> np.ndarray:
    """The factor of each step ahead; steps past the last bucket take the last bucket's."""
    out = np.full(steps, factors[(level, buckets[-1][1])])
    for a, b in buckets:
        out[a:min(b, steps)] = factors[(level, b)]
    return out


def _winkler(actual, lo, hi, level: float) -> np.ndarray:
    """Interval score (Gneiting & Raftery 2007): width plus 2/α × how far a point falls outside."""
    alpha = 1 - level
    return (hi - lo) + (2 / alpha) * np.maximum(lo - actual, 0) + (2 / alpha) * np.maximum(actual - hi, 0)


def _interval_scores(name: str, folds: list[_Fold], plan: _Plan, config: ForecastConfig) -> list[dict]:
    """Per horizon: MASE and sMAPE (averaged over origins) and, for the calibrated intervals,
    coverage of both levels and the scaled interval score of the second, each measured on an origin
    with factors from the *other* origins (cross-conformal; NaN with a single origin), and the
    factors from all origins (what the published forecast uses)."""
    buckets = _buckets(plan.horizons)
    low, high = config.levels
    models_nonneg = True  # counts and money (Model.nonnegative)
    full = _factors(folds, buckets, config.levels)
    loo = {f.origin: _factors([g for g in folds if g is not f], buckets, config.levels) for f in folds} if len(folds) > 1 else {}
    rows = []
    for h in plan.horizons:
        mase, smape, cov = [], [], {lv: [] for lv in config.levels}
        score = []
        for f in folds:
            mask = f.observed[:h]
            if not mask.any():
                continue
            actual, pred = f.actual[:h][mask], f.yhat[:h][mask]
            mase.append(float(np.mean(np.abs(actual - pred))) / f.scale)
            smape.append(_smape(actual, pred))
            factors = loo.get(f.origin)
            if factors is None:
                continue
            for lv in config.levels:
                lo, hi = _stretch(f.yhat, f.bounds[lv], _per_step(factors, lv, buckets, len(f.yhat)), models_nonneg)
                inside = (actual >= lo[:h][mask]) & (actual <= hi[:h][mask])
                cov[lv].append(float(inside.mean()))
                if lv == high:
                    score.append(float(np.mean(_winkler(actual, lo[:h][mask], hi[:h][mask], lv))) / f.scale)
        if not mase:
            continue
        rows.append({
            "model": name, "horizon": h, "mase": float(np.mean(mase)), "smape": float(np.mean(smape)),
            "origins": len(mase),
            "coverage_80": float(np.mean(cov[low])) if cov[low] else math.nan,
            "coverage_95": float(np.mean(cov[high])) if cov[high] else math.nan,
            "interval_score": float(np.mean(score)) if score else math.nan,
            "interval_scale_80": full[(low, _bucket_of(h, buckets))],
            "interval_scale_95": full[(high, _bucket_of(h, buckets))],
        })
    return rows


def _bucket_of(h: int, buckets: list[tuple[int, int]]) -> int:
    return next(b for a, b in buckets if a < h <= b)


def _run_backtest(prep: PreparedSeries, config: ForecastConfig, models: dict[str, Model], plan: _Plan) -> pd.DataFrame:
    """Scores per model and horizon; models that fail at any origin are left out (and logged)."""
    values, observed = prep.y.to_numpy(), prep.observed
    longest = plan.horizons[-1]
    folds: dict[str, list[_Fold]] = {}
    failed: set[str] = set()
    for origin in plan.origins:
        scale = _scale(values[:origin], config.season)
        for name in plan.models:
            if name in failed:
                continue
            try:
                train = _fit_window(prep.y.iloc[:origin], name, config)
                frame = models[name].fit_predict(train, longest, config.levels)
            except Exception as exc:  # any model may fail on odd data; the series goes on without it
                log.warning("forecast: %s failed at origin %s (%s); left out for this series", name, prep.y.index[origin].date(), exc)
                failed.add(name)
                continue
            bounds = {lv: (frame[f"yhat_lower_{_pct(lv)}"].to_numpy(), frame[f"yhat_upper_{_pct(lv)}"].to_numpy())
                      for lv in config.levels}
            folds.setdefault(name, []).append(_Fold(origin, scale, values[origin : origin + longest],
                                                    observed[origin : origin + longest],
                                                    frame["yhat"].to_numpy(), bounds))
    rows = [r for name in plan.models if name not in failed for r in _interval_scores(name, folds.get(name, []), plan, config)]
    scores = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    order = scores["model"].map(MODEL_ORDER.index)
    return scores.assign(_order=order).sort_values(["_order", "horizon"]).drop(columns="_order").reset_index(drop=True)


def _backtest_series(y: pd.Series, config: ForecastConfig) -> tuple[PreparedSeries | None, dict[str, Model], pd.DataFrame]:
    """Prepare, plan and backtest one series → (prepared series, its model instances, scores)."""
    prep = prepare(y, config)
    plan = _plan(prep, config) if prep is not None else None
    if plan is None or not plan.origins or not plan.models:
        return prep, {}, pd.DataFrame(columns=SCORE_COLUMNS)
    models = make_models(config, plan.models)
    return prep, models, _run_backtest(prep, config, models, plan)


def backtest(y: pd.Series, config: ForecastConfig | None = None) -> pd.DataFrame:
    """Rolling-origin backtest of one series → ``model, horizon, mase, smape, origins`` (empty when too short)."""
    return _backtest_series(y, config or ForecastConfig())[2]


CALIBRATED_80 = (0.70, 0.90)  # backtest coverage of the calibrated 80 % interval a champion needs ...
CALIBRATED_95 = 0.85  # ... and of its 95 % interval, at least


def calibrated(scores: pd.DataFrame) -> pd.Series:
    """Rows whose calibrated intervals held their level in the backtest (within the tolerances)."""
    lo, hi = CALIBRATED_80
    return scores["coverage_80"].between(lo, hi) & (scores["coverage_95"] >= CALIBRATED_95)


def rank_models(scores: pd.DataFrame) -> pd.DataFrame:
    """Rows of one horizon, best first (module docstring, *Champion*): the models whose calibrated
    intervals held their level come first, ranked by MASE (NaN last), then sMAPE, then the simpler
    model; when no model's did (but coverage was measured), all rank by interval score first."""
    key = scores.assign(_mase=scores["mase"].fillna(np.inf), _simple=scores["model"].map(MODEL_ORDER.index))
    if "coverage_80" not in scores or scores["coverage_80"].isna().all():
        return key.sort_values(["_mase", "smape", "_simple"], kind="stable").drop(columns=["_mase", "_simple"])
    ok = calibrated(scores)
    if ok.any():
        key = key.assign(_tier=(~ok).astype(int), _score=0.0)
    else:
        key = key.assign(_tier=0, _score=scores["interval_score"].fillna(np.inf))
    return key.sort_values(["_tier", "_score", "_mase", "smape", "_simple"], kind="stable").drop(
        columns=["_mase", "_simple", "_tier", "_score"])


def _mark_champions(scores: pd.DataFrame) -> pd.DataFrame:
    scores = scores.assign(champion=False)
    for _, part in scores.groupby("horizon"):
        scores.loc[rank_models(part).index[0], "champion"] = True
    return scores


# ------------------------------------------------------------------------------------ forecasts


def backtest_scores(y: pd.Series, config: ForecastConfig | None = None) -> pd.DataFrame:
    """Backtest one series and mark the champion per horizon → scores with ``champion`` and
    ``history_days`` (empty when the series is too short). This is the model-selection step."""
    config = config or ForecastConfig()
    prep, _, scores = _backtest_series(y, config)
    if scores.empty:
        return pd.DataFrame(columns=[*SCORE_COLUMNS, "champion", "history_days"])
    return _mark_champions(scores).assign(history_days=prep.history_days).reset_index(drop=True)


def publish_forecast(y: pd.Series, scores: pd.DataFrame, config: ForecastConfig | None = None) -> pd.DataFrame:
    """The prediction step: refit the champion at the publish horizon (from ``scores``, as
    :func:`backtest_scores` made them) on all history and forecast ``forecast_horizon`` ahead.
    When the refit fails the next-ranked model is used. Columns ``model, ds, yhat, yhat_lower,
    yhat_upper, yhat_lower_95, yhat_upper_95`` (first level in ``yhat_lower``/``yhat_upper``)."""
    config = config or ForecastConfig()
    fc = pd.DataFrame(columns=FORECAST_COLUMNS[1:-1])
    prep = prepare(y, config)
    if prep is None or scores.empty:
        return fc
    models = make_models(config, list(scores["model"].unique()))
    backtested = sorted(scores["horizon"].unique())
    below = [h for h in backtested if h <= config.publish_horizon]
    publish_h = below[-1] if below else backtested[0]
    for name in rank_models(scores[scores["horizon"] == publish_h])["model"]:
        try:
            fc = models[name].fit_predict(_fit_window(prep.y, name, config), config.forecast_horizon, config.levels)
        except Exception as exc:  # fall through to the next-ranked model
            log.warning("forecast: refit of %s on all history failed (%s); trying the next model", name, exc)
            continue
        fc = _calibrated_forecast(fc, scores[scores["model"] == name], config, models[name].nonnegative)
        first, second = (_pct(lv) for lv in config.levels)
        return fc.rename(columns={
            f"yhat_lower_{first}": "yhat_lower", f"yhat_upper_{first}": "yhat_upper",
            f"yhat_lower_{second}": "yhat_lower_95", f"yhat_upper_{second}": "yhat_upper_95",
        }).assign(model=name)[FORECAST_COLUMNS[1:-1]]
    return fc


def _calibrated_forecast(fc: pd.DataFrame, rows: pd.DataFrame, config: ForecastConfig, nonnegative: bool) -> pd.DataFrame:
    """The model's intervals stretched by the conformal factors of its backtest (per step: the
    factor of the smallest backtested horizon at or beyond it, else the longest's); the 95 %
    interval is kept around the 80 % one."""
    if "interval_scale_80" not in rows or rows.empty:
        return fc
    rows = rows.sort_values("horizon")
    horizons = [int(h) for h in rows["horizon"]]
    buckets = _buckets(horizons)
    yhat = fc["yhat"].to_numpy()
    out = fc.copy()
    for lv, column in zip(config.levels, ("interval_scale_80", "interval_scale_95")):
        factors = {(lv, b): float(f) for (_, b), f in zip(buckets, rows[column])}
        lo_c, hi_c = f"yhat_lower_{_pct(lv)}", f"yhat_upper_{_pct(lv)}"
        lo, hi = _stretch(yhat, (fc[lo_c].to_numpy(), fc[hi_c].to_numpy()), _per_step(factors, lv, buckets, len(yhat)),
                          nonnegative)
        out[lo_c], out[hi_c] = np.minimum(lo, yhat), np.maximum(hi, yhat)
    (lo1, hi1), (lo2, hi2) = ((f"yhat_lower_{_pct(lv)}", f"yhat_upper_{_pct(lv)}") for lv in config.levels)
    out[lo2], out[hi2] = np.minimum(out[lo2], out[lo1]), np.maximum(out[hi2], out[hi1])
    return out


def summarise(backtest: pd.DataFrame, horizon: int = 28, min_history_days: int = 365) -> dict:
    """How often the champion beats the seasonal naive at ``horizon`` on series with a year of
    history, and how often the champions' calibrated 80 % / 95 % intervals held their hold-out days
    at ``horizon`` (``coverage_80/95``, over every series with coverage measured, each weighted by
    its origins; None when there is none).

    A series counts as compared when both its champion's and the seasonal naive's MASE are defined.
    """
    long = backtest[(backtest["history_days"] >= min_history_days) & (backtest["horizon"] == horizon)]
    compared = beats = 0
    champions: dict[str, int] = {}
    for _, part in long.groupby("series_id"):
        champ = part[part["champion"]]
        snaive = part[part["model"] == "seasonal_naive"]
        if champ.empty:
            continue
        champions[champ["model"].iloc[0]] = champions.get(champ["model"].iloc[0], 0) + 1
        if snaive.empty or not np.isfinite(champ["mase"].iloc[0]) or not np.isfinite(snaive["mase"].iloc[0]):
            continue
        compared += 1
        beats += bool(champ["mase"].iloc[0] < snaive["mase"].iloc[0])
    at_h = backtest[(backtest["horizon"] == horizon) & backtest["champion"]] if len(backtest) else backtest
    if "coverage_80" in at_h:
        measured = at_h[at_h["coverage_80"].notna() & at_h["coverage_95"].notna()]
    else:
        measured = at_h.iloc[0:0]
    weights = measured["origins"].astype(float) if len(measured) else None
    return {
        "series": int(backtest["series_id"].nunique()) if len(backtest) else 0,
        "series_with_history": int(long["series_id"].nunique()),
        # the champion's calibrated intervals on their hold-out days (each series weighted by its origins)
        "coverage_series": int(len(measured)),
        "coverage_80": float(np.average(measured["coverage_80"], weights=weights)) if len(measured) else None,
        "coverage_95": float(np.average(measured["coverage_95"], weights=weights)) if len(measured) else None,
        "horizon": horizon,
        "compared": compared,
        "champion_beats_seasonal_naive": beats,
        "share": beats / compared if compared else math.nan,
        "champions": dict(sorted(champions.items())),
    }


# ------------------------------------------------------------------------------------- threads


@functools.lru_cache(maxsize=1)
def _openblas_thread_controls() -> tuple[tuple, ...]:
    """(get, set) for every OpenBLAS already loaded in this process (numpy's and scipy's); Linux
    only. Looked up once: reading /proc/self/maps on every fit cost more than small fits do."""
    return tuple(_find_openblas())


def _find_openblas() -> Iterator[tuple]:
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1].lower()}
    except OSError:
        return
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0) | getattr(os, "RTLD_LAZY", 0))
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"), ("openblas", "")):
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                yield get, set_
                break


@contextlib.contextmanager
def _fitting() -> Iterator[None]:
    """One OpenBLAS thread (restored afterwards; state-space fits are 10× faster on a busy machine)
    and statsmodels' convergence and frequency warnings silenced."""
    import statsmodels.tsa.statespace.sarimax  # noqa: F401  loads scipy's OpenBLAS and statsmodels' warning filters first

    saved = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for get, set_ in _openblas_thread_controls():
                saved.append((set_, get()))
                set_(1)
        except Exception:  # never let a tuning knob break a forecast
            log.debug("forecast: could not limit BLAS threads", exc_info=True)
        try:
            yield
        finally:
            for set_, threads in saved:
                set_(threads)


__all__ = [
    "BACKTEST_COLUMNS", "FORECAST_COLUMNS", "MODEL_ORDER", "ForecastConfig", "Model", "PreparedSeries",
    "backtest", "interval_columns", "make_models", "prepare", "rank_models", "summarise",
]
