"""Raw: every landed file byte for byte at ``<source>/<dataset>/<yyyy>/<mm>/<sha256>.<ext>``.

A file whose SHA-256 is already in raw is a ``duplicate``: recorded, not stored twice. A file no
source recognised is stored too, ``quarantined`` with a reason a person can act on. Bytes already
in raw that were quarantined (or unused) for want of an option come back with other options
(``--artist``, ``--as-of``, ``--source``, ...): they are parsed again with them and the earlier
landing is marked ``superseded``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, datetime, timezone
from pathlib import PurePosixPath
from typing import Iterable, Mapping

import pandas as pd

from resources.faults import checkpoint
from resources.storage import LakeStorage

from ..sources import Source
from ..sources.parsing import timestamp_from_name
from .landing import UNIDENTIFIED, FileResult, Landed
from .manifest import STORED, Manifest, clean, is_missing, utcnow

log = logging.getLogger("soundlake.lake")


def read_raw(storage: LakeStorage, raw_key: str) -> bytes:
    """A raw object, wherever retention put it (raw, or archive/raw)."""
    if storage.stat("raw", raw_key) is not None:
        return storage.get("raw", raw_key)
    return storage.get("archive", f"raw/{raw_key}")


def stored_files(manifest: Manifest | pd.DataFrame) -> dict[str, dict]:
    """The manifest row of every file content in raw, by sha256."""
    current = manifest.current() if isinstance(manifest, Manifest) else manifest
    if current.empty:
        return {}
    stored = current[current["raw_key"].notna() & current["status"].isin(list(STORED))]
    return {r["sha256"]: clean(r) for r in stored.to_dict("records")}


def brings_news(known: Mapping[str, dict], item: Landed) -> bool:
    """Whether a landing can change anything past raw: bytes raw does not hold yet, or bytes it
    holds as quarantined/unused that come back with other options (see :func:`to_raw`)."""
    prior = known.get(item.sha256) if item.sha256 else None
    if prior is None:
        return True
    row = {"options": json.dumps(dict(item.options), sort_keys=True) if item.options else None, "as_of": item.as_of,
           "source": None if item.source == UNIDENTIFIED else item.source,
           "dataset": None if item.dataset == UNIDENTIFIED else item.dataset}
    return _retry_with_new_context(prior, row)


def to_raw(storage: LakeStorage, manifest: Manifest, sources: Mapping[str, Source],
           landed: Iterable[Landed]) -> list[FileResult]:
    """Move landed objects into raw and record each landing's status."""
    known = stored_files(manifest)
    rows: list[dict] = []
    results: list[FileResult] = []
    for item in landed:
        try:
            data = storage.get("landing", item.key)
        except FileNotFoundError:  # taken by another run meanwhile
            continue
        sha = item.sha256 if item.sha256 and len(data) == item.size else hashlib.sha256(data).hexdigest()
        now = utcnow()
        src = None if item.source == UNIDENTIFIED else item.source
        ds = None if item.dataset == UNIDENTIFIED else item.dataset
        row = dict(
            landing_id=item.landing_id, sha256=sha, source=src, dataset=ds, original_name=item.name,
            size=len(data), landed_at=now, observed_at=observed_at(sources, item.name, data, src, ds, item.as_of, now),
            status="loaded", rows=None, reason=None, raw_key=None,
            parser_version=sources[src].version if src in sources else None, as_of=item.as_of,
            options=json.dumps(dict(item.options), sort_keys=True) if item.options else None,
            landing_key=item.key, batch=item.batch,
        )
        prior = known.get(sha)
        if prior is not None and _retry_with_new_context(prior, row):
            # a file that failed (or held nothing usable) for want of an option: this landing
            # brings other options, so it is parsed again with them; the earlier landing is marked
            # superseded so it no longer shows as quarantined
            owner = src or prior["source"]
            row.update(raw_key=prior["raw_key"], source=owner, dataset=ds or prior["dataset"],
                       parser_version=sources[owner].version if owner in sources else None)
            rows.append({**prior, "status": "superseded",
                         "reason": f"ingested again as {item.name} with other options; see that landing"})
            known[sha] = row
        elif prior is not None:
            row.update(status="duplicate", raw_key=prior["raw_key"], source=prior["source"], dataset=prior["dataset"],
                       rows=int(prior["rows"]) if prior["status"] == "loaded" and prior["rows"] is not None else None,
                       reason=f"same content as {prior['original_name']}, already in raw ({prior['status']})")
        else:
            ext = "".join(PurePosixPath(item.name).suffixes[-1:]).lower() or ".bin"
            raw_key = f"{item.source}/{item.dataset}/{now:%Y}/{now:%m}/{sha}{ext}"
            storage.put("raw", raw_key, data)
            checkpoint("raw")
            row["raw_key"] = raw_key
            if src is None:
                row.update(status="quarantined", reason=(
                    f"{item.name}: matches no source (neither its name nor its content is one soundlake "
                    f"knows); known sources: {', '.join(sorted(sources))}. Ingest it with --source "
                    "NAME, or add a source module, then run `soundlake reprocess`"))
            known[sha] = row
        rows.append(row)
        results.append(FileResult.of(item.path, row))
    manifest.append(rows)  # recorded before landing is emptied: a crash in between leaves a duplicate, never a loss
    for item in landed:
        storage.delete("landing", item.key)
    return results


