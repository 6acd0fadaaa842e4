"""Viral moment detection (assets/analytics/viral.py): pure logic over synthetic series."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from assets.analytics.viral import VIRAL_COLUMNS, ViralConfig, detect_moments, flag_days

START = pd.Timestamp("2025-01-01")
N = 180


def _dates(n: int = N) -> pd.DatetimeIndex:
    return pd.date_range(START, periods=n, freq="D")


def _noisy(level: float, rng: np.random.Generator, n: int = N, noise: float = 0.1, weekend: float = 0.0) -> np.ndarray:
    dates = _dates(n)
    seasonal = np.where(dates.day_of_week >= 5, 1.0 + weekend, 1.0)
    return np.round(level * seasonal * (1.0 + rng.normal(0.0, noise, n)))


def _frame(values, series_id="s1", artist="ZONE A0", platform="spotify", metric="streams", dates=None) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    dates = _dates(len(values)) if dates is None else dates
    return pd.DataFrame({"series_id": series_id, "artist": artist, "platform": platform, "metric": metric,
                         "date": [d.date() for d in dates], "value": values})


def _day(i: int) -> dt.date:
    return (START + pd.Timedelta(days=i)).date()


# --- no moment --------------------------------------------------------------------------

def test_flat_series_gives_no_moment():
    out = detect_moments(_frame(np.full(N, 300.0)))
    assert out.empty
    assert list(out.columns) == VIRAL_COLUMNS


def test_flat_series_plus_one_blip_gives_finite_small_z():
    values = np.full(N, 300.0)
    values[100] = 301.0
    flags = flag_days(pd.Series(values, index=_dates()), metric="streams")
    assert np.isfinite(flags["z"].iloc[100]) and flags["z"].iloc[100] < 1
    assert not flags["flagged"].any()


@pytest.mark.parametrize("seed", range(5))
def test_noisy_weekly_seasonal_series_gives_no_moment(seed):
    rng = np.random.default_rng(seed)
    values = _noisy(300, rng, n=365, noise=0.1, weekend=0.4)
    assert detect_moments(_frame(values)).empty


def test_strong_weekly_pattern_is_divided_out():
    rng = np.random.default_rng(11)
    frames = [_frame(_noisy(300, rng, n=365, noise=0.1, weekend=0.8), f"s{i}") for i in range(6)]
    frame = pd.concat(frames)
    assert detect_moments(frame).empty
    # without the weekday profile, ordinary weekends of a +80 % series pass as "twice the usual"
    assert not detect_moments(frame, ViralConfig(weekly_seasonality=False)).empty
    flags = flag_days(frames[0].set_index(pd.to_datetime(frames[0]["date"]))["value"], metric="streams")
    late = flags.iloc[100:]
    weekend = late.index.day_of_week >= 5
    assert late["factor"][weekend].median() == pytest.approx(1.8, rel=0.1)
    assert late["factor"][~weekend].median() == pytest.approx(1.0, rel=0.1)


def test_all_zero_short_empty_and_nan_only_inputs():
    assert detect_moments(_frame(np.zeros(N))).empty
    assert detect_moments(_frame(np.full(N, np.nan))).empty
    short = np.full(10, 100.0)
    short[-1] = 5000.0  # a huge day, but only 9 days of history
    assert detect_moments(_frame(short)).empty
    empty = detect_moments(pd.DataFrame(columns=["series_id", "artist", "platform", "metric", "date", "value"]))
    assert empty.empty and list(empty.columns) == VIRAL_COLUMNS
    assert flag_days(pd.Series([], dtype=float, index=pd.DatetimeIndex([]))).empty


def test_small_volumes_do_not_count():
    values = np.full(N, 4.0)
    values[100:104] = 30.0  # 7x the usual, but 30 streams is not a viral day
    assert detect_moments(_frame(values)).empty
    cfg = ViralConfig(volume_min_by_metric={"streams": 20.0})
    assert len(detect_moments(_frame(values), cfg)) == 1


def test_missing_columns_is_an_error():
    with pytest.raises(ValueError, match="lacks columns"):
        detect_moments(pd.DataFrame({"series_id": ["a"], "date": ["2025-01-01"], "value": [1.0]}))


# --- one moment -------------------------------------------------------------------------

def test_spike_gives_one_moment_on_the_right_day():
    rng = np.random.default_rng(1)
    values = _noisy(200, rng)
    values[100] = 2000.0
    out = detect_moments(_frame(values))
    assert len(out) == 1
    m = out.iloc[0]
    assert m.start_date == m.peak_date == m.end_date == _day(100)
    assert m.kind == "spike" and not m.ongoing
    assert m.peak_value == 2000.0
    assert m.baseline == pytest.approx(200, rel=0.1)
    assert m.lift == pytest.approx(2000 / m.baseline, rel=0.15)  # against the usual level of its weekday
    assert m.score > 0 and not m.cross_platform_confirmed


def test_step_is_one_breakout_that_ends_when_the_new_level_settles():
    rng = np.random.default_rng(2)
    values = _noisy(200, rng)
    values[90:] = _noisy(800, rng)[90:]
    out = detect_moments(_frame(values))
    assert len(out) == 1
    m = out.iloc[0]
    assert m.start_date == _day(90)
    assert m.kind == "breakout" and not m.ongoing
    # two weeks at the new level establish it: the moment closes then, not at the end of the data
    assert _day(90 + 13) <= m.end_date <= _day(90 + 21)


def _plateau_from_zero(rng, n=640, start=100, level=400.0):
    """An account at ~0 streams a day breaks out to ~400 and stays there (the issue's timeline)."""
    values = np.maximum(0, rng.normal(1, 1, n)).round()
    values[start:] = np.round(level * (1 + rng.normal(0, 0.1, n - start)))
    return values


@pytest.mark.parametrize("seed", range(3))
def test_step_from_zero_to_a_plateau_is_one_breakout_of_a_few_weeks(seed):
    values = _plateau_from_zero(np.random.default_rng(seed))
    out = detect_moments(_frame(values, dates=_dates(len(values))))
    assert len(out) == 1
    m = out.iloc[0]
    assert m.kind == "breakout" and not m.ongoing
    assert m.start_date == _day(100)
    assert (m.end_date - m.start_date).days <= 28  # weeks, not the 540 days to the end of the data


@pytest.mark.parametrize("seed", range(3))
def test_spike_on_the_plateau_three_months_later_is_a_moment_of_its_own(seed):
    values = _plateau_from_zero(np.random.default_rng(seed))
    values[190] = 3 * 400
    out = detect_moments(_frame(values, dates=_dates(len(values))))
    assert list(out.kind) == ["breakout", "spike"]
    spike = out.iloc[1]
    assert spike.start_date == spike.peak_date == spike.end_date == _day(190)
    assert spike.baseline == pytest.approx(400, rel=0.1)  # measured against the new level
    assert spike.lift == pytest.approx(3, rel=0.2)


def test_spike_soon_after_a_breakout_is_judged_against_the_new_level():
    """While the 28-day baseline still straddles the step, the settled level stands in for it."""
    values = _plateau_from_zero(np.random.default_rng(5))
    values[125] = 3 * 400  # the breakout settles around day 113; the rolling median is still low here
    values[130] = 1.3 * 400  # an ordinary good day on the new level: not a moment
    out = detect_moments(_frame(values, dates=_dates(len(values))))
    assert list(out.kind) == ["breakout", "spike"]
    assert out.iloc[1].start_date == _day(125) and out.iloc[1].baseline == pytest.approx(400, rel=0.1)


def test_spike_on_a_flat_series():
    values = np.full(N, 300.0)
    values[120] = 900.0
    out = detect_moments(_frame(values))
    assert len(out) == 1
    assert out.iloc[0].kind == "spike" and out.iloc[0].start_date == out.iloc[0].end_date == _day(120)


def test_accelerating_climb_to_the_end_is_one_ongoing_surge():
    rng = np.random.default_rng(6)
    values = _noisy(50, rng, n=200, noise=0.05)
    values[150:] = np.round(50 * np.exp(0.08 * np.arange(50)))
    out = detect_moments(_frame(values))
    assert len(out) == 1
    m = out.iloc[0]
    assert m.kind == "surge" and m.ongoing
    assert m.end_date == _day(199)


def test_spike_running_when_the_data_stops_is_ongoing():
    rng = np.random.default_rng(7)
    values = _noisy(200, rng)
    values[-2:] = 2000.0
    out = detect_moments(_frame(values))
    assert len(out) == 1 and out.iloc[0].kind == "spike" and out.iloc[0].ongoing


def test_known_breakout_starts_within_one_day():
    rng = np.random.default_rng(3)
    values = _noisy(150, rng, noise=0.15, weekend=0.3)
    breakout = 120
    # a track catches on: 1.8x on day 0 (not yet twice the usual), then a climb and a slow decay
    shape = [1.8, 3, 6, 11, 18, 25, 22, 18, 14, 11, 8, 6, 4.5, 3.5, 2.8, 2.2, 1.8, 1.5, 1.3, 1.15, 1.05]
    values[breakout:breakout + len(shape)] *= shape
    out = detect_moments(_frame(values))
    assert len(out) == 1
    m = out.iloc[0]
    assert abs((m.start_date - _day(breakout)).days) <= 1
    assert _day(breakout + 4) <= m.peak_date <= _day(breakout + 6)
    # ends after three days back under 1.2 x baseline: the 1.3x day is the last elevated one
    assert _day(breakout + 15) <= m.end_date <= _day(breakout + 19)
    assert m.lift > 10


def test_consecutive_flagged_days_merge_and_dip_does_not_split():
    rng = np.random.default_rng(4)
    values = _noisy(200, rng, noise=0.05)
    values[100:104] = 1500.0
    values[104:106] = 210.0  # two ordinary days: fewer than end_days
    values[106:108] = 1200.0
    out = detect_moments(_frame(values))
    assert len(out) == 1
    assert out.iloc[0].start_date == _day(100) and out.iloc[0].end_date == _day(107)

    values[104:109] = 200.0  # three (and more) ordinary days: the first moment is over
    values[109:111] = 1200.0
    out = detect_moments(_frame(values))
    assert len(out) == 2
    assert list(out.start_date) == [_day(100), _day(109)]
    assert out.iloc[0].end_date == _day(103)


# --- gaps ---------------------------------------------------------------------------------

def test_gap_does_not_create_a_moment():
    rng = np.random.default_rng(5)
    values = _noisy(200, rng)
    dates = _dates()
    keep = np.ones(N, dtype=bool)
    keep[80:90] = False  # ten days missing
    assert detect_moments(_frame(values[keep], dates=dates[keep])).empty
    # NaN values are gaps too, never zeros
    with_nan = values.copy()
    with_nan[80:90] = np.nan
    assert detect_moments(_frame(with_nan)).empty
    # filling the gap with zeros is what the detector must not do: it would see a moment
    zero_filled = values.copy()
    zero_filled[75:95] = 0.0
    assert len(detect_moments(_frame(zero_filled), ViralConfig(min_history=5))) >= 1


def test_gap_in_a_cumulative_counter_is_not_a_jump():
    rng = np.random.default_rng(6)
    gains = np.round(40 * (1 + rng.normal(0, 0.1, N)))
    followers = 5000 + np.cumsum(gains)
    dates = _dates()
    keep = np.ones(N, dtype=bool)
    keep[100:110] = False  # the day after the gap is 11 days of gains above the last one seen
    frame = _frame(followers[keep], metric="followers", dates=dates[keep])
    assert detect_moments(frame).empty
    # ... while a real jump in new followers is a moment
    followers2 = followers.copy()
    followers2[130:] += 900  # 900 new followers in one day
    out = detect_moments(_frame(followers2, metric="followers"))
    assert len(out) == 1 and out.iloc[0].start_date == _day(130)
    assert out.iloc[0].peak_value == pytest.approx(900 + gains[130])


def test_gap_does_not_hide_a_moment():
    rng = np.random.default_rng(7)
    values = _noisy(200, rng)
    values[100:104] = [1400.0, 2000.0, 1600.0, 1100.0]
    dates = _dates()
    keep = np.ones(N, dtype=bool)
    keep[93:100] = False  # a week missing just before the spike
    keep[102] = False  # and a day missing inside it
    out = detect_moments(_frame(values[keep], dates=dates[keep]))
    assert len(out) == 1
    m = out.iloc[0]
    assert m.start_date == _day(100) and m.peak_date == _day(101) and m.end_date == _day(103)


# --- cross-platform and output shape -------------------------------------------------------

def test_cross_platform_confirmation():
    rng = np.random.default_rng(8)
    tiktok = _noisy(2000, rng)
    tiktok[100:103] = [30000.0, 45000.0, 20000.0]
    spotify = _noisy(200, rng)
    spotify[102:106] = [700.0, 900.0, 800.0, 600.0]  # two days after the TikTok start
    listeners = spotify * 0.6  # same platform: does not confirm by itself
    other = _noisy(200, rng)
    other[101] = 1500.0  # another artist: does not confirm
    late = _noisy(300, rng)
    late[110] = 3000.0  # same artist, other platform, ten days later: too far
    frame = pd.concat([
        _frame(tiktok, "tt", platform="tiktok", metric="views"),
        _frame(spotify, "sp", platform="spotify", metric="streams"),
        _frame(listeners, "sp-l", platform="spotify", metric="listeners"),
        _frame(other, "ot", artist="SOMEONE ELSE", platform="youtube", metric="views"),
        _frame(late, "yt", platform="youtube", metric="streams"),
    ])
    out = detect_moments(frame).set_index("series_id")
    assert set(out.index) == {"tt", "sp", "sp-l", "ot", "yt"}
    assert out.loc["tt", "cross_platform_confirmed"]
    assert out.loc["sp", "cross_platform_confirmed"]
    assert out.loc["sp-l", "cross_platform_confirmed"]
    assert not out.loc["ot", "cross_platform_confirmed"]
    assert not out.loc["yt", "cross_platform_confirmed"]

    alone = detect_moments(pd.concat([_frame(spotify, "sp"), _frame(listeners, "sp-l", metric="listeners")]))
    assert not alone.cross_platform_confirmed.any()


def test_output_types_and_order_are_stable():
    rng = np.random.default_rng(9)
    frames = []
    for sid in ["b", "a"]:
        values = _noisy(200, rng)
        values[60] = values[140] = 2500.0
        frames.append(_frame(values, sid))
    frame = pd.concat(frames).sample(frac=1.0, random_state=0)  # rows in any order
    out = detect_moments(frame)
    assert list(out.columns) == VIRAL_COLUMNS
    assert list(out.series_id) == ["a", "a", "b", "b"]
    assert list(out.start_date) == [_day(60), _day(140)] * 2
    for col in ["start_date", "peak_date", "end_date"]:
        assert all(type(d) is dt.date for d in out[col])
    for col in ["baseline", "peak_value", "lift", "score"]:
        assert out[col].dtype == np.float64
    assert out["cross_platform_confirmed"].dtype == bool
    pd.testing.assert_frame_equal(out, detect_moments(frame))
    assert detect_moments(_frame(np.zeros(N))).dtypes.equals(out.dtypes)


def test_score_is_capped_z_times_log2_lift():
    values = np.full(N, 200.0)
    values[100] = 1600.0
    cfg = ViralConfig()
    m = detect_moments(_frame(values), cfg).iloc[0]
    # flat baseline: sigma is the 5 % floor (10), z = 140, capped at 20; lift 8 -> log2 = 3
    assert m.lift == pytest.approx(8.0)
    assert m.score == pytest.approx(cfg.z_cap * math.log2(8.0))


def test_flag_days_columns_and_duplicates():
    idx = list(_dates(40)) + [_dates(40)[-1]]  # the last day twice: the last row wins
    values = list(np.full(40, 100.0)) + [900.0]
    flags = flag_days(pd.Series(values, index=idx), metric="streams")
    assert list(flags.columns) == ["value", "factor", "adjusted", "n_obs", "baseline", "mad", "sigma", "z", "ratio",
                                   "flagged"]
    assert len(flags) == 40 and isinstance(flags.index, pd.DatetimeIndex)
    assert flags["value"].iloc[-1] == 900.0 and flags["flagged"].iloc[-1]
    assert flags["n_obs"].iloc[0] == 0 and flags["n_obs"].iloc[-1] == 28
    assert not flags["flagged"].iloc[:-1].any()
