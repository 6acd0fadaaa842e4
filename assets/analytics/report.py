"""The weekly report: one self-contained HTML page of the week's numbers, written to the curated
zone as ``reports/<YYYY-MM-DD>.html`` by ``soundlake report`` and by the Dagster schedule
``report_weekly`` (Mondays 07:00 UTC).

:func:`make_report` is pure (a warehouse connection in, the page out); :func:`save_report` is the
one function that touches the lake; the Dagster asset ``analytics/report`` runs both. Decisions, each chosen so that a reader of the report gets what
they would expect:

* **Dates.** The report *date* is the day it is made (UTC today; ``--date`` to re-make an older
  one) and names the file. The *period* is the 7 days (``period_days``) ending on the newest day of
  any daily series (streams, listeners, followers, social views, link clicks; see
  ``series.daily_series``) on or before that date, not on the report date itself: platforms
  report a day or two late, and a week ending "today" would always look like a drop. Rows dated
  after the period's end are left out of the streams, moments, anomalies, ad and revenue
  sections. The KPIs, forecasts and markets are the tables of the latest warehouse refresh and
  analytics run; when they may use newer data than the period (an old report made again) the
  report says so at the top.
* **Self-contained.** One file that still works when opened from MinIO, mailed or archived:
  charts are matplotlib PNGs inlined as ``data:image/png;base64`` URIs, the CSS is inline, and
  there are no scripts, fonts or links to fetch. A Content-Security-Policy ``<meta>`` forbids
  every other load, so a mistake shows up as a blocked request (the Chromium test looks for
  them) rather than a silent dependency on the network.
* **Escaping.** The page is rendered by Jinja2 with autoescape on: an artist, a campaign or a
  country name containing ``<`` or ``&`` is text, never markup. Chart titles escape matplotlib's
  ``$`` (mathtext), so a name like ``A$AP`` draws as written instead of failing the chart.
* **Sections** (each says "nothing yet" when its table is empty or not in the warehouse yet):

  - *Headline KPIs*: the headline row of every KPI (table ``kpis``, across all artists, in the
    order of ``docs/kpis.md``), grouped by topic, and a table of a few KPIs per artist.
  - *Streams*: the account's daily streams per platform (``v_streams_account_daily``) over the
    last ``streams_chart_days`` (90) days with the period shaded, and per platform the period's
    total against the 7 days before it, with how many days each platform reported (a platform
    that reported 5 of 7 days shows a "drop" that is only missing data).
  - *Viral moments*: moments that overlap the period (by score), then the latest earlier ones
    (newest first), with a chart of each (up to ``moment_charts``). Followers are charted as
    daily gains, the values the detector judged (``viral.ViralConfig.cumulative_metrics``).
  - *Anomalies*: those that overlap the period (most severe first), then the latest earlier ones.
  - *Forecasts*: per series the champion model's forecast for the next ``forecast_days`` (28)
    days. For flows (streams, views, clicks) the total over those days against the last 28 days;
    for levels (followers) the level on day 28 against the last observed one. The range of a
    total is the sum of the daily 80 % bounds: it assumes the days' errors move together, which
    is close for level and trend errors and too wide for day-to-day noise, so read it as a
    conservative range rather than an exact 80 % interval of the total (the level on day 28 is
    an exact 80 % interval). The backtest MASE at 28 days of the champion and of the seasonal
    naive are shown beside it, charts for the first ``forecast_charts`` series (streams first,
    then by volume), and the sentence ``forecast.summarise`` backs: "the champion beats the
    seasonal naive at 28 days on X of Y series with a year of history".
  - *Markets* (``market_demand``): the top countries by demand score with the recommendation
    and its reasons; rows for the whole account first when there are any.
  - *Ad attribution* (``ad_attribution``): campaigns that started by the period's end, newest
    first, with their lift and the cost of an incremental stream or follower.
  - *Revenue*: what a stream paid per store over the last ``revenue_months`` sale months
    (``revenue_per_stream``), expected against reported revenue per month and platform
    (``revenue_expected``), and the forecast of the account's monthly earnings.
* **Failures never lose the report**: a section (or a chart) that raises is replaced by a line
  saying it could not be built, and logged; ``strict=True`` (the tests) raises instead.
"""

from __future__ import annotations

import base64
import io
import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import duckdb
import pandas as pd

from ..kpis import format_value

if TYPE_CHECKING:  # pragma: no cover
    from resources.storage import LakeStorage

log = logging.getLogger("soundlake.report")

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"
REPORTS_PREFIX = "reports/"
CHAMPION_SENTENCE = ("the champion beats the seasonal naive at {horizon} days on {beats} of {compared} series "
                     "with a year of history")
# order of metrics in the forecast table (streams first); others follow alphabetically
INCOMPLETE_STATUSES = ("partial",)  # revenue_expected: the month is younger than its usual payment delay
WIDE_RANGE = 10.0  # a forecast range whose top is over this many times its bottom is flagged, not shown


def uninformative(lo, hi) -> bool:
    """A range too wide to inform: its top over ``WIDE_RANGE`` × its bottom (a bottom of 0 counts)."""
    if _missing(lo) or _missing(hi):
        return False
    return float(hi) > WIDE_RANGE * max(float(lo), 0.0)


