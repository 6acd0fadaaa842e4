"""The deployment: docker/dagster.yaml as a real instance (PostgreSQL on 127.0.0.1:5432, compute logs
on the moto S3 server), the one-writer pool as Dagster's own run queue applies it, the Helm values we
ship and the Docker run launcher block of docs/deploy.md."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import boto3
import dagster as dg
import psycopg2
import pytest
import yaml

from tests.conftest import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCKER_YAML = REPO_ROOT / "docker" / "dagster.yaml"
HELM_VALUES = REPO_ROOT / "deploy" / "helm" / "values.yaml"
DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"
PG_DSN = dict(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
POOL = "soundlake_writes"


@pytest.fixture
def pg_database():
    name = f"soundlake_deploy_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(**PG_DSN)
    conn.autocommit = True
    conn.cursor().execute(f'CREATE DATABASE "{name}"')
    yield name
    conn.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def docker_instance(tmp_path, monkeypatch, pg_database, s3_server):
    """The instance a container of docker/docker-compose.yml gets: docker/dagster.yaml unchanged, its
    variables pointing at the real PostgreSQL server and at moto in place of MinIO."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DOCKER_YAML, home / "dagster.yaml")
    bucket = f"logs-{uuid.uuid4().hex[:8]}"
    env = {
        "DAGSTER_POSTGRES_HOST": PG_DSN["host"], "DAGSTER_POSTGRES_USER": PG_DSN["user"],
        "DAGSTER_POSTGRES_PASSWORD": "", "DAGSTER_POSTGRES_DB": pg_database,
        "DAGSTER_COMPUTE_LOG_BUCKET": bucket, "DAGSTER_COMPUTE_LOG_ENDPOINT": f"http://{s3_server}",
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY, "AWS_DEFAULT_REGION": S3_REGION,
        "DAGSTER_HOME": str(home),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s3 = boto3.client("s3", endpoint_url=f"http://{s3_server}", region_name=S3_REGION,
                      aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY)
    s3.create_bucket(Bucket=bucket)  # docker-compose's minio-init makes it
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        yield instance, s3, bucket
    finally:
        instance.dispose()


def _run(instance: dg.DagsterInstance, job_name: str | None = None,
         selection: list[dg.AssetKey] | None = None) -> dg.DagsterRun:
    """A run created as the webserver creates it: of a job (with its tags), or of an asset
    selection made in the UI (the implicit asset job, no tags)."""
    from pipelines.definitions import defs

    if job_name:
        job = defs.resolve_job_def(job_name)
    else:
        job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection=set(selection))
    return instance.create_run_for_job(job_def=job, tags=dict(job.tags))


def test_docker_instance_stores_runs_in_postgres_and_compute_logs_in_s3(docker_instance):
    instance, s3, bucket = docker_instance
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    assert instance.run_retries_retry_on_asset_or_op_failure is False
    assert instance.run_monitoring_enabled

    manager = instance.compute_log_manager
    assert type(manager).__name__ == "S3ComputeLogManager"
    log_key = ["run-x", "compute_logs", "step-a"]
    with manager.capture_logs(log_key):
        print("hello from a step", flush=True)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert any(k.startswith("compute-logs/") and k.endswith(".out") for k in keys), keys
    assert b"hello from a step" in manager.get_log_data(log_key).stdout


def test_writing_runs_hold_the_one_slot_of_the_pool(docker_instance):
    """Dagster's own queue logic on the docker instance: while a run that writes curated is in
    progress, a second one (of any job, or an asset selection made in the UI without the job's tag)
    is blocked, and a run that writes nothing of the lake (the report) is not."""
    from dagster._core.instance.config import PoolGranularity
    from dagster._core.op_concurrency_limits_counter import GlobalOpConcurrencyLimitsCounter

    from assets.factory import WRITES_POOL, curated_key

    instance, _s3, _bucket = docker_instance
    assert WRITES_POOL == POOL
    pools = instance.get_concurrency_config().pool_config
    assert pools.pool_granularity == PoolGranularity.RUN and pools.default_pool_limit == 1

    first = _run(instance, "ingest")
    assert first.run_op_concurrency.all_pools == {POOL}
    assert _run(instance, "archive").run_op_concurrency.all_pools == {POOL}
    ui_selection = _run(instance, selection=[curated_key("fct_royalties")])
    assert "soundlake/writes" not in ui_selection.tags and ui_selection.run_op_concurrency.all_pools == {POOL}
    report = _run(instance, "report")
    assert report.run_op_concurrency is None

    def blocked(run: dg.DagsterRun, in_progress: list[dg.DagsterRun]) -> bool:
        records = [instance.get_run_record_by_id(r.run_id) for r in in_progress]
        counter = GlobalOpConcurrencyLimitsCounter(
            instance, [run], records, concurrency_keys=instance.event_log_storage.get_concurrency_keys(),
            pool_limits=instance.event_log_storage.get_pool_limits(), pool_granularity=pools.pool_granularity)
        return counter.is_blocked(run)

    second = _run(instance, "reprocess")
    assert not blocked(second, [])  # the pool gets its default limit of one here
    assert instance.event_log_storage.get_pool_limits()[0].limit == 1
    instance.run_storage.handle_run_event(first.run_id, dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.RUN_START.value, job_name=first.job_name, message="started"))
    assert instance.get_run_by_id(first.run_id).status == dg.DagsterRunStatus.STARTED
    assert blocked(second, [first])
    assert blocked(ui_selection, [first])
    assert not blocked(report, [first])


