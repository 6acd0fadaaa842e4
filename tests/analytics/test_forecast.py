"""Forecasts and backtests (assets/analytics/forecast.py) and charts (plots.py) on synthetic series.

Prophet runs on one series only (the two-year one); the rest use the statsmodels models and baselines.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from assets.analytics import forecast as fc_module
from assets.analytics import run
from assets.analytics.forecast import (
    BACKTEST_COLUMNS,
    FORECAST_COLUMNS,
    ForecastConfig,
    backtest,
    make_models,
    prepare,
    summarise,
)
from assets.analytics.plots import plot_forecast, plot_forecasts, plot_moment

CREATED = pd.Timestamp("2025-01-01 06:00", tz="UTC")
NO_PROPHET = ForecastConfig(models=("ets", "sarima", "naive", "seasonal_naive"))
BASELINES = ForecastConfig(models=("naive", "seasonal_naive"), horizons=(7, 28))


def weekly_with_trend(days: int, seed: int = 7, start: str = "2023-01-02") -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    week = np.array([1.0, 0.9, 0.92, 0.95, 1.1, 1.3, 1.2])
    values = (300 + 0.4 * t) * week[t % 7] + rng.normal(0, 12, days)
    return pd.Series(np.round(values), index=pd.date_range(start, periods=days, freq="D"))


def run_forecasts(series: pd.DataFrame, config: ForecastConfig, created_at: pd.Timestamp):
    """What the assets analytics/forecast_backtest and analytics/forecasts compute (assets/analytics/run.py),
    for ``series`` (``series_id, ds, y``) under one config: (backtest scores, forecasts as stored)."""
    inputs = (series, series.iloc[0:0])
    scores = run.backtests(inputs, configs=(config, config))
    published = run.publish(inputs, scores, configs=(config, config))
    return scores, published.assign(created_at=created_at)[FORECAST_COLUMNS]


def long_frame(**series: pd.Series) -> pd.DataFrame:
    return pd.concat(
        [pd.DataFrame({"series_id": sid, "ds": s.index, "y": s.to_numpy()}) for sid, s in series.items()],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def two_years():
    """Two years of weekly-seasonal streams with a trend, the last 90 days held out (all five models)."""
    full = weekly_with_trend(730 + 90)
    history, holdout = full.iloc[:-90], full.iloc[-90:]
    bt, fc = run_forecasts(long_frame(streams=history), ForecastConfig(), CREATED)
    return history, holdout, bt, fc


def test_two_year_series_champion_beats_seasonal_naive(two_years):
    _, _, bt, _ = two_years
    assert list(bt.columns) == BACKTEST_COLUMNS
    assert set(bt["model"]) == {"naive", "seasonal_naive", "ets", "sarima", "prophet"}
    assert set(bt["horizon"]) == {7, 28, 90}
    assert (bt["origins"] == 6).all() and (bt["history_days"] == 730).all()
    assert bt.groupby("horizon")["champion"].sum().eq(1).all()
    at28 = bt[bt["horizon"] == 28].set_index("model")
    champion = at28[at28["champion"]]
    # accuracy and calibration together: the lowest MASE among the models whose intervals held
    held = at28[at28["coverage_80"].between(0.7, 0.9) & (at28["coverage_95"] >= 0.85)]
    assert len(held) and champion["mase"].iloc[0] == held["mase"].min()
    assert champion["mase"].iloc[0] < at28.loc["seasonal_naive", "mase"]
    # every model has out-of-sample coverage, an interval score and its conformal factors
    assert bt[["coverage_80", "coverage_95", "interval_score", "interval_scale_80", "interval_scale_95"]].notna().all().all()
    assert bt["coverage_80"].between(0, 1).all() and (bt["interval_score"] > 0).all()
    summary = summarise(bt)
    assert summary | {"champions": None, "coverage_80": None, "coverage_95": None} == {
        "series": 1, "series_with_history": 1, "horizon": 28, "compared": 1,
        "champion_beats_seasonal_naive": 1, "share": 1.0, "champions": None,
        "coverage_series": 1, "coverage_80": None, "coverage_95": None,
    }
    assert summary["coverage_80"] == champion["coverage_80"].iloc[0]


def test_published_forecast_intervals_cover_the_holdout(two_years):
    history, holdout, bt, fc = two_years
    assert list(fc.columns) == FORECAST_COLUMNS
    assert len(fc) == 90 and (fc["series_id"] == "streams").all() and (fc["created_at"] == CREATED).all()
    champion_28 = bt[(bt["horizon"] == 28) & bt["champion"]]["model"].iloc[0]
    assert (fc["model"] == champion_28).all()
    assert fc["ds"].iloc[0] == history.index[-1] + pd.Timedelta(days=1)
    assert list(fc["ds"]) == list(holdout.index)
    ordered = fc[["yhat_lower_95", "yhat_lower", "yhat", "yhat_upper", "yhat_upper_95"]].to_numpy()
    assert (np.diff(ordered, axis=1) >= 0).all() and (ordered >= 0).all()
    actual = holdout.to_numpy()
    inside_80 = np.mean((actual >= fc["yhat_lower"]) & (actual <= fc["yhat_upper"]))
    inside_95 = np.mean((actual >= fc["yhat_lower_95"]) & (actual <= fc["yhat_upper_95"]))
    assert 0.6 <= inside_80 <= 1.0 and 0.8 <= inside_95 <= 1.0
    assert inside_95 >= inside_80


def test_baseline_scores_match_a_hand_computation():
    """MASE per origin scaled by the training window's seasonal-naive error (lag 1 when that is 0)."""
    t = np.arange(100)
    y = pd.Series(10.0 * (t % 7 + 1), index=pd.date_range("2024-01-01", periods=100, freq="D"))
    bt = backtest(y, ForecastConfig(models=("naive", "seasonal_naive"), horizons=(7, 28), origins=3)).set_index(
        ["model", "horizon"])
    # seasonal naive is exact on a pure weekly pattern; its in-sample error is 0, so lag 1 scales
    assert bt.loc[("seasonal_naive", 28), "mase"] == 0 and bt.loc[("seasonal_naive", 28), "smape"] == 0
    values = y.to_numpy()
    origins = [16, 44, 72]  # n - 28 - k·28, training ≥ 14 days
    for h in (7, 28):
        mase = [np.mean(np.abs(values[o : o + h] - values[o - 1])) / np.mean(np.abs(np.diff(values[:o]))) for o in origins]
        assert bt.loc[("naive", h), "mase"] == pytest.approx(np.mean(mase))
        assert bt.loc[("naive", h), "origins"] == 3


