"""The Dagster resource that hands assets the lake and the warehouse.

Settings are read from the environment when a run uses the resource, not at import, so the same
definitions serve the local folder and MinIO (see resources/settings.py for the variables).
"""


import os
from typing import Optional

import dagster as dg

from assets.lake import Lake

from .settings import Settings
from .storage import LakeStorage, open_storage
from .warehouse import Warehouse


class LakeResource(dg.ConfigurableResource):
    """The five-zone lake. ``home`` overrides $SOUNDLAKE_HOME (tests, several deployments)."""

    home: Optional[str] = None

    def settings(self) -> Settings:
        env = dict(os.environ)
        if self.home:
            env["SOUNDLAKE_HOME"] = self.home
        return Settings.from_env(env)

    def storage(self) -> LakeStorage:
        return open_storage(self.settings())

    def lake(self) -> Lake:
        return Lake(self.storage())

    def warehouse(self) -> Warehouse:
        settings = self.settings()
        return Warehouse(settings, open_storage(settings))
