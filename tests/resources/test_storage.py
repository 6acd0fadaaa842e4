"""One suite, both backends: the local folder and S3 (a real moto server) must behave the same."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import datetime

import pytest

from resources.settings import Settings
from resources.storage import ZONES, LocalStorage, S3Storage, UnsafeKeyError, open_storage

UNSAFE_KEYS = ["../x", "a/../x", "/abs", "a//b", "a/./b", "./a", "a\\b", "a/", "", "a/.tmp-x", "a\x00b"]


def keys(storage, zone, prefix=""):
    return [o.key for o in storage.list(zone, prefix)]


def test_open_storage_picks_the_backend(storage, request):
    expected = LocalStorage if request.node.callspec.params["storage"] == "local" else S3Storage
    assert isinstance(storage, expected)
    assert storage.kind == request.node.callspec.params["storage"]


def test_put_get_round_trip_is_byte_exact(storage):
    data = bytes(range(256)) * 1000 + b"\r\n\x00tail"
    storage.put("raw", "src/ds/2025/05/blob.bin", data)
    assert storage.get("raw", "src/ds/2025/05/blob.bin") == data


def test_empty_object_and_unusual_names(storage):
    storage.put("landing", "src/ds/empty.tsv", b"")
    assert storage.get("landing", "src/ds/empty.tsv") == b""
    assert storage.stat("landing", "src/ds/empty.tsv").size == 0
    name = "src/ds/My Export (2) ü+%#.tsv"
    storage.put("landing", name, b"x\ty\n")
    assert storage.get("landing", name) == b"x\ty\n"
    assert name in keys(storage, "landing", "src/ds/")


def test_stat(storage):
    before = datetime.now().astimezone()
    storage.put("staging", "a/b.parquet", b"12345")
    info = storage.stat("staging", "a/b.parquet")
    assert info is not None
    assert (info.zone, info.key, info.size) == ("staging", "a/b.parquet", 5)
    assert info.modified.tzinfo is not None
    # S3 timestamps are whole seconds; allow for that and a little clock skew
    assert abs((info.modified - before).total_seconds()) < 120
    assert storage.stat("staging", "a/missing.parquet") is None
    assert storage.stat("staging", "a") is None  # a "folder" is not an object
    assert storage.stat("curated", "a/b.parquet") is None  # zones are separate


def test_list_by_prefix_and_recursive(storage):
    for k in ["b/4", "a/2/x", "ab/3", "a/1", "a/2/y/z", "c"]:
        storage.put("raw", k, k.encode())
    storage.put("staging", "a/other-zone", b"!")
    assert sorted(keys(storage, "raw")) == ["a/1", "a/2/x", "a/2/y/z", "ab/3", "b/4", "c"]
    assert sorted(keys(storage, "raw", "a/")) == ["a/1", "a/2/x", "a/2/y/z"]
    assert sorted(keys(storage, "raw", "a/2/")) == ["a/2/x", "a/2/y/z"]
    assert sorted(keys(storage, "raw", "a")) == ["a/1", "a/2/x", "a/2/y/z", "ab/3"]
    assert keys(storage, "raw", "nothing/") == []
    assert keys(storage, "curated") == []
    infos = sorted(storage.list("raw", "a/2/"), key=lambda o: o.key)
    assert [(o.zone, o.size) for o in infos] == [("raw", len("a/2/x")), ("raw", len("a/2/y/z"))]
    assert all(o.modified.tzinfo is not None for o in infos)


def test_list_is_sorted_by_key(storage):
    for k in ["b/4", "a/2/x", "ab/3", "a/1", "a/2/y/z", "c", "a-b/x", "a/x"]:
        storage.put("raw", k, k.encode())
    assert keys(storage, "raw") == ["a-b/x", "a/1", "a/2/x", "a/2/y/z", "a/x", "ab/3", "b/4", "c"]
    assert keys(storage, "raw", "a/") == ["a/1", "a/2/x", "a/2/y/z", "a/x"]


def test_copy_across_zones(storage):
    storage.put("curated", "fct/month=2025-01/data.parquet", b"v1")
    storage.copy("curated", "fct/month=2025-01/data.parquet", "archive", "curated/fct/month=2025-01/s-data.parquet")
    assert storage.get("archive", "curated/fct/month=2025-01/s-data.parquet") == b"v1"
    assert storage.get("curated", "fct/month=2025-01/data.parquet") == b"v1"  # the source stays
    storage.put("curated", "fct/month=2025-01/data.parquet", b"v2")
    assert storage.get("archive", "curated/fct/month=2025-01/s-data.parquet") == b"v1"  # a copy, not a link
    with pytest.raises(UnsafeKeyError):
        storage.copy("curated", "fct/month=2025-01/data.parquet", "archive", "../escape")
    with pytest.raises(UnsafeKeyError):
        storage.copy("curated", "../escape", "archive", "ok")


def test_delete(storage):
    storage.put("landing", "src/ds/f.tsv", b"data")
    storage.put("landing", "src/ds/g.tsv", b"data")
    storage.delete("landing", "src/ds/f.tsv")
    assert storage.stat("landing", "src/ds/f.tsv") is None
    with pytest.raises(FileNotFoundError):
        storage.get("landing", "src/ds/f.tsv")
    assert keys(storage, "landing") == ["src/ds/g.tsv"]
    storage.delete("landing", "src/ds/f.tsv")  # deleting what is gone is not an error
    storage.delete("landing", "src/ds/g.tsv")
    assert keys(storage, "landing") == []


def test_missing_key_below_an_object(storage):
    storage.put("raw", "a", b"an object, not a folder")
    assert storage.stat("raw", "a/b") is None
    with pytest.raises(FileNotFoundError):
        storage.get("raw", "a/b")


def test_get_missing_raises_file_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.get("raw", "never/put.bin")


@pytest.mark.parametrize("size", [0, 3 * 1024 * 1024 + 17, 11 * 1024 * 1024 + 5])  # 11 MiB: S3 multipart
def test_put_file(storage, tmp_path, size):
    src = tmp_path / "export.tsv"
    data = os.urandom(size)
    src.write_bytes(data)
    storage.put_file("landing", "distrokid/bank_details/export.tsv", src)
    assert storage.get("landing", "distrokid/bank_details/export.tsv") == data
    assert storage.stat("landing", "distrokid/bank_details/export.tsv").size == len(data)


def test_failed_put_file_keeps_the_old_object(storage, tmp_path):
    storage.put("landing", "k.tsv", b"old")
    with pytest.raises(OSError):
        storage.put_file("landing", "k.tsv", tmp_path / "does-not-exist.tsv")
    assert storage.get("landing", "k.tsv") == b"old"
    assert keys(storage, "landing") == ["k.tsv"]


def test_overwrite_replaces(storage):
    storage.put("raw", "k", b"a much longer first version")
    storage.put("raw", "k", b"short")
    assert storage.get("raw", "k") == b"short"
    assert storage.stat("raw", "k").size == 5
    assert keys(storage, "raw") == ["k"]


@pytest.mark.parametrize("zone", ["nope", "", "Raw", "raw/", "../raw"])
def test_unknown_zone(storage, zone):
    with pytest.raises(ValueError):
        storage.put(zone, "k", b"x")
    with pytest.raises(ValueError):
        storage.get(zone, "k")
    with pytest.raises(ValueError):
        list(storage.list(zone))


def test_zones_are_the_five(storage):
    assert ZONES == ("landing", "raw", "staging", "curated", "archive")
    for zone in ZONES:
        storage.put(zone, "probe", zone.encode())
    for zone in ZONES:
        assert storage.get(zone, "probe") == zone.encode()


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys(storage, key):
    with pytest.raises(UnsafeKeyError):
        storage.put("raw", key, b"x")
    with pytest.raises(UnsafeKeyError):
        storage.get("raw", key)
    with pytest.raises(UnsafeKeyError):
        storage.stat("raw", key)
    with pytest.raises(UnsafeKeyError):
        storage.delete("raw", key)
    assert keys(storage, "raw") == []


def test_unsafe_key_writes_nothing_outside_the_lake(local_env, tmp_path):
    storage = open_storage(Settings.from_env())
    for key in ["../x", "../../x", "/tmp/soundlake-abs-probe"]:
        with pytest.raises(UnsafeKeyError):
            storage.put("raw", key, b"x")
    assert not (storage.root / "x").exists()
    assert not (tmp_path / "x").exists()


def test_uri(storage):
    if storage.kind == "local":
        assert storage.uri("curated") == str((storage.root / "curated").resolve())
        assert storage.uri("curated", "t/a.parquet") == str((storage.root / "curated").resolve() / "t/a.parquet")
    else:
        prefix = storage.cfg.bucket_prefix
        assert storage.uri("curated") == f"s3://{prefix}curated/"
        assert storage.uri("curated", "t/a.parquet") == f"s3://{prefix}curated/t/a.parquet"


def test_s3_buckets_are_created_when_missing(s3_env, minio_client):
    prefix = s3_env["SOUNDLAKE_S3_BUCKET_PREFIX"]
    assert not any(minio_client.bucket_exists(f"{prefix}{z}") for z in ZONES)
    storage = open_storage(Settings.from_env())
    storage.put("raw", "a/b", b"hello")
    assert minio_client.bucket_exists(f"{prefix}raw")
    assert minio_client.get_object(f"{prefix}raw", "a/b").read() == b"hello"
    assert list(storage.list("staging")) == []  # listing an unused zone creates it, empty
    assert minio_client.bucket_exists(f"{prefix}staging")
    # a second client (another process) finds the buckets there and uses them
    other = open_storage(Settings.from_env())
    assert other.get("raw", "a/b") == b"hello"
    other.put("raw", "a/c", b"again")
    assert keys(storage, "raw") == ["a/b", "a/c"]


def test_s3_prefixes_keep_tests_apart(s3_env, minio_client):
    prefix = s3_env["SOUNDLAKE_S3_BUCKET_PREFIX"]
    storage = open_storage(Settings.from_env())
    storage.put("raw", "mine", b"1")
    names = {b.name for b in minio_client.list_buckets()}
    assert f"{prefix}raw" in names
    assert all(len(n) <= 63 and n == n.lower() for n in names)


# --- atomic writes ------------------------------------------------------------------------------


def _concurrent_overwrite(storage, zone, key, versions, rounds, also_list=False):
    """Overwrite ``key`` with alternating versions while readers get (and list) it.
    Returns the digests the readers saw and any anomalies."""
    digests = {hashlib.sha256(v).hexdigest(): i for i, v in enumerate(versions)}
    storage.put(zone, key, versions[0])
    stop = threading.Event()
    seen: set[int] = set()
    problems: list[str] = []
    reads = [0]

    def reader():
        while not stop.is_set():
            try:
                data = storage.get(zone, key)
            except Exception as exc:  # noqa: BLE001 - any failure is a finding
                problems.append(f"get failed: {type(exc).__name__}: {exc}")
                continue
            reads[0] += 1
            d = hashlib.sha256(data).hexdigest()
            if d not in digests:
                problems.append(f"partial or mixed object: {len(data)} bytes")
            else:
                seen.add(digests[d])

    def lister():
        while not stop.is_set():
            try:
                listed = keys(storage, zone)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"list failed: {type(exc).__name__}: {exc}")
                continue
            if listed != [key]:
                problems.append(f"list showed {listed}")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    if also_list:
        threads.append(threading.Thread(target=lister))
    for t in threads:
        t.start()
    try:
        for i in range(rounds):
            storage.put(zone, key, versions[(i + 1) % len(versions)])
            time.sleep(0.001)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert reads[0] > 0, "the readers never got a turn"
    return seen, problems


def test_overwrite_is_atomic(storage):
    """Readers (and listers) racing an overwrite see one whole version or the other, never half."""
    local = storage.kind == "local"
    size = (8 if local else 2) * 1024 * 1024
    versions = [b"A" * size, b"B" * (size // 2) + b"b" * (size // 2 + 4096)]
    seen, problems = _concurrent_overwrite(storage, "curated", "t/month=2025-01/data.parquet", versions,
                                           rounds=30 if local else 12, also_list=True)
    assert problems == []
    assert seen <= {0, 1}
    assert keys(storage, "curated") == ["t/month=2025-01/data.parquet"]
    if local:
        assert [p for p in storage.root.rglob("*") if p.name.startswith(".tmp-")] == []


def test_local_list_never_shows_temporary_files(local_env):
    storage = open_storage(Settings.from_env())
    # a temporary file left by a crashed writer is not an object
    folder = storage.root / "raw" / "src" / "ds"
    folder.mkdir(parents=True)
    (folder / ".tmp-0123456789abcdef").write_bytes(b"half a file")
    storage.put("raw", "src/ds/real.tsv", b"whole")
    assert keys(storage, "raw") == ["src/ds/real.tsv"]
    assert keys(storage, "raw", "src/ds/") == ["src/ds/real.tsv"]
    with pytest.raises(UnsafeKeyError):
        storage.get("raw", "src/ds/.tmp-0123456789abcdef")


def test_local_failed_write_leaves_no_temporary_file(local_env, tmp_path):
    storage = open_storage(Settings.from_env())
    with pytest.raises(OSError):
        storage.put_file("raw", "a/b.tsv", tmp_path / "missing.tsv")
    assert [p for p in storage.root.rglob("*") if p.name.startswith(".tmp-")] == []
    assert storage.stat("raw", "a/b.tsv") is None


def test_local_delete_prunes_empty_folders_only(local_env):
    storage = open_storage(Settings.from_env())
    storage.put("raw", "s/d/2025/05/x.tsv", b"1")
    storage.put("raw", "s/d/2025/06/y.tsv", b"2")
    storage.delete("raw", "s/d/2025/05/x.tsv")
    assert not (storage.root / "raw" / "s" / "d" / "2025" / "05").exists()
    assert (storage.root / "raw" / "s" / "d" / "2025" / "06" / "y.tsv").exists()
    storage.delete("raw", "s/d/2025/06/y.tsv")
    assert (storage.root / "raw").is_dir()  # the zone itself stays
    assert list((storage.root / "raw").iterdir()) == []
