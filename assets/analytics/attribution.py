"""Ad attribution and lagged correlations: the analytics tables ``ad_attribution`` and
``lagged_correlation``.

Pure logic over pandas and a DuckDB connection (no Dagster, no lake I/O). ``series`` is
:func:`series.daily_series` (``series_id, artist, platform, metric, date, value``; artist canonical).

Ad attribution: what did a campaign's window do to streams and followers?
-------------------------------------------------------------------------
* **Campaign window.** Per ``(platform, campaign_id)`` of ``fct_ad_performance``: the first to the
  last day with delivery (spend or impressions > 0). Exports report an ad set either per day or
  over a window (its whole life up to the export day); windows of different lengths overlap, so
  per ad set only the rows of one window length are used, the one whose rows add up to the most
  impressions (as the KPI input ``kpi_ads`` does). With daily rows the window is exactly the days
  with delivery. A window row only says delivery happened somewhere inside it, and a lifetime
  row ends on the export day even for a campaign paused months before; so when
  ``dim_ad_campaign`` says the campaign is ``PAUSED`` and its ``updated_time`` (the last change,
  usually the pause) falls inside such a window, the window ends that day
  (``end_paused_at_update``). ``spend_usd`` is the sum over the rows used; null when no row has
  a USD spend (accounts billed in another currency: no rate is guessed).
* **Which series.** If the campaign name contains an artist's name (any alias in
  ``dim_artist_alias``, compared by ``artist_key``: lower case, accents and punctuation dropped,
  and matched on whole words, so ``ZONE A0 ANOVUS`` names ``zone.a0`` but ``Novalightshow`` does
  not name ``Nova Lights``), the campaign is measured on that artist's ``streams`` and
  ``followers`` series (every platform); if the artist has no streams series of their own
  (distributor-only catalogues report the account, not the artist), on the account's streams
  series (``<platform>/account/streams``) instead. A campaign naming several artists is measured
  on each one's series. A campaign naming no artist is measured on the account's streams series
  and on every followers series.
* **Account streams count steady distributors only.** The account's streams add up the
  distributors' catalogues (``v_streams_account_daily``); when a distributor's data starts or ends
  near a campaign, the sum jumps by its whole catalogue, which is no lift (in the BEDROT exports
  TooLost's daily streams start on 2025-02-07 and add about a quarter to Spotify's: without this
  rule the three campaigns spanning that day read +39 to +47 % on Spotify, with it +13 to +36 %
  and none significant). So a ``<platform>/account/streams`` series is
  measured on the distributors reporting from the start of the pre-period (or from the first day
  any does) and still on the window's first day, summed on the days all of them report; ``sources``
  names them (null for the other series, which are measured as built).
* **Measured days.** The window is clipped to the series' last observed day (``measured_days``);
  a window starting after the data ends, or with fewer than ``min_pre_days`` (28) observed days in
  the ``pre_days`` (56) before it, gets no row. Gaps are interpolated (``forecast.prepare``).
* **Counterfactual.** Fitted only on the ``pre_days`` days before the window: what the series
  would have done without the campaign. Candidates are the models of ``forecast.py``
  (``seasonal_naive`` and ``ets`` by default: additive ETS with a damped trend and a weekly
  season). The one with the lowest mean absolute error on the last ``holdout_days`` (14) of the
  pre-period (fitted on the days before them) is refit on the whole pre-period (ties: the
  simpler model). ``expected`` is the sum of its point forecasts over the measured days (each
  day clipped at 0 for streams).
* **Interval of the sum.** Summing the daily 80 % bounds would give a far too wide interval
  (every day at its 10 % quantile at once). Instead ``simulations`` (2,000, seeded: reruns agree)
  future paths are drawn from the fitted model (ETS: statsmodels' state-space simulation with
  normal errors, their variance the fit's corrected for the parameters estimated, n / (n − k);
  seasonal naive / naive: each day = the same weekday a week before (the day before) + a normal
  error with the RMS of the in-sample seasonal (one-step) differences, so the uncertainty
  compounds week by week as in the model's own intervals); each path is summed and the 10 % / 90 %
  quantiles of the sums (``level`` 0.8) bound the interval.
* **Calibration.** The simulation leaves out the uncertainty of the fitted parameters, and real
  series have releases and spikes no pre-period shows: on 300 synthetic no-campaign windows
  (weekly season, 10-20 % noise, trends) the actual sum fell outside the uncalibrated ETS interval
  34 % of the time instead of 20 %. So the chosen model is also run on up to ``calibration_windows`` (4)
  earlier windows of the same length on the same series (back to back before the window, each
  with its own pre-period), and the interval's two halves are widened by ``interval_scale`` =
  max(1, median |standardised error| / 0.674) on them (a median, so one past window with a release
  in it does not blow the interval up). With fewer than ``min_calibration_windows`` (2) usable
  windows (a long window on a short series) the scale is ``uncalibrated_scale`` (1.2). Measured on
  synthetic series: 17.5 % of no-campaign windows significant (200 windows, nominal 20 %), 21 %
  uncalibrated with the 1.2 scale (300), 14 % for followers (150); a +30 % lift over 7-28 days
  at 10-20 % daily noise was significant in 95 % of windows (streams) and 97 % (followers). The
  lower bound of streams is clipped at 0. Past windows can hold other campaigns: that widens
  the interval, i.e. errs on the side of "not significant".
* **Followers are a level.** The count at the end of each day: the model works on the daily
  gains (the day-over-day differences), so ``actual`` = level at the end of the window − level the
  day before it, and ``expected`` the counterfactual gain. Gains are not clipped at 0.
* **Outputs.** ``lift = actual − expected``, ``lift_pct = 100 · lift / expected`` (null when
  expected ≤ 0), ``significant`` = actual outside the 80 % interval (either side: a window can
  also do worse than expected), ``cost_per_incremental = spend_usd / lift`` when the lift is
  positive and the spend known (it is reported whether or not the lift is significant; read it
  with ``significant``). ``concurrent_campaigns`` counts the other campaigns measured on the same
  series whose windows overlap: their effects are in this lift too, and a campaign in the
  pre-period inflates the counterfactual. Attribution here is "what happened against what was
  expected", not proof that the ads caused it: a viral TikTok moment inside a window is lift too.
  A window right after a breakout has no good counterfactual (the pre-period is the breakout):
  expect a wide interval and "not significant" there.

Lagged correlation: does TikTok lead Spotify?
---------------------------------------------
* **Pairs.** For each series of the ``leader`` platform and metric (TikTok views; accounts are
  mapped to artists through their aliases) and each ``followers`` platform and metric (Spotify
  streams): the artist's own follower series when there is one, else the account's
  (``spotify/account/streams``, with ``artist`` still the leader's). With two or more leader
  series and an account follower series, the account level too: the leader summed over its series
  on the days all of them have (``tiktok/account/views``), ``artist`` null.
* **Changes, not levels.** Levels of two growing series correlate whatever their relation
  (shared trends), so both series become day-over-day changes of ``log1p`` (only between two
  consecutive observed days; growth rates, so a big account does not dominate), minus the mean
  change of their weekday (``weekday_adjust``: both platforms peak at weekends, which would show
  as a correlation at lags 0, 7 and 14).
* **Lags.** The follower's change ``lag`` days later is correlated with the leader's change
  (Pearson), for ``min_lag..max_lag`` (0..14). A lag needs ``min_overlap_days`` (56) days with
  both changes. ``best_lag_days`` is the lag with the highest correlation (ties: the shorter lag),
  ``p_value`` its two-sided p-value (scipy), not corrected for having tried 15 lags: with 15 tries
  a p-value under 0.05 / 15 ≈ 0.003 is the bar for "not chance". ``correlations`` holds every lag.
  A pair without one usable lag gets no row.

Speed: about 0.2 s per campaign × series (up to seven small fits and their simulations); the
BEDROT exports (13 campaigns, 26 rows) take ~5 s, the demo ~4 s, so it runs after every ingest.
Errors never crash a run: a campaign or pair that fails is logged and skipped.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from statistics import NormalDist

import duckdb
import numpy as np
import pandas as pd

from .forecast import ForecastConfig, _fitting, make_models, prepare

log = logging.getLogger(__name__)

ATTRIBUTION_COLUMNS = [
    "ad_platform", "campaign_id", "campaign_name", "window_start", "window_end", "spend_usd",
    "series_id", "artist", "platform", "metric", "sources", "pre_days", "measured_days", "model", "actual",
    "expected", "expected_lower", "expected_upper", "lift", "lift_pct", "significant",
    "cost_per_incremental", "interval_scale", "concurrent_campaigns",
]
CORRELATION_COLUMNS = [
    "artist", "leader_series_id", "follower_series_id", "best_lag_days", "correlation",
    "correlation_lag0", "p_value", "overlap_days", "correlations",
]
WINDOW_COLUMNS = ["ad_platform", "campaign_id", "campaign_name", "window_start", "window_end", "spend_usd"]


@dataclass(frozen=True)
class AttributionConfig:
    """Every setting of the attribution and the lagged correlation (module docstring for why)."""

    # --- ad attribution
    pre_days: int = 56  # days before the window the counterfactual is fitted on
    min_pre_days: int = 28  # observed days needed among them, else no row
    metrics: tuple[str, ...] = ("streams", "followers")  # metrics a campaign is measured on
    cumulative_metrics: tuple[str, ...] = ("followers",)  # levels: measured as the gain over the window
    level: float = 0.8  # coverage of the counterfactual's interval
    models: tuple[str, ...] = ("seasonal_naive", "ets")  # counterfactual candidates (forecast.py names)
    season: int = 7  # weekly season of daily series
    holdout_days: int = 14  # end of the pre-period the candidates are compared on
    simulations: int = 2000  # simulated paths for the interval of the sum
    calibration_windows: int = 4  # earlier windows of the same length the interval is calibrated on
    min_calibration_windows: int = 2  # fewer usable ones: uncalibrated_scale instead
    calibration_simulations: int = 500  # simulated paths per calibration window
    uncalibrated_scale: float = 1.2  # widening when fewer than min_calibration_windows are usable
    seed: int = 0  # of the simulations: reruns agree
    end_paused_at_update: bool = True  # a window row of a PAUSED campaign ends at its updated_time
    # --- lagged correlation
    leader: tuple[str, str] = ("tiktok", "views")  # (platform, metric) that may lead
    followers: tuple[tuple[str, str], ...] = (("spotify", "streams"),)  # (platform, metric) that may follow
    min_lag: int = 0  # days
    max_lag: int = 14  # days
    min_overlap_days: int = 56  # days with both changes needed at a lag
    weekday_adjust: bool = True  # remove each series' mean change per weekday first
    account_level: bool = True  # also the account: summed leader vs the account's follower

    def __post_init__(self) -> None:
        if not 0 < self.level < 1:
            raise ValueError(f"level must be in (0, 1), got {self.level}")
        if self.min_pre_days < 4 or self.min_pre_days > self.pre_days:
            raise ValueError(f"min_pre_days must be in [4, pre_days], got {self.min_pre_days}")
        unknown = set(self.models) - {"naive", "seasonal_naive", "ets"}
        if not self.models or unknown:
            raise ValueError(f"models must be among naive, seasonal_naive, ets; got {self.models}")
        if self.min_lag < 0 or self.max_lag < self.min_lag:
            raise ValueError(f"lags must satisfy 0 <= min_lag <= max_lag, got {self.min_lag}..{self.max_lag}")
        if self.min_overlap_days < 3:
            raise ValueError(f"min_overlap_days must be at least 3, got {self.min_overlap_days}")


# ------------------------------------------------------------------------------ campaign windows


def _has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table or view ``name`` exists (unit tests build only the ones they need)."""
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0] > 0


