"""The lake, the warehouse and the settings they came from, as one value the analytics take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from resources.lake_resource import LakeResource
from resources.settings import Settings
from resources.storage import LakeStorage, open_storage
from resources.warehouse import Warehouse

from .lake import MANIFEST_SCHEMA, Lake, curated, state
from .model import ANALYTICS_TABLES, TABLES

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


@dataclass
class Lakehouse:
    settings: Settings
    storage: LakeStorage
    lake: Lake
    warehouse: Warehouse

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, create: bool = True) -> "Lakehouse":
        """The lake of ``settings`` (the environment's by default); ``create=False`` for readers,
        which must never make a lake where there is none."""
        settings = settings or Settings.from_env()
        storage = open_storage(settings, create=create)
        return cls(settings, storage, Lake(storage), Warehouse(settings, storage))

    from_env = from_settings

    @classmethod
    def from_resource(cls, resource: LakeResource) -> "Lakehouse":
        return cls.from_settings(resource.settings())

    def exists(self) -> bool:
        """Whether a lake was ever made here: a warehouse was built, a file landed, or a table was
        written."""
        return (self.settings.warehouse_path.exists() or any(True for _ in self.storage.list("raw", "_manifest/"))
                or any(True for _ in self.storage.list("curated")))

    def root(self) -> str:
        """Where the lake is, as the warehouse's views name it."""
        return self.storage.uri("curated")

    def sql_digest(self) -> str:
        return state.digest_files(sorted(SQL_DIR.glob("*.sql")))

    def refresh_warehouse(self) -> list[str]:
        """Publish a new warehouse over the committed version of every curated table, the
        analytics tables and the manifest, with its reference tables and the views of ``sql/``;
        then remove the curated files no version uses any more. Returns the names made."""
        from .kpis import KPIS_SCHEMA
        from .kpis import TABLE as KPIS
        from .reference import REFERENCE_TABLES

        fingerprint = state.curated_fingerprint(self.storage)
        analytics = {name: t.schema for name, t in ANALYTICS_TABLES.items()}
        views = self.warehouse.refresh(
            {**{name: t.schema for name, t in TABLES.items()}, **analytics, KPIS: KPIS_SCHEMA},
            files=state.table_files(self.storage),
            single_file=[*analytics, KPIS],
            manifest=MANIFEST_SCHEMA,
            reference=REFERENCE_TABLES,
            sql_files=sorted(SQL_DIR.glob("*.sql")),
            meta={"root": self.root(), "fingerprint": fingerprint, "sql": self.sql_digest()},
        )
        state.write(self.storage, state.WAREHOUSE_STATE, {"fingerprint": fingerprint, "root": self.root()})
        curated.collect_garbage(self.storage)
        return views

    def stale(self, analytics: Iterable[str] = ()) -> state.Staleness:
        """What is not what raw and the manifest say it should be (see :mod:`assets.lake.state`)."""
        from .lake import staging

        current = self.lake.manifest()
        unstaged = staging.unstaged(self.storage, current, self.lake.sources)
        return state.stale(self.storage, current, self.lake.sources, unstaged=unstaged,
                           warehouse_meta=self.warehouse.meta(), warehouse_root=self.root(),
                           sql_digest=self.sql_digest(), analytics=analytics)