def test_all_zero_series_gets_naive_only_with_nan_mase():
    zeros = pd.Series(0.0, index=pd.date_range("2024-01-01", periods=200, freq="D"))
    bt, fc = run_forecasts(long_frame(silent=zeros), NO_PROPHET, CREATED)
    assert set(bt["model"]) == {"naive"} and bt["champion"].all()
    assert bt["mase"].isna().all() and (bt["smape"] == 0).all()
    assert len(fc) == 90 and (fc[["yhat", "yhat_lower", "yhat_upper", "yhat_lower_95", "yhat_upper_95"]] == 0).all().all()
    assert np.isnan(summarise(bt)["share"])


def test_short_series_get_no_rows_or_baselines_only():
    frame = long_frame(
        five=weekly_with_trend(5), twenty=weekly_with_trend(20), forty=weekly_with_trend(40), seventy=weekly_with_trend(70)
    )
    bt, fc = run_forecasts(frame, NO_PROPHET, CREATED)
    assert set(bt["series_id"]) == set(fc["series_id"]) == {"forty", "seventy"}
    forty = bt[bt["series_id"] == "forty"]
    assert set(forty["model"]) == {"naive", "seasonal_naive"} and set(forty["horizon"]) == {7}
    seventy = bt[bt["series_id"] == "seventy"]
    assert {"ets", "sarima"} <= set(seventy["model"]) and set(seventy["horizon"]) == {7}  # 70 - 28 < 56 days


def test_sparse_series_gets_baselines_only():
    rng = np.random.default_rng(1)
    full = weekly_with_trend(300)
    sparse = full[rng.random(300) < 0.3]
    bt, fc = run_forecasts(long_frame(sparse=sparse), NO_PROPHET, CREATED)
    assert set(bt["model"]) <= {"naive", "seasonal_naive"} and len(fc) == 90