def _helm_values() -> dict:
    return yaml.safe_load(HELM_VALUES.read_text(encoding="utf-8"))


# the fields of Dagster's Helm chart (helm/dagster/schema of the dagster repository) that the values set
CHART_TOP_LEVEL = {
    "dagsterWebserver", "dagster-user-deployments", "postgresql", "generatePostgresqlPasswordSecret",
    "generateCeleryConfigSecret", "rabbitmq", "redis", "flower", "ingress", "imagePullSecrets",
    "computeLogManager", "scheduler", "runLauncher", "pythonLogs", "dagsterDaemon", "busybox", "migrate",
    "telemetry", "serviceAccount", "global", "retention", "concurrency", "additionalInstanceConfig",
}
USER_DEPLOYMENT_FIELDS = {
    "name", "image", "port", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns", "env",
    "envConfigMaps", "envSecrets", "annotations", "nodeSelector", "affinity", "tolerations", "podSecurityContext",
    "securityContext", "resources", "livenessProbe", "readinessProbe", "startupProbe", "labels", "volumeMounts",
    "volumes", "schedulerName",
}
K8S_LAUNCHER_FIELDS = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile", "envConfigMaps",
    "envSecrets", "envVars", "volumeMounts", "volumes", "labels", "failPodOnRunFailure",
}
S3_LOG_FIELDS = {"localDir", "prefix", "useSsl", "verify", "verifyCertPath", "endpointUrl", "skipEmptyFiles",
                 "uploadInterval", "uploadExtraArgs", "showUrlOnly", "region", "bucket"}


def test_helm_values_parse_and_use_the_chart_fields():
    values = _helm_values()
    assert set(values) <= CHART_TOP_LEVEL, set(values) - CHART_TOP_LEVEL
    [code] = values["dagster-user-deployments"]["deployments"]
    assert set(code) <= USER_DEPLOYMENT_FIELDS, set(code) - USER_DEPLOYMENT_FIELDS
    assert code["codeServerArgs"] == ["-m", "pipelines.definitions"] and code["port"] == 4000
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert set(launcher["config"]["k8sRunLauncher"]) <= K8S_LAUNCHER_FIELDS
    logs = values["computeLogManager"]
    assert logs["type"] == "S3ComputeLogManager"
    assert set(logs["config"]["s3ComputeLogManager"]) <= S3_LOG_FIELDS
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert values["postgresql"]["enabled"] is False

    # every run sees the lake's data volume and S3 credentials, as the code server does
    mounts = {m["mountPath"] for m in launcher["config"]["k8sRunLauncher"]["volumeMounts"]}
    assert mounts == {m["mountPath"] for m in code["volumeMounts"]} == {"/opt/soundlake/data"}
    assert launcher["config"]["k8sRunLauncher"]["envSecrets"] == code["envSecrets"]


def test_helm_values_and_docker_instance_agree():
    """One writer, retries and the log bucket are the same on Kubernetes as in Docker Compose."""
    values, docker = _helm_values(), yaml.safe_load(DOCKER_YAML.read_text())
    pools, runs = values["concurrency"]["pools"], values["concurrency"]["runs"]
    assert values["concurrency"]["enabled"] is True
    assert pools == {"granularity": docker["concurrency"]["pools"]["granularity"],
                     "defaultLimit": docker["concurrency"]["pools"]["default_limit"]}
    assert runs["tagConcurrencyLimits"] == docker["concurrency"]["runs"]["tag_concurrency_limits"]
    assert runs["maxConcurrentRuns"] == docker["concurrency"]["runs"]["max_concurrent_runs"]
    retries = values["dagsterDaemon"]["runRetries"]
    assert retries == {"enabled": True, "maxRetries": docker["run_retries"]["max_retries"]}
    assert values["computeLogManager"]["config"]["s3ComputeLogManager"]["prefix"] == \
        docker["compute_logs"]["config"]["prefix"]


