"""The jobs: named selections of the one asset graph (assets/). Every way of running soundlake —
the CLI, the landing sensor, the schedules, the UI — launches one of these.

* ``ingest`` — landing → raw → staging → curated → warehouse, then the analytics that take seconds
  (group ``analytics``: KPIs, viral moments, anomalies, attribution, revenue, markets, alerts). A
  run for new files selects only the sources those files belong to and what depends on them
  (:func:`ingest_selection`).
* ``reprocess`` — staging onwards with the tag ``soundlake/reprocess=true``: staging parses
  quarantined (and unused) files again, ``raw/unidentified`` recognises unrecognised ones again,
  and what depends on them is rebuilt; also the way to rebuild a warehouse a failed run left
  unbuilt.
* ``extract`` — the browser extractors (``extract/<source>``), a run per source; what they land is
  ingested by the landing sensor (or by ``soundlake extract``).
* ``analytics`` — every analytics table, the forecasts included; ``report`` — the weekly report;
  ``archive`` — raw retention.
* ``pull`` — the API pullers (group ``api``): new responses land in landing, where the landing
  sensor starts their ingest.
"""

from __future__ import annotations

import functools
from typing import Iterable

import dagster as dg

from assets.analytics_assets import ANALYTICS_ASSETS, REPORT_KEY
from assets.extract_assets import EXTRACT_ASSETS
from assets.factory import (
    REPROCESS_TAG,
    UNIDENTIFIED_NAME,
    WAREHOUSE_KEY,
    build_assets,
    curated_key,
    landing_key,
    raw_key,
    staging_key,
)
from assets.lake import UNIDENTIFIED
from assets.lake.state import Staleness
from assets.pullers import PULL_ASSETS, pull_key
from resources.lock import WRITER_TAG

INGEST_JOB = "ingest"
REPROCESS_JOB = "reprocess"
ANALYTICS_JOB = "analytics"
REPORT_JOB = "report"
ARCHIVE_JOB = "archive"
PULL_JOB = "pull"
# runs with this tag hold the lake lock (resources/lock.py) and queue behind each other (dagster.yaml)
WRITES_TAG = {WRITER_TAG: "curated"}

ASSETS = build_assets() + ANALYTICS_ASSETS + PULL_ASSETS + EXTRACT_ASSETS

INGEST_SELECTION = dg.AssetSelection.groups("landing", "raw", "staging", "curated", "warehouse", "analytics")

ingest_job = dg.define_asset_job(
    INGEST_JOB, selection=INGEST_SELECTION, tags=WRITES_TAG,
    description="Landing → raw → staging → curated → warehouse views, then the analytics that take seconds "
                "(KPIs, viral moments, anomalies, attribution, revenue, markets) and the alerts.",
)
REPROCESS_SELECTION = (dg.AssetSelection.groups("staging", "curated", "warehouse", "analytics")
                       | dg.AssetSelection.assets(raw_key(UNIDENTIFIED_NAME)))
reprocess_job = dg.define_asset_job(
    REPROCESS_JOB, selection=REPROCESS_SELECTION, tags={**WRITES_TAG, REPROCESS_TAG: "true"},
    description="Parses quarantined and unused files in raw again (after a parser fix or a new source module) "
                "and rebuilds what depends on them: curated, the warehouse, the KPIs and the fast analytics.",
)
analytics_job = dg.define_asset_job(
    ANALYTICS_JOB, selection=dg.AssetSelection.groups("analytics", "forecasts"), tags=WRITES_TAG,
    description="Every analytics table over the curated model: the fast ones, forecast backtests and forecasts.",
)
report_job = dg.define_asset_job(
    REPORT_JOB, selection=dg.AssetSelection.assets(REPORT_KEY),
    description="The weekly HTML report over the warehouse and the analytics tables (curated reports/<date>.html).",
)
archive_job = dg.define_asset_job(ARCHIVE_JOB, selection=dg.AssetSelection.groups("archive"), tags=WRITES_TAG,
                                  description="Raw objects past the retention age moved to archive.")

pull_job = dg.define_asset_job(PULL_JOB, selection=dg.AssetSelection.groups("api"),
                              description="The API pullers: each lands what is new in landing/<source>/<dataset>/ "
                                          "(the landing sensor ingests it); unconfigured ones say so.")