def test_gaps_are_filled_inside_but_history_is_not_invented():
    y = weekly_with_trend(200, start="2024-03-01")
    y = y.drop(y.index[100:130])
    prep = prepare(y, ForecastConfig())
    assert prep.y.index[0] == pd.Timestamp("2024-03-01") and prep.n == 200
    assert prep.observed.sum() == 170 and not prep.observed[100:130].any()
    assert prep.y.notna().all() and prep.y.index.freq == "D"
    bt, fc = run_forecasts(long_frame(gappy=y), NO_PROPHET, CREATED)
    assert {"ets", "sarima", "seasonal_naive"} <= set(bt["model"])
    assert fc["ds"].iloc[0] == y.index[-1] + pd.Timedelta(days=1)


def test_messy_input_duplicates_missing_values_and_time_zones():
    y = weekly_with_trend(120)
    frame = long_frame(s=y)
    frame["ds"] = frame["ds"].dt.tz_localize("UTC") + pd.Timedelta(hours=13)
    frame = pd.concat([frame, frame.iloc[:3], pd.DataFrame({"series_id": ["s"], "ds": [frame["ds"].iloc[5]], "y": [None]})])
    bt, fc = run_forecasts(frame, BASELINES, CREATED)
    assert len(bt) == 4 and (bt["history_days"] == 120).all()
    assert fc["ds"].iloc[0] == pd.Timestamp("2023-05-02")


def test_monthly_revenue_sums_statement_lines_by_month():
    rng = np.random.default_rng(3)
    months = pd.date_range("2021-01-01", periods=40, freq="MS")
    t = np.arange(40)
    total = np.maximum(0, 60 + 2 * t + 25 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 5, 40))
    lines = pd.DataFrame({  # three statement lines a month, dated mid-month
        "series_id": "revenue", "ds": np.repeat(months + pd.Timedelta(days=14), 3), "y": np.repeat(total / 3, 3),
    })
    config = ForecastConfig.monthly(models=("ets", "sarima", "naive", "seasonal_naive"))
    assert prepare(pd.Series(lines["y"].to_numpy(), index=lines["ds"]), config).y.to_numpy() == pytest.approx(total)
    bt, fc = run_forecasts(lines, config, CREATED)
    assert set(bt["horizon"]) == {1, 3} and {"naive", "seasonal_naive", "ets", "sarima"} == set(bt["model"])
    assert list(fc["ds"]) == list(pd.date_range("2024-05-01", periods=6, freq="MS"))
    assert (fc[["yhat", "yhat_lower", "yhat_lower_95"]] >= 0).all().all()


def test_a_failing_model_is_left_out_and_logged(monkeypatch, caplog):
    def broken(self, *args):
        raise np.linalg.LinAlgError("singular matrix")

    monkeypatch.setattr(fc_module.ETS, "_forecast", broken)
    with caplog.at_level(logging.WARNING, logger="assets.analytics.forecast"):
        bt, fc = run_forecasts(long_frame(s=weekly_with_trend(150)), NO_PROPHET, CREATED)
    assert "ets" not in set(bt["model"]) and {"sarima", "naive", "seasonal_naive"} <= set(bt["model"])
    assert len(fc) == 90 and "ets failed" in caplog.text


def test_fit_predict_interface_for_every_model_but_prophet():
    y = weekly_with_trend(120)
    for name, model in make_models(NO_PROPHET).items():
        out = model.fit_predict(y, 14, levels=(0.8, 0.95))
        assert list(out.columns) == ["ds", "yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95"], name
        assert len(out) == 14 and out["ds"].iloc[0] == y.index[-1] + pd.Timedelta(days=1)
        bands = out[["yhat_lower_95", "yhat_lower_80", "yhat", "yhat_upper_80", "yhat_upper_95"]].to_numpy()
        assert (np.diff(bands, axis=1) >= 0).all() and (bands >= 0).all(), name
    naive = make_models(NO_PROPHET, ["naive"])["naive"].fit_predict(y, 16)
    width = (naive["yhat_upper_95"] - naive["yhat"]).to_numpy()
    assert width[15] == pytest.approx(4 * width[0])  # grows with √h
    with pytest.raises(ValueError, match="regular frequency"):
        make_models(NO_PROPHET, ["naive"])["naive"].fit_predict(y.drop(y.index[5]), 7)