SECRET_KEY = re.compile(r"(?i)password|secret|token|access.?key")


def test_helm_values_hold_no_secret():
    """Credentials come from Kubernetes Secrets named in the values; no value of a key (or of an
    env entry) that names a password, secret, token or access key is written in the file."""
    values = _helm_values()
    assert values["generatePostgresqlPasswordSecret"] is False and values["global"]["postgresqlSecretName"]
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            if "name" in node and "value" in node and SECRET_KEY.search(str(node["name"])) and node["value"]:
                found.append(f"{path}: env {node['name']}")
            for k, v in node.items():
                if SECRET_KEY.search(k) and isinstance(v, str) and v and not k.endswith("SecretName"):
                    found.append(f"{path}.{k}")
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
            found.extend(f"{path}: {v}" for v in node if isinstance(v, str) and "=" in v
                         and SECRET_KEY.search(v.split("=", 1)[0]) and v.split("=", 1)[1])

    walk(values, "values")
    assert not found, found


def _docker_launcher_block() -> dict:
    """The `run_launcher` block docs/deploy.md gives for DockerRunLauncher (marked in the doc)."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- docker-run-launcher -->\s*```yaml\n(.*?)```", text, re.S)
    assert match, "docs/deploy.md lost its <!-- docker-run-launcher --> block"
    return yaml.safe_load(match.group(1))


def test_docker_run_launcher_block_of_the_docs_is_valid(tmp_path, monkeypatch):
    """The documented DockerRunLauncher replaces the run launcher of docker/dagster.yaml and the
    result still passes Dagster's instance schema and dagster-docker's own config schema."""
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config
    from dagster_docker import DockerRunLauncher

    config = yaml.safe_load(DOCKER_YAML.read_text())
    config.update(_docker_launcher_block())
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    for var in ("DAGSTER_POSTGRES_HOST", "DAGSTER_POSTGRES_USER", "DAGSTER_POSTGRES_PASSWORD", "DAGSTER_POSTGRES_DB",
                "DAGSTER_COMPUTE_LOG_BUCKET", "DAGSTER_COMPUTE_LOG_ENDPOINT"):
        monkeypatch.setenv(var, "placeholder")
    checked, _ = dagster_instance_config(str(tmp_path), "dagster.yaml")
    launcher = checked["run_launcher"]
    assert launcher["class"] == "DockerRunLauncher"
    result = process_config(DockerRunLauncher.config_type(), launcher["config"])
    assert result.success, result.errors
    env = set(launcher["config"]["env_vars"])
    assert {"SOUNDLAKE_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "DAGSTER_POSTGRES_PASSWORD"} <= env


def test_curated_parquet_reads_in_other_engines(local_env, tmp_path):
    """docs/deploy.md: curated is Hive-partitioned Parquet that pyarrow (pandas) and DuckDB read
    without the warehouse, with the same rows as `soundlake query`."""
    import duckdb
    import pyarrow.dataset as pads

    from tests.cli_helpers import query, run
    from tests.lake.test_landing import statement

    export = tmp_path / "dk_bank_details_20260101_000000.tsv"
    export.write_bytes(statement())
    assert run("ingest", export).exit_code == 0
    [expected] = query("SELECT count(*) AS n, round(sum(earnings_usd), 6) AS usd FROM fct_royalties")
    root = local_env / "lake" / "curated" / "fct_royalties"
    table = pads.dataset(str(root), format="parquet", partitioning="hive").to_table()
    assert table.num_rows == expected["n"] > 0
    assert "month" in table.column_names and all(len(m) == 7 for m in table.column("month").to_pylist())
    assert round(sum(table.column("earnings_usd").to_pylist()), 6) == expected["usd"]
    con = duckdb.connect()
    n, usd = con.execute(f"SELECT count(*), round(sum(earnings_usd), 6) FROM read_parquet('{root}/**/*.parquet', "
                         "hive_partitioning = true)").fetchone()
    assert (n, usd) == (expected["n"], expected["usd"])
