"""The API pullers (``resources/pullers/``) as Dagster assets, one per source: ``api/<source>``,
group ``api``, run daily by the ``pull`` job (schedule ``pull_daily``) and by ``soundlake pull``.

An asset writes only to landing (``landing/<source>/<dataset>/``); the landing sensor starts the
ingest run that takes the files from there, as for any dropped file. A puller whose credentials
are not set materializes with ``status: not configured`` and the names of the missing variables:
a warning, not a failure. Credentials are read from the environment when the asset runs and never
reach its metadata or logs (a :class:`~resources.api.PullResult` holds keys, counts and days).
"""

import os
from datetime import date
from typing import Optional

import dagster as dg

from resources.api import Puller
from resources.lake_resource import LakeResource
from resources.pullers import PULLERS

GROUP = "api"
RESULT = "result"  # the metadata entry holding the PullResult as JSON (what `soundlake pull` prints)
KINDS = {"youtube": "youtube", "mailchimp": "mailchimp", "instagram": "instagram", "meta_ads": "meta"}


def pull_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["api", source])


class PullConfig(dg.Config):
    """``since`` (YYYY-MM-DD): a backfill from this day, whatever the source's cursor says."""

    since: Optional[str] = None


def puller_asset(puller: type[Puller]) -> dg.AssetsDefinition:
    @dg.asset(key=pull_key(puller.source), group_name=GROUP, kinds={"api", KINDS.get(puller.source, puller.source)},
              description=f"{puller.title}: {puller.fetches}. Each response lands in "
                          f"landing/{puller.source}/{puller.dataset}/; credentials: "
                          f"{', '.join(puller.required)}.")
    def _pull(context: dg.AssetExecutionContext, config: PullConfig, lake: LakeResource) -> dg.MaterializeResult:
        since = date.fromisoformat(config.since) if config.since else None
        result = puller(os.environ, lake.storage(), since=since).pull()
        if result.status == "not configured":
            context.log.warning(result.note)
        else:
            context.log.info(f"{puller.title}: {len(result.files)} responses landed ({result.window or result.note}); "
                             f"{len(result.empty)} without rows, {len(result.malformed)} not JSON")
        return dg.MaterializeResult(metadata={
            "status": dg.MetadataValue.text(result.status),
            "files": dg.MetadataValue.int(len(result.files)),
            "names": dg.MetadataValue.md("\n".join(f"- landing/{k}" for k in result.files) or "(none)"),
            "window": dg.MetadataValue.text(result.window or result.note or ""),
            "requests": dg.MetadataValue.int(result.requests),
            "retried": dg.MetadataValue.int(result.retried),
            "token_refreshed": dg.MetadataValue.int(result.token_refreshed),
            RESULT: dg.MetadataValue.json(result.to_json()),
        })

    return _pull


PULL_ASSETS = [puller_asset(p) for p in PULLERS.values()]