WINDOWS_SQL = """
WITH rows AS (
    SELECT platform, campaign_id, coalesce(adset_id, '') AS adset, campaign_name, date_start, date_stop,
           date_diff('day', date_start, date_stop) AS length_days, spend_usd, observed_at,
           coalesce(spend, 0) > 0 OR coalesce(impressions, 0) > 0 AS delivered,
           coalesce(impressions, 0) AS impressions
    FROM fct_ad_performance
    WHERE campaign_id IS NOT NULL AND date_start IS NOT NULL AND date_stop IS NOT NULL
),
lengths AS (
    SELECT platform, campaign_id, adset, length_days, sum(impressions) AS impressions
    FROM rows GROUP BY ALL
),
chosen AS (
    SELECT platform, campaign_id, adset, arg_max(length_days, (impressions, -length_days)) AS length_days
    FROM lengths GROUP BY ALL
),
used AS (
    SELECT r.* FROM rows r JOIN chosen c USING (platform, campaign_id, adset, length_days)
)
SELECT platform AS ad_platform, campaign_id,
       arg_max(campaign_name, observed_at) AS campaign_name,
       min(date_start) FILTER (WHERE delivered) AS window_start,
       max(date_stop) FILTER (WHERE delivered) AS window_end,
       sum(spend_usd) AS spend_usd,
       bool_and(length_days = 0) AS daily
FROM used
GROUP BY ALL
HAVING bool_or(delivered)
ORDER BY ad_platform, window_start, campaign_id
"""

