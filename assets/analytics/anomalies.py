"""Anomalies: sudden drops and data problems in the daily series, for a person to look at.

Input is the long series frame of :mod:`assets.analytics.viral` (``series_id, artist, platform,
metric, date, value``; a missing day or a NaN value is a gap, never a zero). Output is the
``anomalies`` table, columns :data:`ANOMALY_COLUMNS`, one row per anomaly, ordered by series_id,
start_date, kind. ``severity`` is ``info`` (worth knowing), ``warning`` (look at it) or
``critical`` (numbers downstream are probably wrong or something was lost). ``detail`` is one
sentence a person understands without the other columns.

Kinds
-----
``drop`` — value under ``drop_ratio`` (0.4) × the baseline for at least ``drop_days`` (2)
    observed days in a row: a takedown, a lost playlist, an ad that stopped. The baseline is the
    robust one of the viral detector: values are divided by their weekday's factor (weekday
    median / overall median over the previous 56 days), then the median of the previous
    ``window`` (28) calendar days is taken (at least ``min_history`` (14) observed). Without the
    weekday profile a source that is quiet every weekend (link clicks, sales at -55 %) "drops"
    every Saturday and Sunday — two days in a row, exactly ``drop_days`` (measured: ~1 false drop
    per series-year at 15 % noise; with it, ~0.005). The baseline must be at least
    ``drop_min_baseline`` (50, per-metric overrides): under that, 40 % of the usual is ordinary
    counting noise (measured with 25 % noise: ~1 false drop per 40 series-years at a median of
    60 or 200; a median of 10 would give one every few weeks). The baseline is frozen when the
    drop starts, and the drop lasts while values stay under ``drop_recover_ratio`` (0.6) × it:
    the gap between 0.4 and 0.6 is hysteresis, so a noisy low level is one drop rather than many.
    ``value`` is the day furthest under its usual level, ``expected`` that day's usual level (the
    baseline × its weekday factor). ``critical`` when the drop's median day is at most
    ``drop_critical_ratio`` (10 %) of the baseline (close to nothing: a takedown or a broken
    feed), ``warning`` otherwise. Not applied to cumulative metrics (a counter that falls is
    ``counter_decrease``).
``all_zero`` — at least ``all_zero_days`` (7) observed days in a row of exactly 0 where the
    series' history was not zero (the median of the window before the run ≥
    ``all_zero_min_baseline``, 1). This is what a source that silently sends zeros looks like
    (and what a takedown looks like, too: either way a person checks the source). ``critical``
    when the run reaches the series' last day (still happening), ``warning`` when it ended. Days
    of such a run are not also reported as a ``drop`` or ``counter_decrease``. ``value`` 0,
    ``expected`` the median before the run. A series of zeros from the start is not reported:
    it has no history to contradict.
``missing_days`` — two cases.
    *A gap*: at least ``missing_min_days`` (3) calendar days with no value between two observed
    days (one or two missing days are common at export boundaries and not worth a row).
    ``info`` under ``missing_warning_days`` (7), ``warning`` from it. *A series that stopped*:
    its last day is at least ``stale_days`` (7) before the reference day — ``as_of`` when given,
    else the newest day of any series in the input. Platforms report with different lags (YouTube
    and Spotify for Artists run days behind), so a week behind the freshest series is the
    smallest unambiguous signal; ``critical`` from ``stale_critical_days`` (21). ``value`` is the
    number of days missing, ``expected`` NaN (not applicable).
``counter_decrease`` — only for metrics listed in ``cumulative_metrics`` (default ``followers``,
    the count at the end of the day). A follower count does go down a little on ordinary days
    (unfollows), so a day counts when it falls from the previous observed day by more than
    ``max(counter_tolerance_abs, counter_tolerance_rel × previous)`` (10 followers, 1 %).
    Consecutive such days are one anomaly; ``value`` is the count after, ``expected`` the count
    before. Severity by the total fall: ``info`` under 5 % (``counter_warning_rel``), ``warning``
    under 20 % (``counter_critical_rel``), ``critical`` from it (a reset or another account's
    numbers). Daily-change metrics such as TikTok's ``followers_change`` are legitimately
    negative (platform corrections) and are never checked for this: only configured cumulative
    metrics are.

Pure logic over pandas/numpy: no I/O, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assets.analytics.viral import day_to_date, iter_series, prepare_series, rolling_baseline, weekly_factors

ANOMALY_COLUMNS = [
    "series_id", "artist", "platform", "metric", "kind", "start_date", "end_date",
    "value", "expected", "severity", "detail",
]
KINDS = ("drop", "all_zero", "missing_days", "counter_decrease")
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class AnomalyConfig:
    """Every threshold of the anomaly checks; see the module docstring for the reasoning."""

    window: int = 28  # calendar days before a day that form its baseline
    min_history: int = 14  # observed days needed in that window for a drop to be judged
    drop_ratio: float = 0.4  # a drop day is under drop_ratio x baseline...
    drop_days: int = 2  # ... for at least this many observed days in a row
    drop_recover_ratio: float = 0.6  # the drop lasts while values stay under this x baseline
    drop_critical_ratio: float = 0.1  # median drop day at most this x baseline: critical
    drop_min_baseline: float = 50.0  # no drops judged on series whose baseline is under this
    drop_min_baseline_by_metric: Mapping[str, float] = field(default_factory=dict, hash=False)
    all_zero_days: int = 7  # observed zero days in a row
    all_zero_min_baseline: float = 1.0  # median of the window before the run must be at least this
    missing_min_days: int = 3  # a gap of at least this many missing days is reported
    missing_warning_days: int = 7  # ... as a warning from this many (info below)
    stale_days: int = 7  # a series whose last day is this far behind the reference day stopped
    stale_critical_days: int = 21  # ... critically from this far
    weekly_seasonality: bool = True  # judge drops against the usual level of the weekday
    season_window: int = 56  # as in ViralConfig
    season_min_obs: int = 3
    season_clip: tuple[float, float] = (0.25, 4.0)
    cumulative_metrics: tuple[str, ...] = ("followers",)  # counters checked for counter_decrease
    counter_tolerance_abs: float = 10.0  # a fall of up to max(abs, rel x previous) is ordinary
    counter_tolerance_rel: float = 0.01
    counter_warning_rel: float = 0.05  # total fall under this: info
    counter_critical_rel: float = 0.2  # total fall from this: critical

    def drop_min_baseline_for(self, metric: str | None) -> float:
        if metric is not None and metric in self.drop_min_baseline_by_metric:
            return float(self.drop_min_baseline_by_metric[metric])
        return float(self.drop_min_baseline)


# --- formatting ---------------------------------------------------------------------------

def _fmt(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "?"
    if float(x).is_integer() or abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def _label(series_id, artist, platform, metric) -> str:
    what = " ".join(str(p) for p in (platform, metric) if p is not None) or "series"
    return f"{what} for {artist}" if artist is not None else f"{what} (series {series_id})"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


# --- per-kind checks (day numbers in, row dicts out) -----------------------------------------

def _zero_runs(days: np.ndarray, values: np.ndarray, median: np.ndarray, config: AnomalyConfig) -> list[tuple[int, int]]:
    """(first index, last index) of runs of zeros long enough and with a non-zero history."""
    runs = []
    n, i = len(values), 0
    while i < n:
        if values[i] != 0:
            i += 1
            continue
        j = i
        while j < n and values[j] == 0:
            j += 1
        if j - i >= config.all_zero_days and np.isfinite(median[i]) and median[i] >= config.all_zero_min_baseline:
            runs.append((i, j - 1))
        i = j
    return runs


def _all_zero(label, days, median, runs, n, window: int) -> list[dict]:
    rows = []
    for i, j in runs:
        trailing = j == n - 1
        start, end = day_to_date(days[i]), day_to_date(days[j])
        tail = ("and still on the last day reported; the source may be sending zeros" if trailing
                else "before recovering; the source may have sent zeros")
        rows.append({"kind": "all_zero", "start": days[i], "end": days[j], "value": 0.0, "expected": float(median[i]),
                     "severity": "critical" if trailing else "warning",
                     "detail": f"{label} was 0 on every day from {start} to {end} ({_days(j - i + 1)} reported) "
                               f"after a {window}-day median of {_fmt(median[i])}, {tail}."})
    return rows


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _drops(label, days, values, factor, median, count, zero_mask, config: AnomalyConfig, metric) -> list[dict]:
    """Drops judged on weekday-adjusted values (``values / factor``) against the adjusted median."""
    rows = []
    adjusted = values / factor
    n, resume = len(values), 0
    with np.errstate(invalid="ignore"):
        candidates = np.flatnonzero(~zero_mask & (count >= config.min_history) & np.isfinite(median)
                                    & (median >= config.drop_min_baseline_for(metric))
                                    & (adjusted < config.drop_ratio * median))
    for i in candidates:
        if i < resume:  # inside the drop found last
            continue
        base = median[i]
        j = i
        while j < n and not zero_mask[j] and adjusted[j] < config.drop_ratio * base:
            j += 1
        if j - i < config.drop_days:
            continue
        while j < n and not zero_mask[j] and adjusted[j] < config.drop_recover_ratio * base:
            j += 1
        low = i + int(np.argmin(adjusted[i:j]))  # the day furthest under its weekday's usual level
        low_value, expected = float(values[low]), float(base * factor[low])
        critical = np.median(adjusted[i:j]) <= config.drop_critical_ratio * base
        start, end, low_date = day_to_date(days[i]), day_to_date(days[j - 1]), day_to_date(days[low])
        pct = round(100 * (1 - low_value / expected))
        if abs(factor[low] - 1) < 0.05:
            against = f"the {config.window}-day median of {_fmt(expected)}"
        else:
            against = (f"the usual {_WEEKDAYS[low_date.weekday()]} level of {_fmt(expected)} "
                       f"({config.window}-day median, adjusted for the weekday)")
        if j == n:
            span = (f"still under {round(100 * config.drop_recover_ratio)} % of it on the last day reported, "
                    f"{end} (since {start})")
        else:
            span = f"low for {_days(j - i)}, {start} to {end}"
        rows.append({"kind": "drop", "start": days[i], "end": days[j - 1], "value": low_value, "expected": expected,
                     "severity": "critical" if critical else "warning",
                     "detail": f"{label} fell to {_fmt(low_value)} on {low_date}, {pct} % under {against}; {span}."})
        resume = j
    return rows


def _gaps(label, days, config: AnomalyConfig) -> list[dict]:
    rows = []
    if len(days) < 2:
        return rows
    missing = np.diff(days) - 1
    for k in np.flatnonzero(missing >= config.missing_min_days):
        m = int(missing[k])
        start, end = days[k] + 1, days[k + 1] - 1
        rows.append({"kind": "missing_days", "start": start, "end": end, "value": float(m), "expected": np.nan,
                     "severity": "warning" if m >= config.missing_warning_days else "info",
                     "detail": f"{label} has no data for {_days(m)}, {day_to_date(start)} to {day_to_date(end)}."})
    return rows


def _stale(label, days, reference: int, reference_is_as_of: bool, config: AnomalyConfig) -> list[dict]:
    if not len(days):
        return []
    lag = int(reference - days[-1])
    if lag < config.stale_days:
        return []
    ref = day_to_date(reference)
    against = f"the as-of date {ref}" if reference_is_as_of else f"the newest data of any series ({ref})"
    return [{"kind": "missing_days", "start": days[-1] + 1, "end": reference, "value": float(lag), "expected": np.nan,
             "severity": "critical" if lag >= config.stale_critical_days else "warning",
             "detail": f"{label} stopped: its last day is {day_to_date(days[-1])}, {_days(lag)} before {against}."}]


def _counter_decreases(label, days, values, zero_mask, config: AnomalyConfig) -> list[dict]:
    rows = []
    n = len(values)
    falls = np.zeros(n, dtype=bool)
    for k in range(1, n):
        prev = values[k - 1]
        tolerance = max(config.counter_tolerance_abs, config.counter_tolerance_rel * abs(prev))
        falls[k] = (prev - values[k] > tolerance) and not zero_mask[k]
    k = 1
    while k < n:
        if not falls[k]:
            k += 1
            continue
        j = k
        while j < n and falls[j]:
            j += 1
        before, after = float(values[k - 1]), float(values[j - 1])
        rel = (before - after) / abs(before) if before else 1.0
        severity = ("critical" if rel >= config.counter_critical_rel
                    else "warning" if rel >= config.counter_warning_rel else "info")
        start, end = day_to_date(days[k]), day_to_date(days[j - 1])
        when = f"on {start}" if j - 1 == k else f"from {start} to {end}"
        rows.append({"kind": "counter_decrease", "start": days[k], "end": days[j - 1], "value": after,
                     "expected": before, "severity": severity,
                     "detail": f"{label} went down from {_fmt(before)} to {_fmt(after)} ({_fmt(after - before)}, "
                               f"-{round(100 * rel)} %) {when}; a running total should not fall that much."})
        k = j
    return rows


# --- table ----------------------------------------------------------------------------------

def _empty() -> pd.DataFrame:
    text = {"series_id", "artist", "platform", "metric", "kind", "severity", "detail"}
    frame = pd.DataFrame({c: pd.Series([], dtype="str" if c in text else object) for c in ANOMALY_COLUMNS})
    return frame.astype({"value": float, "expected": float})


def detect_anomalies(series: pd.DataFrame, config: AnomalyConfig = AnomalyConfig(),  # noqa: B008
                     as_of: dt.date | str | pd.Timestamp | None = None) -> pd.DataFrame:
    """The ``anomalies`` table of a long series frame (``series_id, artist, platform, metric, date,
    value``). ``as_of`` is the day the data should reach (for stopped series); by default the
    newest day of any series in the input. Dates in the output are ``datetime.date``; value and
    expected floats."""
    frame = prepare_series(series)
    if frame.empty:
        return _empty()
    if as_of is not None:
        reference = int(np.datetime64(pd.Timestamp(as_of).date(), "D").astype(np.int64))
    else:
        reference = int(frame["day"].max())

    rows = []
    for series_id, artist, platform, metric, days, values in iter_series(frame):
        label = _label(series_id, artist, platform, metric)
        cumulative = metric in config.cumulative_metrics
        if config.weekly_seasonality and not cumulative:
            factors = weekly_factors(days, values, config.season_window, config.season_min_obs, config.season_clip)
        else:
            factors = np.ones((len(days), 7))
        median, _mad, count = rolling_baseline(days, values, config.window, factors=factors)
        runs = _zero_runs(days, values, median, config)
        zero_mask = np.zeros(len(values), dtype=bool)
        for i, j in runs:
            zero_mask[i:j + 1] = True
        found = _all_zero(label, days, median, runs, len(values), config.window)
        if cumulative:
            found += _counter_decreases(label, days, values, zero_mask, config)
        else:
            found += _drops(label, days, values, factors[:, 0], median, count, zero_mask, config, metric)
        found += _gaps(label, days, config)
        found += _stale(label, days, reference, as_of is not None, config)
        for r in found:
            rows.append({"series_id": series_id, "artist": artist, "platform": platform, "metric": metric,
                         "kind": r["kind"], "start_date": day_to_date(r["start"]), "end_date": day_to_date(r["end"]),
                         "value": r["value"], "expected": r["expected"], "severity": r["severity"],
                         "detail": r["detail"]})
    if not rows:
        return _empty()
    out = pd.DataFrame(rows, columns=ANOMALY_COLUMNS)
    out["_kind"] = out["kind"].map(KINDS.index)
    out = out.sort_values(["series_id", "start_date", "_kind"], kind="stable").drop(columns="_kind")
    return out.reset_index(drop=True).astype({"value": float, "expected": float})