METRIC_ORDER = ("streams", "listeners", "views", "clicks", "followers")
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class ReportConfig:
    """What the report shows and how much of it. Counts are rows or charts per section."""

    period_days: int = 7  # the period: this many days ending on the newest day of data
    streams_chart_days: int = 90  # days of daily streams charted
    latest_moments: int = 5  # earlier moments listed after those of the period
    moment_charts: int = 4  # charts of moments (the period's first, then the latest)
    moment_context_days: int = 45  # days either side of a moment in its chart
    latest_anomalies: int = 10  # earlier anomalies listed after those of the period
    forecast_days: int = 28  # the forecast total covers this many days ahead
    forecast_rows: int = 25  # series in the forecast table
    forecast_charts: int = 4  # charts of forecasts
    forecast_history_days: int = 180  # days of history in a forecast chart
    history_min_days: int = 365  # "a year of history" in the champion sentence
    markets: int = 10  # countries in the markets table
    campaigns: int = 15  # rows of the ad attribution table
    revenue_months: int = 3  # sale months the revenue per stream is averaged over
    revenue_stores: int = 10  # stores in that table
    expected_months: int = 6  # sale months of the expected-vs-reported table
    revenue_forecast_months: int = 3  # months of the revenue forecast total
    artist_kpis: tuple[str, ...] = (
        "streams_last_7d", "streams_growth_pct_wow", "followers_growth_30d", "social_views_last_7d",
        "revenue_usd_last_month", "revenue_usd_total",
    )
    title: str = "soundlake weekly report"

    def __post_init__(self) -> None:
        for name in ("period_days", "streams_chart_days", "forecast_days", "revenue_months", "expected_months",
                     "revenue_forecast_months"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


# --- the page's building blocks ------------------------------------------------------------------


@dataclass
class Cell:
    text: str
    css: str = ""  # "num" (right-aligned), "good", "bad", "muted", "tag-<x>" ...
    data: dict[str, Any] = field(default_factory=dict)  # data-<key> attributes: the figures behind the text


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    numeric: frozenset[int] = frozenset()  # column positions right-aligned
    details: dict[int, str] = field(default_factory=dict)  # row position -> a full-width line under it


@dataclass
class Chart:
    title: str
    png: bytes

    @property
    def src(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Card:
    label: str
    value: str
    unit: str
    detail: str
    hint: str = ""
    empty: bool = False


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    lead: str = ""  # a sentence shown in bold under the title
    notes: list[str] = field(default_factory=list)
    cards: list[tuple[str, list[Card]]] = field(default_factory=list)  # (group title, cards)
    blocks: list[Table | Chart | str] = field(default_factory=list)  # tables, charts, sub-headings (str)
    empty: str = ""  # "nothing yet" message when the section has nothing to show
    error: str = ""
    how: list[str] = field(default_factory=list)  # "how this was computed": the methods and their jargon

    @property
    def charts(self) -> list[Chart]:
        return [b for b in self.blocks if isinstance(b, Chart)]


@dataclass
class Report:
    """A rendered report and what it contains (for the CLI's --json and Dagster's metadata)."""

    html: str
    as_of: date | None
    period_start: date | None
    period_end: date | None
    generated_at: datetime
    sections: list[Section]
    facts: dict[str, Any]

    @property
    def charts(self) -> int:
        return sum(len(s.charts) for s in self.sections)

    def summary(self) -> dict[str, Any]:
        return {
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "charts": self.charts,
            "bytes": len(self.html.encode()),
            "sections": {s.id: ("error" if s.error else "empty" if s.empty else "ok") for s in self.sections},
            **self.facts,
        }

    def markdown(self) -> str:
        """A few lines for Dagster's materialization and for people skimming."""
        f = self.facts
        period = (f"{self.period_start} to {self.period_end}" if self.period_end else "no daily data yet")
        lines = [f"**Week {period}**", ""]
        if f.get("streams_period") is not None:
            change = f.get("streams_change_pct")
            lines.append(f"- streams: {_num(f['streams_period'])}" + (f" ({_signed_pct(change)} on the week before)"
                                                                      if change is not None else ""))
        lines.append(f"- viral moments in the period: {f.get('moments_in_period', 0)}")
        lines.append(f"- anomalies in the period: {f.get('anomalies_in_period', 0)}")
        if f.get("champion_sentence"):
            lines.append(f"- forecasts: {f['champion_sentence']}")
        if f.get("top_market"):
            lines.append(f"- top market: {f['top_market']}")
        lines.append(f"- {self.charts} charts")
        return "\n".join(lines)


# --- formatting ----------------------------------------------------------------------------------


def _missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _num(v, digits: int = 0) -> str:
    if _missing(v):
        return "–"
    return f"{float(v):,.{digits}f}"


def _usd(v) -> str:
    """Dollars and cents; amounts under a cent with four decimals (so they do not show as $0.00)."""
    if _missing(v):
        return "–"
    v = float(v)
    digits = 4 if 0 < abs(v) < 0.01 else 2
    return f"{'-' if v < 0 else ''}${abs(v):,.{digits}f}"


def _pct(v, digits: int = 1) -> str:
    """A ratio (0.25) as a percentage (25.0 %)."""
    return "–" if _missing(v) else f"{float(v) * 100:,.{digits}f} %"


def _signed_pct(v, digits: int = 1) -> str:
    """A percentage already in percent (12.3) with its sign."""
    return "–" if _missing(v) else f"{float(v):+,.{digits}f} %"


def _day(v) -> str:
    if _missing(v):
        return "–"
    return pd.Timestamp(v).date().isoformat()


def _kpi_value(value, unit: str) -> str:
    return "–" if _missing(value) else format_value(value, unit)


def _who(artist) -> str:
    return "all artists" if _missing(artist) else str(artist)


def _series_label(series_id: str, meta: dict[str, tuple]) -> str:
    """``platform · artist · metric`` of a series id (the account when there is no artist)."""
    if series_id in meta:
        artist, platform, metric = meta[series_id]
    else:
        parts = str(series_id).split("/")
        platform, metric = parts[0], parts[-1]
        artist = "/".join(parts[1:-1]) or None
        artist = None if artist == "account" else artist
    return f"{platform} · {'account' if _missing(artist) else artist} · {metric}"


def _mpl_text(text: str) -> str:
    """A title matplotlib draws as written: ``$`` would start mathtext."""
    return text.replace("$", r"\$")


# --- the data --------------------------------------------------------------------------------------


class _Missing(Exception):
    """A table the section needs is not in the warehouse (an older warehouse: refresh it)."""


class _Data:
    """What the sections share: the connection, the dates and the daily series (read once)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, as_of: date | None, config: ReportConfig, strict: bool = False):
        self.con, self.as_of, self.config, self.strict = con, as_of, config, strict
        self._series: pd.DataFrame | None = None
        self._meta: dict[str, tuple] | None = None
        series = self.series()
        days = pd.to_datetime(series["date"]) if len(series) else pd.Series(dtype="datetime64[ns]")
        newest = days.max() if len(days) else None
        self.newest_overall: date | None = None if newest is None or pd.isna(newest) else newest.date()
        if as_of is not None:
            days = days[days <= pd.Timestamp(as_of)]
        end = days.max() if len(days) else None
        self.period_end: date | None = None if end is None or pd.isna(end) else end.date()
        self.period_start = (self.period_end - timedelta(days=config.period_days - 1)) if self.period_end else None
        # the last day that belongs in the report: the period's end, else the report date
        self.cutoff: date | None = self.period_end or as_of

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        try:
            return self.con.execute(sql, params or []).df()
        except duckdb.CatalogException as exc:
            raise _Missing(str(exc).splitlines()[0]) from None

    def series(self) -> pd.DataFrame:
        if self._series is None:
            from .series import daily_series

            try:
                self._series = daily_series(self.con)
            except Exception as exc:  # a warehouse without the views (or a bug): report without daily data
                if self.strict and not isinstance(exc, duckdb.CatalogException):
                    raise
                log.warning("report: no daily series (%s)", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                self._series = pd.DataFrame(columns=["series_id", "artist", "platform", "metric", "date", "value"])
        return self._series

    def meta(self) -> dict[str, tuple]:
        if self._meta is None:
            first = self.series().drop_duplicates("series_id")
            self._meta = {r.series_id: (r.artist, r.platform, r.metric) for r in first.itertuples(index=False)}
        return self._meta

    def history(self, series_id: str) -> pd.Series:
        s = self.series()
        part = s[s["series_id"] == series_id]
        return pd.Series(part["value"].to_numpy(dtype=float), index=pd.to_datetime(part["date"])).sort_index()


def _cumulative_metrics() -> tuple[str, ...]:
    from .viral import ViralConfig

    return ViralConfig().cumulative_metrics


def _daily_gains(history: pd.Series) -> pd.Series:
    """Day-over-day change of a counter, only between consecutive calendar days (as viral.py)."""
    consecutive = history.index.to_series().diff() == pd.Timedelta(days=1)
    return history.diff()[consecutive.to_numpy()]


# --- sections ------------------------------------------------------------------------------------


def kpi_title(d) -> str:
    """A KPI's title in an artist's words: the first clause of its SQL header's ``definition``
    (up to the first colon, question mark, sentence end or parenthesis), e.g. "Money spent on ads, all
    campaigns, all time" rather than ``ad_spend_usd_total``."""
    text = " ".join(str(d.definition).split())
    cut = min((i for i in (text.find(": "), text.find("? "), text.find(". "), text.find(" ("), text.find(", added"))
               if i > 0), default=len(text))
    title = text[:cut + (1 if text[cut:cut + 1] == "?" else 0)].strip()
    return title[:1].upper() + title[1:] if title else d.id


def _kpi_section(data: _Data, config: ReportConfig) -> Section:
    section = Section("kpis", "Headline KPIs",
                      intro="Across all artists, from the warehouse table kpis (docs/kpis.md); "
                            "each KPI says what it covers and the last day of data it used.")
    rows = data.df("SELECT kpi, value, unit, period, as_of, artist, breakdown FROM kpis")
    if rows.empty:
        section.empty = "Nothing yet: the KPIs are computed when the warehouse is refreshed (after an ingest)."
        return section
    try:
        from assets.kpis import ORDER, TOPICS, discover

        defs = {d.id: d for d in discover()}
    except Exception:  # the KPI files are not beside the code: show the rows without topics
        log.warning("report: KPI definitions not found; KPIs shown without topics", exc_info=True)
        ORDER, TOPICS, defs = (), {}, {}
    order = {k: i for i, k in enumerate(ORDER)}
    breakdown = rows["breakdown"].astype(object)
    is_head = breakdown.isna() | breakdown.fillna("").str.startswith(("no data:", "error:"))
    heads = rows[is_head & rows["artist"].isna()].copy()
    heads["_order"] = heads["kpi"].map(lambda k: order.get(k, len(order)))
    heads = heads.sort_values(["_order", "kpi"], kind="stable").drop_duplicates("kpi")
    groups: dict[str, list[Card]] = {}
    for r in heads.itertuples(index=False):
        d = defs.get(r.kpi)
        topic = TOPICS.get(d.topic, d.topic) if d else "Other"
        empty = _missing(r.value)
        detail = r.breakdown if empty and not _missing(r.breakdown) else (
            f"{r.period}" + (f", as of {_day(r.as_of)}" if not _missing(r.as_of) else ""))
        groups.setdefault(topic, []).append(Card(
            label=kpi_title(d) if d else r.kpi, value=_kpi_value(r.value, r.unit), unit="" if empty else str(r.unit),
            detail=str(detail), hint=f"{r.kpi}: {d.definition}" if d else r.kpi, empty=empty))
    topic_order = list(TOPICS.values())
    section.cards = sorted(groups.items(), key=lambda kv: topic_order.index(kv[0]) if kv[0] in topic_order else 99)

    per_artist = rows[rows["artist"].notna() & rows["breakdown"].isna() & rows["kpi"].isin(config.artist_kpis)]
    if len(per_artist):
        kpis = [k for k in config.artist_kpis if k in set(per_artist["kpi"])]
        units = per_artist.drop_duplicates("kpi").set_index("kpi")["unit"].to_dict()
        table = Table(["artist"] + [f"{kpi_title(defs[k]) if k in defs else k} ({units[k]})" for k in kpis], [],
                      caption="Per artist",
                      numeric=frozenset(range(1, len(kpis) + 1)))
        for artist, part in sorted(per_artist.groupby("artist"), key=lambda kv: str(kv[0]).lower()):
            values = part.drop_duplicates("kpi").set_index("kpi")["value"].to_dict()
            table.rows.append([Cell(str(artist))] + [Cell(_kpi_value(values.get(k), units[k])) for k in kpis])
        section.blocks.append(table)
    return section


def _streams_chart(frame: pd.DataFrame, start: date, end: date, period_start: date, title: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.grid(True, alpha=0.3)
    days = pd.date_range(start, end, freq="D")
    wide = frame.pivot_table(index="date", columns="platform", values="streams", aggfunc="sum")
    wide.index = pd.to_datetime(wide.index)
    wide = wide.reindex(days)  # a day a platform did not report is a gap, not a zero
    order = wide.sum().sort_values(ascending=False).index
    for platform in order:
        ax.plot(wide.index, wide[platform].to_numpy(dtype=float), linewidth=1.2, label=_mpl_text(str(platform)))
    ax.axvspan(pd.Timestamp(period_start), pd.Timestamp(end) + pd.Timedelta(days=1), color="#1f77b4", alpha=0.1,
               linewidth=0, label="this report's week")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("streams per day")
    ax.set_title(_mpl_text(title))
    ax.legend(loc="upper left", fontsize="small")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _streams_section(data: _Data, config: ReportConfig, facts: dict, chart: Callable) -> Section:
    section = Section("streams", "Streams",
                      intro="The account's daily streams per platform (v_streams_account_daily: distributors' "
                            "account totals, else the sum of the artists' dashboards).")
    if data.period_end is None:
        section.empty = "Nothing yet: no daily data in the warehouse."
        return section
    end = data.period_end
    start = end - timedelta(days=config.streams_chart_days - 1)
    before_start = data.period_start - timedelta(days=config.period_days)
    frame = data.df("SELECT date, platform, streams FROM v_streams_account_daily WHERE date BETWEEN ?::DATE AND ?::DATE",
                    [min(start, before_start), end])
    if frame.empty:
        section.empty = f"Nothing yet: no streams in the {config.streams_chart_days} days up to {end}."
        return section
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    png = chart(lambda: _streams_chart(frame[frame["date"] >= start], start, end, data.period_start,
                                       f"Daily streams per platform, {start} to {end}"))
    if png is not None:
        section.blocks.append(Chart(f"Daily streams per platform, {start} to {end}", png))
    this = frame[frame["date"] >= data.period_start]
    prev = frame[(frame["date"] >= before_start) & (frame["date"] < data.period_start)]
    week = timedelta(days=7)
    table = Table(["platform", f"streams {data.period_start} to {end}", "days reported",
                   "the same days a week before", "change on the same days"], [], numeric=frozenset({1, 2, 3, 4}))
    platforms = sorted(set(frame["platform"]), key=lambda p: -this.loc[this["platform"] == p, "streams"].sum())
    totals = [0.0, 0.0, 0.0]  # the week's streams; the compared days' streams; the same days a week before
    incomplete = []
    for p in platforms:
        a = this[this["platform"] == p].groupby("date")["streams"].sum()
        b = prev[prev["platform"] == p].groupby("date")["streams"].sum()
        # like with like: a day counts in the change only when the platform reported it and the day a week before
        paired = [d for d in a.index if d - week in b.index]
        now, now_paired = float(a.sum()), float(a[paired].sum()) if paired else 0.0
        before = float(sum(b[d - week] for d in paired))
        totals[0] += now
        totals[1] += now_paired
        totals[2] += before
        change = (now_paired / before - 1) * 100 if paired and before > 0 else None
        days = len(a)
        if days < config.period_days:
            incomplete.append(f"{p} ({days} of {config.period_days} days)")
        table.rows.append([
            Cell(str(p)), Cell(_num(now), data={"streams": now}),
            Cell(f"{days} of {config.period_days}" + ("" if days == config.period_days else " (incomplete)"),
                 "" if days == config.period_days else "muted", data={"days": days}),
            Cell(_num(before) if paired else "–", data={"compared-days": len(paired), "before": before}),
            Cell(_signed_pct(change) + (f" ({len(paired)} days)" if paired and len(paired) < config.period_days else ""),
                 _trend_css(change), data={"now": now_paired, "before": before}),
        ])
    change = (totals[1] / totals[2] - 1) * 100 if totals[2] > 0 else None
    table.rows.append([Cell("all platforms", "total"), Cell(_num(totals[0]), "total", data={"streams": totals[0]}),
                       Cell("", "total"), Cell(_num(totals[2]), "total"),
                       Cell(_signed_pct(change), "total " + _trend_css(change),
                            data={"now": totals[1], "before": totals[2]})])
    section.blocks.append(table)
    if incomplete:
        section.notes.append("Incomplete week (the platform had not reported every day yet): " + ", ".join(incomplete)
                             + ". Its change compares only the days it reported with the same days a week before; "
                             "missing days are not a drop.")
    section.how.append("The change compares, per platform, the days of this week the platform reported with the "
                       "same weekdays a week before (a day missing in either week is left out of both), so a late "
                       "export does not show as a fall.")
    facts["streams_period"] = totals[0]
    facts["streams_change_pct"] = None if change is None else round(change, 1)
    return section


def _trend_css(change) -> str:
    if _missing(change):
        return ""
    return "good" if change > 0 else "bad" if change < 0 else ""


def _moment_kind(m) -> str:
    """The moment's kind as a reader says it (tables made before kinds existed: "moment")."""
    kind = getattr(m, "kind", None)
    if _missing(kind):
        return "moment"
    ongoing = getattr(m, "ongoing", False)
    return f"{kind} (still running)" if ongoing is True else str(kind)


def _lift_text(m) -> str:
    """``12.3×``; from a baseline under ``NEW_AUDIENCE_BELOW`` a day a ratio means nothing (a new
    account growing from ~0 would show thousands ×): "from ~N a day" instead."""
    if _missing(m.lift):
        return "–"
    if not _missing(m.baseline) and float(m.baseline) < NEW_AUDIENCE_BELOW:
        return f"from ~{float(m.baseline):,.0f} a day"
    return f"{m.lift:,.1f}×"


def _moment_row(m, meta, status: str | None = None) -> list[Cell]:
    first = [Cell(status, "good" if status == "new" else "")] if status is not None else []
    facts = {"kind": getattr(m, "kind", None), "start": _day(m.start_date), "end": _day(m.end_date),
             "baseline": m.baseline}
    return first + [Cell(_series_label(m.series_id, meta)), Cell(_moment_kind(m), data=facts), Cell(_day(m.start_date)),
            Cell(_day(m.peak_date)), Cell(_day(m.end_date)), Cell(_num(m.baseline)), Cell(_num(m.peak_value)),
            Cell(_lift_text(m)), Cell(_num(m.score, 1)),
            Cell("yes" if m.cross_platform_confirmed is True else "no", "good" if m.cross_platform_confirmed is True else "muted")]


NEW_AUDIENCE_BELOW = 10.0
MOMENT_COLUMNS = ["series", "kind", "start", "peak", "end", "usual level / day", "peak value", "lift", "score",
                  "other platform too"]


def _kinds_sentence(moments: pd.DataFrame) -> str:
    """``2 spikes and 1 breakout``."""
    kinds = moments["kind"].fillna("moment") if "kind" in moments else pd.Series(["moment"] * len(moments))
    counts = kinds.value_counts()
    parts = [f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _moments_section(data: _Data, config: ReportConfig, facts: dict, chart: Callable) -> Section:
    section = Section("moments", "Viral moments",
                      intro="Days a series broke far out of its usual level (viral_moments). A spike came back "
                            "down; a breakout settled at a new level (the moment ends when two weeks agree, and "
                            "later days are measured against the new level); a surge was still climbing when the "
                            "data stopped. Followers count as daily gains.")
    cutoff = data.cutoff
    moments = data.df("SELECT * FROM viral_moments" + (" WHERE start_date <= ?::DATE" if cutoff else ""),
                      [cutoff] if cutoff else [])
    facts["moments_in_period"] = 0
    if moments.empty:
        section.empty = "Nothing yet: no viral moments detected" + (f" up to {cutoff}." if cutoff else ".")
        return section
    for c in ("start_date", "peak_date", "end_date"):
        moments[c] = pd.to_datetime(moments[c]).dt.date
    if data.period_start is not None:
        overlap = (moments["start_date"] <= data.period_end) & (moments["end_date"] >= data.period_start)
    else:
        overlap = pd.Series(False, index=moments.index)
    current = moments[overlap].copy()
    current["is_new"] = current["start_date"] >= data.period_start if len(current) else False
    current = current.sort_values(["is_new", "score", "series_id"], ascending=[False, False, True])
    earlier = moments[~overlap].sort_values(["start_date", "score"], ascending=[False, False]).head(config.latest_moments)
    new = int(current["is_new"].sum()) if len(current) else 0
    facts["moments_in_period"] = int(len(current))
    facts["moments_new"] = new
    facts["moments_new_by_kind"] = (current.loc[current["is_new"], "kind"].fillna("moment").value_counts()
                                    .sort_index().to_dict() if new and "kind" in current else {})
    facts["moments_by_kind"] = (current["kind"].fillna("moment").value_counts().sort_index().to_dict()
                                if len(current) and "kind" in current else {})
    meta = data.meta()
    if len(current):
        fresh = current[current["is_new"]]
        still = current[~current["is_new"]]
        count = "No new moment" if new == 0 else f"New: {_kinds_sentence(fresh)}"
        section.lead = (f"{count} in the week {data.period_start} to {data.period_end}"
                        + (f"; earlier and overlapping the week: {_kinds_sentence(still)}." if len(still) else "."))

        def status(m) -> str:
            if m.is_new:
                return "new"
            return "running" if getattr(m, "ongoing", False) is True else f"ended {_day(m.end_date)}"

        section.blocks.append(Table(["status"] + MOMENT_COLUMNS,
                                    [_moment_row(m, meta, status(m)) for m in current.itertuples(index=False)],
                                    caption="In the period", numeric=frozenset({6, 7, 8, 9})))
    else:
        section.lead = "No viral moment in the period."
    if len(earlier):
        section.blocks.append(Table(MOMENT_COLUMNS, [_moment_row(m, meta) for m in earlier.itertuples(index=False)],
                                    caption="The latest before the period", numeric=frozenset({5, 6, 7, 8})))
    from .plots import plot_moment

    cumulative = _cumulative_metrics()
    for m in pd.concat([current, earlier]).head(config.moment_charts).itertuples(index=False):
        history = data.history(m.series_id)
        if m.metric in cumulative:
            history = _daily_gains(history)
        if history.empty:
            continue
        title = f"{_series_label(m.series_id, meta)} from {m.start_date}"
        png = chart(lambda m=m, history=history, title=title: plot_moment(
            history, m.start_date, m.peak_date, m.end_date, float(m.baseline), title=_mpl_text(title),
            context_days=config.moment_context_days))
        if png is not None:
            section.blocks.append(Chart(title, png))
    return section


def _anomalies_section(data: _Data, config: ReportConfig, facts: dict) -> Section:
    section = Section("anomalies", "Anomalies",
                      intro="Sudden drops and data problems (anomalies): a source all zeros, missing days, a "
                            "follower count going backwards.")
    cutoff = data.cutoff
    found = data.df("SELECT * FROM anomalies" + (" WHERE start_date <= ?::DATE" if cutoff else ""),
                    [cutoff] if cutoff else [])
    facts["anomalies_in_period"] = 0
    if found.empty:
        section.empty = "Nothing yet: no anomalies detected" + (f" up to {cutoff}." if cutoff else ".")
        return section
    for c in ("start_date", "end_date"):
        found[c] = pd.to_datetime(found[c]).dt.date
    if data.period_start is not None:
        overlap = (found["start_date"] <= data.period_end) & (found["end_date"] >= data.period_start)
    else:
        overlap = pd.Series(False, index=found.index)
    found["_sev"] = found["severity"].map(lambda s: SEVERITY_ORDER.get(s, 9))
    current = found[overlap].sort_values(["_sev", "start_date", "series_id"], ascending=[True, False, True])
    earlier = found[~overlap].sort_values(["start_date", "_sev"], ascending=[False, True]).head(config.latest_anomalies)
    facts["anomalies_in_period"] = int(len(current))
    meta = data.meta()
    columns = ["severity", "series", "kind", "start", "end", "what happened"]

    def row(a) -> list[Cell]:
        return [Cell(str(a.severity), f"sev-{a.severity}"), Cell(_series_label(a.series_id, meta)), Cell(str(a.kind)),
                Cell(_day(a.start_date)), Cell(_day(a.end_date)), Cell("" if _missing(a.detail) else str(a.detail))]

    section.lead = (f"{len(current)} anomal{'ies' if len(current) != 1 else 'y'} in the period."
                    if len(current) else "No anomaly in the period.")
    if len(current):
        section.blocks.append(Table(columns, [row(a) for a in current.itertuples(index=False)], caption="In the period"))
    if len(earlier):
        section.blocks.append(Table(columns, [row(a) for a in earlier.itertuples(index=False)],
                                    caption="The latest before the period"))
    return section


def _forecast_section(data: _Data, config: ReportConfig, facts: dict, chart: Callable) -> Section:
    from .forecast import summarise

    section = Section("forecasts", "Forecasts",
                      intro=f"What the next {config.forecast_days} days look like per series, from the model that "
                            "predicted best when tested on the series' own past. Totals for streams, views and "
                            f"clicks; followers show the count on day {config.forecast_days}. ✓: the forecast beat a "
                            "simple guess (the same weekday a week before) when tested.",
                      how=["Each model was tested by rolling-origin backtests: fitted on the history up to an "
                           "earlier day and scored on the days after it. 'Backtest error' is the MASE: the mean "
                           "absolute error divided by the error of the seasonal naive (last week's value for the "
                           "same weekday) on the training data; below 1 is better than that simple guess. 'Simple "
                           "guess's error' is the seasonal naive's own MASE.",
                           "The champion is the most accurate model among those whose ranges held their level in "
                           "the tests (80 % ranges holding 70–90 % of the tested days, 95 % ranges at least 85 %). "
                           "The ranges are calibrated: each model's own range is stretched or narrowed by the "
                           "factor that made it hold its level on the tested days (split-conformal, per horizon).",
                           "The range of a total adds up the daily 80 % bounds: it assumes the days' errors move "
                           "together, so it is conservative. A range whose top is over "
                           f"{WIDE_RANGE:g}× its bottom is flagged as too uncertain instead of shown."])
    backtest = data.df("SELECT * FROM forecast_backtest")
    summary = summarise(backtest, horizon=config.forecast_days, min_history_days=config.history_min_days)
    sentence = CHAMPION_SENTENCE.format(horizon=summary["horizon"], beats=summary["champion_beats_seasonal_naive"],
                                        compared=summary["compared"])
    champions = ", ".join(f"{m} {n}" for m, n in summary["champions"].items()) or "none"
    section.lead = f"Forecasts: {sentence} (champions: {champions})."
    if summary.get("coverage_series"):
        section.lead += (f" Tested on past data, the champions' 80 % ranges held {summary['coverage_80']:.0%} of the "
                         f"days {config.forecast_days} days ahead (95 % ranges: {summary['coverage_95']:.0%}).")
        facts["forecast_coverage_80"] = round(summary["coverage_80"], 3)
        facts["forecast_coverage_95"] = round(summary["coverage_95"], 3)
    facts["champion_sentence"] = sentence
    facts["forecast_summary"] = {k: v for k, v in summary.items() if k != "share"}
    if summary["series_with_history"] > summary["compared"]:
        section.notes.append(f"{summary['series_with_history'] - summary['compared']} series with a year of history "
                             "could not be compared (no finite seasonal-naive MASE).")
    forecasts = data.df("SELECT series_id, model, ds, yhat, yhat_lower, yhat_upper, yhat_lower_95, yhat_upper_95 "
                        "FROM forecasts ORDER BY series_id, ds")
    daily = forecasts[~forecasts["series_id"].str.startswith("revenue/")]
    facts["forecast_series"] = int(daily["series_id"].nunique())
    if daily.empty:
        section.empty = "Nothing yet: forecasts are made by `soundlake analytics` (and daily in Dagster)."
        return section
    if data.newest_overall and data.period_end and data.newest_overall > data.period_end:
        section.notes.append("These forecasts come from the latest analytics run and may start after the period.")
    meta = data.meta()
    cumulative = _cumulative_metrics()
    h = config.forecast_days
    scores = backtest[backtest["horizon"] == h] if len(backtest) else backtest
    rows = []
    for series_id, fc in daily.groupby("series_id", sort=True):
        fc = fc.sort_values("ds")
        head = fc.head(h)
        metric = meta[series_id][2] if series_id in meta else str(series_id).rsplit("/", 1)[-1]
        history = data.history(series_id)
        level = metric in cumulative
        if level:
            last = head.iloc[-1]
            value, lo, hi = float(last["yhat"]), float(last["yhat_lower"]), float(last["yhat_upper"])
            now = float(history.iloc[-1]) if len(history) else math.nan
        else:
            value, lo, hi = (float(head[c].sum()) for c in ("yhat", "yhat_lower", "yhat_upper"))
            if len(history):
                recent = history[history.index > history.index.max() - pd.Timedelta(days=h)]
                now = float(recent.sum()) if len(recent) == h else math.nan  # a partial window is no comparison
            else:
                now = math.nan
        mine = scores[scores["series_id"] == series_id] if len(scores) else scores
        # the MASE of the model that made the forecast (the champion, or the next one when its refit failed)
        champ = mine[mine["model"] == fc["model"].iloc[0]] if len(mine) else mine
        snaive = mine[mine["model"] == "seasonal_naive"] if len(mine) else mine
        rows.append({
            "series_id": series_id, "metric": metric, "model": fc["model"].iloc[0], "level": level, "value": value,
            "lo": lo, "hi": hi, "now": now, "days": len(head), "first": fc["ds"].iloc[0],
            "mase": float(champ["mase"].iloc[0]) if len(champ) else math.nan,
            "snaive": float(snaive["mase"].iloc[0]) if len(snaive) else math.nan,
            "history_days": int(mine["history_days"].iloc[0]) if len(mine) and not _missing(mine["history_days"].iloc[0]) else None,
            "fc": fc, "history": history,
        })
    rank = {m: i for i, m in enumerate(METRIC_ORDER)}
    rows.sort(key=lambda r: (rank.get(r["metric"], len(rank)), r["metric"], -r["value"], r["series_id"]))
    table = Table(["series", "model", f"next {h} days", "likely range (80 %)", f"last {h} days / now", "change",
                   "backtest error", "simple guess's error", "days of history"], [],
                  numeric=frozenset({2, 4, 5, 6, 7, 8}))
    flagged = 0
    for r in rows[:config.forecast_rows]:
        change = (r["value"] / r["now"] - 1) * 100 if r["now"] and math.isfinite(r["now"]) and r["now"] > 0 else None
        what = f"on {_day(r['fc']['ds'].iloc[min(h, len(r['fc'])) - 1])}" if r["level"] else "total"
        if r["days"] < h:
            what += f" ({r['days']} days)"
        beats = math.isfinite(r["mase"]) and math.isfinite(r["snaive"]) and r["mase"] < r["snaive"]
        wide = uninformative(r["lo"], r["hi"])
        flagged += wide
        span = {"lo": r["lo"], "hi": r["hi"], "uninformative": int(wide)}
        table.rows.append([
            Cell(_series_label(r["series_id"], meta)), Cell(str(r["model"])),
            Cell(f"{_num(r['value'])} {what}"),
            Cell(f"too uncertain for a range (up to {_num(r['hi'])})", "muted", data=span) if wide
            else Cell(f"{_num(r['lo'])} – {_num(r['hi'])}", data=span),
            Cell(_num(r["now"])),
            Cell(_signed_pct(change), _trend_css(change)),
            Cell(_num(r["mase"], 2) + (" ✓" if beats else "")), Cell(_num(r["snaive"], 2)),
            Cell("–" if r["history_days"] is None else str(r["history_days"])),
        ])
    if len(rows) > config.forecast_rows:
        table.caption = f"The first {config.forecast_rows} of {len(rows)} series"
    section.blocks.append(table)
    facts["forecast_ranges_uninformative"] = flagged
    if flagged:
        section.notes.append(f"{flagged} forecast{'s are' if flagged != 1 else ' is'} too uncertain to give a useful "
                             f"range (the top of the 80 % range over {WIDE_RANGE:g}× its bottom): read the forecast "
                             "as a rough direction only.")
    from .plots import plot_forecast

    for r in rows[:config.forecast_charts]:
        title = f"{_series_label(r['series_id'], meta)} ({r['model']})"
        png = chart(lambda r=r, title=title: plot_forecast(r["history"], r["fc"], title=_mpl_text(title),
                                                           history_periods=config.forecast_history_days))
        if png is not None:
            section.blocks.append(Chart(title, png))
    return section


def _markets_section(data: _Data, config: ReportConfig, facts: dict) -> Section:
    section = Section("markets", "Markets",
                      intro="Where the audience is, for booking (market_demand): the top countries by demand score, "
                            "with the recommendation and why.")
    rows = data.df("SELECT * FROM market_demand WHERE city IS NULL")
    if rows.empty:
        section.empty = "Nothing yet: no market demand computed."
        return section
    account = rows[rows["artist"].isna()]
    top = (account if len(account) else rows).sort_values(["demand_score", "country"], ascending=[False, True],
                                                          na_position="last").head(config.markets)
    by_artist = len(account) == 0  # no rows for the whole account: the artists' own, with their names
    columns = ["country", "demand score", "share", "momentum", "streams / 28 days", "earnings / 28 days",
               "est. tickets", "recommendation"]
    table = Table((["artist"] if by_artist else []) + columns, [],
                  caption="Per artist" if by_artist else "The whole account (every artist)",
                  numeric=frozenset(i + by_artist for i in range(1, 7)))
    for r in top.itertuples(index=False):
        name = r.country_name if not _missing(r.country_name) else r.country
        table.rows.append(([Cell(_who(r.artist))] if by_artist else []) + [
            Cell(f"{name} ({r.country})" if not _missing(r.country) else str(name)),
            Cell(_num(r.demand_score)), Cell(_pct(r.share)),
            Cell("–" if _missing(r.momentum_28d) else _signed_pct(r.momentum_28d * 100), _trend_css(r.momentum_28d)),
            Cell(_num(r.streams)), Cell(_usd(r.earnings_usd)), Cell(_num(r.est_ticket_demand)),
            Cell("–" if _missing(r.recommendation) else str(r.recommendation),
                 f"rec-{str(r.recommendation).lower()}" if not _missing(r.recommendation) else ""),
        ])
        if not _missing(r.reasons):  # the reasons run long: a line of their own under the row
            table.details[len(table.rows) - 1] = str(r.reasons)
    section.blocks.append(table)
    days = pd.to_datetime(top["as_of"]).dropna()
    if len(days):
        section.notes.append(f"Data up to {days.max().date()}.")
    first = top.iloc[0]
    facts["top_market"] = (f"{first['country_name'] if not _missing(first['country_name']) else first['country']}"
                           f" ({'–' if _missing(first['recommendation']) else first['recommendation']}, "
                           f"score {_num(first['demand_score'])})")
    return section


def _ads_section(data: _Data, config: ReportConfig, facts: dict) -> Section:
    section = Section("ads", "Ad attribution",
                      intro="What each campaign's window did to streams and followers (ad_attribution): the actual "
                            "total against a counterfactual forecast fitted on the days before it.")
    cutoff = data.cutoff
    rows = data.df("SELECT * FROM ad_attribution" + (" WHERE window_start <= ?::DATE" if cutoff else ""),
                   [cutoff] if cutoff else [])
    if rows.empty:
        section.empty = "Nothing yet: no ad campaigns attributed."
        return section
    meta = data.meta()
    groups = _campaign_groups(rows)
    groups.sort(key=lambda g: (-pd.Timestamp(g["window_end"]).value if not _missing(g["window_end"]) else 0,
                               g["names"], g["series_id"]))
    table = Table(["campaign", "window", "spend", "series", "actual", "expected (80 % range)", "lift", "lift %",
                   "clear effect?", "cost per extra"], [], numeric=frozenset({2, 4, 6, 7, 9}))
    shared = 0
    for g in groups[:config.campaigns]:
        r = g["row"]
        verdict = _significance(r.significant, r.lift)
        cost = (g["spend"] / r.lift) if not _missing(g["spend"]) and not _missing(r.lift) and r.lift > 0 else None
        table.rows.append([
            Cell(g["names"]), Cell(f"{_day(g['window_start'])} to {_day(g['window_end'])}"),
            Cell(_usd(g["spend"])), Cell(_series_label(g["series_id"], meta)), Cell(_num(r.actual)),
            Cell(f"{_num(r.expected)} ({_num(r.expected_lower)} – {_num(r.expected_upper)})"),
            Cell(_num(r.lift), _trend_css(r.lift), data={"lift": r.lift, "campaigns": len(g["members"]),
                                                         "series": g["series_id"]}),
            Cell(_signed_pct(r.lift_pct), _trend_css(r.lift_pct)),
            Cell(verdict, "good" if verdict == "yes, up" else "bad" if verdict == "yes, down" else "muted",
                 data={"significant": int(r.significant is True), "lift": r.lift}),
            Cell(_usd(cost)),
        ])
        if len(g["members"]) > 1:
            shared += 1
            parts = []
            for m in g["members"]:
                part = (r.lift * m["spend"] / g["spend"]) if g["spend"] and not _missing(r.lift) else None
                parts.append(f"{m['name']} {_num(part) if part is not None else '–'}")
            table.details[len(table.rows) - 1] = (
                f"{len(g['members'])} campaigns ran at overlapping times on this series: their effect is one lift, "
                "counted once" + (" (split by spend: " + ", ".join(parts) + ")" if g["spend"] else "") + ".")
    if len(groups) > config.campaigns:
        table.caption = f"The newest {config.campaigns} of {len(groups)} campaigns or groups"
    section.blocks.append(table)
    if shared:
        section.notes.append("Campaigns whose windows overlap on the same series are one row: the streams they "
                             "brought cannot be told apart, so the lift is shown once (and split by spend below "
                             "the row), never claimed by each.")
    section.how.append("The expected total is a forecast fitted only on the days before the campaign; the lift is "
                       "actual − expected. 'Clear effect' says yes only when the actual total falls outside the "
                       "forecast's 80 % range, with the direction it moved (down is a fall, not a success).")
    return section


def _significance(significant, lift) -> str:
    """Whether the lift is clear, in the direction it went."""
    if significant is not True or _missing(lift) or lift == 0:
        return "no"
    return "yes, up" if lift > 0 else "yes, down"


def _campaign_groups(rows: pd.DataFrame) -> list[dict]:
    """Campaigns on one series whose windows overlap (transitively), as one group: their lift is
    one figure (the row with the widest window: it measures all of them), spend summed."""
    groups = []
    for _, part in rows.groupby("series_id", sort=True, dropna=False):
        part = part.sort_values(["window_start", "window_end"], na_position="last")
        current: list = []
        end = None
        for r in part.itertuples(index=False):
            if current and end is not None and not _missing(r.window_start) and r.window_start <= end:
                current.append(r)
                end = max(end, r.window_end) if not _missing(r.window_end) else end
                continue
            if current:
                groups.append(current)
            current, end = [r], (r.window_end if not _missing(r.window_end) else None)
        if current:
            groups.append(current)
    out = []
    for members in groups:
        widest = max(members, key=lambda r: (pd.Timestamp(r.window_end) - pd.Timestamp(r.window_start)).days
                     if not _missing(r.window_end) and not _missing(r.window_start) else -1)
        spends = [None if _missing(r.spend_usd) else float(r.spend_usd) for r in members]
        names = [f"{r.campaign_name if not _missing(r.campaign_name) else r.campaign_id} ({r.ad_platform})"
                 for r in members]
        out.append({
            "series_id": members[0].series_id, "row": widest, "names": " + ".join(names),
            "window_start": min(r.window_start for r in members),
            "window_end": max((r.window_end for r in members if not _missing(r.window_end)), default=None),
            "spend": None if any(x is None for x in spends) else sum(spends),
            "members": [{"name": n, "spend": x or 0.0} for n, x in zip(names, spends)],
        })
    return out


def _revenue_section(data: _Data, config: ReportConfig, facts: dict, chart: Callable) -> Section:
    section = Section("revenue", "Revenue",
                      intro="From the royalty statements: what a stream paid per store (revenue_per_stream), the "
                            "revenue expected from the streams against what was reported (revenue_expected), and "
                            "the forecast of the account's monthly earnings.")
    cutoff = data.cutoff
    where = " WHERE sale_month <= ?::DATE" if cutoff else ""
    args = [cutoff] if cutoff else []
    shown = False

    per_stream = data.df("SELECT * FROM revenue_per_stream" + where, args)
    if len(per_stream):
        per_stream["sale_month"] = pd.to_datetime(per_stream["sale_month"])
        months = sorted(per_stream["sale_month"].dropna().unique())[-config.revenue_months:]
        recent = per_stream[per_stream["sale_month"].isin(months)]
        newest = months[-1]
        by_store = recent.groupby("store", dropna=False).agg(
            platform=("platform", "first"), quantity=("quantity", "sum"), earnings=("earnings_usd", "sum"),
            lines=("lines", "sum")).reset_index()
        last = recent[recent["sale_month"] == newest].set_index("store")["revenue_per_stream"].to_dict()
        by_store = by_store.sort_values(["earnings", "store"], ascending=[False, True]).head(config.revenue_stores)
        span = f"{pd.Timestamp(months[0]):%Y-%m} to {pd.Timestamp(newest):%Y-%m}"
        table = Table(["store", "platform", "units", "earnings", "per 1,000 units", f"per 1,000 in {pd.Timestamp(newest):%Y-%m}"],
                      [], caption=f"Revenue per stream over the {len(months)} newest sale months with statement lines "
                                  f"({span})", numeric=frozenset({2, 3, 4, 5}))
        for r in by_store.itertuples(index=False):
            rate = r.earnings / r.quantity * 1000 if r.quantity else None
            latest = last.get(r.store)
            table.rows.append([Cell(str(r.store)), Cell("–" if _missing(r.platform) else str(r.platform)),
                               Cell(_num(r.quantity)), Cell(_usd(r.earnings)), Cell(_usd(rate)),
                               Cell(_usd(latest * 1000) if not _missing(latest) else "–")])
        section.blocks.append(table)
        shown = True

    expected = data.df("SELECT * FROM revenue_expected" + where, args)
    if len(expected):
        expected["sale_month"] = pd.to_datetime(expected["sale_month"])
        months = sorted(expected["sale_month"].dropna().unique())[-config.expected_months:]
        recent = expected[expected["sale_month"].isin(months)].sort_values(["sale_month", "platform"],
                                                                          ascending=[False, True])
        table = Table(["sale month", "platform", "streams", "rate per 1,000", "expected", "reported", "difference",
                       "status"], [], caption="Expected against reported", numeric=frozenset({2, 3, 4, 5, 6}))
        for r in recent.itertuples(index=False):
            table.rows.append([
                Cell(f"{pd.Timestamp(r.sale_month):%Y-%m}"), Cell(str(r.platform)), Cell(_num(r.streams)),
                Cell(_usd(r.rate_usd * 1000) if not _missing(r.rate_usd) else "–"), Cell(_usd(r.expected_usd)),
                Cell(_usd(r.actual_usd)),
                Cell(f"not complete yet ({_usd(r.difference_usd)} so far)", "muted",
                     data={"difference": r.difference_usd, "complete": 0})
                if r.status in INCOMPLETE_STATUSES else
                Cell(_usd(r.difference_usd), _trend_css(r.difference_usd),
                     data={"difference": r.difference_usd, "complete": 1}),
                Cell("–" if _missing(r.status) else str(r.status), f"status-{r.status}" if not _missing(r.status) else ""),
            ])
        section.blocks.append(table)
        shown = True

    fc = data.df("SELECT series_id, model, ds, yhat, yhat_lower, yhat_upper, yhat_lower_95, yhat_upper_95 "
                 "FROM forecasts WHERE series_id = 'revenue/account/earnings_usd' ORDER BY ds")
    if len(fc):
        head = fc.head(config.revenue_forecast_months)
        first, last = pd.Timestamp(head["ds"].iloc[0]), pd.Timestamp(head["ds"].iloc[-1])
        lo, hi = head["yhat_lower"].sum(), head["yhat_upper"].sum()
        span = ("too uncertain for a range" if uninformative(lo, hi) else f"range {_usd(lo)} – {_usd(hi)}")
        section.lead = (f"Forecast ({fc['model'].iloc[0]}): {_usd(head['yhat'].sum())} earned in the sale months "
                        f"{first:%Y-%m} to {last:%Y-%m} ({span}); statements report them months later.")
        from .plots import plot_forecast
        from .series import monthly_revenue

        def draw():
            monthly = monthly_revenue(data.con)
            part = monthly[monthly["series_id"] == "revenue/account/earnings_usd"]
            history = pd.Series(part["value"].to_numpy(dtype=float), index=pd.to_datetime(part["date"]))
            return plot_forecast(history, fc, title="Monthly earnings of the account, USD", history_periods=None)

        png = chart(draw)
        if png is not None:
            section.blocks.append(Chart("Monthly earnings of the account, USD", png))
        shown = True
    if not shown:
        section.empty = "Nothing yet: no royalty statements analysed."
    return section


# --- rendering -----------------------------------------------------------------------------------


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(Table=Table, Chart=Chart, isinstance=isinstance)
    return env


def make_report(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    config: ReportConfig | None = None,
    *,
    generated_at: datetime | None = None,
    strict: bool = False,
) -> Report:
    """The report over the warehouse behind ``con`` for the report date ``as_of`` (None: all the
    data there is), rendered and with what it contains (see :class:`Report`)."""
    config = config or ReportConfig()
    generated_at = generated_at or datetime.now(timezone.utc)
    data = _Data(con, as_of, config, strict)
    facts: dict[str, Any] = {}

    def chart(draw: Callable[[], bytes]) -> bytes | None:
        try:
            return draw()
        except Exception:
            if strict:
                raise
            log.exception("report: a chart failed; left out")
            return None

    builders: list[tuple[str, str, Callable[[], Section]]] = [
        ("kpis", "Headline KPIs", lambda: _kpi_section(data, config)),
        ("streams", "Streams", lambda: _streams_section(data, config, facts, chart)),
        ("moments", "Viral moments", lambda: _moments_section(data, config, facts, chart)),
        ("anomalies", "Anomalies", lambda: _anomalies_section(data, config, facts)),
        ("forecasts", "Forecasts", lambda: _forecast_section(data, config, facts, chart)),
        ("markets", "Markets", lambda: _markets_section(data, config, facts)),
        ("ads", "Ad attribution", lambda: _ads_section(data, config, facts)),
        ("revenue", "Revenue", lambda: _revenue_section(data, config, facts, chart)),
    ]
    sections = []
    for sid, title, build in builders:
        try:
            sections.append(build())
        except _Missing as exc:
            sections.append(Section(sid, title, empty=f"Nothing yet: the warehouse has no table for this ({exc}); "
                                                      "refresh it with `soundlake ingest` or the Dagster job ingest."))
        except Exception as exc:
            if strict:
                raise
            log.exception("report: section %s failed", sid)
            sections.append(Section(sid, title, error=f"This section could not be built: {type(exc).__name__}: {exc}"))

    notes = []
    if data.period_end is None:
        notes.append("No daily data in the warehouse yet: ingest some exports (soundlake ingest) first.")
    elif data.newest_overall and data.newest_overall > data.period_end:
        notes.append(f"Made for {as_of}: data after {data.period_end} is left out of the streams, moments, anomalies, "
                     "ads and revenue; the KPIs, forecasts and markets are those of the latest run and may use "
                     f"data up to {data.newest_overall}.")
    html = _environment().get_template(TEMPLATE).render(
        title=config.title, report_date=as_of, period_start=data.period_start, period_end=data.period_end,
        generated_at=generated_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), notes=notes,
        sections=sections, headline=_headline(facts, data),
    )
    return Report(html=html, as_of=as_of, period_start=data.period_start, period_end=data.period_end,
                  generated_at=generated_at, sections=sections, facts=facts)


def _headline(facts: dict, data: _Data) -> list[str]:
    """What changed this week and what to do about it, a line each, at the top of the page."""
    lines = []
    if facts.get("streams_period") is not None and data.period_end:
        change = facts.get("streams_change_pct")
        lines.append(f"{_num(facts['streams_period'])} streams from {data.period_start} to {data.period_end}"
                     + (f", {_signed_pct(change)} on the same days a week before." if change is not None else "."))
    new = facts.get("moments_new_by_kind") or {}
    if new:
        kinds = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in new.items())
        lines.append(f"New viral moments: {kinds}. Find out what started them (a video, a playlist, a post) and "
                     "build on them while they last.")
    if facts.get("anomalies_in_period"):
        n = facts["anomalies_in_period"]
        lines.append(f"{n} anomal{'ies' if n != 1 else 'y'} in the week (a drop, missing days, a source sending "
                     "zeros): check them in Anomalies below.")
    if facts.get("top_market"):
        lines.append(f"Top market for a show: {facts['top_market']}.")
    return lines


# --- the lake --------------------------------------------------------------------------------------


def report_key(report_date: date) -> str:
    """Key of a report in the curated zone: ``reports/<YYYY-MM-DD>.html``."""
    return f"{REPORTS_PREFIX}{report_date.isoformat()}.html"


def save_report(storage: LakeStorage, html: str, report_date: date) -> str:
    """Store the page in the curated zone (replacing that day's report); returns its URI."""
    key = report_key(report_date)
    storage.put("curated", key, html.encode("utf-8"))
    return storage.uri("curated", key)
