"""Alerts: which events a person is told about, once each, and their dispatch to the channels.

Five kinds of event become alerts (:class:`resources.alerts.Alert`: ``alert_id``, ``kind``,
``severity``, ``subject``, ``message``). The thresholds are :class:`AlertConfig`; the channels
(webhook, e-mail) and their variables are in ``resources/alerts.py``.

Kinds
-----
``viral_moment`` — a row of the ``viral_moments`` table with ``score ≥ viral_min_score`` (default
    4, the detector's own bar; weaker rows, whose weekday-adjusted peak lift is small, exist and
    are left out). Only moments that *start* within ``max_age_days`` (30) of the newest data day
    (the newest ``date`` of the daily fact tables, not today: exports arrive days or weeks late)
    are alerted, so a first run over years of history does not send every moment since the first
    export; the older ones are counted in the dispatch's ``skipped``. 30 days, not 7 or 14,
    because exports are often downloaded monthly: a moment at the start of a month must still be
    new when that month's export is ingested (the table keeps it from alerting twice anyway).
    Severity ``info`` (good news), ``warning`` when another platform confirms it
    (``cross_platform_confirmed``). The sentence names the moment's ``kind`` (a spike that came
    back down, a breakout that settled at a new level, a surge still climbing) and, for a breakout,
    that later days are measured against the new level. Id: ``viral_moment:<series_id>:<start_date>``.
``anomaly`` — a row of the ``anomalies`` table at ``anomaly_min_severity`` (``warning``) or above.
    The age rule is on the anomaly's *end*: one still going on (a source sending zeros for two
    months, a series that stopped) or that ended within ``max_age_days`` of the newest data day is
    alerted; one that was over before that is skipped. An anomaly's start is the day it began, so
    a rule on the start would never alert an old problem that is still there. Severity: the
    anomaly's. Id: ``anomaly:<kind>:<series_id>:<start_date>`` (a drop that goes on keeps its id;
    it is not alerted again as it lengthens or worsens).
``stale_source`` — a source with loaded files whose freshness (now − the newest ``observed_at``
    of its loaded files, as ``soundlake status`` shows it) exceeds ``stale_days`` (7), or its
    override in ``stale_days_by_source`` (a distributor that publishes monthly statements wants
    ~35). ``warning``; ``critical`` from ``stale_critical_days`` (30). Id:
    ``stale_source:<source>:<newest observed day>``: once per stale spell; a fresh export ends the
    spell and the next spell alerts again.
``session_expired`` — a browser session that no longer works (or soon will not). The contract
    with the browser extractors: each saves Playwright's ``context.storage_state()`` JSON as
    ``$SOUNDLAKE_HOME/sessions/<source>.json``, i.e. ``{"cookies": [{"name", "value", "domain",
    "path", "expires", ...}], "origins": [...]}`` with ``expires`` in epoch seconds and ``-1`` (any
    value ≤ 0) for a session cookie. A session is *expired* when every cookie that has an expiry
    has expired (the latest ``expires`` ≤ now) or when the file holds no cookie at all:
    ``critical``, id ``session_expired:<source>:<latest expiry, UTC minute>`` (or
    ``no-cookies-<file time>``). It is *expiring* when the latest expiry falls within
    ``session_warn_days`` (3): ``warning``, id ``session_expiring:<source>:<latest expiry>``. A new login writes a new expiry, hence a new
    id: the next expiry alerts again. A file whose cookies are all session cookies cannot be
    judged and gives no alert. Only names and expiries are read; cookie values never leave the file.
    The extractors (``resources/browser.py``) write this file *without* values (those are in the
    encrypted vault, ``secrets/<source>.vault``) and add a ``soundlake`` block; when a dashboard
    refused the session (sent the extractor to its login page) it holds ``rejected_at``: then the
    session is expired whatever its cookies say, id ``session_expired:<source>:rejected-<UTC minute>``.
``quarantined_file`` — a landed file that could not be read (no source recognised it, or its parser
    refused it): ``warning``, with the reason (it names the file, the column or line, and what to
    do). Files that landed more than ``max_age_days`` ago are skipped. Id:
    ``quarantined_file:<sha256>`` (the same bytes ingested again do not alert twice).
``run_failure`` — a failed Dagster run (``sensors/alerts.py``, a run-failure sensor): job, run id
    and the failing steps' error messages. ``critical``. Id: ``run_failure:<run_id>``.

Deduplication and retries
-------------------------
Every alert dispatched to at least one channel is a row of the ``alerts`` analytics table
(``curated/alerts/data.parquet``): ``first_seen``, ``sent_at`` and ``channels`` (those that
accepted it). An alert whose ``sent_at`` is set is never sent again. A channel that fails (an HTTP
500 after the webhook's retries, an SMTP server that is down) leaves ``sent_at`` null and the
alert is retried at the next dispatch, to the channels that have not accepted it yet only (the
webhook that took it is not sent it twice because e-mail failed). ``sent_at`` is set when every
configured channel has accepted it. A pending alert is retried while its event is current and,
once it is gone from the inputs (the table holds its text), for ``retry_max_age_days`` (7) after
it was first seen; then it is given up (``gave_up`` in the result) and stays in the table with
``sent_at`` null. With no channel configured nothing is sent and the table is not written, so
configuring a channel later sends what is current then (within the age rules), not a backlog. A channel added later is not sent alerts the
other channels already delivered.

Where dispatch runs: at the end of every ``soundlake ingest`` (a failure is a logged warning,
never a failed ingest), in ``soundlake alerts``, in the Dagster asset ``analytics/alerts`` (ingest
job) and in the run-failure sensor. The read-modify-write of the table is not locked: two
dispatches at the same instant (a sensor tick during a CLI ingest) could both send an event.

Thresholds can also come from the environment, read when a dispatch starts
(:meth:`AlertConfig.from_env`): ``SOUNDLAKE_ALERT_KINDS`` (comma separated kinds),
``SOUNDLAKE_ALERT_VIRAL_MIN_SCORE``, ``SOUNDLAKE_ALERT_MAX_AGE_DAYS``,
``SOUNDLAKE_ALERT_ANOMALY_MIN_SEVERITY``, ``SOUNDLAKE_ALERT_STALE_DAYS`` (``7`` or
``7,distrokid=35,tiktok=3``), ``SOUNDLAKE_ALERT_SESSION_WARN_DAYS``.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from resources.alerts import SEVERITIES, Alert, Channel, SendResult, channels_from_settings, redact, settings_secrets

log = logging.getLogger("soundlake.alerts")

TABLE = "alerts"
KINDS = ("viral_moment", "anomaly", "run_failure", "stale_source", "session_expired", "quarantined_file")
ALERT_COLUMNS = ["alert_id", "kind", "severity", "subject", "message", "first_seen", "sent_at", "channels"]
ERROR_MAX_CHARS = 1000  # of a failed run's error text in the message

ANOMALY_ACTIONS = {
    "drop": "Check whether a track was taken down, a playlist dropped it or an ad campaign stopped.",
    "all_zero": "Check the source's exports: a source that silently sends zeros looks like this, and so does a takedown.",
    "missing_days": "Export the missing days from the platform again and ingest them (`soundlake ingest`).",
    "counter_decrease": "Check that the export is of the right account: a reset or another account's numbers look like this.",
}


@dataclass(frozen=True)
class AlertConfig:
    """Every threshold of the alerts; see the module docstring."""

    kinds: tuple[str, ...] = KINDS  # kinds that alert at all
    viral_min_score: float = 4.0  # a moment's score must reach this
    max_age_days: int = 30  # moments starting / anomalies ending this many days before the newest data day, at most
    anomaly_min_severity: str = "warning"  # `info`, `warning` or `critical`
    stale_days: float = 7.0  # a source is stale when its newest export is older than this...
    stale_days_by_source: Mapping[str, float] = field(default_factory=dict, hash=False)  # ... or than its override
    stale_critical_days: float = 30.0  # critical from this
    session_warn_days: float = 3.0  # warn this long before a browser session expires
    retry_max_age_days: float = 7.0  # a pending alert is retried this long after it was first seen

    def __post_init__(self):
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown alert kinds {unknown}; kinds are {', '.join(KINDS)}")
        if self.anomaly_min_severity not in SEVERITIES:
            raise ValueError(f"anomaly_min_severity must be one of {', '.join(SEVERITIES)}, not {self.anomaly_min_severity!r}")

    def stale_days_for(self, source: str) -> float:
        return float(self.stale_days_by_source.get(source, self.stale_days))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, base: "AlertConfig | None" = None) -> "AlertConfig":
        """``base`` (the defaults) with the ``SOUNDLAKE_ALERT_*`` thresholds that are set."""
        env = os.environ if environ is None else environ
        config = base or cls()
        changes: dict = {}

        def get(name):
            v = (env.get(name) or "").strip()
            return v or None

        def number(name):
            v = get(name)
            if v is None:
                return None
            try:
                return float(v)
            except ValueError:
                raise ValueError(f"{name}={v!r} is not a number") from None

        if (v := get("SOUNDLAKE_ALERT_KINDS")) is not None:
            changes["kinds"] = tuple(k.strip() for k in v.split(",") if k.strip())
        if (v := number("SOUNDLAKE_ALERT_VIRAL_MIN_SCORE")) is not None:
            changes["viral_min_score"] = v
        if (v := number("SOUNDLAKE_ALERT_MAX_AGE_DAYS")) is not None:
            changes["max_age_days"] = int(v)
        if (v := get("SOUNDLAKE_ALERT_ANOMALY_MIN_SEVERITY")) is not None:
            changes["anomaly_min_severity"] = v.lower()
        if (v := number("SOUNDLAKE_ALERT_SESSION_WARN_DAYS")) is not None:
            changes["session_warn_days"] = v
        if (v := get("SOUNDLAKE_ALERT_STALE_DAYS")) is not None:
            by_source = dict(config.stale_days_by_source)
            for part in (p.strip() for p in v.split(",") if p.strip()):
                name, _, days = part.rpartition("=")
                try:
                    value = float(days)
                except ValueError:
                    raise ValueError(f"SOUNDLAKE_ALERT_STALE_DAYS: {part!r} is neither DAYS nor SOURCE=DAYS") from None
                if name:
                    by_source[name.strip()] = value
                else:
                    changes["stale_days"] = value
            changes["stale_days_by_source"] = by_source
        return replace(config, **changes) if changes else config


# --- events -------------------------------------------------------------------------------------

def _day(value) -> date | None:
    if value is None or (not isinstance(value, (date, datetime)) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _num(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "?"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.1f}"


def _who(artist) -> str:
    return "the account" if artist is None or (isinstance(artist, float) and math.isnan(artist)) else str(artist)


# a moment's kind (viral.py) in a sentence: (noun, what the series did)
MOMENT_WORDS = {
    "spike": ("spike", "spiked"),
    "breakout": ("breakout", "broke out to a new level"),
    "surge": ("surge", "has been climbing faster and faster"),
}


def viral_events(moments: pd.DataFrame, newest_day: date | None,
                 config: AlertConfig = AlertConfig()) -> tuple[list[Alert], int]:  # noqa: B008
    """Alerts for the ``viral_moments`` rows worth one; and how many were skipped as too old."""
    if moments is None or moments.empty:
        return [], 0
    out, skipped = [], 0
    horizon = newest_day - timedelta(days=config.max_age_days) if newest_day else None
    for m in moments.sort_values(["start_date", "series_id"]).itertuples(index=False):
        if pd.isna(m.score) or float(m.score) < config.viral_min_score:
            continue
        start = _day(m.start_date)
        if horizon is not None and start is not None and start < horizon:
            skipped += 1
            continue
        metric = "followers gained" if m.metric == "followers" else m.metric
        confirmed = bool(m.cross_platform_confirmed) if not pd.isna(m.cross_platform_confirmed) else False
        kind = getattr(m, "kind", None)
        kind = kind if isinstance(kind, str) and kind in MOMENT_WORDS else "spike"
        ongoing = bool(getattr(m, "ongoing", False)) if not pd.isna(getattr(m, "ongoing", False)) else False
        word, verb = MOMENT_WORDS[kind]
        subject = f"Viral moment ({word}): {m.platform} {metric} of {_who(m.artist)} ({float(m.lift):.1f}× usual)"
        if kind == "breakout":
            how = (f"settled at a new level by {_day(m.end_date)}; later days are measured against it")
        elif ongoing:
            how = f"still running when the data stops (elevated up to {_day(m.end_date)})"
        else:
            how = f"back to the usual level after {_day(m.end_date)}"
        message = (
            f"{m.platform} {metric} of {_who(m.artist)} {verb} from {start}: "
            f"{_num(m.peak_value)} on {_day(m.peak_date)}, {float(m.lift):.1f}× the usual "
            f"{_num(m.baseline)} a day (score {float(m.score):.1f}); {how}."
            + (" Another platform of the artist moved at the same time." if confirmed else "")
            + " Find out what started it (a video, a playlist, a post) and build on it while it lasts."
        )
        out.append(Alert(f"viral_moment:{m.series_id}:{start}", "viral_moment",
                         "warning" if confirmed else "info", subject, message))
    return out, skipped


def anomaly_events(anomalies: pd.DataFrame, newest_day: date | None,
                   config: AlertConfig = AlertConfig()) -> tuple[list[Alert], int]:  # noqa: B008
    """Alerts for the ``anomalies`` rows at the minimum severity or above; and how many of those
    were skipped because they were over more than ``max_age_days`` before the newest data day."""
    if anomalies is None or anomalies.empty:
        return [], 0
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    floor = rank[config.anomaly_min_severity]
    horizon = newest_day - timedelta(days=config.max_age_days) if newest_day else None
    out, skipped = [], 0
    for a in anomalies.sort_values(["start_date", "series_id", "kind"]).itertuples(index=False):
        if rank.get(a.severity, -1) < floor:
            continue
        start, end = _day(a.start_date), _day(a.end_date)
        if horizon is not None and (end or start) is not None and (end or start) < horizon:
            skipped += 1
            continue
        what = a.kind.replace("_", " ")
        subject = f"Anomaly ({a.severity}): {what} in {a.series_id}"
        message = f"{a.detail} {ANOMALY_ACTIONS.get(a.kind, '')}".strip()  # detail names the days
        out.append(Alert(f"anomaly:{a.kind}:{a.series_id}:{start}", "anomaly", a.severity, subject, message))
    return out, skipped


def stale_source_events(manifest: pd.DataFrame, now: datetime,
                        config: AlertConfig = AlertConfig()) -> list[Alert]:  # noqa: B008
    """Alerts for sources whose newest loaded export is older than their threshold (``manifest``
    is ``lake_files``: one row per landed file with ``source``, ``status``, ``observed_at``)."""
    if manifest is None or manifest.empty:
        return []
    loaded = manifest[(manifest["status"] == "loaded") & manifest["source"].notna() & manifest["observed_at"].notna()]
    out = []
    for source, observed in loaded.groupby("source")["observed_at"].max().sort_index().items():
        observed = pd.Timestamp(observed)
        observed = observed.tz_localize("UTC") if observed.tzinfo is None else observed.tz_convert("UTC")
        days = (pd.Timestamp(now) - observed).total_seconds() / 86400
        limit = config.stale_days_for(source)
        if days <= limit:
            continue
        severity = "critical" if days >= max(config.stale_critical_days, limit) else "warning"
        subject = f"Stale source: no new {source} data for {days:.0f} days"
        message = (
            f"The newest {source} export soundlake has was produced on {observed.date()} ({days:.1f} days ago; "
            f"the limit is {limit:g} days). Download a fresh export and run `soundlake ingest` on it, or check "
            f"the sync or extractor that lands {source} files."
        )
        out.append(Alert(f"stale_source:{source}:{observed.date()}", "stale_source", severity, subject, message))
    return out


def quarantined_file_events(manifest: pd.DataFrame, now: datetime,
                            config: AlertConfig = AlertConfig()) -> tuple[list[Alert], int]:  # noqa: B008
    """Alerts for landed files that are quarantined now (``lake_files``: the newest row of each
    landing), one per file content; files that landed more than ``max_age_days`` ago are
    skipped, so a first dispatch over an old lake does not send its whole history."""
    if manifest is None or manifest.empty:
        return [], 0
    bad = manifest[manifest["status"] == "quarantined"]
    out, skipped = [], 0
    cutoff = pd.Timestamp(now) - pd.Timedelta(days=config.max_age_days)
    for r in bad.sort_values("landed_at", kind="stable").drop_duplicates("sha256", keep="last").itertuples(index=False):
        landed = pd.Timestamp(r.landed_at)
        landed = landed.tz_localize("UTC") if landed.tzinfo is None else landed
        if landed < cutoff:
            skipped += 1
            continue
        where = f"{r.source}/{r.dataset}" if isinstance(r.source, str) else "no source"
        subject = f"File quarantined ({where}): {r.original_name}"
        message = (f"{r.reason or r.original_name + ': quarantined'}\n\nThe file is kept in raw and changed nothing in "
                   "curated. Fix what the reason names and ingest the file again (with the option it asks for), or "
                   "run `soundlake reprocess` after a parser fix; `soundlake status` lists every quarantined file.")
        out.append(Alert(f"quarantined_file:{r.sha256}", "quarantined_file", "warning", subject, message))
    return out, skipped


def session_expiry(state: Mapping) -> tuple[datetime | None, int]:
    """(latest cookie expiry in UTC, number of cookies) of a Playwright ``storage_state``; the
    expiry is None when no cookie has one (session cookies only, or no cookies)."""
    cookies = state.get("cookies") or []
    if not isinstance(cookies, list):
        raise ValueError("'cookies' is not a list")
    expiries = []
    for c in cookies:
        exp = c.get("expires") if isinstance(c, Mapping) else None
        if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp > 0:
            expiries.append(float(exp))
    latest = datetime.fromtimestamp(max(expiries), tz=timezone.utc) if expiries else None
    return latest, len(cookies)


def session_events(sessions_dir: Path, now: datetime,
                   config: AlertConfig = AlertConfig()) -> list[Alert]:  # noqa: B008
    """Alerts for the browser sessions under ``sessions_dir`` (``<source>.json``) that expired or
    expire within ``session_warn_days``. An unreadable file is logged and skipped."""
    if not sessions_dir.is_dir():
        return []
    out = []
    for path in sorted(sessions_dir.glob("*.json")):
        source = path.stem
        try:
            latest, n = session_expiry(json.loads(path.read_text()))
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("session file %s is not a Playwright storage state (%s); skipped", path.name, type(exc).__name__)
            continue
        redo = (f"Sign in to {source} again: `soundlake login {source}` saves a fresh session "
                f"(sessions/{path.name} under $SOUNDLAKE_HOME).")
        rejected = _rejected_at(path)
        if rejected is not None:
            out.append(Alert(f"session_expired:{source}:rejected-{rejected:%Y-%m-%dT%H:%M}", "session_expired", "critical",
                             f"Browser session of {source} expired: log in again to {source}",
                             f"On {rejected:%Y-%m-%d %H:%M} UTC the {source} dashboard sent its extractor to the login "
                             f"page: the saved session no longer works and nothing was downloaded. {redo}"))
        elif n == 0:
            written = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
            out.append(Alert(f"session_expired:{source}:no-cookies-{written:%Y-%m-%dT%H:%M}", "session_expired", "critical",
                             f"Browser session of {source} holds no cookies",
                             f"The saved session of {source} has no cookies, so its extractor is not signed in. {redo}"))
        elif latest is None:
            continue  # session cookies only: the site decides, nothing to judge
        elif latest <= now:
            out.append(Alert(f"session_expired:{source}:{latest:%Y-%m-%dT%H:%M}", "session_expired", "critical",
                             f"Browser session of {source} expired",
                             f"Every cookie of the saved {source} session expired (the last on {latest:%Y-%m-%d %H:%M} UTC): "
                             f"its extractor cannot download exports until you sign in again. {redo}"))
        elif latest <= now + timedelta(days=config.session_warn_days):
            hours = (latest - now).total_seconds() / 3600
            out.append(Alert(f"session_expiring:{source}:{latest:%Y-%m-%dT%H:%M}", "session_expired", "warning",
                             f"Browser session of {source} expires in {hours:.0f} hours",
                             f"The saved {source} session expires on {latest:%Y-%m-%d %H:%M} UTC ({hours:.0f} hours from "
                             f"now); after that its extractor cannot download exports. {redo}"))
    return out


def _rejected_at(path: Path) -> datetime | None:
    """When a dashboard refused the session of this file (the extractors' ``soundlake.rejected_at``)."""
    block = json.loads(path.read_text()).get("soundlake")
    when = block.get("rejected_at") if isinstance(block, Mapping) else None
    if not isinstance(when, str):
        return None
    try:
        parsed = datetime.fromisoformat(when)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def run_failure_event(job_name: str, run_id: str, error: str | None, failed_at: datetime | None = None) -> Alert:
    """The alert of a failed Dagster run (``error``: the failing steps' messages)."""
    error = (error or "no error message").strip()
    if len(error) > ERROR_MAX_CHARS:
        error = error[: ERROR_MAX_CHARS - 1] + "…"
    when = f" at {failed_at:%Y-%m-%d %H:%M} UTC" if failed_at else ""
    return Alert(
        f"run_failure:{run_id}", "run_failure", "critical", f"Dagster run of {job_name} failed",
        f"The run {run_id} of job {job_name} failed{when}: {error}\n"
        "Open the run in the Dagster UI (`soundlake ui`, Runs) for its logs, fix the cause and re-execute it.",
    )


# --- inputs from the lake ---------------------------------------------------------------------------

def read_analytics(storage, name: str) -> pd.DataFrame:
    """An analytics table from ``curated/<name>/data.parquet`` (empty when there is none)."""
    key = f"{name}/data.parquet"
    if storage.stat("curated", key) is None:
        return pd.DataFrame()
    return pq.read_table(io.BytesIO(storage.get("curated", key))).to_pandas()


NEWEST_DAY_SQL = """
SELECT max(d) FROM (
    SELECT max(date) AS d FROM fct_streams_daily UNION ALL SELECT max(date) FROM fct_audience_daily
    UNION ALL SELECT max(date) FROM fct_social_daily UNION ALL SELECT max(date) FROM fct_link_clicks_daily
)
"""


def newest_data_day(platform, fallback: Iterable[pd.DataFrame] = ()) -> date | None:
    """The newest day of the daily fact tables (what the daily series are made of). When the
    warehouse cannot be read (busy, absent), the newest ``end_date`` of ``fallback`` frames."""
    try:
        if platform.settings.warehouse_path.exists():
            con = platform.warehouse.connect(read_only=True)
            try:
                return _day(con.execute(NEWEST_DAY_SQL).fetchone()[0])
            finally:
                con.close()
    except Exception as exc:  # a busy warehouse must not stop the alerts
        log.warning("newest data day: the warehouse could not be read (%s); using the analytics tables", type(exc).__name__)
    days = [_day(df["end_date"].max()) for df in fallback if len(df) and "end_date" in df]
    days = [d for d in days if d is not None]
    return max(days) if days else None


@dataclass
class Collected:
    events: list[Alert]
    skipped: dict[str, int]
    newest_day: date | None


def collect(platform, config: AlertConfig, now: datetime) -> Collected:
    """Every current event of the lake (not yet deduplicated). One failing kind is logged and
    left out; it does not stop the others."""
    events: list[Alert] = []
    skipped: dict[str, int] = {}
    wanted = set(config.kinds)
    storage = platform.storage
    moments = anomalies = pd.DataFrame()
    newest = None
    try:
        if wanted & {"viral_moment", "anomaly"}:
            moments = read_analytics(storage, "viral_moments") if "viral_moment" in wanted else moments
            anomalies = read_analytics(storage, "anomalies") if "anomaly" in wanted else anomalies
            newest = newest_data_day(platform, (moments, anomalies))
    except Exception:
        log.exception("alerts: reading viral moments and anomalies failed; no alerts of theirs this time")
    read: list[pd.DataFrame] = []

    def manifest() -> pd.DataFrame:
        if not read:
            read.append(platform.lake.manifest())
        return read[0]

    steps = [
        ("viral_moment", lambda: viral_events(moments, newest, config)),
        ("anomaly", lambda: anomaly_events(anomalies, newest, config)),
        ("stale_source", lambda: (stale_source_events(manifest(), now, config), 0)),
        ("quarantined_file", lambda: quarantined_file_events(manifest(), now, config)),
        ("session_expired", lambda: (session_events(platform.settings.sessions_dir, now, config), 0)),
    ]
    for kind, step in steps:
        if kind not in wanted:
            continue
        try:
            found, n_skipped = step()
        except Exception:  # one odd input must not stop the other kinds
            log.exception("alerts: collecting %s events failed; skipped", kind)
            continue
        events += found
        if n_skipped:
            skipped[kind] = n_skipped
    return Collected(events, skipped, newest)


# --- the alerts table: deduplication and delivery ---------------------------------------------------

@dataclass
class _Row:
    alert: Alert
    first_seen: datetime
    sent_at: datetime | None = None
    channels: set[str] = field(default_factory=set)

    def to_record(self) -> dict:
        a = self.alert
        return {"alert_id": a.alert_id, "kind": a.kind, "severity": a.severity, "subject": a.subject,
                "message": a.message, "first_seen": pd.Timestamp(self.first_seen),
                "sent_at": pd.Timestamp(self.sent_at) if self.sent_at else None,
                "channels": ",".join(sorted(self.channels))}


def read_alerts(storage) -> dict[str, _Row]:
    """The ``alerts`` table as rows by ``alert_id``."""
    df = read_analytics(storage, TABLE)
    rows = {}
    for r in df.itertuples(index=False) if len(df) else ():
        sent = None if pd.isna(r.sent_at) else pd.Timestamp(r.sent_at).to_pydatetime()
        channels = {c for c in (r.channels or "").split(",") if c}
        rows[r.alert_id] = _Row(Alert(r.alert_id, r.kind, r.severity, r.subject, r.message),
                                pd.Timestamp(r.first_seen).to_pydatetime(), sent, channels)
    return rows


def alerts_frame(rows: Iterable[_Row]) -> pd.DataFrame:
    records = sorted((r.to_record() for r in rows), key=lambda r: (r["first_seen"], r["alert_id"]))
    return pd.DataFrame(records, columns=ALERT_COLUMNS)


@dataclass
class DispatchResult:
    """What a dispatch did. ``alerts``: the alerts it sent, tried or (dry run, no channel) would
    send, each ``{alert_id, kind, severity, subject, message, status, channels}`` with status
    ``sent``, ``failed`` (retried next time), ``would send`` or ``no channel``."""

    alerts: list[dict] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # too old, by kind
    already_sent: int = 0
    gave_up: int = 0  # pending alerts past retry_max_age_days, no longer retried
    channels: list[str] = field(default_factory=list)  # the configured channels, by host
    failures: dict[str, str] = field(default_factory=dict)  # channel -> error
    problems: list[str] = field(default_factory=list)  # half-configured channels
    newest_day: date | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures and not self.problems

    def to_json(self) -> dict:
        return {"alerts": self.alerts, "skipped": self.skipped, "already_sent": self.already_sent,
                "gave_up": self.gave_up, "channels": self.channels, "failures": self.failures,
                "problems": self.problems, "newest_day": self.newest_day.isoformat() if self.newest_day else None,
                "dry_run": self.dry_run}


def dispatch(platform, config: AlertConfig | None = None, now: datetime | None = None, dry_run: bool = False, *,
             events: Sequence[Alert] = (), collect_events: bool = True,
             channels: Sequence[Channel] | None = None) -> DispatchResult:
    """Collect the lake's events (unless ``collect_events`` is false) plus ``events``, send those
    not sent yet to every configured channel (``channels`` overrides the environment's), record
    them in the ``alerts`` table. ``dry_run`` sends and writes nothing. Channel failures are
    logged warnings and ``result.failures``; nothing here raises for them."""
    now = now or datetime.now(timezone.utc)
    config = config or AlertConfig.from_env()
    settings = platform.settings
    secrets = settings_secrets(settings.alerts) + ([settings.s3.secret_key] if settings.s3 else [])
    if channels is None:
        channels, problems = channels_from_settings(settings.alerts)
    else:
        problems = []
    for p in problems:
        log.warning("alerts: %s", p)
    result = DispatchResult(channels=[c.describe() for c in channels], problems=list(problems), dry_run=dry_run)

    found = collect(platform, config, now) if collect_events else Collected([], {}, None)
    result.skipped, result.newest_day = found.skipped, found.newest_day
    if found.skipped:
        log.info("alerts: skipped %s (older than %d days before the newest data day, %s)",
                 ", ".join(f"{n} {k}" for k, n in found.skipped.items()), config.max_age_days, found.newest_day)

    rows = read_alerts(platform.storage)
    pending: dict[str, _Row] = {}
    for event in [*found.events, *events]:
        if event.kind not in config.kinds or event.alert_id in pending:
            continue
        event = Alert(event.alert_id, event.kind, event.severity, redact(event.subject, secrets),
                      redact(event.message, secrets))
        row = rows.get(event.alert_id)
        if row is not None and row.sent_at is not None:
            result.already_sent += 1
        elif row is not None:
            pending[event.alert_id] = row
        else:
            pending[event.alert_id] = _Row(event, now)
    retry_from = now - timedelta(days=config.retry_max_age_days)
    for alert_id, row in rows.items():  # pending from earlier dispatches whose event is gone now
        if row.sent_at is None and alert_id not in pending:
            if row.first_seen >= retry_from:
                pending[alert_id] = row
            else:
                result.gave_up += 1
    names = [c.name for c in channels]
    if not channels or dry_run:
        status = "would send" if channels else "no channel"
        result.alerts = [_describe(r, status) for r in pending.values() if not set(names) <= r.channels or not names]
        return result

    for channel in channels:
        todo = [r for r in pending.values() if channel.name not in r.channels]
        if not todo:
            continue
        try:
            sent = channel.send([r.alert for r in todo])
        except Exception as exc:  # a channel bug must not fail an ingest either
            sent = SendResult(channel.name, [], f"{channel.describe()}: {type(exc).__name__}")
        accepted = set(sent.accepted)
        for r in todo:
            if r.alert.alert_id in accepted:
                r.channels.add(channel.name)
        if sent.error:
            error = redact(sent.error, secrets)
            result.failures[channel.describe()] = error
            log.warning("alerts: %s; %d alert(s) stay pending and are retried at the next dispatch",
                        error, len(todo) - len(accepted))
    for r in pending.values():
        if r.sent_at is None and set(names) <= r.channels:
            r.sent_at = now
        result.alerts.append(_describe(r, "sent" if r.sent_at else "failed"))
    rows.update(pending)
    from .run import write_table

    write_table(platform.storage, TABLE, alerts_frame(rows.values()), now)
    return result


def dispatch_quietly(platform, config=None, *, dry_run: bool = False) -> tuple[DispatchResult | None, str | None]:
    """:func:`dispatch` for the end of an ingest run: whatever goes wrong (a bad threshold
    variable, an unreadable table) is returned as an error text without secrets, never raised.
    ``config`` is an :class:`AlertConfig`, a callable making one, or None (the environment's)."""
    try:
        return dispatch(platform, config() if callable(config) else config, dry_run=dry_run), None
    except Exception as exc:
        settings = platform.settings
        secrets = settings_secrets(settings.alerts) + ([settings.s3.secret_key] if settings.s3 else [])
        error = f"alerts were not dispatched: {type(exc).__name__}: {redact(str(exc), secrets)[:300]}"
        log.warning(error)
        return None, error


def _describe(row: _Row, status: str) -> dict:
    a = row.alert
    return {"alert_id": a.alert_id, "kind": a.kind, "severity": a.severity, "subject": a.subject,
            "message": a.message, "status": status, "channels": sorted(row.channels)}
