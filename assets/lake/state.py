"""What every derived table was built from, so a run can tell what is stale and rebuild it.

Curated, the warehouse and the analytics tables are derived from raw and the manifest. Each
records, when it is complete, what it was built from (a *fingerprint*) in a small JSON document
under ``curated/_state/``:

* ``_state/<table>.json`` for a curated table: the fingerprint of its inputs (the loaded files of
  the datasets its mappings read, the sources' versions, the table's schema) and the exact files
  of this version of the table. A table is written new-then-switched: its new partition files
  get new names (``part-<content hash>.parquet``), then this document is replaced (the switch),
  and only after the warehouse points at the new files are the superseded ones archived and
  removed (:func:`collect_garbage`). A reader of the warehouse therefore sees one version of
  each table, never half a build.
* ``_state/warehouse.json``: the fingerprint of the curated versions the warehouse's views read.
* ``_state/analytics/<table>.json``: the warehouse fingerprint an analytics table was computed
  from.

A table whose document is missing, whose fingerprint differs from what its inputs are now, or
whose files are gone is *stale*; :func:`stale` says which and why, and the runs rebuild exactly
those (pipelines/jobs.py). Nothing here trusts that an earlier run finished.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Mapping

import pandas as pd

from resources.storage import LakeStorage

from ..model import ANALYTICS_TABLES, TABLES, CuratedTable
from ..sources import Source

STATE = "_state"
CURATED_LOGIC = 2  # bump when the way curated is built changes: every table is rebuilt once
WAREHOUSE_STATE = f"{STATE}/warehouse.json"


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def table_inputs(sources: Mapping[str, Source], table: CuratedTable,
                 loaded: Mapping[tuple[str, str], list[str]]) -> dict:
    """What a curated table is built from: per mapping source and dataset, the loaded files."""
    inputs = {}
    for src in sorted(sources.values(), key=lambda s: s.name):
        for mapping in src.mappings:
            if mapping.table == table.name:
                for ds in mapping.datasets:
                    inputs[f"{src.name}/{ds}@{src.version}"] = sorted(loaded.get((src.name, ds), []))
    return inputs


def table_fingerprint(sources: Mapping[str, Source], table: CuratedTable,
                      loaded: Mapping[tuple[str, str], list[str]]) -> str:
    schema = [(f.name, str(f.type)) for f in table.schema]
    return _digest({"logic": CURATED_LOGIC, "schema": schema, "key": table.key, "partition": table.partition_by,
                    "inputs": table_inputs(sources, table, loaded)})


def read(storage: LakeStorage, key: str) -> dict | None:
    try:
        return json.loads(storage.get("curated", key))
    except FileNotFoundError:
        return None
    except ValueError:  # a torn or edited document is no state at all
        return None


def write(storage: LakeStorage, key: str, doc: dict) -> None:
    storage.put("curated", key, json.dumps(doc, sort_keys=True, indent=1, default=str).encode())


def table_state_key(table: str) -> str:
    return f"{STATE}/{table}.json"


def analytics_state_key(table: str) -> str:
    return f"{STATE}/analytics/{table}.json"


def table_state(storage: LakeStorage, table: str) -> dict | None:
    return read(storage, table_state_key(table))


def commit_table(storage: LakeStorage, table: str, fingerprint: str, files: list[str], rows: int) -> None:
    """The switch: from now on the table is these files."""
    write(storage, table_state_key(table), {"table": table, "fingerprint": fingerprint, "files": sorted(files),
                                            "rows": rows, "built_at": datetime.now(timezone.utc).isoformat()})


def table_files(storage: LakeStorage) -> dict[str, list[str]]:
    """The committed files of every curated table that has a state (keys inside curated)."""
    out = {}
    for name in TABLES:
        doc = table_state(storage, name)
        if doc is not None:
            out[name] = list(doc.get("files", []))
    return out


def curated_fingerprint(storage: LakeStorage) -> str:
    """One fingerprint of the committed version of every curated table (what the warehouse reads)."""
    return _digest({name: (doc or {}).get("fingerprint") for name, doc in
                    ((n, table_state(storage, n)) for n in sorted(TABLES))})


def mark_analytics(storage: LakeStorage, table: str) -> None:
    """Record that an analytics table was just computed from the warehouse as it is now."""
    built_from = (read(storage, WAREHOUSE_STATE) or {}).get("fingerprint")
    write(storage, analytics_state_key(table), {"table": table, "built_from": built_from,
                                                "built_at": datetime.now(timezone.utc).isoformat()})


@dataclass
class Staleness:
    """What a run must rebuild, with the reason for each."""

    staging: set[tuple[str, str]] = field(default_factory=set)
    curated: dict[str, str] = field(default_factory=dict)
    warehouse: str | None = None
    analytics: dict[str, str] = field(default_factory=dict)
    garbage: list[str] = field(default_factory=list)  # curated files no committed version uses

    def __bool__(self) -> bool:
        return bool(self.staging or self.curated or self.warehouse or self.analytics)

    def items(self) -> list[tuple[str, str]]:
        """(asset key, why) of everything stale, in the graph's order."""
        out = [(f"staging/{s}/{d}", "raw files waiting to be parsed") for s, d in sorted(self.staging)]
        out += [(f"curated/{t}", why) for t, why in sorted(self.curated.items())]
        if self.warehouse:
            out.append(("warehouse/duckdb", self.warehouse))
        out += [(f"analytics/{t}", why) for t, why in sorted(self.analytics.items())]
        return out

    def reasons(self, leave_out: Iterable[str] = ()) -> list[str]:
        """``key: why`` lines, except for the asset keys in ``leave_out``."""
        skip = set(leave_out)
        return [f"{key}: {why}" for key, why in self.items() if key not in skip]


