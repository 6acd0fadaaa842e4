"""The five-zone lake, one module per zone: landing → raw → staging → curated → archive, with the
manifest ``lake_files`` beside raw.

The zone modules are plain Python over a :class:`~resources.storage.LakeStorage` (a local folder or
MinIO/S3); :class:`Lake` binds them to one storage and the source modules. The Dagster assets in
``assets/factory.py`` are the only code that runs them in order.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable, Mapping

import pandas as pd

from resources.storage import LakeStorage

from ..sources import SOURCES, Source
from . import archive, curated, raw, staging
from .landing import SNIFF_BYTES, UNIDENTIFIED, FileResult, Landed, Landing, identify
from .manifest import MANIFEST_PREFIX, MANIFEST_SCHEMA, Manifest

__all__ = ["Lake", "FileResult", "Landed", "MANIFEST_PREFIX", "MANIFEST_SCHEMA", "SNIFF_BYTES", "UNIDENTIFIED"]


class Lake:
    def __init__(self, storage: LakeStorage, sources: Mapping[str, Source] | None = None, *, validate: bool = True):
        self.storage = storage
        self.sources = dict(SOURCES if sources is None else sources)
        self.validate = validate
        self.log = Manifest(storage)
        self.landing = Landing(storage, self.log, self.sources)

    # manifest
    def manifest(self) -> pd.DataFrame:
        """``lake_files``: the newest row of every landing."""
        return self.log.current()

    def manifest_history(self) -> pd.DataFrame:
        return self.log.history()

    # landing
    def identify(self, name: str, head: bytes, source_hint: str | None = None) -> tuple[str, str] | None:
        return identify(self.sources, name, head, source_hint)

    def land_paths(self, paths: Iterable[Path], *, source: str | None = None, as_of: date | None = None,
                   options: Mapping[str, str] | None = None, batch: str | None = None, skip: Iterable[Path] = (),
                   ) -> tuple[list[Landed], list[FileResult]]:
        return self.landing.land_paths(paths, source=source, as_of=as_of, options=options, batch=batch, skip=skip)

    def adopt(self, batch: str, is_active: Callable[[dict], bool] = lambda _: False,
              keys: Iterable[str] | None = None, allowed: set[str] | None = None,
              ) -> tuple[list[Landed], list[FileResult]]:
        return self.landing.adopt(batch, is_active, keys, allowed)

    def claimed(self, batch: str, sources: Iterable[str] | None = None) -> list[Landed]:
        return self.landing.claimed(batch, sources)

    def changes(self, items: Iterable[Landed]) -> set[tuple[str, str]]:
        """The (source, dataset) pairs past raw that a run for ``items`` must rebuild: those of
        items that bring something new (:func:`raw.brings_news`), and those with raw files still
        waiting for staging (a run that stopped half way)."""
        current = self.log.current()
        known = raw.stored_files(current)
        out = {(i.source, i.dataset) for i in items if raw.brings_news(known, i)}
        return out | staging.unstaged(self.storage, current, self.sources)

    # raw
    def to_raw(self, landed: Iterable[Landed]) -> list[FileResult]:
        return raw.to_raw(self.storage, self.log, self.sources, list(landed))

    def recheck_unidentified(self) -> list[FileResult]:
        return raw.recheck_unidentified(self.storage, self.log, self.sources)

    def read_raw(self, raw_key: str) -> bytes:
        return raw.read_raw(self.storage, raw_key)

    # staging
    def stage(self, *, reprocess: bool = False, source: str | None = None,
              datasets: Iterable[str] | None = None) -> dict[str, FileResult]:
        return staging.stage(self.storage, self.log, self.sources, reprocess=reprocess, source=source,
                             datasets=datasets, validate=self.validate)

    def loaded_files(self, manifest: pd.DataFrame | None = None) -> pd.DataFrame:
        return staging.loaded_files(self.log if manifest is None else manifest)

    def loaded_shas(self) -> dict[tuple[str, str], list[str]]:
        return staging.loaded_shas(self.log)

    def read_staging(self, source: str, dataset: str, shas: Iterable[str] | None = None) -> pd.DataFrame:
        if shas is None:
            shas = self.loaded_shas().get((source, dataset), [])
        return staging.read_staging(self.storage, self.sources[source], dataset, shas)

    def snapshot(self, source: str, dataset: str, manifest: pd.DataFrame | None = None) -> pd.DataFrame:
        """The dataset as curated will see it (newest observation per key)."""
        return staging.snapshot(self.storage, self.log if manifest is None else manifest, self.sources[source], dataset)

    # curated
    def build_curated(self, tables: Iterable[str] | None = None) -> dict[str, curated.TableResult]:
        return curated.build(self.storage, self.log, self.sources, tables)

    # archive
    def archive_raw(self, max_age_days: int, *, now: datetime | None = None) -> list[str]:
        return archive.archive_raw(self.storage, max_age_days, now=now)
