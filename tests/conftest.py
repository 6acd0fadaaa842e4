"""Shared fixtures: a real S3-protocol server (moto, in its own process), the two lake backends
and the BEDROT export fixtures."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from resources.settings import Settings
from resources.storage import open_storage

S3_ACCESS_KEY = "testing"
S3_SECRET_KEY = "testing-secret-0f3a9c"  # distinctive, so tests can look for it in files
S3_REGION = "us-east-1"

BEDROT = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "bedrot"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited early with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                resp.read()
            return
        except urllib.error.HTTPError:
            return  # it answered (with an error status), so it is up
        except OSError as exc:
            last = exc
            time.sleep(0.1)
    raise RuntimeError(f"moto server at {url} did not answer within {timeout:.0f}s ({last})")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's S3 server as a separate process on loopback; yields ``"127.0.0.1:PORT"``."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "AWS_DEFAULT_REGION": S3_REGION,
    }
    with open(log, "wb") as log_fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log_fh, stderr=subprocess.STDOUT, env=env,
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/", proc)
    except RuntimeError as exc:
        proc.kill()
        proc.wait(timeout=10)
        raise RuntimeError(f"{exc}\n{log.read_text(errors='replace')[-2000:]}") from None
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _clear_s3_env(monkeypatch) -> None:
    for name in list(os.environ):
        if name.startswith("SOUNDLAKE_S3_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def local_env(monkeypatch, tmp_path) -> Path:
    """The embedded backend: a lake folder under ``tmp_path/home``. Yields the home."""
    _clear_s3_env(monkeypatch)
    home = tmp_path / "home"
    monkeypatch.setenv("SOUNDLAKE_HOME", str(home))
    return home


@pytest.fixture
def s3_env(s3_server, monkeypatch, tmp_path) -> dict[str, str]:
    """The S3 backend on the moto server, with buckets of this test only. Yields the variables."""
    _clear_s3_env(monkeypatch)
    values = {
        "SOUNDLAKE_HOME": str(tmp_path / "home"),
        "SOUNDLAKE_S3_ENDPOINT": s3_server,
        "SOUNDLAKE_S3_ACCESS_KEY": S3_ACCESS_KEY,
        "SOUNDLAKE_S3_SECRET_KEY": S3_SECRET_KEY,
        "SOUNDLAKE_S3_SECURE": "false",
        "SOUNDLAKE_S3_REGION": S3_REGION,
        # "t" + 12 hex + "-" + the longest zone ("staging"/"curated"/"archive") stays well under 63
        "SOUNDLAKE_S3_BUCKET_PREFIX": f"t{uuid.uuid4().hex[:12]}-",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


@pytest.fixture(params=["local", "s3"])
def storage(request):
    """An open lake storage of each backend, under the matching environment."""
    request.getfixturevalue("local_env" if request.param == "local" else "s3_env")
    return open_storage(Settings.from_env())


@pytest.fixture
def minio_client(s3_server):
    """A client of its own on the moto server, to look at what the lake really stored."""
    from minio import Minio

    return Minio(s3_server, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, secure=False, region=S3_REGION)


@pytest.fixture
def bedrot() -> Path:
    """The real BEDROT exports (``../shared/fixtures/bedrot``, beside the repository)."""
    if not BEDROT.is_dir():
        pytest.skip(f"the BEDROT export fixtures are not at {BEDROT} (CI checks them out beside the repository)")
    return BEDROT


@pytest.fixture(scope="session")
def bedrot_lake(tmp_path_factory) -> Path:
    """The BEDROT exports ingested once per session into a local lake (with the fast analytics).
    Tests that use it through ``at_bedrot`` only read it."""
    from tests.cli_helpers import run

    if not BEDROT.is_dir():
        pytest.skip(f"the BEDROT export fixtures are not at {BEDROT} (CI checks them out beside the repository)")
    home = tmp_path_factory.mktemp("bedrot-lake") / "home"
    with pytest.MonkeyPatch.context() as mp:
        _clear_s3_env(mp)
        mp.setenv("SOUNDLAKE_HOME", str(home))
        result = run("ingest", BEDROT)
        assert result.exit_code == 0, result.output
    return home


@pytest.fixture
def at_bedrot(bedrot_lake, monkeypatch) -> Path:
    """``SOUNDLAKE_HOME`` pointing at the session's BEDROT lake (read it, don't change it)."""
    _clear_s3_env(monkeypatch)
    monkeypatch.setenv("SOUNDLAKE_HOME", str(bedrot_lake))
    return bedrot_lake


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory) -> tuple[Path, str]:
    """`soundlake demo` run once per session into a local lake: (home, what it printed). Tests
    that use it through ``at_demo`` only read it."""
    from tests.cli_helpers import run

    home = tmp_path_factory.mktemp("demo-lake") / "home"
    with pytest.MonkeyPatch.context() as mp:
        _clear_s3_env(mp)
        mp.setenv("SOUNDLAKE_HOME", str(home))
        result = run("demo")
        assert result.exit_code == 0, result.output
    return home, result.output


@pytest.fixture
def at_demo(demo_lake, monkeypatch) -> Path:
    """``SOUNDLAKE_HOME`` pointing at the session's demo lake (read it, don't change it)."""
    _clear_s3_env(monkeypatch)
    monkeypatch.setenv("SOUNDLAKE_HOME", str(demo_lake[0]))
    return demo_lake[0]