PAUSED_SQL = """
SELECT platform AS ad_platform, campaign_id, arg_max(status, observed_at) AS status,
       arg_max(updated_time, observed_at)::DATE AS updated_date,
       arg_max(campaign_name, observed_at) AS dim_name
FROM dim_ad_campaign GROUP BY ALL
"""


def campaign_windows(con: duckdb.DuckDBPyConnection, config: AttributionConfig = AttributionConfig()) -> pd.DataFrame:  # noqa: B008
    """One row per ad campaign with delivery: ``ad_platform, campaign_id, campaign_name,
    window_start, window_end, spend_usd`` (module docstring, *Campaign window*)."""
    if not _has_relation(con, "fct_ad_performance"):
        return pd.DataFrame(columns=WINDOW_COLUMNS)
    windows = con.execute(WINDOWS_SQL).df()
    if windows.empty:
        return pd.DataFrame(columns=WINDOW_COLUMNS)
    for col in ("window_start", "window_end"):
        windows[col] = pd.to_datetime(windows[col]).dt.date
    if _has_relation(con, "dim_ad_campaign"):
        dim = con.execute(PAUSED_SQL).df()
        if len(dim):
            dim["updated_date"] = pd.to_datetime(dim["updated_date"]).dt.date
            windows = windows.merge(dim, on=["ad_platform", "campaign_id"], how="left")
            windows["campaign_name"] = windows["campaign_name"].fillna(windows["dim_name"])
            if config.end_paused_at_update:
                clip = (
                    ~windows["daily"].astype(bool)
                    & (windows["status"] == "PAUSED")
                    & windows["updated_date"].notna()
                )
                for i in windows.index[clip]:
                    upd = windows.at[i, "updated_date"]
                    if windows.at[i, "window_start"] <= upd < windows.at[i, "window_end"]:
                        windows.at[i, "window_end"] = upd
    windows["spend_usd"] = windows["spend_usd"].astype(float)
    return windows[WINDOW_COLUMNS].reset_index(drop=True)


