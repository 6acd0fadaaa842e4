"""Anomaly checks (assets/analytics/anomalies.py): drops and data problems on synthetic series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from assets.analytics.anomalies import ANOMALY_COLUMNS, AnomalyConfig, detect_anomalies

START = pd.Timestamp("2025-01-01")
N = 150


def _dates(n: int = N) -> pd.DatetimeIndex:
    return pd.date_range(START, periods=n, freq="D")


def _day(i: int) -> dt.date:
    return (START + pd.Timedelta(days=i)).date()


def _noisy(level: float, rng: np.random.Generator, n: int = N, noise: float = 0.15, weekend: float = 0.4) -> np.ndarray:
    seasonal = np.where(_dates(n).day_of_week >= 5, 1.0 + weekend, 1.0)
    return np.round(level * seasonal * (1.0 + rng.normal(0.0, noise, n)))


def _frame(values, series_id="s1", artist="ZONE A0", platform="spotify", metric="streams", dates=None) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    dates = _dates(len(values)) if dates is None else dates
    return pd.DataFrame({"series_id": series_id, "artist": artist, "platform": platform, "metric": metric,
                         "date": [d.date() for d in dates], "value": values})


def _followers(rng: np.random.Generator, n: int = N, start: float = 5000.0) -> np.ndarray:
    # net daily change: mostly gains, some days of net unfollows (-5..-1)
    change = np.round(rng.normal(8, 5, n))
    return start + np.cumsum(change)


# --- clean series -------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_clean_noisy_series_give_no_anomaly(seed):
    rng = np.random.default_rng(seed)
    frame = pd.concat([
        _frame(_noisy(120, rng), "streams"),
        _frame(_noisy(2000, rng, noise=0.25), "views", platform="tiktok", metric="views"),
        _frame(_noisy(8, rng, noise=0.5), "tiny", platform="bandcamp", metric="streams"),  # too small to judge
        _frame(_followers(rng), "followers", platform="instagram", metric="followers"),
        _frame(np.round(rng.normal(3, 20, N)), "change", platform="tiktok", metric="followers_change"),
    ])
    out = detect_anomalies(frame)
    assert out.empty, out.to_string()
    assert list(out.columns) == ANOMALY_COLUMNS


def test_empty_input():
    out = detect_anomalies(pd.DataFrame(columns=["series_id", "artist", "platform", "metric", "date", "value"]))
    assert out.empty and list(out.columns) == ANOMALY_COLUMNS


def test_missing_columns_is_an_error():
    with pytest.raises(ValueError, match="lacks columns"):
        detect_anomalies(pd.DataFrame({"series_id": ["a"], "value": [1.0]}))


# --- drop -----------------------------------------------------------------------------------

def test_drop_lost_playlist():
    rng = np.random.default_rng(1)
    values = _noisy(100, rng, noise=0.1, weekend=0.0)
    values[80:90] = [12, 15, 14, 18, 20, 25, 22, 30, 28, 35]  # lost a playlist, slowly recovers
    out = detect_anomalies(_frame(values))
    assert list(out.kind) == ["drop"]
    a = out.iloc[0]
    assert a.start_date == _day(80) and a.end_date == _day(89)
    assert a.value == 12.0 and a.expected == pytest.approx(100, rel=0.1)
    assert a.severity == "warning"
    assert a.detail.startswith(f"spotify streams for ZONE A0 fell to 12 on {_day(80)}, ")
    assert "% under the 28-day median of" in a.detail


def test_takedown_is_critical_and_still_running():
    rng = np.random.default_rng(2)
    values = _noisy(300, rng, weekend=0.0)
    values[140:] = rng.integers(0, 4, N - 140)  # a takedown: a trickle, not exact zeros
    out = detect_anomalies(_frame(values))
    assert list(out.kind) == ["drop"]
    a = out.iloc[0]
    assert a.start_date == _day(140) and a.end_date == _day(N - 1)
    assert a.severity == "critical"
    assert "last day reported" in a.detail


def test_quiet_weekends_are_not_drops_but_a_drop_on_them_is():
    rng = np.random.default_rng(12)
    frames = [_frame(_noisy(200, rng, n=365, noise=0.15, weekend=-0.55), f"c{i}", platform="linktree", metric="clicks")
              for i in range(4)]
    assert detect_anomalies(pd.concat(frames)).empty
    # judged against the weekday-blind median, Saturday + Sunday is two days under 40 % of it
    assert "drop" in set(detect_anomalies(pd.concat(frames), AnomalyConfig(weekly_seasonality=False)).kind)
    values = _noisy(200, rng, n=N, noise=0.05, weekend=-0.55)
    sat = next(i for i in range(100, N) if _dates()[i].day_of_week == 5)
    values[sat:sat + 2] = 5.0  # the usual weekend is ~90
    out = detect_anomalies(_frame(values, platform="linktree", metric="clicks"))
    assert list(out.kind) == ["drop"] and out.iloc[0].start_date == _day(sat)
    assert out.iloc[0].expected == pytest.approx(90, rel=0.15)
    assert "usual Saturday level" in out.iloc[0].detail or "usual Sunday level" in out.iloc[0].detail


def test_one_low_day_small_series_and_mild_dip_are_not_drops():
    rng = np.random.default_rng(3)
    values = _noisy(100, rng, noise=0.05, weekend=0.0)
    values[70] = 10  # one day only
    values[100:110] = 55  # a 45 % dip: not under 40 %
    assert detect_anomalies(_frame(values)).empty
    small = _noisy(20, rng, noise=0.05, weekend=0.0)
    small[70:80] = 2  # under the minimum baseline of 50
    assert detect_anomalies(_frame(small)).empty
    cfg = AnomalyConfig(drop_min_baseline_by_metric={"streams": 10.0})
    assert list(detect_anomalies(_frame(small), cfg).kind) == ["drop"]


# --- all_zero -------------------------------------------------------------------------------

def test_source_sending_zeros():
    rng = np.random.default_rng(4)
    values = _noisy(200, rng)
    values[-10:] = 0
    out = detect_anomalies(_frame(values, platform="youtube", metric="views"))
    assert list(out.kind) == ["all_zero"]  # not also a drop
    a = out.iloc[0]
    assert a.start_date == _day(N - 10) and a.end_date == _day(N - 1)
    assert a.severity == "critical" and a.value == 0.0 and a.expected > 150
    assert a.detail.startswith(f"youtube views for ZONE A0 was 0 on every day from {_day(N - 10)}")


def test_zero_run_that_recovered_is_a_warning_and_short_runs_are_drops():
    rng = np.random.default_rng(5)
    values = _noisy(200, rng)
    values[60:68] = 0  # eight zero days, then back
    values[110:113] = 0  # three zero days: too short for all_zero, but a (critical) drop
    out = detect_anomalies(_frame(values))
    assert list(out.kind) == ["all_zero", "drop"]
    assert out.iloc[0].severity == "warning" and out.iloc[0].start_date == _day(60)
    assert out.iloc[1].severity == "critical" and out.iloc[1].start_date == _day(110)
    assert out.iloc[1].end_date == _day(112)


def test_series_of_zeros_from_the_start_is_not_reported():
    assert detect_anomalies(_frame(np.zeros(N))).empty


# --- missing_days -----------------------------------------------------------------------------

def test_gap_inside_a_series():
    rng = np.random.default_rng(6)
    values = _noisy(200, rng)
    dates = _dates()
    keep = np.ones(N, dtype=bool)
    keep[50:55] = False  # five days missing
    keep[90] = False  # one day missing: ordinary
    keep[100:110] = False  # ten days missing
    out = detect_anomalies(_frame(values[keep], dates=dates[keep]))
    assert list(out.kind) == ["missing_days", "missing_days"]
    assert list(out.start_date) == [_day(50), _day(100)]
    assert list(out.end_date) == [_day(54), _day(109)]
    assert list(out.value) == [5.0, 10.0]
    assert list(out.severity) == ["info", "warning"]
    assert out.expected.isna().all()
    assert out.iloc[0].detail == f"spotify streams for ZONE A0 has no data for 5 days, {_day(50)} to {_day(54)}."


def test_nan_values_are_missing_days():
    rng = np.random.default_rng(7)
    values = _noisy(200, rng)
    values[30:36] = np.nan
    out = detect_anomalies(_frame(values))
    assert list(out.kind) == ["missing_days"] and out.iloc[0].value == 6.0


def test_series_that_stopped():
    rng = np.random.default_rng(8)
    fresh = _frame(_noisy(200, rng), "fresh", platform="tiktok", metric="views")
    stopped = _frame(_noisy(200, rng)[: N - 12], "stopped")
    lagging = _frame(_noisy(200, rng)[: N - 2], "lagging", platform="youtube", metric="views")  # normal lag
    out = detect_anomalies(pd.concat([fresh, stopped, lagging]))
    assert list(out.series_id) == ["stopped"] and list(out.kind) == ["missing_days"]
    a = out.iloc[0]
    assert a.start_date == _day(N - 12) and a.end_date == _day(N - 1) and a.value == 12.0
    assert a.severity == "warning" and "stopped" in a.detail

    later = detect_anomalies(pd.concat([fresh, stopped, lagging]), as_of=_day(N - 1 + 30))
    assert set(later.series_id) == {"fresh", "stopped", "lagging"}
    assert set(later.severity) == {"critical"}
    assert "as-of date" in later.iloc[0].detail


# --- counter_decrease -------------------------------------------------------------------------

def test_follower_count_going_backwards():
    rng = np.random.default_rng(9)
    followers = _followers(rng)
    followers[100:] -= 1500  # a reset / another account's numbers
    out = detect_anomalies(_frame(followers, platform="instagram", metric="followers"))
    assert list(out.kind) == ["counter_decrease"]
    a = out.iloc[0]
    assert a.start_date == a.end_date == _day(100)
    assert a.expected == followers[99] and a.value == followers[100]
    assert a.severity == "critical"
    assert "went down from" in a.detail


def test_counter_decrease_severity_and_tolerance():
    followers = 10_000 + 10.0 * np.arange(N)
    followers[60:] -= 300  # -3 %: info
    followers[100:] -= 5  # within the tolerance
    out = detect_anomalies(_frame(followers, platform="instagram", metric="followers"))
    assert list(out.kind) == ["counter_decrease"] and out.iloc[0].severity == "info"
    followers[120:] -= 1500  # -13 %: warning
    out = detect_anomalies(_frame(followers, platform="instagram", metric="followers"))
    assert list(out.severity) == ["info", "warning"]


def test_negative_daily_changes_and_non_cumulative_metrics_are_not_counter_decreases():
    rng = np.random.default_rng(10)
    change = np.round(rng.normal(5, 30, N))  # TikTok followers_change: corrections are negative
    change[80] = -400
    out = detect_anomalies(_frame(change, platform="tiktok", metric="followers_change"))
    assert "counter_decrease" not in set(out.kind)
    rising = 1000 + 10.0 * np.arange(N)
    rising[100:] -= 600  # a decrease in a non-cumulative metric is a drop question, not this
    assert "counter_decrease" not in set(detect_anomalies(_frame(rising)).kind)
    cfg = AnomalyConfig(cumulative_metrics=("followers", "subscribers"))
    out = detect_anomalies(_frame(rising, metric="subscribers"), cfg)
    assert list(out.kind) == ["counter_decrease"]


# --- shape ------------------------------------------------------------------------------------

def test_output_types_and_order():
    rng = np.random.default_rng(11)
    values = _noisy(200, rng)
    values[40:45] = np.nan  # missing_days at 40
    values[100:103] = 5  # drop at 100
    frame = pd.concat([_frame(values, "b"), _frame(values, "a")]).sample(frac=1.0, random_state=1)
    out = detect_anomalies(frame)
    assert list(out.columns) == ANOMALY_COLUMNS
    assert list(zip(out.series_id, out.kind)) == [("a", "missing_days"), ("a", "drop"),
                                                 ("b", "missing_days"), ("b", "drop")]
    assert all(type(d) is dt.date for d in pd.concat([out.start_date, out.end_date]))
    assert out.value.dtype == np.float64 and out.expected.dtype == np.float64
    assert set(out.severity) <= {"info", "warning", "critical"}
    pd.testing.assert_frame_equal(out, detect_anomalies(frame))
    assert detect_anomalies(_frame(np.zeros(N))).dtypes.equals(out.dtypes)
