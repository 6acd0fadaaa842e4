"""Market demand, the booking side: where an artist's audience is, country by country (and city
where a source says), and whether a show there is worth booking. Builds ``market_demand``.

One row per artist × country (× city when a source gives cities), plus the same rows for the whole
account (``artist`` null: every artist together, and the account-wide sources). ``as_of`` defaults to
the newest day in the inputs (never today's date, so reruns over the same lake agree); data after
``as_of`` is ignored, so a past ``as_of`` shows what the table said then.

Signals (the ``signals`` column names them)
-------------------------------------------
| signal | kind | table | what counts |
|---|---|---|---|
| ``royalties`` | royalties | ``fct_royalties`` | units (streams) on statement lines of the recent complete sale months |
| ``toolost``, ``distrokid``, ... (the source) | streams | ``fct_streams_totals``, ``dimension = 'country'`` | streams in the newest window, per 28 days |
| ``tiktok``, ``youtube``, ... (the platform) | social | ``fct_social_territories`` | followers there: share × the account's followers (``fct_social_daily``) |
| ``linktree`` (the platform) | links | ``fct_link_breakdown``, ``dimension = 'location'`` | link-page views (clicks when views are missing), per 28 days |

* **Artists.** Names go through ``dim_artist_alias`` (TikTok's ``zone.a0`` is ``ZONE A0``).
  Sources that report the whole account (TooLost's and DistroKid's country charts, a Linktree page
  whose account names no artist) feed only the account rows, except when the lake knows exactly
  one artist: then the account is that artist and they feed its rows too.
* **Not markets.** DistroKid's ``OU`` ("outside the US", lines it does not split by country), ``ZZ``
  (no country), TikTok's "Others" and any name ``dim_territory`` does not know are never rows. They
  stay in each signal's denominator, though: a market's share is of *all* the signal says, so the
  shares of one artist add up to 1 minus what no source could place (under 0.05 % on the
  fixtures: DistroKid's OU lines; about 7 % for the demo's artists: TikTok's "Others" at social's weight).
  Territories are matched by code, then by name, then by alpha-3.
* **YouTube** has no source module yet; ``fct_social_territories`` is read whatever its
  ``platform``, so YouTube's territories join as a social signal the day a source writes them.
* **Cities.** Only Linktree's locations can carry one (``"Berlin, DE"``: documented, no real
  capture seen; the fixtures and the demo have countries only). A city row splits its country: the
  city's fraction of the country's Linktree views × the country's share and streams. Its momentum
  is the city's own when Linktree has two windows of it, else the country's; the signals that agree
  are the country's. ``city`` null rows are whole countries, and only they add up to 1.

Recent window and momentum
--------------------------
The window is 28 days (``window_days``); every volume is per 28 days. ``momentum_28d`` is growth
against the period before as a ratio − 1, per signal, then combined (below). It is null when no
signal can say; it is never guessed. Per signal, only markets with at least
``momentum_min_volume`` (50) per 28 days in one of the two periods get one (1 → 4 streams is no
trend), clipped to ``momentum_clip`` (−90 % … +300 %).

* **Royalties are monthly and late.** DistroKid reports a sale month's bulk about eight weeks after
  it ends (fixtures: February's lines on 25–26 April, March's on 25 May), so the newest months are
  partial: a sale month counts once the source's newest reporting date is ``royalty_settle_months``
  (2) calendar months after it (newest report 26 May 2025: March counts; April, at about 2 % of
  March's units, does not). Volume and earnings are the average of the last ``royalty_months`` (3) complete months
  with lines, × 28 / 30.44. Momentum, the proxy for 28 days: the last complete month against the one
  before (a month without any line for the artist is a gap in the statements, not a zero: it is
  skipped, up to ``royalty_max_gap_months`` (1), else no momentum).
* **Window totals** (country charts, Linktree) come as snapshots. Per source × platform the newest
  window (the shortest if several end that day) gives the volume, scaled to 28 days by its length
  (the period label when there is no start; unknown → unscaled, and no pace). Momentum needs an
  earlier snapshot of the same kind ending at least ``min_snapshot_gap_days`` (7) before: when both
  start the same day (cumulative, as TooLost's exports), the days added since are compared with
  the earlier window's daily rate; when they do not overlap, their daily rates; overlapping rolling
  windows (two one-year charts a month apart) cannot isolate the recent days: no momentum.
* **Social territories** are stocks. Momentum is the growth of the followers in the territory
  between the newest snapshot and one at least 7 days older, compounded to 28 days
  ((new/old)^(28/days) − 1). TikTok lists its top territories only, so a territory missing from one
  of the two snapshots has no momentum (absent is not zero).
* **Combined** momentum: the mean of the signals' momenta weighted like the share (below), over
  the signals that have one.

Share
-----
Per kind, the market's part of the kind's volume (several sources of one kind add up: two
distributors' charts are different catalogues; TikTok and YouTube followers are different people).
The share is the weighted mean over the kinds the artist has (``kind_weights``, renormalised over
them): royalties 0.5 (money actually paid, every store, per artist: the fullest count of listening),
country charts 0.2 (streams, but one platform and often a small part of the total), social
territories 0.2 (followers are fans, not listeners), link locations 0.1 (page visits, small
numbers). A kind the artist lacks takes no weight; a kind the artist has but where the market is
absent counts as 0 for that market. In the momentum mean a kind's weight is split between its
signals.

Streams, listeners, tickets (the conversion assumption)
-------------------------------------------------------
``streams`` = share × the artist's streams per 28 days, the fullest of three estimates (each covers
part of the picture: artist dashboards often one store, royalties every store but two months late,
country charts one platform): the daily streams of the 28 days up to each platform's newest day
on or before ``as_of`` (``v_streams_daily`` per artist, ``v_streams_account_daily`` for the
account; exports lag by days; a platform needs ``daily_min_days`` (14) days in its window, is
scaled to 28, and is left out when its newest day is older than ``max_age_days``), the royalty pace (all units of the
recent complete months, places unknown included), and the country charts' pace. An artist with no
stream count at all (followers only) has no ``streams`` and no ticket estimate.

``est_ticket_demand`` = streams ÷ ``streams_per_listener`` (3: a 28-day monthly-listener count is
about a third of the 28-day streams for an independent act) × ``attendance_rate`` (1.5 %: the share
of monthly listeners in a market who buy a ticket when the artist plays there; rules of thumb in the
industry run 1–2 %). Both are assumptions, configurable, and quoted in every row's ``reasons``.
A country row is the whole country: a large one (the US) is a tour's worth of cities, not one room.

``earnings_usd`` is the royalty earnings from the market per 28 days, at the pace of the recent
complete sale months (null without royalties).

Demand score 0–100
------------------
``100 × (0.4 V + 0.2 S + 0.2 M + 0.2 A)`` (``score_weights``), each part 0..1 and non-decreasing in
its input (so is the score):

* V, volume, on a log scale: ``(log10(1+streams) − log10(1+100)) / (log10(1+100 000) − log10(1+100))``
  clipped to 0..1 (``volume_floor``, ``volume_full``): 100 streams per 28 days is 0, 1,000 ≈ 0.33,
  10,000 ≈ 0.67, 100,000 is 1. No stream count: 0.
* S, share: ``min(1, share / 0.25)`` (``share_full``): a quarter of the listening is full marks.
* M, momentum: ``0.5 + 0.5 tanh(momentum / 0.5)`` (``momentum_scale``): flat is 0.5, +50 % ≈ 0.88,
  −50 % ≈ 0.12; unknown momentum is 0.5, neither helping nor hurting.
* A, agreement: ``min(1, signals / 3)`` (``agree_full``), counting the signals in which the market
  has at least ``agree_min_share`` (2 %) of the signal.

Recommendation
--------------
* **BOOK**: score ≥ 65, ≥ 100 estimated tickets, ≥ 2 agreeing signals, and momentum (when known)
  not below −25 % (a market collapsing is not booked on last season's numbers).
* **CONSIDER**: score ≥ 45 and ≥ 30 estimated tickets.
* **MONITOR**: the rest.

``reasons`` says which thresholds passed and failed, each signal's figure for the market, the
momentum and what it compares, the ticket arithmetic, and which kinds of signal the artist lacks
(the export to add to firm it up).

On the fixtures (DistroKid royalties Jan–Mar 2025, TooLost's and DistroKid's Apple Music country
charts): 375 rows; the US leads every artist and the account (ZONE A0 41 %, PIG1987 34 %, the
account 48 %); the account's US is BOOK (score 89, about 305 tickets from 128,000 streams per 28
days), each artist's US is CONSIDER (royalties are its only signal), the long tail MONITOR. On the
demo: the account's US is BOOK (5 agreeing signals, about 128 tickets).

Pure logic over a DuckDB connection and pandas: no Dagster, no lake I/O. A signal that fails to
load is logged and left out; it never stops the others.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

MARKET_COLUMNS = [
    "artist", "country", "country_name", "city", "streams", "earnings_usd", "share", "momentum_28d",
    "demand_score", "est_ticket_demand", "recommendation", "reasons", "signals", "as_of",
]

KINDS = ("royalties", "streams", "social", "links")
DEFAULT_KIND_WEIGHTS: Mapping[str, float] = {"royalties": 0.5, "streams": 0.2, "social": 0.2, "links": 0.1}
DEFAULT_SCORE_WEIGHTS: Mapping[str, float] = {"volume": 0.4, "share": 0.2, "momentum": 0.2, "agreement": 0.2}
_UNIT = {"royalties": "statement streams", "streams": "its chart's streams", "social": "followers", "links": "page views"}
_KIND_LABEL = {"royalties": "royalty statements", "streams": "country stream charts (TooLost, DistroKid)",
               "social": "social territories (TikTok, YouTube)", "links": "link-page locations (Linktree)"}
_ACCOUNT = "\x00account"  # scope key of the account rows (artist null) while computing
_DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class MarketConfig:
    """Every weight, window, conversion assumption and threshold; reasoning in the module docstring."""

    window_days: int = 28  # every volume is per this many days; momentum compares two such periods
    kind_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS), hash=False)
    royalty_months: int = 3  # complete sale months averaged for royalty volume and earnings
    royalty_settle_months: int = 2  # a sale month is complete this many calendar months before the newest report
    royalty_max_gap_months: int = 1  # months without any line skipped when finding "the month before"
    max_age_days: int = 183  # a signal whose newest data ends longer before as_of is stale: left out
    min_snapshot_gap_days: int = 7  # an earlier snapshot must end at least this long before the newest
    momentum_min_volume: float = 50.0  # per 28 days (or followers), in either period, for a momentum
    momentum_clip: tuple[float, float] = (-0.9, 3.0)  # per-signal momentum bounds (−90 %, +300 %)
    daily_min_days: int = 14  # days a platform needs in the 28-day window to count in the daily pace
    streams_per_listener: float = 3.0  # ASSUMPTION: 28-day streams per monthly listener
    attendance_rate: float = 0.015  # ASSUMPTION: monthly listeners in a market who buy a ticket
    volume_floor: float = 100.0  # streams per 28 days worth 0 on the volume part of the score
    volume_full: float = 100_000.0  # ... and worth 1
    share_full: float = 0.25  # share worth full marks
    momentum_scale: float = 0.5  # M = 0.5 + 0.5 tanh(momentum / scale)
    agree_min_share: float = 0.02  # a signal backs a market when the market has this share of it
    agree_full: int = 3  # agreeing signals worth full marks
    score_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SCORE_WEIGHTS), hash=False)
    book_score: float = 65.0
    book_tickets: int = 100
    book_min_signals: int = 2
    book_min_momentum: float = -0.25
    consider_score: float = 45.0
    consider_tickets: int = 30


# --- small helpers ------------------------------------------------------------------------------


def _read(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame | None:
    """The query's frame, or None when a table or view it reads is not in the warehouse."""
    try:
        return con.execute(sql, params or []).df()
    except duckdb.CatalogException as exc:
        log.info("market demand: %s", str(exc).splitlines()[0])
        return None