# ------------------------------------------------------------------------------- artist matching


def _tokens(text: str) -> list[str]:
    """Lower-case ASCII words of ``text`` (accents dropped, everything but letters and digits splits)."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return [t for t in re.split(r"[^a-z0-9]+", ascii_text) if t]


def artist_key(name: str) -> str:
    """Python twin of the SQL macro ``artist_key``: 'ZONE A0', 'zone.a0' → 'zonea0'."""
    return "".join(_tokens(name))


def artists_named(name: str | None, keys: dict[str, str]) -> list[str]:
    """Canonical artists whose key (``{artist_key: artist}``) is spelled by a run of whole words of
    ``name``: 'ZONE A0 ANOVUS' names 'zonea0' (zone + a0); 'Novalightshow' does not name 'novalights'."""
    if not name:
        return []
    words = _tokens(name)
    found: list[str] = []
    for i in range(len(words)):
        run = ""
        for j in range(i, len(words)):
            run += words[j]
            artist = keys.get(run)
            if artist is not None and artist not in found:
                found.append(artist)
            if not any(k.startswith(run) for k in keys):
                break
    return found


def _artist_keys(con: duckdb.DuckDBPyConnection, series: pd.DataFrame) -> dict[str, str]:
    keys: dict[str, str] = {}
    if _has_relation(con, "dim_artist_alias"):
        for alias, artist in con.execute("SELECT alias, artist FROM dim_artist_alias").fetchall():
            if alias and artist:
                keys.setdefault(artist_key(alias), artist)
    for artist in series["artist"].dropna().unique():  # canonical names themselves
        keys.setdefault(artist_key(artist), artist)
    return {key: artist for key, artist in keys.items() if len(key) >= 2}  # a one-letter name would match any "a"


def series_for_campaign(name: str | None, catalog: pd.DataFrame, keys: dict[str, str],
                        config: AttributionConfig = AttributionConfig()) -> list[str]:  # noqa: B008
    """Series ids a campaign is measured on (module docstring, *Which series*). ``catalog`` has one
    row per series: ``series_id, artist, platform, metric``."""
    catalog = catalog[catalog["metric"].isin(config.metrics)]
    account_streams = catalog[catalog["artist"].isna() & (catalog["metric"] == "streams")]["series_id"].tolist()
    artists = artists_named(name, keys)
    if not artists:
        followers = catalog[catalog["metric"] == "followers"]["series_id"].tolist()
        return sorted(set(account_streams)) + sorted(set(followers) - set(account_streams))
    chosen: list[str] = []
    for artist in artists:
        own = catalog[catalog["artist"] == artist]
        ids = own["series_id"].tolist()
        if not (own["metric"] == "streams").any():
            ids = account_streams + ids
        chosen += [s for s in ids if s not in chosen]
    return chosen


# ---------------------------------------------------------------------------------- counterfactual


@dataclass
class Counterfactual:
    model: str
    expected: float
    lower: float
    upper: float
    scale: float = 1.0  # how much the simulated interval was widened (see *Calibration*)


def _simulate_baseline(values: np.ndarray, horizon: int, lag: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(point path, simulated paths [horizon, n]) of the naive (lag 1) or seasonal naive (lag m):
    each day = the day ``lag`` before + N(0, σ²), σ the RMS of the in-sample lag-differences."""
    if len(values) <= lag:
        raise ValueError(f"needs more than {lag} values, got {len(values)}")
    sigma = float(np.sqrt(np.mean((values[lag:] - values[:-lag]) ** 2)))
    steps = np.arange(horizon)
    point = values[len(values) - lag + steps % lag]
    paths = np.empty((horizon, n))
    for k in range(horizon):
        base = values[len(values) - lag + k] if k < lag else paths[k - lag]
        paths[k] = base + rng.normal(0.0, sigma, n) if sigma > 0 else base
    return point, paths


