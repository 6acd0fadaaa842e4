"""The browser extractors as Dagster assets: ``extract/<source>`` (group ``extract``), one per
extractor of ``assets/extract/``. A materialization signs in headless with the saved session and
lands the run's downloads and captures at ``landing/<source>/<dataset>/<name>_<timestamp>``
(``landed`` rows in the manifest); the landing sensor, or the ``soundlake extract`` that started
it, ingests them. No downstream asset depends on them, so one source failing stops nothing else.

* no saved session: the source is *not configured*: the materialization says so and lands
  nothing (not a failure; the daily schedule does not even start its run);
* an expired session: the run fails with ``log in again to SOURCE``, lands nothing, and the
  session file records the refusal (the ``session_expired`` alert; the run-failure sensor
  alerts the failed run too).
"""


import dagster as dg

from resources.browser import Sessions
from resources.lake_resource import LakeResource
from resources.vault import VaultError

from .extract import EXTRACTORS, Extractor
from .extract.base import ExtractError, SessionExpired, extract, land
from .factory import batch_of
from .lakehouse import Lakehouse

GROUP = "extract"


def extract_key(source: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, source])


def _asset(extractor: Extractor) -> dg.AssetsDefinition:
    source = extractor.source

    @dg.asset(key=extract_key(source), group_name=GROUP, kinds={"chromium"},
              description=f"{extractor.title} dashboard → landing/{source}: {extractor.what} (browser extractor, "
                          f"saved session; `soundlake login {source}` once).")
    def _extract(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        house = Lakehouse.from_resource(lake)
        sessions = Sessions(house.settings)
        if not sessions.configured(source):
            context.log.info(f"{source} is not configured (no saved session): run `soundlake login {source}`")
            return dg.MaterializeResult(metadata={"status": "not configured", "files": 0})
        try:
            captures = extract(extractor, sessions)
        except (SessionExpired, ExtractError, VaultError) as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        landed = land(house.lake, source, captures, batch=batch_of(context.run))
        return dg.MaterializeResult(metadata={
            "status": "landed", "files": len(landed),
            "landing_keys": dg.MetadataValue.json([i.key for i in landed]),
            "bytes": sum(i.size or 0 for i in landed),
        })

    return _extract


EXTRACT_ASSETS = [_asset(e) for e in EXTRACTORS.values()]