def _ts(value) -> pd.Timestamp | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def _dates(col: pd.Series) -> pd.Series:
    out = pd.to_datetime(col, errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.dt.normalize()


def _month_index(ts: pd.Series | pd.Timestamp):
    return ts.dt.year * 12 + ts.dt.month - 1 if isinstance(ts, pd.Series) else ts.year * 12 + ts.month - 1


def _month_end(ts: pd.Timestamp) -> pd.Timestamp:
    return (ts + pd.offsets.MonthEnd(0)).normalize()


def _pct(x: float, signed: bool = False) -> str:
    v = 100 * x
    text = f"{v:.1f}" if abs(v) < 10 else f"{v:.0f}"
    if signed and v >= 0:
        text = "+" + text
    return f"{text} %"


def _num(x: float) -> str:
    return f"{x:,.0f}"


class _Places:
    """Territory text (a code, an English name, an alpha-3) → ISO alpha-2 of a real market."""

    def __init__(self, con):
        df = _read(con, "SELECT code, alpha3, name, kind FROM dim_territory")
        if df is None:
            from assets.reference import territories

            df = territories()
        not_markets = (df["kind"] == "distributor") | (df["code"] == "ZZ")
        real = df[~not_markets]
        self.names: dict[str, str] = dict(zip(real["code"], real["name"]))
        self._by_text: dict[str, str] = {}
        for col in ("alpha3", "name"):
            for code, text in zip(real["code"], real[col]):
                if isinstance(text, str):
                    self._by_text.setdefault(text.strip().lower(), code)
        self._cache: dict[str, str | None] = {}

    def code(self, text) -> str | None:
        if not isinstance(text, str) or not text.strip():
            return None
        if text not in self._cache:
            t = text.strip()
            self._cache[text] = t.upper() if t.upper() in self.names else self._by_text.get(t.lower())
        return self._cache[text]


@dataclass
class _Ctx:
    con: duckdb.DuckDBPyConnection
    config: MarketConfig
    as_of: pd.Timestamp
    places: _Places
    alias: dict[str, str]
    single_artist: str | None

    def artist(self, name) -> str | None:
        if not isinstance(name, str):
            return None
        return self.alias.get(name, name)

    def scopes(self, df: pd.DataFrame) -> pd.DataFrame:
        """Rows (canonical ``artist``, None = the account) repeated for every scope they feed: their
        artist, the account, and the lone artist for account-level rows when there is one."""
        parts = [df.assign(scope=_ACCOUNT)]
        named = df["artist"].notna()
        parts.append(df[named].assign(scope=df.loc[named, "artist"]))
        if self.single_artist is not None:
            parts.append(df[~named].assign(scope=self.single_artist))
        return pd.concat(parts, ignore_index=True)

    def fresh(self, day: pd.Timestamp) -> bool:
        return day >= self.as_of - pd.Timedelta(days=self.config.max_age_days)

    def fresh_series(self, days: pd.Series) -> pd.Series:
        return days >= self.as_of - pd.Timedelta(days=self.config.max_age_days)


OBS_COLUMNS = ["scope", "signal", "kind", "country", "city", "value", "m_cur", "m_prev", "earnings", "data_date"]
TOTAL_COLUMNS = ["scope", "signal", "kind", "total", "pace", "basis", "m_basis"]


def _aggregate(obs: pd.DataFrame, totals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sum observations and totals over everything that feeds one scope × signal (× market). Momentum
    rates are summed only where both periods are known."""
    if obs.empty:
        return pd.DataFrame(columns=OBS_COLUMNS), pd.DataFrame(columns=TOTAL_COLUMNS)
    obs = obs.copy()
    known = obs["m_cur"].notna() & obs["m_prev"].notna()
    obs.loc[~known, ["m_cur", "m_prev"]] = np.nan
    obs["city"] = obs["city"].fillna("")
    keys = ["scope", "signal", "kind", "country", "city"]
    agg = obs.groupby(keys, sort=False).agg(
        value=("value", "sum"), m_cur=("m_cur", lambda s: s.sum(min_count=1)),
        m_prev=("m_prev", lambda s: s.sum(min_count=1)), earnings=("earnings", lambda s: s.sum(min_count=1)),
        data_date=("data_date", "max")).reset_index()
    agg["city"] = agg["city"].replace("", None)
    tot = totals.groupby(["scope", "signal", "kind"], sort=False).agg(
        total=("total", "sum"), pace=("pace", lambda s: s.sum(min_count=1)),
        basis=("basis", lambda s: "; ".join(dict.fromkeys(x for x in s if x))),
        m_basis=("m_basis", lambda s: "; ".join(dict.fromkeys(x for x in s if x)))).reset_index()
    return agg[OBS_COLUMNS], tot[TOTAL_COLUMNS]


# --- the signals --------------------------------------------------------------------------------


def _royalties(ctx: _Ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    cfg = ctx.config
    df = _read(ctx.con, "SELECT sale_month, reporting_date, source, artist, country, quantity, earnings_usd "
                        "FROM fct_royalties WHERE reporting_date <= ? AND sale_month IS NOT NULL",
               [ctx.as_of.date()])
    if df is None or df.empty:
        return pd.DataFrame(columns=OBS_COLUMNS), pd.DataFrame(columns=TOTAL_COLUMNS)
    df["sale_month"] = _dates(df["sale_month"]).dt.to_period("M").dt.to_timestamp()
    df["reporting_date"] = _dates(df["reporting_date"])
    newest = df.groupby("source")["reporting_date"].transform("max")
    complete = _month_index(newest) - _month_index(df["sale_month"]) >= cfg.royalty_settle_months
    df = df[complete].copy()
    df["artist"] = df["artist"].map(ctx.artist)
    df["country"] = df["country"].map(ctx.places.code)
    df["quantity"] = pd.to_numeric(df["quantity"], errors="coerce").fillna(0.0)
    df["earnings_usd"] = pd.to_numeric(df["earnings_usd"], errors="coerce").fillna(0.0)
    obs, totals = [], []
    for scope, part in ctx.scopes(df).groupby("scope", sort=True):
        months = sorted(part["sale_month"].unique())
        recent = [pd.Timestamp(m) for m in months[-cfg.royalty_months:]]
        last = recent[-1]
        if not ctx.fresh(_month_end(last)):
            log.info("market demand: royalties of %s end %s, stale; left out", scope, last.date())
            continue
        inside = part[part["sale_month"].isin(recent)]
        scale = cfg.window_days / (_DAYS_PER_MONTH * len(recent))
        total = inside["quantity"].sum() * scale
        if total <= 0:
            continue
        by = inside.dropna(subset=["country"]).groupby("country")[["quantity", "earnings_usd"]].sum()
        o = pd.DataFrame({"country": by.index, "value": by["quantity"].clip(lower=0).to_numpy() * scale,
                          "earnings": by["earnings_usd"].to_numpy() * scale})
        prev = [pd.Timestamp(m) for m in months[:-1] if pd.Timestamp(m) < last]
        m_basis = ""
        month_scale = cfg.window_days / _DAYS_PER_MONTH
        o["m_cur"], o["m_prev"] = np.nan, np.nan
        if prev and _month_index(last) - _month_index(prev[-1]) - 1 <= cfg.royalty_max_gap_months:
            before = prev[-1]
            cur = part[part["sale_month"] == last].groupby("country")["quantity"].sum().clip(lower=0)
            old = part[part["sale_month"] == before].groupby("country")["quantity"].sum().clip(lower=0)
            o["m_cur"] = o["country"].map(cur).fillna(0.0).to_numpy() * month_scale
            o["m_prev"] = o["country"].map(old).fillna(0.0).to_numpy() * month_scale
            m_basis = f"{last:%b %Y} vs {before:%b %Y}"
            if _month_index(last) - _month_index(before) > 1:
                m_basis += ", the month between has no statement lines"
        o = o.assign(scope=scope, signal="royalties", kind="royalties", city=None, data_date=_month_end(last))
        obs.append(o)
        span = f"{recent[0]:%b %Y}" if len(recent) == 1 else f"{recent[0]:%b %Y}–{last:%b %Y}"
        totals.append(dict(scope=scope, signal="royalties", kind="royalties", total=total, pace=total,
                           basis=f"royalty statements {span}", m_basis=m_basis))
    return (pd.concat(obs, ignore_index=True)[OBS_COLUMNS] if obs else pd.DataFrame(columns=OBS_COLUMNS),
            pd.DataFrame(totals, columns=TOTAL_COLUMNS))


_PERIOD_DAYS = {"year": 365, "1year": 365, "last365days": 365, "month": 28, "week": 7}


def _period_days(label) -> float:
    if not isinstance(label, str):
        return np.nan
    text = label.strip().lower().replace(" ", "")
    if text in _PERIOD_DAYS:
        return float(_PERIOD_DAYS[text])
    m = re.fullmatch(r"(?:last)?(\d+)(day|days|d|week|weeks|w|year|years|y)", text)
    if not m:
        return np.nan
    n, unit = int(m.group(1)), m.group(2)[0]
    return float(n * {"d": 1, "w": 7, "y": 365}[unit])


def _snapshot(part: pd.DataFrame, snap: pd.Series) -> pd.Series:
    """Value per market (country, city; city '' = none) of one window of ``part``."""
    m = ((part["period"] == snap["period"]) & (part["period_end"] == snap["period_end"])
         & (part["period_start"].isna() if pd.isna(snap["period_start"]) else part["period_start"] == snap["period_start"]))
    return part[m].groupby(["country", "city"])["value"].sum()


def _windows(ctx: _Ctx, df: pd.DataFrame, group: list[str], signal_of, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Window totals (``period_start, period_end, period, country, city, value`` + ``group``): per
    group the newest window's value per 28 days, and momentum against an earlier snapshot."""
    cfg = ctx.config
    df = df.copy()
    df["period_start"] = _dates(df["period_start"])
    df["period_end"] = _dates(df["period_end"])
    df = df[df["period_end"].notna() & (df["period_end"] <= ctx.as_of)]
    df["period"] = df["period"].fillna("").astype(str)
    df["days"] = ((df["period_end"] - df["period_start"]).dt.days + 1).astype(float)
    df["days"] = df["days"].where(df["days"] > 0, df["period"].map(_period_days))
    df["value"] = pd.to_numeric(df["value"], errors="coerce").clip(lower=0).fillna(0.0)
    df["country"] = df["country"].fillna("")  # '' = a place that is not a market: in the total only
    df["city"] = df["city"].fillna("")
    obs, totals = [], []
    for key, part in df.groupby(group, sort=True, dropna=False):
        key = dict(zip(group, key if isinstance(key, tuple) else (key,)))
        snaps = (part[["period", "period_start", "period_end", "days"]].drop_duplicates()
                 .assign(_d=lambda s: s["days"].fillna(np.inf))
                 .sort_values(["period_end", "_d"], ascending=[False, True]))
        cur = snaps.iloc[0]
        label = " ".join(str(v) for v in key.values() if isinstance(v, str))
        if not ctx.fresh(cur["period_end"]):
            log.info("market demand: %s ends %s, stale; left out", label, cur["period_end"].date())
            continue
        now = _snapshot(part, cur)
        days = cur["days"]
        scale = cfg.window_days / days if days == days else 1.0
        total = float(now.sum()) * scale
        now = now[now.index.get_level_values("country") != ""]
        if total <= 0 or now.empty:
            continue
        o = pd.DataFrame({"country": now.index.get_level_values("country"),
                          "city": now.index.get_level_values("city"), "value": now.to_numpy() * scale,
                          "m_cur": np.nan, "m_prev": np.nan})
        window = (f"{cur['period_start']:%Y-%m-%d}..{cur['period_end']:%Y-%m-%d}" if pd.notna(cur["period_start"])
                  else f"{cur['period'] or 'window'} to {cur['period_end']:%Y-%m-%d}")
        m_basis = ""
        earlier = snaps[(snaps["period"] == cur["period"])
                        & (snaps["period_end"] <= cur["period_end"] - pd.Timedelta(days=cfg.min_snapshot_gap_days))]
        if len(earlier) and days == days and earlier.iloc[0]["days"] == earlier.iloc[0]["days"]:
            prev = earlier.iloc[0]
            # a market missing from one of the two windows has no momentum (lists can be top-N)
            old_v = _snapshot(part, prev).reindex(now.index).to_numpy(dtype=float)
            new_v = now.to_numpy(dtype=float)
            if pd.notna(cur["period_start"]) and cur["period_start"] == prev["period_start"]:
                added = (cur["period_end"] - prev["period_end"]).days
                inc = new_v - old_v
                ok = inc >= 0  # a total going down is a restatement, not a trend
                o["m_cur"] = np.where(ok, inc * cfg.window_days / added, np.nan)
                o["m_prev"] = np.where(ok, old_v * cfg.window_days / prev["days"], np.nan)
                m_basis = (f"{label}: the {added} days to {cur['period_end']:%Y-%m-%d} vs the window to "
                           f"{prev['period_end']:%Y-%m-%d}")
            elif pd.notna(cur["period_start"]) and prev["period_end"] < cur["period_start"]:
                o["m_cur"] = new_v * cfg.window_days / days
                o["m_prev"] = old_v * cfg.window_days / prev["days"]
                m_basis = f"{label}: window to {cur['period_end']:%Y-%m-%d} vs window to {prev['period_end']:%Y-%m-%d}"
            else:
                m_basis = f"{label}: successive windows overlap, no momentum"
        o = o.assign(signal=signal_of(key), kind=kind, artist=key.get("artist"), data_date=cur["period_end"],
                     earnings=np.nan)
        obs.append(o)
        totals.append(dict(signal=signal_of(key), kind=kind, artist=key.get("artist"), total=total,
                           pace=total if (kind == "streams" and days == days) else np.nan,
                           basis=f"{label} {window}", m_basis=m_basis))
    if not obs:
        return pd.DataFrame(columns=OBS_COLUMNS), pd.DataFrame(columns=TOTAL_COLUMNS)
    return _aggregate(ctx.scopes(pd.concat(obs, ignore_index=True)), ctx.scopes(pd.DataFrame(totals)))


def _stream_charts(ctx: _Ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = _read(ctx.con, "SELECT period_start, period_end, period, platform, source, artist, item, streams AS value "
                        "FROM fct_streams_totals WHERE dimension = 'country'")
    if df is None or df.empty:
        return pd.DataFrame(columns=OBS_COLUMNS), pd.DataFrame(columns=TOTAL_COLUMNS)
    df["artist"] = df["artist"].map(ctx.artist)
    df["country"] = df["item"].map(ctx.places.code)
    df["city"] = None
    return _windows(ctx, df, ["source", "platform", "artist"], lambda k: k["source"], "streams")


def _split_location(item) -> tuple[str | None, str | None]:
    """Linktree's location item: ``"City, Country"`` or ``"Country"`` → (city, country text)."""
    if not isinstance(item, str):
        return None, None
    if ", " in item:
        city, country = item.rsplit(", ", 1)
        return city.strip() or None, country
    return None, item


def _link_locations(ctx: _Ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = _read(ctx.con, "SELECT period_start, coalesce(period_end, CAST(observed_at AS DATE)) AS period_end, "
                        "NULL AS period, platform, account, item, coalesce(views, clicks) AS value "
                        "FROM fct_link_breakdown WHERE dimension = 'location'")
    if df is None or df.empty:
        return pd.DataFrame(columns=OBS_COLUMNS), pd.DataFrame(columns=TOTAL_COLUMNS)
    split = df["item"].map(_split_location)
    df["city"] = split.map(lambda p: p[0])
    df["country"] = split.map(lambda p: ctx.places.code(p[1]))
    df.loc[df["country"].isna(), "city"] = None
    df["artist"] = df["account"].map(ctx.artist)
    df["period"] = None
    return _windows(ctx, df, ["platform", "account", "artist"], lambda k: k["platform"], "links")


def _followers_at(counts: pd.DataFrame | None, day: pd.Timestamp) -> float:
    """The account's newest follower count on or before ``day`` (NaN when there is none)."""
    if counts is None or counts.empty:
        return np.nan
    before = counts[_dates(counts["date"]) <= day]
    return float(before["followers"].iloc[-1]) if len(before) else np.nan


def _social(ctx: _Ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    cfg = ctx.config
    df = _read(ctx.con, "SELECT snapshot_date, platform, account, territory, share FROM fct_social_territories "
                        "WHERE snapshot_date <= ? AND share IS NOT NULL", [ctx.as_of.date()])
    if df is None or df.empty:
        return pd.DataFrame(columns=OBS_COLUMNS), pd.DataFrame(columns=TOTAL_COLUMNS)
    followers = _read(ctx.con, "SELECT date, platform, account, followers FROM fct_social_daily "
                               "WHERE followers IS NOT NULL AND date <= ? ORDER BY date", [ctx.as_of.date()])
    df["snapshot_date"] = _dates(df["snapshot_date"])
    df["country"] = df["territory"].map(ctx.places.code)
    obs, totals = [], []
    for (platform, account), part in df.groupby(["platform", "account"], sort=True):
        days = sorted(part["snapshot_date"].unique(), reverse=True)
        cur = pd.Timestamp(days[0])
        if not ctx.fresh(cur):
            continue

        counts = (followers[(followers["platform"] == platform) & (followers["account"] == account)]
                  if followers is not None else None)
        n_now = _followers_at(counts, cur)
        if not n_now == n_now:
            log.warning("market demand: no follower count for %s %s; its territories weigh as one follower",
                        platform, account)
            n_now = 1.0
        now = part[part["snapshot_date"] == cur]
        shares = now.groupby("country", dropna=False)["share"].sum()
        total = n_now * max(1.0, float(now["share"].sum()))
        o = pd.DataFrame({"country": shares.index, "value": shares.to_numpy() * n_now}).dropna(subset=["country"])
        o["m_cur"], o["m_prev"] = np.nan, np.nan
        m_basis = ""
        older = [pd.Timestamp(d) for d in days[1:] if pd.Timestamp(d) <= cur - pd.Timedelta(days=cfg.min_snapshot_gap_days)]
        if older:
            then = older[0]
            n_then = _followers_at(counts, then)
            n_then = n_now if not n_then == n_then else n_then
            old = part[part["snapshot_date"] == then].groupby("country")["share"].sum() * n_then
            gap = (cur - then).days
            old_v = o["country"].map(old).to_numpy(dtype=float)
            new_v = o["value"].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                growth = np.where(old_v > 0, (new_v / old_v) ** (cfg.window_days / gap), np.nan)
                o["m_cur"] = np.where(old_v > 0, new_v, np.nan)
                o["m_prev"] = np.where(growth > 0, new_v / growth, np.where(old_v > 0, old_v, np.nan))
            m_basis = f"{platform} {account}: followers {cur:%Y-%m-%d} vs {then:%Y-%m-%d}, per 28 days"
        o = o.assign(signal=platform, kind="social", city=None, artist=ctx.artist(account), data_date=cur,
                     earnings=np.nan)
        obs.append(o)
        totals.append(dict(signal=platform, kind="social", artist=ctx.artist(account), total=total, pace=np.nan,
                           basis=f"{platform} {account} territories {cur:%Y-%m-%d} × {_num(n_now)} followers",
                           m_basis=m_basis))
    if not obs:
        return pd.DataFrame(columns=OBS_COLUMNS), pd.DataFrame(columns=TOTAL_COLUMNS)
    return _aggregate(ctx.scopes(pd.concat(obs, ignore_index=True)), ctx.scopes(pd.DataFrame(totals)))


def _daily_pace(ctx: _Ctx) -> dict[str, tuple[float, str]]:
    """Streams per 28 days from the daily series, per scope: (pace, what it covers). Each platform's
    window is the 28 days up to its newest day on or before ``as_of`` (exports lag by days, and
    royalty reports can be newer than any daily figure); a platform whose newest day is stale, or
    with fewer than ``daily_min_days`` days in its window, is left out."""
    cfg = ctx.config
    start = (ctx.as_of - pd.Timedelta(days=cfg.max_age_days + cfg.window_days)).date()
    frames = []
    artist = _read(ctx.con, "SELECT date, platform, artist, streams FROM v_streams_daily WHERE track IS NULL "
                            "AND artist IS NOT NULL AND date BETWEEN ? AND ?", [start, ctx.as_of.date()])
    if artist is not None and len(artist):
        artist["artist"] = artist["artist"].map(ctx.artist)
        frames.append(artist.assign(scope=artist["artist"]))
    account = _read(ctx.con, "SELECT date, platform, streams FROM v_streams_account_daily WHERE date BETWEEN ? AND ?",
                    [start, ctx.as_of.date()])
    if account is not None and len(account):
        frames.append(account.assign(scope=_ACCOUNT))
        if ctx.single_artist is not None:
            frames.append(account.assign(scope=ctx.single_artist))
    if not frames:
        return {}
    df = pd.concat(frames, ignore_index=True)
    if "artist" not in df:
        df["artist"] = None
    df["artist"] = df["artist"].fillna("")
    df["date"] = _dates(df["date"])
    df["streams"] = pd.to_numeric(df["streams"], errors="coerce")
    df = df.dropna(subset=["streams", "date"])
    keys = ["scope", "platform", "artist"]
    last = df.groupby(keys)["date"].transform("max")
    df = df[(df["date"] > last - pd.Timedelta(days=cfg.window_days)) & ctx.fresh_series(last)]
    out: dict[str, tuple[float, str]] = {}
    per = df.groupby(keys).agg(days=("date", "nunique"), streams=("streams", "sum"), last=("date", "max")).reset_index()
    per = per[per["days"] >= cfg.daily_min_days]
    per["pace"] = per["streams"] * cfg.window_days / per["days"]
    # the lone artist can get both its own and the account's daily rows: the larger per platform
    per = per.sort_values("pace").groupby(["scope", "platform"]).tail(1)
    for scope, part in per.groupby("scope"):
        out[scope] = (float(part["pace"].sum()), f"daily streams on {', '.join(sorted(part['platform']))} "
                                                 f"to {part['last'].max():%Y-%m-%d}")
    return out


# --- combining ----------------------------------------------------------------------------------


def _momentum(cur: float, prev: float, cfg: MarketConfig) -> float:
    if not (cur == cur and prev == prev) or max(cur, prev) < cfg.momentum_min_volume:
        return np.nan
    lo, hi = cfg.momentum_clip
    return hi if prev <= 0 else float(np.clip(cur / prev - 1.0, lo, hi))


def score_parts(streams: float, share: float, momentum: float, agreeing: int,
                config: MarketConfig = MarketConfig()) -> dict[str, float]:  # noqa: B008
    """The four parts of the demand score, each 0..1 (see the module docstring)."""
    cfg = config
    lo, hi = math.log10(1 + cfg.volume_floor), math.log10(1 + cfg.volume_full)
    volume = 0.0 if not streams == streams else min(1.0, max(0.0, (math.log10(1 + max(streams, 0.0)) - lo) / (hi - lo)))
    return {
        "volume": volume,
        "share": min(1.0, max(0.0, share) / cfg.share_full),
        "momentum": 0.5 if not momentum == momentum else 0.5 + 0.5 * math.tanh(momentum / cfg.momentum_scale),
        "agreement": min(1.0, agreeing / cfg.agree_full),
    }


def demand_score(streams: float, share: float, momentum: float, agreeing: int,
                 config: MarketConfig = MarketConfig()) -> float:  # noqa: B008
    """0–100, non-decreasing in each input: ``100 × Σ weight × part`` (:func:`score_parts`)."""
    parts = score_parts(streams, share, momentum, agreeing, config)
    weights = config.score_weights
    total = sum(weights.values()) or 1.0
    return round(100.0 * sum(weights.get(k, 0.0) * v for k, v in parts.items()) / total, 1)


def ticket_demand(streams: float, config: MarketConfig = MarketConfig()) -> int | None:  # noqa: B008
    """Estimated tickets: streams per 28 days ÷ streams per listener × attendance rate (rounded)."""
    if streams is None or not streams == streams:
        return None
    return int(round(max(streams, 0.0) / config.streams_per_listener * config.attendance_rate))


def recommend(score: float, tickets: int | None, agreeing: int, momentum: float,
              config: MarketConfig = MarketConfig()) -> tuple[str, list[str]]:  # noqa: B008
    """(BOOK / CONSIDER / MONITOR, the thresholds passed and failed as phrases)."""
    cfg = config
    t = -1 if tickets is None else tickets
    book = [
        (score >= cfg.book_score, f"score {score:.0f} {'≥' if score >= cfg.book_score else '<'} {cfg.book_score:.0f}"),
        (t >= cfg.book_tickets, (f"≈ {_num(t)} tickets {'≥' if t >= cfg.book_tickets else '<'} {cfg.book_tickets}"
                                 if tickets is not None else "no ticket estimate (no stream count)")),
        (agreeing >= cfg.book_min_signals, f"{agreeing} agreeing signal{'s' if agreeing != 1 else ''} "
                                           f"({'≥' if agreeing >= cfg.book_min_signals else '<'} {cfg.book_min_signals})"),
        (not momentum == momentum or momentum >= cfg.book_min_momentum,
         "momentum unknown" if not momentum == momentum else
         f"momentum {_pct(momentum, True)} {'≥' if momentum >= cfg.book_min_momentum else '<'} {_pct(cfg.book_min_momentum, True)}"),
    ]
    if all(ok for ok, _ in book):
        return "BOOK", ["BOOK: " + ", ".join(text for _, text in book) + "."]
    failed_book = [text for ok, text in book if not ok]
    consider = [
        (score >= cfg.consider_score, f"score {score:.0f} {'≥' if score >= cfg.consider_score else '<'} {cfg.consider_score:.0f}"),
        (t >= cfg.consider_tickets, (f"≈ {_num(t)} tickets {'≥' if t >= cfg.consider_tickets else '<'} {cfg.consider_tickets}"
                                     if tickets is not None else "no ticket estimate (no stream count)")),
    ]
    if all(ok for ok, _ in consider):
        return "CONSIDER", [f"CONSIDER: {', '.join(text for _, text in consider)}; not BOOK: {', '.join(failed_book)}."]
    failed = [text for ok, text in consider if not ok]
    return "MONITOR", [f"MONITOR: {', '.join(failed)} (CONSIDER needs score ≥ {cfg.consider_score:.0f} and "
                       f"≥ {cfg.consider_tickets} tickets)."]


def _scope_rows(scope: str, obs: pd.DataFrame, totals: pd.DataFrame, pace: dict[str, tuple[float, str]],
                ctx: _Ctx) -> list[dict]:
    cfg = ctx.config
    sig = {r["signal"]: r for r in totals.to_dict("records")}
    order = [s for k in KINDS for s in sorted(sig) if sig[s]["kind"] == k]
    kinds = [k for k in KINDS if any(v["kind"] == k for v in sig.values())]
    raw_w = {k: float(cfg.kind_weights.get(k, 0.0)) for k in kinds}
    w_sum = sum(raw_w.values())
    if w_sum <= 0:
        return []
    weight = {k: v / w_sum for k, v in raw_w.items()}
    per_kind = {k: sum(1 for v in sig.values() if v["kind"] == k) for k in kinds}
    sig_weight = {s: weight[v["kind"]] / per_kind[v["kind"]] for s, v in sig.items()}
    kind_total = {k: sum(v["total"] for v in sig.values() if v["kind"] == k) for k in kinds}

    # the artist's streams per 28 days: the fullest estimate
    estimates = []
    if scope in pace:
        estimates.append(pace[scope])
    for kind in ("royalties", "streams"):
        paces = [v for s, v in sig.items() if v["kind"] == kind and v["pace"] == v["pace"]]
        if paces:
            estimates.append((float(sum(v["pace"] for v in paces)), "; ".join(v["basis"] for v in paces)))
    artist_streams, streams_basis = max(estimates, key=lambda e: e[0]) if estimates else (np.nan, "")

    # per signal × country (a signal's cities roll up into their country)
    country = obs.groupby(["signal", "country"], sort=False).agg(
        value=("value", "sum"), m_cur=("m_cur", lambda s: s.sum(min_count=1)),
        m_prev=("m_prev", lambda s: s.sum(min_count=1)), earnings=("earnings", lambda s: s.sum(min_count=1)),
        data_date=("data_date", "max")).reset_index()
    country = country[country["value"] > 0]
    kind_of = country["signal"].map(lambda s: sig[s]["kind"])
    country["share_s"] = country["value"] / country["signal"].map(lambda s: sig[s]["total"])
    country["momentum"] = [_momentum(c, p, cfg) for c, p in zip(country["m_cur"], country["m_prev"])]
    country["w"] = country["signal"].map(sig_weight)
    country["part"] = kind_of.map(weight) * country["value"] / kind_of.map(kind_total)
    country["agrees"] = country["share_s"] >= cfg.agree_min_share
    country["royalty_earnings"] = country["earnings"].where(kind_of == "royalties")
    known = country.dropna(subset=["momentum"])
    markets = pd.DataFrame({
        "share": country.groupby("country")["part"].sum(),
        "agreeing": country.groupby("country")["agrees"].sum(),
        "earnings": country.groupby("country")["royalty_earnings"].sum(min_count=1),
        "as_of": country.groupby("country")["data_date"].max(),
        "momentum": (known["w"] * known["momentum"]).groupby(known["country"]).sum()
        / known.groupby("country")["w"].sum(),
    })
    markets = markets[markets["share"] > 0].sort_values("share", ascending=False, kind="stable")
    detail: dict[str, dict[str, dict]] = {}
    for r in country.to_dict("records"):
        detail.setdefault(r["country"], {})[r["signal"]] = r
    cities = obs[obs["city"].notna()]
    city_groups = dict(list(cities.groupby(["country", "city"], sort=True))) if len(cities) else {}

    missing_kinds = [k for k in KINDS if k not in kinds and cfg.kind_weights.get(k, 0.0) > 0]
    common = dict(scope=scope, artist_streams=artist_streams, streams_basis=streams_basis, sig=sig, order=order,
                  missing_kinds=missing_kinds, n_markets=len(markets))
    rows = []
    for rank, (code, m) in enumerate(markets.iterrows(), start=1):
        per_signal = detail[code]
        mom = {s: r["momentum"] for s, r in per_signal.items() if r["momentum"] == r["momentum"]}
        base = dict(code=code, share=float(m["share"]), momentum=float(m["momentum"]), agreeing=int(m["agreeing"]),
                    per_signal=per_signal, mom=mom, earnings=float(m["earnings"]), as_of=m["as_of"], rank=rank)
        rows.append(_row(base, None, None, ctx, **common))
        # city rows: the city's fraction of the country's figure on each signal that has cities
        for (c_code, city), cpart in city_groups.items():
            if c_code != code:
                continue
            fractions = [v / per_signal[s]["value"] for s, v in zip(cpart["signal"], cpart["value"]) if s in per_signal]
            if not fractions:
                continue
            frac = float(np.mean(fractions))
            cmom = {s: _momentum(c, p, cfg) for s, c, p in zip(cpart["signal"], cpart["m_cur"], cpart["m_prev"])}
            cmom = {s: v for s, v in cmom.items() if v == v}
            city_base = dict(base, share=base["share"] * frac,
                             momentum=float(np.mean(list(cmom.values()))) if cmom else base["momentum"],
                             mom=cmom or base["mom"], earnings=np.nan, as_of=max(base["as_of"], cpart["data_date"].max()))
            rows.append(_row(city_base, city, (frac, ", ".join(sorted(set(cpart["signal"])))), ctx, **common))
    return rows


def _row(base: dict, city: str | None, city_note: tuple[float, str] | None, ctx: _Ctx, *, scope: str,
         artist_streams: float, streams_basis: str, sig: dict, order: list[str], missing_kinds: list[str],
         n_markets: int) -> dict:
    cfg = ctx.config
    code, share, momentum, agreeing = base["code"], base["share"], base["momentum"], base["agreeing"]
    per_signal = base["per_signal"]
    streams = share * artist_streams if artist_streams == artist_streams else np.nan
    tickets = ticket_demand(streams, cfg)
    score = demand_score(streams, share, momentum, agreeing, cfg)
    verdict, reasons = recommend(score, tickets, agreeing, momentum, cfg)
    place = ctx.places.names.get(code, code)
    where = f"{city} ({place})" if city else place
    reasons.append(f"{where} is market #{base['rank']} of {n_markets} with {_pct(share)} of the listening "
                   f"(signals weighted).")
    if city_note:
        reasons.append(f"City split: {city} has {_pct(city_note[0])} of the country's {city_note[1]} visits.")
    backing = []
    for s in order:
        kind = sig[s]["kind"]
        if s in per_signal:
            r = per_signal[s]
            mark = "" if r["agrees"] else f", under the {_pct(cfg.agree_min_share)} to agree"
            backing.append(f"{s} {_pct(r['share_s'])} of {_UNIT[kind]} ({_num(r['value'])}"
                           f"{' per 28 days' if kind != 'social' else ''}{mark})")
        else:
            backing.append(f"{s}: not in its list")
    reasons.append("Signals: " + "; ".join(backing) + ".")
    mom = base["mom"]
    if momentum == momentum:
        detail = "; ".join(f"{s} {_pct(m, True)}" + (f", {sig[s]['m_basis']}" if sig[s]["m_basis"] else "")
                           for s, m in mom.items())
        reasons.append(f"Momentum {_pct(momentum, True)} ({detail}).")
    else:
        why = "; ".join(sig[s]["m_basis"] for s in order if sig[s]["m_basis"]) or "one snapshot or month per signal"
        reasons.append(f"Momentum unknown ({why}; under {_num(cfg.momentum_min_volume)} per 28 days in both "
                       f"periods counts as unknown).")
    if streams == streams:
        listeners = streams / cfg.streams_per_listener
        reasons.append(
            f"Tickets (assumption): ≈ {_num(streams)} streams in 28 days ({_pct(share)} of the "
            f"{'account' if scope == _ACCOUNT else 'artist'}'s {_num(artist_streams)}, from {streams_basis}) "
            f"÷ {cfg.streams_per_listener:g} streams per listener ≈ {_num(listeners)} monthly listeners × "
            f"{_pct(cfg.attendance_rate)} attendance ≈ {_num(tickets)}.")
    else:
        reasons.append("No stream count for this artist, so no ticket estimate: add royalty statements or a "
                       "streams export.")
    earnings = base["earnings"]
    if earnings == earnings:
        reasons.append(f"Royalties: ${earnings:,.2f} per 28 days.")
    if missing_kinds:
        reasons.append("Not covered: " + ", ".join(_KIND_LABEL[k] for k in missing_kinds) +
                       "; adding them would firm this up.")
    as_of = base["as_of"]
    return {
        "artist": None if scope == _ACCOUNT else scope,
        "country": code,
        "country_name": place,
        "city": city,
        "streams": None if not streams == streams else round(float(streams), 1),
        "earnings_usd": None if not earnings == earnings else round(float(earnings), 4),
        "share": float(share),
        "momentum_28d": None if not momentum == momentum else round(float(momentum), 4),
        "demand_score": score,
        "est_ticket_demand": tickets,
        "recommendation": verdict,
        "reasons": " ".join(reasons),
        "signals": ",".join(s for s in order if s in per_signal),
        "as_of": as_of.date() if isinstance(as_of, pd.Timestamp) else as_of,
    }


# --- entry point --------------------------------------------------------------------------------


_AS_OF_SQL = (
    "SELECT max(reporting_date) FROM fct_royalties",
    "SELECT max(period_end) FROM fct_streams_totals WHERE dimension = 'country'",
    "SELECT max(snapshot_date) FROM fct_social_territories",
    "SELECT max(coalesce(period_end, CAST(observed_at AS DATE))) FROM fct_link_breakdown WHERE dimension = 'location'",
    "SELECT max(date) FROM v_streams_daily",
)


def newest_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The newest day in the inputs of ``market_demand`` (the default ``as_of``)."""
    days = []
    for sql in _AS_OF_SQL:
        try:
            df = _read(con, sql)
        except duckdb.Error as exc:  # a table with the wrong columns: its loader will say so too
            log.warning("market demand: %s: %s", sql, str(exc).splitlines()[0])
            continue
        if df is not None and len(df):
            ts = _ts(df.iloc[0, 0])
            if ts is not None:
                days.append(ts)
    return max(days).date() if days else None


def market_demand(con: duckdb.DuckDBPyConnection, config: MarketConfig = MarketConfig(),  # noqa: B008
                  as_of: date | None = None) -> pd.DataFrame:
    """The ``market_demand`` table (columns :data:`MARKET_COLUMNS`), from the warehouse behind ``con``.

    ``as_of`` defaults to the newest day in the inputs (:func:`newest_day`); data after it is ignored.
    """
    as_of = as_of or newest_day(con)
    if as_of is None:
        return pd.DataFrame(columns=MARKET_COLUMNS)
    alias_df = _read(con, "SELECT alias, artist FROM dim_artist_alias")
    alias = dict(zip(alias_df["alias"], alias_df["artist"])) if alias_df is not None else {}
    artists = sorted(set(alias.values()))
    ctx = _Ctx(con=con, config=config, as_of=pd.Timestamp(as_of).normalize(), places=_Places(con), alias=alias,
               single_artist=artists[0] if len(artists) == 1 else None)

    obs_parts, total_parts = [], []
    for name, load in (("royalties", _royalties), ("country charts", _stream_charts),
                       ("social territories", _social), ("link locations", _link_locations)):
        try:
            o, t = load(ctx)
        except Exception:  # one odd source must not take the others down
            log.exception("market demand: reading %s failed; left out", name)
            continue
        if len(o) and len(t):
            obs_parts.append(o)
            total_parts.append(t)
    if not obs_parts:
        return pd.DataFrame(columns=MARKET_COLUMNS)
    obs = pd.concat(obs_parts, ignore_index=True)
    totals = pd.concat(total_parts, ignore_index=True)
    totals = totals[totals["total"] > 0]
    # one name per signal: a source's chart and a platform's territories may share one (youtube)
    kinds_of = pd.concat([obs[["signal", "kind"]], totals[["signal", "kind"]]]).drop_duplicates()
    clash = set(kinds_of["signal"][kinds_of["signal"].duplicated()])
    for frame in (obs, totals):
        hit = frame["signal"].isin(clash) & (frame["kind"] != "royalties")
        frame.loc[hit, "signal"] = frame.loc[hit, "signal"] + "_" + frame.loc[hit, "kind"]
    try:
        pace = _daily_pace(ctx)
    except Exception:
        log.exception("market demand: reading the daily streams failed; royalties and charts give the volume")
        pace = {}

    rows = []
    for scope, tot in totals.groupby("scope", sort=True):
        part = obs[(obs["scope"] == scope) & obs["signal"].isin(tot["signal"])]
        try:
            rows.extend(_scope_rows(scope, part, tot, pace, ctx))
        except Exception:
            log.exception("market demand of %s failed; no rows for it", "the account" if scope == _ACCOUNT else scope)
    out = pd.DataFrame(rows, columns=MARKET_COLUMNS)
    if out.empty:
        return out
    out["est_ticket_demand"] = out["est_ticket_demand"].astype("Int64")
    out = out.sort_values(["artist", "demand_score", "country", "city"], ascending=[True, False, True, True],
                          na_position="first", kind="stable", ignore_index=True)
    return out
