"""How often each source is expected to bring new data, and whether it is late.

A source is *stale* when the newest data of its loaded files (their ``observed_at``: when the
platform produced the export) is older than its cadence: a label exports its dashboards weekly,
DistroKid publishes statements monthly. ``soundlake status`` shows it per source.

The cadences live here, in one table, so a source module need not change; a source without an
entry gets ``DEFAULT_CADENCE_DAYS``. A deployment overrides them without a code change:
``SOUNDLAKE_FRESHNESS_DAYS="distrokid=40,tiktok=3"`` (or a bare number for every source).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Mapping

import pandas as pd

DEFAULT_CADENCE_DAYS = 7.0
ENV = "SOUNDLAKE_FRESHNESS_DAYS"

CADENCE_DAYS: Mapping[str, float] = {
    "distrokid": 35.0,  # bank details follow the monthly statements (a month and a few days of lag)
    "toolost": 7.0,  # weekly stats exports
    "meta_ads": 7.0,  # weekly, while campaigns run
    "spotify_for_artists": 7.0,
    "tiktok": 7.0,
    "linktree": 7.0,
}


def cadences(environ: Mapping[str, str] | None = None) -> tuple[float, dict[str, float]]:
    """The default cadence and the per-source ones, with ``SOUNDLAKE_FRESHNESS_DAYS`` applied: a
    bare number replaces every cadence of the table, ``SOURCE=DAYS`` the one of that source."""
    default, named = None, {}
    raw = ((os.environ if environ is None else environ).get(ENV) or "").strip()
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        name, _, days = part.rpartition("=")
        try:
            value = float(days)
        except ValueError:
            raise ValueError(f"{ENV}: {part!r} is neither DAYS nor SOURCE=DAYS") from None
        if value <= 0:
            raise ValueError(f"{ENV}: {part!r}: the cadence must be a positive number of days")
        if name.strip():
            named[name.strip()] = value
        else:
            default = value
    if default is None:
        return DEFAULT_CADENCE_DAYS, {**CADENCE_DAYS, **named}
    return default, named


def cadence_days(source: str, environ: Mapping[str, str] | None = None) -> float:
    default, by_source = cadences(environ)
    return by_source.get(source, default)


def judge(source: str, newest_observed: datetime | pd.Timestamp | None, now: datetime,
          environ: Mapping[str, str] | None = None) -> dict:
    """``{cadence_days, stale}`` of a source whose newest loaded data is from ``newest_observed``
    (None or NaT: nothing loaded yet, which is not stale: there is nothing to be late with)."""
    cadence = cadence_days(source, environ)
    if newest_observed is None or pd.isna(newest_observed):
        return {"cadence_days": cadence, "stale": False}
    observed = pd.Timestamp(newest_observed)
    observed = observed.tz_localize("UTC") if observed.tzinfo is None else observed
    age_days = (pd.Timestamp(now) - observed).total_seconds() / 86400
    return {"cadence_days": cadence, "stale": bool(age_days > cadence)}