def test_summarise_counts_series_with_a_year_of_history():
    rows = [
        ("a", "ets", 28, 0.8, True, 400), ("a", "seasonal_naive", 28, 1.1, False, 400),
        ("b", "seasonal_naive", 28, 0.9, True, 500), ("b", "ets", 28, 1.2, False, 500),
        ("c", "ets", 28, 0.5, True, 200), ("c", "seasonal_naive", 28, 1.0, False, 200),
        ("a", "ets", 7, 0.1, True, 400),
    ]
    bt = pd.DataFrame(rows, columns=["series_id", "model", "horizon", "mase", "champion", "history_days"])
    summary = summarise(bt)
    assert summary["series"] == 3 and summary["series_with_history"] == 2 and summary["compared"] == 2
    assert summary["champion_beats_seasonal_naive"] == 1 and summary["share"] == 0.5
    assert summary["champions"] == {"ets": 1, "seasonal_naive": 1}


def test_conformal_quantile():
    scores = np.arange(1, 11, dtype=float)  # 1..10
    assert fc_module.conformal_quantile(scores, 0.8) == 9.0  # ceil(11 × 0.8) = 9th smallest
    assert fc_module.conformal_quantile(scores, 0.95) == 10.0  # ceil(11 × 0.95) = 11 > n: the largest
    assert np.isnan(fc_module.conformal_quantile(np.array([]), 0.8))


def test_too_narrow_intervals_are_widened_to_their_level(monkeypatch):
    """A model whose intervals are 5× too narrow: the backtest finds a factor near 5, the
    out-of-sample coverage of the calibrated interval is near 80 %, and the published interval is
    the model's own stretched by that factor."""
    rng = np.random.default_rng(11)
    y = pd.Series(500 + np.cumsum(rng.normal(0, 10, 600)), index=pd.date_range("2023-01-01", periods=600, freq="D"))
    config = ForecastConfig(models=("naive",), horizons=(7, 28), origins=8, origin_step=28, forecast_horizon=28)
    honest = fc_module.backtest_scores(y, config)
    original = fc_module.Naive._forecast

    def narrow(self, values, horizon, levels, index, future):
        mean, bounds = original(self, values, horizon, levels, index, future)
        return mean, {lv: (mean - (mean - lo) / 5, mean + (hi - mean) / 5) for lv, (lo, hi) in bounds.items()}

    monkeypatch.setattr(fc_module.Naive, "_forecast", narrow)
    scores = fc_module.backtest_scores(y, config)
    at28 = scores[scores["horizon"] == 28].iloc[0]
    assert at28["interval_scale_80"] == pytest.approx(5 * honest[honest["horizon"] == 28]["interval_scale_80"].iloc[0])
    assert at28["interval_scale_80"] > 2
    assert 0.65 <= at28["coverage_80"] <= 0.95 and at28["coverage_95"] >= 0.85
    published = fc_module.publish_forecast(y, scores, config)
    monkeypatch.setattr(fc_module.Naive, "_forecast", original)
    own = fc_module.make_models(config)["naive"].fit_predict(y, 28)
    width = (published["yhat_upper"] - published["yhat"]).to_numpy()
    own_width = (own["yhat_upper_80"] - own["yhat"]).to_numpy() / 5
    at7 = scores[scores["horizon"] == 7].iloc[0]
    by_step = np.where(np.arange(28) < 7, at7["interval_scale_80"], at28["interval_scale_80"])  # days 1-7, 8-28
    assert np.allclose(width, own_width * by_step)


