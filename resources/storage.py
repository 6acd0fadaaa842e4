"""Lake storage: one interface, two backends (a local folder, or MinIO/S3), the same semantics.

Zones are top-level folders (local) or buckets (S3). Writes are atomic: the local backend writes
a temporary file beside the target and renames it; S3 objects only appear once fully uploaded.
"""

from __future__ import annotations

import io
import mimetypes
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Protocol

from .settings import S3Settings, Settings

ZONES = ("landing", "raw", "staging", "curated", "archive")
_TMP_PREFIX = ".tmp-"


class StorageUnavailable(RuntimeError):
    """The S3 server cannot be reached, or did not answer within the configured timeouts and
    retries. The message names the endpoint and says what to check, in one line."""


class UnsafeKeyError(ValueError):
    """A key that would escape its zone (``..``, absolute paths, backslashes)."""


@dataclass(frozen=True)
class ObjectInfo:
    zone: str
    key: str
    size: int
    modified: datetime


def check_key(key: str) -> str:
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise UnsafeKeyError(f"unsafe object key {key!r}")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise UnsafeKeyError(f"unsafe object key {key!r}: empty, '.' or '..' path segment")
    if parts[-1].startswith(_TMP_PREFIX):
        raise UnsafeKeyError(f"unsafe object key {key!r}: reserved name")
    return key


def private_dirs(path: Path) -> None:
    """Make ``path`` and its missing parents, readable by the owner only (0700): the lake holds
    personal data (royalty statements, buyer lists)."""
    missing = []
    p = Path(path)
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            pass


def _check_zone(zone: str) -> str:
    if zone not in ZONES:
        raise ValueError(f"unknown zone {zone!r}; zones are {', '.join(ZONES)}")
    return zone


class LakeStorage(Protocol):
    """What every backend offers. Keys are ``/``-separated paths inside a zone."""

    def put(self, zone: str, key: str, data: bytes) -> None: ...
    def put_file(self, zone: str, key: str, path: Path) -> None: ...
    def get(self, zone: str, key: str) -> bytes: ...
    def stat(self, zone: str, key: str) -> ObjectInfo | None: ...
    def list(self, zone: str, prefix: str = "") -> Iterator[ObjectInfo]: ...
    def copy(self, src_zone: str, src_key: str, dst_zone: str, dst_key: str) -> None: ...
    def delete(self, zone: str, key: str) -> None: ...
    def uri(self, zone: str, key: str = "") -> str: ...


