"""The Dagster code location: it loads, its graph is what we expect, assets materialize on a
SQLite and on a PostgreSQL instance, the landing sensor starts runs, `soundlake ui` serves."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2
import pytest
import requests

from assets.sources import distrokid
from pipelines.definitions import defs
from resources.lake_resource import LakeResource
from resources.settings import Settings
from resources.storage import open_storage
from sensors.landing import landing_sensor

REPO = Path(__file__).resolve().parents[1]
PG_DSN = dict(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")


def test_code_location_loads():
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("ingest") is not None


def test_asset_graph_snapshot():
    """An accidental change of the graph shows up here."""
    graph = defs.resolve_asset_graph()
    keys = sorted(k.to_user_string() for k in graph.get_all_asset_keys())
    assert keys == [
        "analytics/ad_attribution",
        "analytics/alerts",
        "analytics/anomalies",
        "analytics/forecast_backtest",
        "analytics/forecasts",
        "analytics/lagged_correlation",
        "analytics/market_demand",
        "analytics/payment_delay",
        "analytics/report",
        "analytics/revenue_expected",
        "analytics/revenue_per_stream",
        "analytics/viral_moments",
        "archive/raw",
        "curated/dim_ad_campaign",
        "curated/fct_ad_performance",
        "curated/fct_audience_daily",
        "curated/fct_link_breakdown",
        "curated/fct_link_clicks_daily",
        "curated/fct_royalties",
        "curated/fct_social_daily",
        "curated/fct_social_territories",
        "curated/fct_social_videos",
        "curated/fct_streams_daily",
        "curated/fct_streams_totals",
        "raw/distrokid",
        "raw/linktree",
        "raw/meta_ads",
        "raw/spotify_for_artists",
        "raw/tiktok",
        "raw/toolost",
        "raw/unidentified",
        "staging/distrokid/applemusic_stats",
        "staging/distrokid/bank_details",
        "staging/distrokid/streams_stats",
        "staging/linktree/graphql",
        "staging/meta_ads/ads_manager",
        "staging/meta_ads/campaigns",
        "staging/meta_ads/insights",
        "staging/spotify_for_artists/audience_timeline",
        "staging/spotify_for_artists/song_list",
        "staging/spotify_for_artists/song_table",
        "staging/spotify_for_artists/song_timeline",
        "staging/tiktok/content",
        "staging/tiktok/follower_history",
        "staging/tiktok/follower_top_territories",
        "staging/tiktok/overview",
        "staging/tiktok/viewers",
        "staging/toolost/apple",
        "staging/toolost/spotify",
        "warehouse/duckdb",
    ]
    royalties = graph.get(dg.AssetKey(["curated", "fct_royalties"]))
    assert royalties.parent_keys == {dg.AssetKey(["staging", "distrokid", "bank_details"])}
    checks = sorted(k.to_user_string() for k in graph.asset_check_keys)
    assert "staging/distrokid/bank_details:great_expectations_suite" in checks
    assert {s.name: s.cron_schedule for s in defs.schedules} == {"archive_daily": "0 4 * * *",
                                                                  "analytics_daily": "0 6 * * *",
                                                                  "report_weekly": "0 7 * * 1"}
    viral = graph.get(dg.AssetKey(["analytics", "viral_moments"]))
    assert viral.parent_keys == {dg.AssetKey(["warehouse", "duckdb"])}
    # the model (backtests, champion selection) and its predictions are separate assets
    predictions = graph.get(dg.AssetKey(["analytics", "forecasts"]))
    assert dg.AssetKey(["analytics", "forecast_backtest"]) in predictions.parent_keys
    assert [s.name for s in defs.sensors] == ["landing_sensor", "alert_on_run_failure"]
    # the ingest job runs the fast analytics and the alerts, never the forecasts or the report
    ingest = {k.to_user_string() for k in defs.resolve_job_def("ingest").asset_layer.executable_asset_keys}
    assert {"analytics/market_demand", "analytics/revenue_expected", "analytics/alerts"} <= ingest
    assert not {"analytics/forecasts", "analytics/report"} & ingest


def _land_samples(home: Path) -> Settings:
    settings = Settings.from_env({"SOUNDLAKE_HOME": str(home)})
    storage = open_storage(settings)
    for f in distrokid.write_samples(home / "exports", seed=3):
        storage.put("landing", f"drop/{f.name}", f.read_bytes())  # dropped anywhere: sorted by raw/unidentified
    return settings


def _materialize_all(instance: dg.DagsterInstance, home: Path) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("ingest")
    return job.execute_in_process(instance=instance, resources={"lake": LakeResource(home=str(home))})


def _check_lake(settings: Settings) -> None:
    storage = open_storage(settings)
    assert not list(storage.list("landing"))
    assert any(o.key.startswith("fct_royalties/month=") for o in storage.list("curated"))
    assert settings.warehouse_path.exists()


def test_materialize_on_sqlite_instance(tmp_path):
    settings = _land_samples(tmp_path / "home")
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        result = _materialize_all(instance, tmp_path / "home")
        assert result.success
        checks = result.get_asset_check_evaluations()
        assert checks and all(c.passed for c in checks)
        event = instance.get_latest_materialization_event(dg.AssetKey(["curated", "fct_royalties"]))
        assert event.asset_materialization.metadata["dagster/row_count"].value == 1620
        staged = instance.get_latest_materialization_event(dg.AssetKey(["staging", "distrokid", "bank_details"]))
        meta = staged.asset_materialization.metadata
        assert meta["dagster/row_count"].value == 1620 and meta["files"].value == 1
        assert "Reporting" not in meta["preview"].value and "reporting_date" in meta["preview"].value
        # the ingest job ends with viral moments and anomalies over the fresh warehouse
        viral = instance.get_latest_materialization_event(dg.AssetKey(["analytics", "viral_moments"]))
        meta = viral.asset_materialization.metadata
        assert meta["dagster/row_count"].value >= 1  # the samples' Spotify series breaks out once
        assert "data:image/png;base64," in meta["plots"].value
    _check_lake(settings)
    storage = open_storage(settings)
    assert any(o.key.startswith("plots/viral_moments/") and o.key.endswith(".png") for o in storage.list("curated"))
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM viral_moments").fetchone()[0] == meta["dagster/row_count"].value
    con.close()


def test_every_analytics_threshold_is_run_config(tmp_path):
    """The analytics' dataclass configs are Dagster run config, field for field: a run with other
    thresholds gives other tables."""
    settings = _land_samples(tmp_path / "home")
    (tmp_path / "dagster").mkdir()
    run_config = {"ops": {
        "analytics__viral_moments": {"config": {"z_min": 1e9, "volume_min_by_metric": {"views": 1.0}}},
        "analytics__market_demand": {"config": {"book_score": 101.0, "consider_score": 101.0}},
    }}
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        result = defs.resolve_job_def("ingest").execute_in_process(
            instance=instance, resources={"lake": LakeResource(home=str(tmp_path / "home"))}, run_config=run_config)
        assert result.success
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM viral_moments").fetchone()[0] == 0  # no z-score reaches 1e9
    recommendations = {r[0] for r in con.execute("SELECT DISTINCT recommendation FROM market_demand").fetchall()}
    assert recommendations == {"MONITOR"}  # no score reaches 101
    con.close()


def test_forecast_model_then_predictions(tmp_path):
    """analytics/forecast_backtest picks a champion per series; analytics/forecasts refits it and
    publishes 80 % and 95 % intervals, with plots."""
    settings = _land_samples(tmp_path / "home")
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        resources = {"lake": LakeResource(home=str(tmp_path / "home"))}
        assert _materialize_all(instance, tmp_path / "home").success
        result = defs.resolve_job_def("analytics").execute_in_process(instance=instance, resources=resources)
        assert result.success
        event = instance.get_latest_materialization_event(dg.AssetKey(["analytics", "forecasts"]))
        assert "data:image/png;base64," in event.asset_materialization.metadata["plots"].value
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    models = {r[0] for r in con.execute("SELECT DISTINCT model FROM forecast_backtest").fetchall()}
    assert {"naive", "seasonal_naive"} <= models
    champions = con.execute("SELECT series_id, model FROM forecast_backtest WHERE champion AND horizon = 28").fetchall()
    published = dict(con.execute("SELECT series_id, any_value(model) FROM forecasts GROUP BY 1").fetchall())
    assert champions and all(published[s] == m for s, m in champions if s in published)
    bad = con.execute("SELECT count(*) FROM forecasts WHERE NOT (yhat_lower_95 <= yhat_lower AND yhat_lower <= yhat "
                      "AND yhat <= yhat_upper AND yhat_upper <= yhat_upper_95)").fetchone()[0]
    assert bad == 0
    con.close()


@pytest.fixture
def pg_database():
    name = f"soundlake_test_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(**PG_DSN)
    conn.autocommit = True
    conn.cursor().execute(f'CREATE DATABASE "{name}"')
    yield name
    conn.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    conn.close()


def test_materialize_on_postgres_instance(tmp_path, pg_database):
    """dagster-postgres against the real server: runs and events are stored there and read back."""
    settings = _land_samples(tmp_path / "home")
    overrides = {
        "storage": {"postgres": {"postgres_db": {
            "hostname": PG_DSN["host"], "port": PG_DSN["port"], "username": PG_DSN["user"],
            "password": "", "db_name": pg_database}}},
    }
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(overrides=overrides, temp_dir=str(tmp_path / "dagster")) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = _materialize_all(instance, tmp_path / "home")
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        assert run.is_success
        event = instance.get_latest_materialization_event(dg.AssetKey(["curated", "fct_streams_daily"]))
        assert event.asset_materialization.metadata["dagster/row_count"].value == 730
    with psycopg2.connect(**{**PG_DSN, "dbname": pg_database}) as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM runs WHERE run_id = %s", (result.run_id,))
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
                    (result.run_id,))
        assert cur.fetchone()[0] >= 6
    _check_lake(settings)


def test_landing_sensor_cursor(tmp_path):
    home = tmp_path / "home"
    lake = LakeResource(home=str(home))
    storage = lake.storage()
    with dg.build_sensor_context(resources={"lake": lake}) as ctx:
        assert isinstance(landing_sensor(ctx), dg.SkipReason)
    storage.put("landing", "distrokid/bank_details/a.tsv", b"x")
    with dg.build_sensor_context(resources={"lake": lake}) as ctx:
        request = landing_sensor(ctx)
        assert isinstance(request, dg.RunRequest)
        cursor = ctx.cursor
        assert json.loads(cursor)[1] == "distrokid/bank_details/a.tsv"
    with dg.build_sensor_context(cursor=cursor, resources={"lake": lake}) as ctx:
        assert isinstance(landing_sensor(ctx), dg.SkipReason), "an object is announced once"
    time.sleep(0.01)
    storage.put("landing", "distrokid/bank_details/b.tsv", b"y")
    with dg.build_sensor_context(cursor=cursor, resources={"lake": lake}) as ctx:
        request = landing_sensor(ctx)
        assert isinstance(request, dg.RunRequest)
        assert request.tags["soundlake/files"] == "1"
        assert json.loads(ctx.cursor)[1] == "distrokid/bank_details/b.tsv"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_soundlake_ui_serves_webserver_and_daemon(tmp_path):
    port = _free_port()
    env = {**os.environ, "SOUNDLAKE_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("soundlake")), "ui", "--port", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, text=True)
    try:
        deadline = time.time() + 120
        info = None
        while time.time() < deadline and proc.poll() is None:
            try:
                info = requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).json()
                break
            except requests.RequestException:
                time.sleep(1)
        assert info, "the webserver never answered:\n" + (proc.stdout.read() if proc.poll() is not None else "")
        assert "dagster_webserver_version" in info
        query = {"query": "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } "
                          "repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }"}
        healthy = set()
        while time.time() < deadline:
            data = requests.post(f"http://127.0.0.1:{port}/graphql", json=query, timeout=10).json()["data"]
            healthy = {d["daemonType"] for d in data["instance"]["daemonHealth"]["allDaemonStatuses"] if d["healthy"]}
            if "SENSOR" in healthy:
                break
            time.sleep(2)
        assert "SENSOR" in healthy, f"the daemon's sensor loop is not healthy: {healthy}"
        assert data["repositoriesOrError"]["nodes"], "the code location did not load in the UI"
        assert (tmp_path / "home" / "dagster" / "dagster.yaml").exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