# browser extractors: a run per source (pipelines/schedules.py: extract_daily), what it lands is ingested after
EXTRACT_JOB = "extract"
extract_job = dg.define_asset_job(EXTRACT_JOB, selection=dg.AssetSelection.groups("extract"),
                                  tags={"soundlake/browser": "chromium"},  # dagster.yaml: two at once
                                  description="Dashboards without an API → landing, with saved browser sessions.")

JOBS = [ingest_job, reprocess_job, analytics_job, report_job, archive_job, pull_job, extract_job]

# the analytics tables the ingest job keeps current (group ``analytics``; the asset ``analytics/<t>``
# makes ``t``). ``alerts`` is not one: it is the log of what was sent (written only when a channel
# is configured), and it runs after any analytics table a run rebuilds.
INGEST_ANALYTICS = tuple(sorted(
    key.path[1] for a in ANALYTICS_ASSETS for key in a.keys
    if a.group_names_by_key.get(key) == "analytics" and len(key.path) == 2 and key.path[1] != "alerts"))


@functools.lru_cache(maxsize=1)
def _graph():
    from resources.lake_resource import LakeResource

    return dg.Definitions(assets=ASSETS, resources={"lake": LakeResource()}).resolve_asset_graph()


def ingest_selection(destinations: Iterable[tuple[str, str]],
                     changed: Iterable[tuple[str, str]] | None = None) -> list[dg.AssetKey]:
    """The assets a run for files of these (source, dataset) pairs materialises: their landing
    and raw assets, and the staging assets of the datasets whose files bring something new
    (``changed``; default: all of them) with everything of the ingest job downstream. A batch of
    duplicates is recorded in raw and changes nothing after it."""
    keys: set[dg.AssetKey] = set()
    for source, _dataset in destinations:
        name = UNIDENTIFIED_NAME if source == UNIDENTIFIED else source
        keys |= {landing_key(name), raw_key(name)}
    staged: list[dg.AssetKey] = []
    for source, dataset in (destinations if changed is None else changed):
        if source != UNIDENTIFIED:
            keys |= {landing_key(source), raw_key(source)}
            staged.append(staging_key(source, dataset))
    graph = _graph()
    if staged:
        keys |= (dg.AssetSelection.assets(*staged).downstream() & INGEST_SELECTION).resolve(graph)
    return sorted(keys, key=lambda k: k.to_user_string())


def heal_selection(stale: Staleness) -> list[dg.AssetKey]:
    """The assets of the ingest job that rebuild what ``stale`` names: stale staging datasets
    and curated tables with everything downstream; a stale warehouse by itself (re-creating its
    views changes no table); stale analytics tables with what depends on them."""
    graph = _graph()
    known = graph.get_all_asset_keys()
    seeds = [staging_key(s, d) for s, d in stale.staging] + [curated_key(t) for t in stale.curated]
    seeds += [dg.AssetKey(["analytics", t]) for t in stale.analytics]
    seeds = [k for k in seeds if k in known]
    keys: set[dg.AssetKey] = {WAREHOUSE_KEY} if stale.warehouse else set()
    if seeds:
        keys |= (dg.AssetSelection.assets(*seeds).downstream() & INGEST_SELECTION).resolve(graph)
    return sorted(keys, key=lambda k: k.to_user_string())


def reprocess_selection(source: str | None = None) -> list[dg.AssetKey]:
    """Staging of every dataset (of ``source`` when given) and what depends on it; without a
    source also ``raw/unidentified``, which recognises the unrecognised files again."""
    graph = _graph()
    if source is None:
        return sorted(REPROCESS_SELECTION.resolve(graph), key=lambda k: k.to_user_string())
    staging = [k for k in graph.get_all_asset_keys() if k.path[0] == "staging" and k.path[1] == source]
    keys = (dg.AssetSelection.assets(*staging).downstream() & REPROCESS_SELECTION).resolve(graph)
    return sorted(keys, key=lambda k: k.to_user_string())


def pull_selection(sources: Iterable[str]) -> list[dg.AssetKey]:
    return [pull_key(s) for s in sources]


def analytics_selection(forecasts: bool = True) -> list[dg.AssetKey]:
    groups = ("analytics", "forecasts") if forecasts else ("analytics",)
    return sorted(dg.AssetSelection.groups(*groups).resolve(_graph()), key=lambda k: k.to_user_string())