def stale(storage: LakeStorage, current: pd.DataFrame, sources: Mapping[str, Source], *,
          unstaged: set[tuple[str, str]], warehouse_meta: dict | None, warehouse_root: str,
          sql_digest: str, analytics: Iterable[str] = ()) -> Staleness:
    """Everything derived that is not what raw and the manifest say it should be.

    ``warehouse_meta`` is what the warehouse file says it was built from (None: no warehouse),
    ``warehouse_root`` where the lake is now, ``sql_digest`` the digest of the warehouse's SQL.
    ``analytics`` are the analytics tables to check (those a run of the caller's job builds)."""
    from .staging import loaded_shas

    out = Staleness(staging=set(unstaged))
    loaded = loaded_shas(current) if not current.empty else {}
    listed: dict[str, set[str]] = {}
    for o in storage.list("curated"):
        top = o.key.split("/", 1)[0]
        if top in TABLES:
            listed.setdefault(top, set()).add(o.key)
    has_inputs = {t for t in TABLES if any(table_inputs(sources, TABLES[t], loaded).values())}
    for name, table in TABLES.items():
        if not any(m.table == name for s in sources.values() for m in s.mappings):
            continue  # no source feeds it: the warehouse shows it empty
        doc = table_state(storage, name)
        if doc is None:
            if name in has_inputs or listed.get(name):
                out.curated[name] = "never built" if not listed.get(name) else "built by an older version"
            continue
        if doc.get("fingerprint") != table_fingerprint(sources, table, loaded):
            out.curated[name] = "its files changed since it was built (an interrupted or failed run)"
        elif not set(doc.get("files", [])) <= listed.get(name, set()):
            out.curated[name] = "files of its current version are missing"
        out.garbage += sorted(listed.get(name, set()) - set(doc.get("files", [])))
    fingerprint = curated_fingerprint(storage)
    if out.curated:
        out.warehouse = "curated tables are being rebuilt"
    elif warehouse_meta is None:
        out.warehouse = "there is no warehouse"
    elif warehouse_meta.get("root") != warehouse_root:
        out.warehouse = f"it reads a lake at {warehouse_meta.get('root')} (the lake is now at {warehouse_root})"
    elif warehouse_meta.get("fingerprint") != fingerprint or warehouse_meta.get("sql") != sql_digest:
        out.warehouse = "it does not read the current version of every table"
    elif out.garbage:
        out.warehouse = "superseded curated files are left to remove"
    # an analytics table is current when it was computed from the curated versions there are now
    # (a warehouse re-created only because the lake moved changes none of them)
    for name in analytics:
        doc = read(storage, analytics_state_key(name))
        if out.curated or doc is None or doc.get("built_from") != fingerprint:
            out.analytics[name] = "computed from an older warehouse" if doc else "never computed"
    return out


def digest_files(paths: Iterable) -> str:
    h = hashlib.sha256()
    for p in sorted(paths, key=str):
        h.update(str(p.name).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


ANALYTICS = tuple(ANALYTICS_TABLES)
