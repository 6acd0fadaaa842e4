"""`soundlake ui` the way a person uses it: the webserver and the daemon come up on this home's
instance, a file dropped into landing is picked up by the sensor and becomes queryable, a CLI
ingest shows in the UI and can be re-executed from it, a second `soundlake ui` on the same port
is refused, and SIGTERM stops everything it started."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.lake.test_landing import statement

REPO = Path(__file__).resolve().parents[2]
SOUNDLAKE = str(Path(sys.executable).with_name("soundlake"))
RUNS = "{ runsOrError { ... on Runs { results { runId status jobName tags { key value } } } } }"
REEXECUTE = """mutation($id: String!) { launchRunReexecution(reexecutionParams: {parentRunId: $id, strategy: ALL_STEPS})
  { __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    """Every process descending from ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, parent in parents.items() if parent == p]
        found |= set(kids)
        todo += kids
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    resp = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables or {}},
                         timeout=30)
    return resp.json()["data"]


def _runs(port: int) -> list[dict]:
    return _graphql(port, RUNS)["runsOrError"]["results"]


def _wait(what: str, check, timeout: float):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def ui(tmp_path):
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SOUNDLAKE_S3_")},
           "SOUNDLAKE_HOME": str(tmp_path / "home")}
    log = open(tmp_path / "ui.log", "w")
    proc = subprocess.Popen([SOUNDLAKE, "ui", "--port", str(port)], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc, port, env, tmp_path
    finally:
        if proc.poll() is None:
            descendants = _children(proc.pid)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            for pid in descendants:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
        log.close()


def test_soundlake_ui_end_to_end(ui):
    proc, port, env, tmp_path = ui
    deadline = time.time() + 180

    def server_info():
        if proc.poll() is not None:
            raise AssertionError("soundlake ui exited:\n" + (tmp_path / "ui.log").read_text())
        try:
            return requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).json()
        except requests.RequestException:
            return None

    info = _wait("the webserver", server_info, 180)
    assert "dagster_webserver_version" in info
    query = "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }"
    _wait("the daemon's sensor loop", lambda: "SENSOR" in {
        d["daemonType"] for d in _graphql(port, query)["instance"]["daemonHealth"]["allDaemonStatuses"]
        if d["healthy"]}, max(30, deadline - time.time()))
    assert (tmp_path / "home" / "dagster" / "dagster.yaml").exists()

    # a second UI on the same port is refused, and says why
    second = subprocess.run([SOUNDLAKE, "ui", "--port", str(port)], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)
    assert second.returncode == 2 and "busy" in second.stderr

    # a file dropped into landing: the sensor starts an ingest run, and the statement becomes queryable
    landing = tmp_path / "home" / "lake" / "landing" / "downloads"
    landing.mkdir(parents=True)
    (landing / "dk_bank_details_20250515_090000.tsv").write_bytes(statement("Dropped"))
    dropped = time.time()

    def sensor_run_done():
        runs = [r for r in _runs(port) if {"key": "soundlake/trigger", "value": "landing"} in r["tags"]]
        if runs and runs[0]["status"] in ("FAILURE", "CANCELED"):
            raise AssertionError(f"the sensor's run failed: {runs[0]}\n" + (tmp_path / "ui.log").read_text()[-3000:])
        return runs if runs and runs[0]["status"] == "SUCCESS" else None

    runs = _wait("the landing sensor's run", sensor_run_done, 240)
    print(f"dropped file queryable {time.time() - dropped:.0f} s after it landed (sensor interval 30 s)")
    assert len(runs) == 1, "one drop, one run"
    out = subprocess.run([SOUNDLAKE, "query", "SELECT title FROM fct_royalties", "--format", "json"], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and json.loads(out.stdout) == [{"title": "Dropped"}], out.stderr

    # a CLI ingest is a run the UI lists, and the UI can re-execute it
    export = tmp_path / "dk_bank_details_20250601_090000.tsv"
    export.write_bytes(statement("From the CLI"))
    cli = subprocess.run([SOUNDLAKE, "ingest", str(export)], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    [cli_run] = [r for r in _runs(port) if {"key": "soundlake/trigger", "value": "cli"} in r["tags"]]
    assert cli_run["jobName"] == "ingest" and cli_run["status"] == "SUCCESS"
    launched = _graphql(port, REEXECUTE, {"id": cli_run["runId"]})["launchRunReexecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    child = launched["run"]["runId"]
    _wait("the re-execution", lambda: next((r["status"] == "SUCCESS" for r in _runs(port) if r["runId"] == child
                                            and r["status"] in ("SUCCESS", "FAILURE", "CANCELED")), None), 240)
    assert next(r for r in _runs(port) if r["runId"] == child)["status"] == "SUCCESS"

    # SIGTERM to `soundlake ui` stops the webserver, the daemon and the code server it started
    descendants = _children(proc.pid)
    assert descendants, "soundlake ui started dagster dev"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    _wait("every process it started to stop", lambda: not any(_alive(p) for p in descendants), 30)


def test_ui_refuses_to_start_a_second_daemon(tmp_path):
    """A daemon that beat within the last minute serves this home's instance: a second `soundlake
    ui` (on another port) would run every sensor twice, so it refuses."""
    from dagster._daemon.types import DaemonHeartbeat

    from pipelines import launch
    from resources.settings import Settings

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SOUNDLAKE_S3_")},
           "SOUNDLAKE_HOME": str(tmp_path / "home")}
    with launch.instance(Settings.from_env(env)) as instance:
        instance.add_daemon_heartbeat(DaemonHeartbeat(timestamp=time.time(), daemon_type="SENSOR",
                                                      daemon_id="another-ui", errors=[]))
    out = subprocess.run([SOUNDLAKE, "ui", "--port", str(_free_port())], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2 and "already serves" in out.stderr, out.stderr
