"""Archive: previous versions of curated partitions, and raw objects past the retention age.

Moving to archive never deletes the last copy of anything: a raw object is copied, the copy is
checked, and only then is the original removed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from resources.api import CURSOR_PREFIX
from resources.storage import LakeStorage

from .manifest import MANIFEST_PREFIX, utcnow

log = logging.getLogger("soundlake.lake")


def archive_curated(storage: LakeStorage, key: str, stamp: str) -> None:
    """Keep the current version of a curated partition before it is rewritten or removed."""
    folder, _, filename = key.rpartition("/")
    storage.copy("curated", key, "archive", f"curated/{folder}/{stamp}-{filename}")


def archive_raw(storage: LakeStorage, max_age_days: int, *, now: datetime | None = None) -> list[str]:
    """Move raw objects older than ``max_age_days`` to ``archive/raw/``; the manifest and the API
    pullers' cursors stay."""
    cutoff = (now or utcnow()) - timedelta(days=max_age_days)
    moved = []
    for o in list(storage.list("raw")):
        if o.key.startswith((MANIFEST_PREFIX, CURSOR_PREFIX)) or o.modified >= cutoff:  # the lake's own state stays
            continue
        target = f"raw/{o.key}"
        storage.copy("raw", o.key, "archive", target)
        copy = storage.stat("archive", target)
        if copy is None or copy.size != o.size:
            log.error("archive copy of raw/%s did not verify; the original stays", o.key)
            continue
        storage.delete("raw", o.key)
        moved.append(o.key)
    return moved
