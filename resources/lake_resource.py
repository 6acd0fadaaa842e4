"""The Dagster resource that hands assets the lake storage and the warehouse.

Every setting is resource configuration (the Launchpad shows it; a deployment sets it in
``dagster.yaml`` or run config); a field left unset takes its ``SOUNDLAKE_*`` environment
variable when a run uses the resource, never at import (see resources/settings.py).
"""

from __future__ import annotations

import contextlib
import os
from typing import Optional

import dagster as dg

from .settings import Settings
from .storage import LakeStorage, open_storage
from .warehouse import Warehouse

# resource field -> the environment variable it falls back to
ENV = {
    "home": "SOUNDLAKE_HOME",
    "s3_endpoint": "SOUNDLAKE_S3_ENDPOINT",
    "s3_access_key": "SOUNDLAKE_S3_ACCESS_KEY",
    "s3_secret_key": "SOUNDLAKE_S3_SECRET_KEY",
    "s3_secure": "SOUNDLAKE_S3_SECURE",
    "s3_region": "SOUNDLAKE_S3_REGION",
    "s3_bucket_prefix": "SOUNDLAKE_S3_BUCKET_PREFIX",
}


class LakeResource(dg.ConfigurableResource):
    """The five-zone lake (a local folder, or MinIO/S3) and the DuckDB warehouse beside it."""

    home: Optional[str] = None  # $SOUNDLAKE_HOME, default ./.soundlake: the local lake, warehouse, Dagster instance
    s3_endpoint: Optional[str] = None  # host:port of MinIO/S3; unset = the local folder
    s3_access_key: Optional[str] = None
    s3_secret_key: Optional[str] = None  # give it as an EnvVar in a deployment, never as a literal
    s3_secure: Optional[str] = None  # true|false
    s3_region: Optional[str] = None
    s3_bucket_prefix: Optional[str] = None

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        """A run that writes the lake's derived state (tag ``soundlake/writes``: ingest, reprocess,
        analytics, archive) holds the lake lock from start to end (resources/lock.py): one writer
        at a time. Runs that only land files (the pullers, the extractors) and a sensor's
        evaluation (no run) never take it."""
        from .lock import WRITER_TAG, lake_lock

        run = getattr(context, "dagster_run", None)
        if run is None or WRITER_TAG not in (run.tags or {}):
            yield self
            return

        log = getattr(context, "log", None)
        with lake_lock(self.settings(), on_wait=(log.info if log is not None else None)):
            yield self

    def settings(self) -> Settings:
        env = dict(os.environ)
        for field_name, variable in ENV.items():
            value = getattr(self, field_name)
            if value is not None:
                env[variable] = str(value)
        return Settings.from_env(env)

    def storage(self) -> LakeStorage:
        return open_storage(self.settings())

    def warehouse(self) -> Warehouse:
        settings = self.settings()
        return Warehouse(settings, open_storage(settings))
