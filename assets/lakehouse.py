"""The lake, the warehouse and the settings they came from, as one value the analytics take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from resources.lake_resource import LakeResource
from resources.settings import Settings
from resources.storage import LakeStorage, open_storage
from resources.warehouse import Warehouse

from .lake import MANIFEST_SCHEMA, Lake
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

    def refresh_warehouse(self) -> list[str]:
        """(Re)create the warehouse's views over the curated model, the analytics tables and the
        manifest, its reference tables and the views of ``sql/``. Returns their names."""
        from .reference import REFERENCE_TABLES

        return self.warehouse.refresh(
            {name: t.schema for name, t in {**TABLES, **ANALYTICS_TABLES}.items()},
            single_file=list(ANALYTICS_TABLES),
            manifest=MANIFEST_SCHEMA,
            reference=REFERENCE_TABLES,
            sql_files=sorted(SQL_DIR.glob("*.sql")),
        )
