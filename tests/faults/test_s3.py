"""The S3 server paused (SIGSTOP) in the middle of an ingest: a clear error within the configured
timeouts, nothing half-written visible, and the re-run ends with the same curated tables as an
undisturbed run."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from minio import Minio

from tests.conftest import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, _free_port, _wait_until_up

AGGREGATES = {
    "royalties": "SELECT count(*), sum(quantity), round(sum(earnings_usd), 6) FROM fct_royalties",
    "streams": "SELECT platform, count(*), sum(streams) FROM fct_streams_daily GROUP BY 1 ORDER BY 1",
    "files": "SELECT dataset, status, rows FROM lake_files WHERE status <> 'duplicate' ORDER BY dataset",
}


@pytest.fixture
def own_s3_server(tmp_path):
    """A moto server of this test only (it is paused and resumed)."""
    port = _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
           "AWS_DEFAULT_REGION": S3_REGION}
    with open(tmp_path / "moto.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
    _wait_until_up(f"http://127.0.0.1:{port}/", proc)
    try:
        yield proc, f"127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait(timeout=10)


def _env(home, endpoint, prefix):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUNDLAKE_")}
    env.update(SOUNDLAKE_HOME=str(home), SOUNDLAKE_S3_ENDPOINT=endpoint, SOUNDLAKE_S3_ACCESS_KEY=S3_ACCESS_KEY,
               SOUNDLAKE_S3_SECRET_KEY=S3_SECRET_KEY, SOUNDLAKE_S3_SECURE="false", SOUNDLAKE_S3_REGION=S3_REGION,
               SOUNDLAKE_S3_BUCKET_PREFIX=prefix, SOUNDLAKE_S3_READ_TIMEOUT="2", SOUNDLAKE_S3_CONNECT_TIMEOUT="2",
               SOUNDLAKE_S3_RETRIES="1")
    return env


def _cli(env, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=timeout)


def _figures(env):
    out = {}
    for name, sql in AGGREGATES.items():
        result = _cli(env, "query", sql, "--format", "json")
        assert result.returncode == 0, result.stderr
        out[name] = json.loads(result.stdout)
    return out


def test_a_paused_s3_server_mid_run(own_s3_server, tmp_path, bedrot):
    proc, endpoint = own_s3_server
    client = Minio(endpoint, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, secure=False, region=S3_REGION)
    calm = _env(tmp_path / "calm", endpoint, f"c{uuid.uuid4().hex[:10]}-")
    assert _cli(calm, "ingest", bedrot / "distrokid").returncode == 0
    expected = _figures(calm)

    prefix = f"p{uuid.uuid4().hex[:10]}-"
    env = _env(tmp_path / "paused", endpoint, prefix)
    run = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ingest", str(bedrot / "distrokid")], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and run.poll() is None:  # pause once staging has begun
        try:
            if any(True for _ in client.list_objects(f"{prefix}staging", recursive=True)):
                break
        except Exception:  # noqa: BLE001 - the bucket is not made yet
            pass
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before the server could be paused"
    proc.send_signal(signal.SIGSTOP)
    paused_at = time.monotonic()
    try:
        out, err = run.communicate(timeout=180)
    finally:
        proc.send_signal(signal.SIGCONT)
    waited = time.monotonic() - paused_at
    assert run.returncode == 4, err
    assert endpoint in err and "Traceback" not in err
    assert waited < 90, f"gave up after {waited:.0f} s, not within the configured timeouts"

    # nothing half-written is visible: every curated table lists only files that exist, and the
    # re-run completes with the undisturbed run's figures
    result = _cli(env, "ingest", bedrot / "distrokid")
    assert result.returncode == 0, result.stderr
    assert _figures(env) == expected