class LocalStorage:
    """The embedded default: ``<root>/<zone>/<key>`` on the local file system."""

    kind = "local"

    def __init__(self, root: Path, create: bool = True):
        self.root = Path(root)
        if create:  # a reader (``create=False``) never makes a lake where there is none
            for zone in ZONES:
                private_dirs(self.root / zone)

    def _path(self, zone: str, key: str) -> Path:
        return self.root / _check_zone(zone) / check_key(key)

    def clean_debris(self, landing_age_s: float = 3600.0) -> list[Path]:
        """Remove the temporary files a killed writer left (``.tmp-*``). Call it holding the lake
        lock: no other writer of the lake is running, except in landing, where other tools drop
        files, so there only debris older than ``landing_age_s`` goes."""
        import time

        removed = []
        now = time.time()
        for zone in ZONES:
            for dirpath, _dirs, names in os.walk(self.root / zone):
                for name in names:
                    if not name.startswith(_TMP_PREFIX):
                        continue
                    path = Path(dirpath) / name
                    try:
                        if zone == "landing" and now - path.stat().st_mtime < landing_age_s:
                            continue
                        path.unlink()
                        removed.append(path)
                    except FileNotFoundError:
                        pass
        return removed

    def _atomic_write(self, target: Path, write) -> None:
        private_dirs(target.parent)
        tmp = target.parent / f"{_TMP_PREFIX}{uuid.uuid4().hex}"
        try:
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def put(self, zone: str, key: str, data: bytes) -> None:
        self._atomic_write(self._path(zone, key), lambda fh: fh.write(data))

    def put_file(self, zone: str, key: str, path: Path) -> None:
        def write(fh):
            with open(path, "rb") as src:
                shutil.copyfileobj(src, fh, 1 << 20)

        self._atomic_write(self._path(zone, key), write)

    def get(self, zone: str, key: str) -> bytes:
        try:
            return self._path(zone, key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise FileNotFoundError(f"{zone}/{key} is not in the lake") from None

    def stat(self, zone: str, key: str) -> ObjectInfo | None:
        p = self._path(zone, key)
        try:
            st = p.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not p.is_file():
            return None
        return ObjectInfo(zone, key, st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc))

    def list(self, zone: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, sorted by key (as S3 lists them)."""
        base = self.root / _check_zone(zone)
        start = base / prefix.rpartition("/")[0] if "/" in prefix else base
        found = []
        for dirpath, _dirnames, filenames in os.walk(start):
            for name in filenames:
                if name.startswith(_TMP_PREFIX):
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(base).as_posix()
                if key.startswith(prefix):
                    found.append((key, full))
        for key, full in sorted(found):
            try:
                st = full.stat()
            except FileNotFoundError:  # deleted while listing
                continue
            yield ObjectInfo(zone, key, st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc))

    def copy(self, src_zone: str, src_key: str, dst_zone: str, dst_key: str) -> None:
        self.put_file(dst_zone, dst_key, self._path(src_zone, src_key))

    def delete(self, zone: str, key: str) -> None:
        p = self._path(zone, key)
        p.unlink(missing_ok=True)
        base = self.root / zone
        parent = p.parent
        while parent != base and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    def uri(self, zone: str, key: str = "") -> str:
        base = (self.root / _check_zone(zone)).resolve()
        return str(base / key) if key else str(base)


def _content_type(key: str) -> str:
    """The object's type by its name, so a browser shows a report or a chart opened from MinIO
    (``text/html``, ``image/png``) instead of downloading it; anything else is binary."""
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class S3Storage:
    """MinIO or any S3-protocol server through the ``minio`` client; one bucket per zone."""

    kind = "s3"

    def __init__(self, cfg: S3Settings, create: bool = True):
        import urllib3
        from minio import Minio

        self.cfg = cfg
        # timeouts and a retry budget of seconds, not the client's default of minutes per request
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=cfg.connect_timeout, read=cfg.read_timeout),
            retries=urllib3.Retry(total=cfg.retries, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
            maxsize=10,
        )
        self.client = _Guarded(Minio(
            cfg.endpoint,
            access_key=cfg.access_key,
            secret_key=cfg.secret_key,
            secure=cfg.secure,
            region=cfg.region,
            http_client=http,
        ), cfg)
        self._ready: set[str] = set()
        self._create = create  # a reader (``create=False``) never makes buckets

    def bucket(self, zone: str) -> str:
        name = f"{self.cfg.bucket_prefix}{_check_zone(zone)}"
        if name not in self._ready and self._create:
            if not self.client.bucket_exists(name):
                from minio.error import S3Error

                try:
                    self.client.make_bucket(name)
                except S3Error as exc:  # another process created it meanwhile
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._ready.add(name)
        return name

    def put(self, zone: str, key: str, data: bytes) -> None:
        self.client.put_object(self.bucket(zone), check_key(key), io.BytesIO(data), len(data),
                               content_type=_content_type(key))

    def put_file(self, zone: str, key: str, path: Path) -> None:
        self.client.fput_object(self.bucket(zone), check_key(key), str(path), content_type=_content_type(key))

    def get(self, zone: str, key: str) -> bytes:
        from minio.error import S3Error

        try:
            resp = self.client.get_object(self.bucket(zone), check_key(key))
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                raise FileNotFoundError(f"{zone}/{key} is not in the lake") from None
            raise
        try:
            return self.client.read(resp)
        finally:
            resp.close()
            resp.release_conn()

    def stat(self, zone: str, key: str) -> ObjectInfo | None:
        from minio.error import S3Error

        try:
            st = self.client.stat_object(self.bucket(zone), check_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return None
            raise
        return ObjectInfo(zone, key, st.size, st.last_modified)

    def list(self, zone: str, prefix: str = "") -> Iterator[ObjectInfo]:
        from minio.error import S3Error

        try:
            objs = sorted(self.client.listed(self.bucket(zone), prefix=prefix or None, recursive=True),
                          key=lambda o: o.object_name)
        except S3Error as exc:
            if exc.code == "NoSuchBucket" and not self._create:
                return
            raise
        for o in objs:
            if o.is_dir:
                continue
            yield ObjectInfo(zone, o.object_name, o.size, o.last_modified)

    def copy(self, src_zone: str, src_key: str, dst_zone: str, dst_key: str) -> None:
        from minio.commonconfig import CopySource

        self.client.copy_object(
            self.bucket(dst_zone), check_key(dst_key), CopySource(self.bucket(src_zone), check_key(src_key))
        )

    def delete(self, zone: str, key: str) -> None:
        self.client.remove_object(self.bucket(zone), check_key(key))

    def uri(self, zone: str, key: str = "") -> str:
        return f"s3://{self.bucket(zone)}/{key}"


class _Guarded:
    """The minio client, with network failures turned into one :class:`StorageUnavailable`."""

    def __init__(self, client, cfg: S3Settings):
        self._client = client
        self._cfg = cfg

    @staticmethod
    def _own_read(response) -> bytes:
        return response.read()

    def _own_listed(self, bucket: str, **kwargs) -> list:
        return list(self._client.list_objects(bucket, **kwargs))

    def __getattr__(self, name):
        own = type(self).__dict__.get("_own_" + name)
        attr = own.__get__(self, type(self)) if own is not None else getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            import urllib3.exceptions as ux

            try:
                return attr(*args, **kwargs)
            except (ux.HTTPError, ConnectionError, TimeoutError, OSError) as exc:
                if isinstance(exc, FileNotFoundError):
                    raise
                raise StorageUnavailable(
                    f"the S3 server at {self._cfg.endpoint} cannot be reached ({type(exc).__name__}): "
                    f"check SOUNDLAKE_S3_ENDPOINT and that the server is up (timeouts: connect "
                    f"{self._cfg.connect_timeout:g} s, read {self._cfg.read_timeout:g} s, {self._cfg.retries} "
                    "retries; SOUNDLAKE_S3_CONNECT_TIMEOUT, SOUNDLAKE_S3_READ_TIMEOUT, SOUNDLAKE_S3_RETRIES)"
                ) from None

        return call


def open_storage(settings: Settings, create: bool = True) -> LakeStorage:
    """The lake's storage; with ``create=False`` nothing is made (no folder, no bucket)."""
    if settings.s3 is not None:
        return S3Storage(settings.s3, create=create)
    return LocalStorage(settings.lake_dir, create=create)
