"""One writer at a time: the lake lock.

Every run that changes the lake (an ingest, a reprocess, a repair, the analytics, the sensor's
runs) holds the lake lock while it runs; a second one waits for it (saying so) up to
``SOUNDLAKE_LOCK_TIMEOUT`` seconds (default 600) and then gives up with :class:`LakeBusy`.
Readers (``query``, ``status``, an analyst's DuckDB) never take it: what they read is switched
atomically (assets/lake/state.py, resources/warehouse.py).

* Locally the lock is an OS file lock on ``$SOUNDLAKE_HOME/lake.lock`` (``filelock``): the kernel
  releases it when its process dies, so a killed run never leaves the lake locked.
* On S3 the lake is shared between machines, so the lock is also a *lease*: the object
  ``curated/_state/lock.json`` names its holder and an expiry, renewed every ``ttl / 3`` seconds
  while the run lives. A lease whose holder stopped renewing it (a killed process, a lost
  machine) expires after ``SOUNDLAKE_LOCK_TTL`` seconds (default 60) and is taken over.

The lock is re-entrant within a process: the CLI holds it around landing and the run it starts
in-process, and the run's resource takes it again without waiting for itself.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterator

from .settings import Settings

LEASE_KEY = "_state/lock.json"
WRITER_TAG = "soundlake/writes"  # the run tag of the jobs that write derived state (pipelines/jobs.py)
DEFAULT_TIMEOUT = 600.0
DEFAULT_TTL = 60.0


class LakeBusy(RuntimeError):
    """Another run held the lake lock for longer than the timeout."""


def _env_seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


def holder_info() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": datetime.now(timezone.utc).isoformat()}


class _Held:
    def __init__(self):
        self.count = 0
        self.release: Callable[[], None] | None = None


_held: dict[str, _Held] = {}
_guard = threading.RLock()


def _dead_here(info: dict) -> bool:
    """Whether a lease's holder was a process of this machine that is gone (its lease need not
    be waited out)."""
    if info.get("host") != socket.gethostname() or not isinstance(info.get("pid"), int):
        return False
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _describe(info: dict | None) -> str:
    if not info:
        return "another run"
    return f"another run (pid {info.get('pid')} on {info.get('host')}, since {str(info.get('since', '?'))[:19]})"


class _S3Lease:
    def __init__(self, storage, ttl: float):
        self.storage = storage
        self.ttl = ttl
        self.owner = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self) -> dict | None:
        try:
            return json.loads(self.storage.get("curated", LEASE_KEY))
        except FileNotFoundError:
            return None
        except ValueError:
            return None

    def _write(self) -> None:
        doc = {**holder_info(), "owner": self.owner, "expires": time.time() + self.ttl}
        self.storage.put("curated", LEASE_KEY, json.dumps(doc).encode())

    def try_acquire(self) -> tuple[bool, dict | None]:
        current = self._read()
        if current is not None and current.get("owner") != self.owner and current.get("expires", 0) > time.time() \
                and not _dead_here(current):
            return False, current
        self._write()
        time.sleep(0.2)  # a writer that raced us wrote after us and wins; we look again
        current = self._read()
        if current is None or current.get("owner") != self.owner:
            return False, current
        self._thread = threading.Thread(target=self._renew, name="soundlake-lease", daemon=True)
        self._thread.start()
        return True, current

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self._write()
            except Exception:  # noqa: BLE001 - a missed renewal is retried; the lease outlives two
                pass

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            current = self._read()
            if current is not None and current.get("owner") == self.owner:
                self.storage.delete("curated", LEASE_KEY)
        except Exception:  # noqa: BLE001 - it expires by itself
            pass


@contextmanager
def lake_lock(settings: Settings, storage=None, *, timeout: float | None = None,
              on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lake lock (waiting up to ``timeout`` seconds; ``on_wait`` is told once why)."""
    import filelock

    timeout = _env_seconds("SOUNDLAKE_LOCK_TIMEOUT", DEFAULT_TIMEOUT) if timeout is None else timeout
    ident = str(settings.home) + ("|" + settings.s3.endpoint + "/" + settings.s3.bucket_prefix if settings.s3 else "")
    with _guard:
        held = _held.setdefault(ident, _Held())
        if held.count:
            held.count += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                held.count -= 1
        return

    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / "lake.lock"
    info_path = settings.home / "lake.lock.json"
    lock = filelock.FileLock(str(path), thread_local=False)
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            lock.acquire(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
            break
        except filelock.Timeout:
            if time.monotonic() >= deadline:
                raise LakeBusy(f"the lake at {settings.home} is being written by {_describe(_read_json(info_path))}; "
                               f"gave up after {timeout:.0f} s (SOUNDLAKE_LOCK_TIMEOUT)") from None
            if not told and on_wait:
                on_wait(f"waiting for {_describe(_read_json(info_path))} to finish writing the lake "
                        f"(up to {timeout:.0f} s)")
                told = True
    lease = None
    try:
        info_path.write_text(json.dumps(holder_info()))
        if settings.s3 is not None:
            from .storage import open_storage

            lease = _S3Lease(storage or open_storage(settings), _env_seconds("SOUNDLAKE_LOCK_TTL", DEFAULT_TTL))
            while True:
                ok, current = lease.try_acquire()
                if ok:
                    break
                if time.monotonic() >= deadline:
                    raise LakeBusy(f"the lake at {settings.s3.endpoint} is being written by {_describe(current)}; "
                                   f"gave up after {timeout:.0f} s (SOUNDLAKE_LOCK_TIMEOUT)")
                if not told and on_wait:
                    on_wait(f"waiting for {_describe(current)} to finish writing the lake (up to {timeout:.0f} s)")
                    told = True
                time.sleep(1.0)
        _clean_debris(settings, storage)
        with _guard:
            held.count = 1
        try:
            yield
        finally:
            with _guard:
                held.count = 0
            if lease is not None:
                lease.release()
    finally:
        try:
            info_path.unlink(missing_ok=True)
        finally:
            lock.release()


def writer(settings: Settings) -> str | None:
    """Who is writing the lake right now (another process holding the lock), or None."""
    import filelock

    path = settings.home / "lake.lock"
    if not path.exists():
        return None
    with _guard:
        for ident, held in _held.items():
            if ident.startswith(str(settings.home)) and held.count:
                return None  # this process: not someone else
    lock = filelock.FileLock(str(path), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        return _describe(_read_json(settings.home / "lake.lock.json"))
    lock.release()
    return None


def _clean_debris(settings: Settings, storage) -> None:
    """What a killed writer left: temporary files in the local lake and half-published warehouses."""
    for leftover in settings.home.glob(".tmp-*"):
        leftover.unlink(missing_ok=True)
    if settings.s3 is None:
        from .storage import LocalStorage

        local = storage if isinstance(storage, LocalStorage) else LocalStorage(settings.lake_dir, create=False)
        if local.root.exists():
            local.clean_debris()


def _read_json(path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
