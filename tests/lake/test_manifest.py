"""The manifest log: the newest row per landing wins, older log files without the newer columns
still read, and compaction folds the log into one file without losing a row."""

import io
import uuid
from datetime import datetime, timedelta, timezone

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from assets.lake.manifest import COMPACT_AT, MANIFEST_PREFIX, Manifest
from resources.settings import Settings
from resources.storage import open_storage


def _row(landing_id: str, status: str, **kw) -> dict:
    return {"landing_id": landing_id, "sha256": "ab" * 32, "original_name": f"{landing_id}.tsv", "status": status,
            "landed_at": datetime(2025, 1, 1, tzinfo=timezone.utc), **kw}


def _log_files(storage) -> list[str]:
    return [o.key for o in storage.list("raw", MANIFEST_PREFIX)]


def test_newest_row_per_landing(local_env):
    manifest = Manifest(open_storage(Settings.from_env()))
    manifest.append([_row("a", "landed"), _row("b", "landed")])
    manifest.append([_row("a", "loaded", rows=3)])
    current = manifest.current().set_index("landing_id")
    assert current.loc["a", "status"] == "loaded" and current.loc["a", "rows"] == 3
    assert current.loc["b", "status"] == "landed"
    assert len(manifest.history()) == 3


def test_a_log_file_from_before_the_landing_columns_still_reads(local_env):
    storage = open_storage(Settings.from_env())
    old = pa.table({"landing_id": ["x"], "sha256": ["cd" * 32], "status": ["loaded"],
                    "recorded_at": pa.array([datetime(2024, 1, 1, tzinfo=timezone.utc)], pa.timestamp("us", tz="UTC"))})
    buf = io.BytesIO()
    pq.write_table(old, buf)
    storage.put("raw", f"{MANIFEST_PREFIX}20240101T000000000000-old.parquet", buf.getvalue())
    [row] = Manifest(storage).current().to_dict("records")
    assert row["status"] == "loaded" and pd.isna(row["landing_key"]) and pd.isna(row["batch"])


def test_compaction_keeps_every_row(local_env):
    storage = open_storage(Settings.from_env())
    manifest = Manifest(storage)
    ids = [uuid.uuid4().hex for _ in range(COMPACT_AT - 1)]
    for i, landing_id in enumerate(ids):  # one append per file: the log grows a file each time
        manifest.append([_row(landing_id, "landed", size=i)])
    assert len(_log_files(storage)) == COMPACT_AT - 1
    before = manifest.history()
    manifest.append([_row(ids[0], "loaded", rows=7)])  # the append that reaches COMPACT_AT files compacts
    files = _log_files(storage)
    assert len(files) == 1 and "compacted" in files[0]
    after = manifest.history()
    assert len(after) == len(before) + 1
    key = ["landing_id", "status", "recorded_at"]
    assert set(map(tuple, before[key].astype(str).values)) <= set(map(tuple, after[key].astype(str).values))
    current = manifest.current().set_index("landing_id")
    assert current.loc[ids[0], "status"] == "loaded" and len(current) == len(ids)
    assert (current.loc[ids[1:], "status"] == "landed").all()


def test_a_reader_during_compaction_sees_each_row_once(local_env):
    """Between writing the compacted file and deleting the old ones a reader sees rows twice on
    disk; the manifest folds them."""
    storage = open_storage(Settings.from_env())
    manifest = Manifest(storage)
    manifest.append([_row("a", "landed")])
    manifest.append([_row("a", "loaded", rows=1)])
    table = pa.concat_tables([pq.read_table(io.BytesIO(storage.get("raw", k))) for k in _log_files(storage)])
    buf = io.BytesIO()
    pq.write_table(table, buf)
    stamp = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%Y%m%dT%H%M%S%f")
    storage.put("raw", f"{MANIFEST_PREFIX}{stamp}-compacted-x.parquet", buf.getvalue())  # old files still there
    assert len(manifest.history()) == 2
    assert manifest.current()["status"].tolist() == ["loaded"]