def recheck_unidentified(storage: LakeStorage, manifest: Manifest, sources: Mapping[str, Source],
                         ) -> list[FileResult]:
    """Files in raw that no source recognised, recognised again (``reprocess``, after a source
    module was added or fixed). Those still unrecognised are recorded again with their reason;
    the others are left to their source's staging step, which claims them."""
    from .landing import SNIFF_BYTES, identify

    current = manifest.current()
    if current.empty:
        return []
    todo = current[current["source"].isna() & current["raw_key"].notna() & (current["status"] == "quarantined")]
    rows, results = [], []
    for r in todo.to_dict("records"):
        row = clean(r)
        if identify(sources, row["original_name"], read_raw(storage, row["raw_key"])[:SNIFF_BYTES]) is not None:
            continue
        rows.append(row)
        results.append(FileResult.of(row["original_name"], row))
    manifest.append(rows)
    return results


def _retry_with_new_context(prior: dict, row: dict) -> bool:
    """Whether a landing of bytes already in raw should be parsed again: the earlier landing was
    quarantined or unused, and this one comes with other options, --as-of or source."""
    if prior["status"] not in ("quarantined", "unused"):
        return False
    return ((row["options"] or None) != (prior["options"] or None)
            or _as_date(row["as_of"]) != _as_date(prior["as_of"])
            or (row["source"] is not None and (row["source"], row["dataset"]) != (prior["source"], prior["dataset"])))


def _as_date(value) -> date | None:
    return None if is_missing(value) else pd.Timestamp(value).date()


def observed_at(sources: Mapping[str, Source], name: str, data: bytes, src: str | None, ds: str | None,
                as_of: date | None, landed_at: datetime) -> datetime:
    """When the platform produced the export: the name's ``YYYYMMDD_HHMMSS`` stamp, else the
    dataset's own rule (an epoch in the name, the last day of a timeline), else ``--as-of``,
    else when the file landed."""
    stamp = timestamp_from_name(name)
    if stamp is None and src in sources and ds:
        hook = sources[src].dataset(ds).observed_at
        try:
            stamp = hook(name, data) if hook else None
        except Exception:  # a hook is a best guess; the fallbacks below still hold
            log.exception("observed_at of %s/%s failed on %s", src, ds, name)
            stamp = None
    if stamp:
        return stamp
    if as_of:
        return datetime.combine(as_of, datetime.min.time(), tzinfo=timezone.utc)
    return landed_at