def test_champion_needs_calibrated_intervals():
    rows = pd.DataFrame([
        ("ets", 28, 0.7, 5.0, 0.55, 0.70, 9.0),  # most accurate, but its intervals missed
        ("sarima", 28, 0.9, 6.0, 0.80, 0.95, 6.0),
        ("seasonal_naive", 28, 1.0, 7.0, 0.82, 0.96, 7.0),
    ], columns=["model", "horizon", "mase", "smape", "coverage_80", "coverage_95", "interval_score"])
    assert list(fc_module.rank_models(rows)["model"]) == ["sarima", "seasonal_naive", "ets"]
    missed = rows.assign(coverage_80=0.5)  # none held: the interval score decides
    assert list(fc_module.rank_models(missed)["model"]) == ["sarima", "seasonal_naive", "ets"]
    assert list(fc_module.rank_models(missed.assign(interval_score=[1.0, 3.0, 2.0]))["model"]) == [
        "ets", "seasonal_naive", "sarima"]
    unmeasured = rows.assign(coverage_80=np.nan, coverage_95=np.nan)  # one origin: MASE alone
    assert list(fc_module.rank_models(unmeasured)["model"])[0] == "ets"


def test_config_rejects_unknown_models_and_bad_levels():
    with pytest.raises(ValueError, match="unknown models"):
        ForecastConfig(models=("arima",))
    with pytest.raises(ValueError, match="levels"):
        ForecastConfig(levels=(0.95, 0.8))


def test_plots_return_png_bytes():
    y = weekly_with_trend(200)
    bt, fc = run_forecasts(long_frame(streams=y), BASELINES, CREATED)
    assert plot_forecast(y, fc, title="streams").startswith(b"\x89PNG")
    fitted = make_models(BASELINES, ["seasonal_naive"])["seasonal_naive"].fit_predict(y, 28)
    assert plot_forecast(y, fitted, history_periods=None).startswith(b"\x89PNG")
    charts = plot_forecasts(long_frame(streams=y), fc)
    assert list(charts) == ["streams"] and charts["streams"].startswith(b"\x89PNG")
    spike = y.copy()
    spike.loc["2023-04-10":"2023-04-20"] *= 6
    png = plot_moment(spike, "2023-04-10", pd.Timestamp("2023-04-12"), "2023-04-20", baseline=float(y.median()), title="viral")
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_ses_model_is_fast_and_beats_the_naive_on_a_weekly_series():
    y = weekly_with_trend(400)
    model = make_models(ForecastConfig(models=("ses",)))["ses"]
    fc = model.fit_predict(y, 28)
    ordered = fc[["yhat_lower_95", "yhat_lower_80", "yhat", "yhat_upper_80", "yhat_upper_95"]].to_numpy()
    assert len(fc) == 28 and (np.diff(ordered, axis=1) >= 0).all() and (ordered >= 0).all()
    # the weekly profile is in the forecast: the Saturday above the Tuesday (week = 1.0, 0.9, ..., 1.3, 1.2)
    by_day = dict(zip(fc["ds"].dt.dayofweek, fc["yhat"]))
    assert by_day[5] > 1.2 * by_day[1]
    scores = backtest(y, ForecastConfig(models=("naive", "seasonal_naive", "ses"), horizons=(7, 28))).set_index(
        ["model", "horizon"])
    assert scores.loc[("ses", 28), "mase"] < scores.loc[("naive", 28), "mase"]


def test_a_labels_catalogue_gets_the_fast_models_plus_each_series_previous_champion():
    frame = long_frame(a=weekly_with_trend(150, seed=1), b=weekly_with_trend(150, seed=2),
                       c=weekly_with_trend(150, seed=3))
    previous = pd.DataFrame({"series_id": ["b", "b", "c"], "model": ["ets", "naive", "sarima"],
                             "horizon": [28, 28, 7], "champion": [True, False, True]})
    config = ForecastConfig(horizons=(7, 28))
    scores = run.backtests((frame, frame.iloc[0:0]), configs=(config, config), many_series=2, previous=previous)
    models = scores.groupby("series_id")["model"].agg(set).to_dict()
    assert models["a"] == {"naive", "seasonal_naive", "ses"}
    assert models["b"] == {"naive", "seasonal_naive", "ses", "ets"}  # it won at 28 days last time
    assert models["c"] == {"naive", "seasonal_naive", "ses"}  # a win at 7 days is not the publish horizon's
    # at or under the limit every model runs
    small = run.backtests((frame[frame["series_id"] == "a"], frame.iloc[0:0]),
                          configs=(ForecastConfig(horizons=(7, 28), models=("naive", "ets")),) * 2, many_series=2)
    assert set(small["model"]) == {"naive", "ets"}