def _simulate_ets(values: np.ndarray, horizon: int, season: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(point path, simulated paths) of the ETS of forecast.py (additive error, damped additive
    trend, additive season once two seasons exist); the error variance is the fit's, corrected
    for the parameters it estimated (n / (n − k))."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasonal = len(values) >= 2 * season + 2
    res = ETSModel(
        pd.Series(values), error="add", trend="add", damped_trend=True,
        seasonal="add" if seasonal else None, seasonal_periods=season if seasonal else None,
    ).fit(disp=False)
    point = np.asarray(res.forecast(horizon), dtype=float)
    sigma = math.sqrt(res.mse * res.nobs / max(res.nobs - res.df_model, 1))
    errors = rng.normal(0.0, sigma, (horizon, n))
    paths = np.asarray(res.simulate(horizon, anchor="end", repetitions=n, random_errors=errors), dtype=float)
    return point, paths.reshape(horizon, n)


def _forecast_sum(name: str, pre: pd.Series, horizon: int, config: AttributionConfig, nonnegative: bool,
                  simulations: int) -> tuple[float, np.ndarray]:
    """(summed point forecast, simulated sums) of model ``name`` fitted on ``pre``."""
    rng = np.random.default_rng(config.seed)
    values = pre.to_numpy(dtype=float)
    with _fitting():
        if name == "ets":
            point, paths = _simulate_ets(values, horizon, config.season, simulations, rng)
        else:
            lag = config.season if name == "seasonal_naive" else 1
            point, paths = _simulate_baseline(values, horizon, lag, simulations, rng)
    if not (np.isfinite(point).all() and np.isfinite(paths).all()):
        raise ArithmeticError(f"{name}: non-finite forecast")
    if nonnegative:
        point, paths = np.clip(point, 0, None), np.clip(paths, 0, None)
    return float(point.sum()), paths.sum(axis=0)


def _choose_model(pre: pd.Series, horizon: int, config: AttributionConfig) -> list[str]:
    """Candidates ranked by MAE on the end of the pre-period (fitted on the days before it)."""
    values = pre.to_numpy()
    names = [m for m in ("naive", "seasonal_naive", "ets") if m in config.models]
    if np.ptp(values) == 0:  # constant: ETS cannot be fitted, every baseline says the same
        return [m for m in names if m != "ets"] or ["naive"]
    if len(values) <= 2 * config.season:
        names = [m for m in names if m != "seasonal_naive"] or ["naive"]
    hold = min(config.holdout_days, horizon, len(values) - max(2 * config.season, 14))
    if len(names) == 1 or hold < 1:
        return names
    fc_config = ForecastConfig(season=config.season, models=tuple(names))
    models = make_models(fc_config, names)
    scores = []
    for name in names:
        try:
            yhat = models[name].fit_predict(pre.iloc[:-hold], hold, (config.level, 0.95))["yhat"].to_numpy()
            scores.append((float(np.mean(np.abs(values[-hold:] - yhat))), names.index(name), name))
        except Exception as exc:  # a model that cannot fit the pre-period is left out
            log.info("attribution: %s failed on a pre-period (%s); left out", name, exc)
    return [name for _, _, name in sorted(scores)] or [m for m in names if m != "ets"]


def _bounds(expected: float, sums: np.ndarray, level: float) -> tuple[float, float, float]:
    """(lower, upper, the standard deviation that interval implies) of the simulated sums."""
    lo, hi = np.quantile(sums, [(1 - level) / 2, (1 + level) / 2])
    lo, hi = float(min(lo, expected)), float(max(hi, expected))
    z = NormalDist().inv_cdf((1 + level) / 2)
    return lo, hi, (hi - lo) / (2 * z)


def counterfactual(pre: pd.Series, horizon: int, config: AttributionConfig = AttributionConfig(),  # noqa: B008
                   nonnegative: bool = True, past: list[tuple[pd.Series, float]] | None = None) -> Counterfactual:
    """The counterfactual total of the ``horizon`` days after ``pre`` (a regular daily series
    without gaps): the best candidate's summed point forecast and the ``level`` interval of the sum
    from simulated paths (module docstring, *Counterfactual*, *Interval of the sum*). ``past``:
    (pre-period, actual total) of earlier windows of the same length, to calibrate the interval on."""
    errors = []
    for name in _choose_model(pre, horizon, config):
        try:
            expected, sums = _forecast_sum(name, pre, horizon, config, nonnegative, config.simulations)
        except Exception as exc:  # fall through to the next candidate
            errors.append(f"{name}: {exc}")
            continue
        lo, hi, _ = _bounds(expected, sums, config.level)
        scale = _calibration_scale(name, horizon, config, nonnegative, past or [])
        lower = expected - scale * (expected - lo)
        return Counterfactual(name, expected, max(lower, 0.0) if nonnegative else lower,
                              expected + scale * (hi - expected), scale)
    raise ArithmeticError("no counterfactual model could be fitted: " + "; ".join(errors))


def _calibration_scale(name: str, horizon: int, config: AttributionConfig, nonnegative: bool,
                       past: list[tuple[pd.Series, float]]) -> float:
    """max(1, RMS of the standardised errors of the model's sums on earlier windows); 1 with fewer
    than ``min_calibration_windows`` of them."""
    z = []
    for pre, actual in past:
        try:
            expected, sums = _forecast_sum(name, pre, horizon, config, nonnegative, config.calibration_simulations)
        except Exception:  # a window the model cannot fit does not calibrate anything
            continue
        _, _, sd = _bounds(expected, sums, config.level)
        if sd > 0:
            z.append((actual - expected) / sd)
    if len(z) < config.min_calibration_windows:
        return config.uncalibrated_scale
    # robust: one past window with a release or a viral spike in it must not blow the interval up
    return max(1.0, float(np.median(np.abs(z))) / NormalDist().inv_cdf(0.75))


def _slices(y: pd.Series, start: pd.Timestamp, days: int, config: AttributionConfig, cumulative: bool):
    """(pre-period, window, actual) for a window of ``days`` days from ``start``; followers: the
    pre-period as daily gains and actual = the gain over the window."""
    pre = y[(y.index >= start - pd.Timedelta(days=config.pre_days + (1 if cumulative else 0))) & (y.index < start)]
    window = y[(y.index >= start) & (y.index < start + pd.Timedelta(days=days))]
    if cumulative:
        return pre.diff().iloc[1:], window, float(window.iloc[-1] - pre.iloc[-1]) if len(pre) and len(window) else math.nan
    return pre, window, float(window.sum())


def measure(values: pd.Series, window_start, window_end, metric: str,
            config: AttributionConfig = AttributionConfig()) -> dict | None:  # noqa: B008
    """Actual against counterfactual for one series (``values`` indexed by date) and window; None
    when the series cannot be measured there (see *Measured days*)."""
    prep = prepare(values, ForecastConfig(season=config.season))
    if prep is None:
        return None
    y, observed = prep.y, pd.Series(prep.observed, index=prep.y.index)
    start, end = pd.Timestamp(window_start), min(pd.Timestamp(window_end), y.index[-1])
    if end < start:
        return None
    cumulative = metric in config.cumulative_metrics
    days = (end - start).days + 1

    def enough(at: pd.Timestamp) -> bool:  # observed days in the pre-period of a window starting at `at`
        pre_obs = observed[(observed.index >= at - pd.Timedelta(days=config.pre_days)) & (observed.index < at)]
        return int(pre_obs.sum()) >= config.min_pre_days

    if not enough(start):
        return None
    pre, window, actual = _slices(y, start, days, config, cumulative)
    if len(pre) < config.min_pre_days:
        return None
    past = []
    for k in range(1, config.calibration_windows + 1):
        at = start - pd.Timedelta(days=k * days)
        if at < y.index[0] or not enough(at):
            break
        past_pre, past_window, past_actual = _slices(y, at, days, config, cumulative)
        win_obs = observed[(observed.index >= at) & (observed.index < at + pd.Timedelta(days=days))]
        if len(past_window) == days and win_obs.mean() >= 0.5 and len(past_pre) >= config.min_pre_days:
            past.append((past_pre, past_actual))
    cf = counterfactual(pre, len(window), config, nonnegative=not cumulative, past=past)
    lift = actual - cf.expected
    return {
        "pre_days": len(pre), "measured_days": len(window), "model": cf.model, "actual": actual,
        "expected": cf.expected, "expected_lower": cf.lower, "expected_upper": cf.upper, "lift": lift,
        "lift_pct": 100 * lift / cf.expected if cf.expected > 0 else math.nan,
        "significant": bool(actual < cf.lower or actual > cf.upper), "interval_scale": cf.scale,
    }


def _concurrent(frame: pd.DataFrame) -> pd.Series:
    """Other campaigns on the same series whose measured windows overlap each row's."""
    ends = frame["window_start"] + pd.to_timedelta(frame["measured_days"] - 1, unit="D")
    out = pd.Series(0, index=frame.index, dtype="int64")
    for _, part in frame.groupby("series_id"):
        for i in part.index:
            others = part.drop(index=i)
            overlap = (others["window_start"] <= ends[i]) & (ends[others.index] >= frame.at[i, "window_start"])
            out[i] = int(overlap.sum())
    return out


ACCOUNT_ROWS_SQL = """
SELECT date, platform, source, sum(streams)::DOUBLE AS streams
FROM v_streams_daily
WHERE track IS NULL AND artist IS NULL AND streams IS NOT NULL
GROUP BY ALL
"""


def steady_sources(rows: pd.DataFrame, window_start, window_end, pre_days: int) -> tuple[pd.Series | None, str | None]:
    """The account's streams of one platform counting only the distributors that report throughout
    (``rows``: ``date, source, streams`` of the distributors' account rows): those reporting
    from the start of the pre-period (or from the first day any of them reports) and still on the
    window's first day, summed on the days all of them report. → (daily streams, 'src1,src2'), or
    (None, None) when no distributor qualifies."""
    if rows.empty:
        return None, None
    rows = rows.reset_index(drop=True)
    dates = pd.to_datetime(rows["date"])
    start, end = pd.Timestamp(window_start), pd.Timestamp(window_end)
    pre_start = start - pd.Timedelta(days=pre_days)
    span = rows[(dates >= pre_start) & (dates <= end)]
    if span.empty:
        return None, None
    first = dates.groupby(rows["source"]).min()
    last = dates.groupby(rows["source"]).max()
    present = sorted(span["source"].unique())
    anchor = max(pre_start, first[present].min())
    kept = [src for src in present if first[src] <= anchor and last[src] >= start]
    if not kept:
        return None, None
    wide = rows[rows["source"].isin(kept)].assign(date=dates).pivot_table(
        index="date", columns="source", values="streams", aggfunc="sum")
    return wide.dropna().sum(axis=1), ",".join(kept)


def attribute_campaigns(con: duckdb.DuckDBPyConnection, series: pd.DataFrame,
                        config: AttributionConfig = AttributionConfig()) -> pd.DataFrame:  # noqa: B008
    """The ``ad_attribution`` table (without ``created_at``): one row per campaign × series measured."""
    windows = campaign_windows(con, config)
    if windows.empty or series.empty:
        return pd.DataFrame(columns=ATTRIBUTION_COLUMNS)
    frame = series.assign(date=pd.to_datetime(series["date"]))
    catalog = frame.drop_duplicates("series_id")[["series_id", "artist", "platform", "metric"]]
    by_id = {sid: part for sid, part in frame.groupby("series_id", sort=False)}
    keys = _artist_keys(con, series)
    account_rows = con.execute(ACCOUNT_ROWS_SQL).df() if _has_relation(con, "v_streams_daily") else pd.DataFrame(
        columns=["date", "platform", "source", "streams"])
    rows = []
    for w in windows.itertuples(index=False):
        for series_id in series_for_campaign(w.campaign_name, catalog, keys, config):
            part = by_id[series_id]
            info = part.iloc[0]
            values, sources = pd.Series(part["value"].to_numpy(), index=part["date"]), None
            try:
                if info["metric"] == "streams" and pd.isna(info["artist"]):
                    steady, sources = steady_sources(account_rows[account_rows["platform"] == info["platform"]],
                                                     w.window_start, w.window_end, config.pre_days)
                    values = values if steady is None else steady
                measured = measure(values, w.window_start, w.window_end, info["metric"], config)
            except Exception:  # one odd series must not take the others down
                log.exception("attribution: campaign %s on %s failed; no row", w.campaign_id, series_id)
                continue
            if measured is None:
                log.info("attribution: campaign %s (%s..%s) cannot be measured on %s (too little data before or in it)",
                         w.campaign_id, w.window_start, w.window_end, series_id)
                continue
            lift, spend = measured["lift"], w.spend_usd
            cost = spend / lift if lift > 0 and spend is not None and np.isfinite(spend) else math.nan
            rows.append({**w._asdict(), "series_id": series_id, "artist": info["artist"],
                         "platform": info["platform"], "metric": info["metric"], "sources": sources, **measured,
                         "cost_per_incremental": cost})
    if not rows:
        return pd.DataFrame(columns=ATTRIBUTION_COLUMNS)
    out = pd.DataFrame(rows)
    out["window_start"] = pd.to_datetime(out["window_start"])
    out["concurrent_campaigns"] = _concurrent(out)
    out["window_start"] = out["window_start"].dt.date
    out = out.astype({"pre_days": "int64", "measured_days": "int64", "significant": "bool"})
    return out[ATTRIBUTION_COLUMNS].sort_values(["ad_platform", "window_start", "campaign_id", "series_id"]).reset_index(drop=True)


# ----------------------------------------------------------------------------- lagged correlation


def daily_changes(values: pd.Series, weekday_adjust: bool = True) -> pd.Series:
    """Day-over-day change of ``log1p`` (indexed by the later day), only between two consecutive
    observed days; minus the mean change of its weekday when ``weekday_adjust``."""
    s = pd.Series(np.asarray(values, dtype=float), index=pd.DatetimeIndex(values.index).normalize())
    s = s[np.isfinite(s)].groupby(level=0).last().sort_index()
    logged = np.log1p(s.clip(lower=0))
    full = logged.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D")) if len(s) else logged
    change = full.diff().dropna()
    if weekday_adjust and len(change):
        change = change - change.groupby(change.index.dayofweek).transform("mean")
    return change


def correlate_lags(leader: pd.Series, follower: pd.Series, config: AttributionConfig = AttributionConfig()) -> dict | None:  # noqa: B008
    """Correlation of the leader's changes with the follower's ``lag`` days later, every lag
    (module docstring, *Lags*); None when no lag has enough overlap."""
    from scipy import stats

    lead = daily_changes(leader, config.weekday_adjust)
    follow = daily_changes(follower, config.weekday_adjust)
    results: dict[int, tuple[float, float, int]] = {}
    for lag in range(config.min_lag, config.max_lag + 1):
        shifted = pd.Series(follow.to_numpy(), index=follow.index - pd.Timedelta(days=lag))
        both = pd.concat([lead.rename("x"), shifted.rename("y")], axis=1, join="inner").dropna()
        if len(both) < config.min_overlap_days or both["x"].std() == 0 or both["y"].std() == 0:
            continue
        r, p = stats.pearsonr(both["x"], both["y"])
        results[lag] = (float(r), float(p), len(both))
    if not results:
        return None
    best = max(results, key=lambda lag: (results[lag][0], -lag))
    r, p, n = results[best]
    lag0 = results.get(0, (math.nan,))[0]
    return {
        "best_lag_days": best, "correlation": r, "correlation_lag0": lag0, "p_value": p, "overlap_days": n,
        "correlations": json.dumps({str(lag): round(results[lag][0], 4) if lag in results else None
                                    for lag in range(config.min_lag, config.max_lag + 1)}),
    }


def _as_values(part: pd.DataFrame) -> pd.Series:
    return pd.Series(part["value"].to_numpy(dtype=float), index=pd.to_datetime(part["date"]))


def lagged_correlations(series: pd.DataFrame, config: AttributionConfig = AttributionConfig()) -> pd.DataFrame:  # noqa: B008
    """The ``lagged_correlation`` table (without ``created_at``): leader → follower pairs
    (module docstring, *Pairs*)."""
    if series.empty:
        return pd.DataFrame(columns=CORRELATION_COLUMNS)
    by_id = {sid: part for sid, part in series.groupby("series_id", sort=True)}
    info = series.drop_duplicates("series_id").set_index("series_id")
    lead_platform, lead_metric = config.leader
    leaders = info[(info["platform"] == lead_platform) & (info["metric"] == lead_metric)]
    pairs: list[tuple[str | None, str, pd.Series, str]] = []
    for platform, metric in config.followers:
        followers = info[(info["platform"] == platform) & (info["metric"] == metric)]
        account = followers[followers["artist"].isna()].index.tolist()
        for leader_id, row in leaders.iterrows():
            own = followers[followers["artist"] == row["artist"]].index.tolist() if pd.notna(row["artist"]) else []
            target = own or (account if config.account_level else [])
            for follower_id in target[:1]:
                pairs.append((row["artist"] if pd.notna(row["artist"]) else None, leader_id,
                              _as_values(by_id[leader_id]), follower_id))
        if config.account_level and account and len(leaders) >= 2:
            wide = pd.concat([_as_values(by_id[sid]).groupby(level=0).last().rename(sid) for sid in leaders.index], axis=1)
            total = wide.dropna().sum(axis=1)
            if len(total):
                pairs.append((None, f"{lead_platform}/account/{lead_metric}", total, account[0]))
    rows = []
    for artist, leader_id, leader_values, follower_id in pairs:
        try:
            result = correlate_lags(leader_values, _as_values(by_id[follower_id]), config)
        except Exception:
            log.exception("lagged correlation %s → %s failed; no row", leader_id, follower_id)
            continue
        if result is None:
            log.info("lagged correlation %s → %s: fewer than %d overlapping days; no row",
                     leader_id, follower_id, config.min_overlap_days)
            continue
        rows.append({"artist": artist, "leader_series_id": leader_id, "follower_series_id": follower_id, **result})
    if not rows:
        return pd.DataFrame(columns=CORRELATION_COLUMNS)
    out = pd.DataFrame(rows).astype({"best_lag_days": "int64", "overlap_days": "int64"})
    return out[CORRELATION_COLUMNS].sort_values(["leader_series_id", "follower_series_id"]).reset_index(drop=True)


__all__ = [
    "ATTRIBUTION_COLUMNS", "CORRELATION_COLUMNS", "AttributionConfig", "artist_key", "artists_named",
    "attribute_campaigns", "campaign_windows", "correlate_lags", "counterfactual", "daily_changes",
    "lagged_correlations", "measure", "series_for_campaign",
]
