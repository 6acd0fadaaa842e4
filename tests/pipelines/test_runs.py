"""Runs of the graph, the way users start them: files dropped into landing and run by the
landing sensor's request (what the daemon launches), and `soundlake ingest`. Both give the same
curated tables, both are runs in the instance under $SOUNDLAKE_HOME/dagster, on SQLite and on
PostgreSQL."""

import shutil
import uuid
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2
import pyarrow.parquet as pq
import pytest

from assets.lakehouse import Lakehouse
from assets.model import TABLES
from assets.sources import distrokid
from pipelines import launch
from resources.lake_resource import LakeResource
from sensors.landing import landing_sensor
from tests.cli_helpers import query, run

PG_DSN = dict(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
BANK_HEADER = ("Reporting Date\tSale Month\tStore\tArtist\tTitle\tISRC\tUPC\tQuantity\tTeam Percentage\tSong/Album\t"
               "Country of Sale\tSongwriter Royalties Withheld\tEarnings (USD)")


# --- exports: the fixtures, two overlapping timelines of one artist, two monthly statements ----------


def _timeline(first: date, days: int, base: int, excel: bool) -> bytes:
    lines = ["date,listeners,streams,followers"]
    for i in range(days):
        d = first + timedelta(days=i)
        shown = f"{d.month}/{d.day}/{d.year}" if excel else d.isoformat()
        lines.append(f"{shown},{base + i},{2 * base + i},{1000 + i}")
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def _statement(lines_of: list[tuple[str, str]]) -> bytes:
    """A bank-details export holding the lines of each (sale month, reporting date): DistroKid's
    export repeats every earlier line, so two exports overlap."""
    lines = [BANK_HEADER]
    for month, reported in lines_of:
        for store, qty in (("Spotify", 1200), ("Apple Music", 90), ("YouTube (Ads)", 40)):
            for country in ("US", "DE"):
                lines.append("\t".join([reported, month, store, "ZONE A0", "Night Drive", "QZAA12500001",
                                        "199000000001", str(qty), "100", "Song", country, "0", f"{qty * 0.003:.6f}"]))
    return "\r".join(lines).encode()


def write_exports(folder: Path, bedrot: Path) -> Path:
    """The BEDROT fixtures plus two overlapping Spotify for Artists audience timelines of one artist
    (one name, two folders; the second re-saved by Excel) and two monthly DistroKid statements
    (the second repeats the first's lines)."""
    shutil.copytree(bedrot, folder / "bedrot")
    for sub, data in (("march", _timeline(date(2025, 1, 1), 90, 100, False)),
                      ("june", _timeline(date(2025, 3, 1), 92, 5000, True))):
        (folder / sub).mkdir(parents=True)
        (folder / sub / "ZONE A0-audience-timeline.csv").write_bytes(data)
    (folder / "statements").mkdir()
    april = [("2025-02", "2025-04-10")]
    (folder / "statements" / "dk_bank_details_20250415_090000.tsv").write_bytes(_statement(april))
    (folder / "statements" / "dk_bank_details_20250515_090000.tsv").write_bytes(
        _statement(april + [("2025-03", "2025-05-10")]))
    return folder


def drop_into_landing(house: Lakehouse, folder: Path) -> None:
    """The files as a sync tool would put them: some at the landing root, some in folders of
    their own, the timelines under one name in two folders."""
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = f.relative_to(folder)
        key = rel.name if rel.parts[0] == "bedrot" and "tiktok" not in rel.parts else "/".join(rel.parts)
        house.storage.put("landing", key, f.read_bytes())


def curated_tables(home: Path) -> dict:
    out = {}
    for name in TABLES:
        files = sorted((home / "lake" / "curated" / name).rglob("*.parquet"))
        out[name] = [pq.read_table(f).to_pylist() for f in files]
    return out


def sensor_tick(instance, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"lake": LakeResource()}) as ctx:
        return landing_sensor(ctx), ctx.cursor


def materializations(instance, run_id: str) -> dict[str, dict]:
    out = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        mat = record.dagster_event.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = mat.metadata
    return out


# --- the sensor's job and the CLI agree ----------------------------------------------------------------


def test_sensor_run_and_cli_ingest_give_the_same_curated_tables(tmp_path, monkeypatch, bedrot):
    exports = write_exports(tmp_path / "exports", bedrot)

    # 1. `soundlake ingest` of the folder
    cli_home = tmp_path / "cli"
    monkeypatch.setenv("SOUNDLAKE_HOME", str(cli_home))
    result = run("ingest", exports, "--json")
    assert result.exit_code == 0, result.output
    overlap = query("SELECT count(*) AS days, count(DISTINCT date) AS distinct_days FROM fct_streams_daily "
                    "WHERE source = 'spotify_for_artists'")
    assert overlap == [{"days": 151, "distinct_days": 151}], "overlapping exports: every day once"
    cli_house = Lakehouse.from_env()
    with launch.instance(cli_house.settings) as instance:
        [cli_run] = instance.get_runs()
        assert cli_run.is_success and cli_run.job_name == "ingest" and cli_run.tags["soundlake/trigger"] == "cli"
        assert cli_run.remote_job_origin.location_name == "soundlake"  # the UI can re-execute it
        mats = materializations(instance, cli_run.run_id)
        assert mats["curated/fct_royalties"]["dagster/row_count"].value == 8635 + 12  # 6 lines in both exports
        assert "data:image/png;base64," in mats["analytics/viral_moments"]["plots"].value
        checks = {(r.asset_key.to_user_string(), r.check_name): r.passed for r in
                  (e.dagster_event.event_specific_data for e in
                   instance.all_logs(cli_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION))}
        assert checks[("staging/spotify_for_artists/audience_timeline", "great_expectations_suite")] is True
        assert checks[("staging/distrokid/bank_details", "great_expectations_suite")] is True
        assert all(checks.values())

    # 2. the same files dropped into landing, run as the sensor requests it
    sensor_home = tmp_path / "sensor"
    monkeypatch.setenv("SOUNDLAKE_HOME", str(sensor_home))
    house = Lakehouse.from_env()
    drop_into_landing(house, exports)
    with launch.instance(house.settings) as instance:
        request, cursor = sensor_tick(instance)
        assert isinstance(request, dg.RunRequest)
        outcome = launch.run_job(house.settings, "ingest", asset_selection=request.asset_selection,
                                 run_config=request.run_config, tags=request.tags)
        assert outcome.success, outcome.failures
        assert outcome.check_failures == []
        again, _ = sensor_tick(instance, cursor)
        assert isinstance(again, dg.SkipReason), "sorting the root drops started no second run"
    assert list(house.storage.list("landing")) == []
    files = house.lake.manifest()
    timelines = files[files["dataset"] == "audience_timeline"]
    assert sorted(timelines["original_name"]) == ["ZONE A0-audience-timeline (2).csv", "ZONE A0-audience-timeline.csv"]
    assert set(timelines["status"]) == {"loaded"}, "two files of one name in two folders both reach raw"

    assert curated_tables(sensor_home) == curated_tables(cli_home)


def test_landing_options_travel_with_the_file(local_env, tmp_path, monkeypatch):
    """A file the CLI landed with --artist, whose run never happened (the process died), is taken
    by the next sensor run and parsed with the artist it was given."""
    import assets.factory

    f = tmp_path / "audience-timeline.csv"  # Spotify's name without the artist: needs --artist
    f.write_bytes(_timeline(date(2025, 1, 1), 30, 10, False))
    house = Lakehouse.from_env()
    house.lake.land_paths([f], options={"artist": "ZONE A0"}, batch="a-cli-run-that-died")
    monkeypatch.setattr(assets.factory, "CLAIM_GRACE", timedelta(0))
    with launch.instance(house.settings) as instance:
        request, _ = sensor_tick(instance)
        outcome = launch.run_job(house.settings, "ingest", asset_selection=request.asset_selection,
                                 run_config=request.run_config, tags=request.tags)
    assert outcome.success, outcome.failures
    assert query("SELECT DISTINCT artist FROM fct_audience_daily") == [{"artist": "ZONE A0"}]


def test_a_quarantined_file_shows_in_the_run_and_alerts(local_env, tmp_path, httpserver, monkeypatch):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    monkeypatch.setenv("SOUNDLAKE_ALERT_WEBHOOK_URL", httpserver.url_for("/hook"))
    good = tmp_path / "dk_bank_details_20250515_090000.tsv"
    good.write_bytes(_statement([("2025-03", "2025-05-10")]))
    bad = tmp_path / "dk_bank_details_20250516_090000.tsv"
    bad.write_bytes(_statement([("2025-02", "2025-05-10")])[:-40])  # cut mid-line
    result = run("ingest", good, bad)
    assert result.exit_code == 3, result.output
    assert "staging/distrokid/bank_details:files_parsed" in result.output  # the failed check, at a glance
    house = Lakehouse.from_env()
    with launch.instance(house.settings) as instance:
        [ingest] = instance.get_runs()
        assert ingest.is_success  # a quarantined file never fails the run; the warning check says it
        mats = materializations(instance, ingest.run_id)
        assert mats["staging/distrokid/bank_details"]["files_quarantined"].value == 1
        assert "line" in mats["staging/distrokid/bank_details"]["quarantined"].value
    posted = [r.get_json() for r, _ in httpserver.log]
    ids = [b["text"]["text"] for p in posted for b in p["blocks"] if b["type"] == "section"]
    assert any("dk_bank_details_20250516_090000.tsv" in t for t in ids), posted


def test_a_cli_run_takes_only_its_own_files(local_env, tmp_path):
    """A drop waiting in landing is the sensor's to announce: the CLI's run leaves it there."""
    house = Lakehouse.from_env()
    house.storage.put("landing", "phone/dk_bank_details_20250601_090000.tsv", _statement([("2025-04", "2025-06-01")]))
    mine = tmp_path / "dk_bank_details_20250515_090000.tsv"
    mine.write_bytes(_statement([("2025-03", "2025-05-10")]))
    result = run("ingest", mine, "--json")
    assert result.exit_code == 0, result.output
    assert [o.key for o in house.storage.list("landing")] == ["phone/dk_bank_details_20250601_090000.tsv"]
    assert query("SELECT DISTINCT strftime(sale_month, '%Y-%m') AS m FROM fct_royalties") == [{"m": "2025-03"}]


# --- instances: SQLite (the default) and PostgreSQL ------------------------------------------------------


def _land_samples(home: Path) -> Lakehouse:
    house = Lakehouse.from_settings(LakeResource(home=str(home)).settings())
    for f in distrokid.write_samples(home / "exports", seed=3):
        house.storage.put("landing", f"drop/{f.name}", f.read_bytes())  # dropped anywhere: sorted by landing
    return house


def _ingest_all(instance: dg.DagsterInstance, home: Path, **kwargs) -> dg.ExecuteInProcessResult:
    job = defs().resolve_job_def("ingest")
    return job.execute_in_process(instance=instance, resources={"lake": LakeResource(home=str(home))}, **kwargs)


def _dir(path: Path) -> str:
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def defs():
    from pipelines.definitions import defs

    return defs


def test_materialize_on_sqlite_instance(tmp_path):
    house = _land_samples(tmp_path / "home")
    with dg.instance_for_test(temp_dir=_dir(tmp_path / "dagster")) as instance:
        result = _ingest_all(instance, tmp_path / "home")
        assert result.success
        checks = result.get_asset_check_evaluations()
        assert checks and all(c.passed for c in checks)
        event = instance.get_latest_materialization_event(dg.AssetKey(["curated", "fct_royalties"]))
        assert event.asset_materialization.metadata["dagster/row_count"].value == 1620
        assert event.asset_materialization.metadata["dagster/column_schema"].value.columns[0].description
        staged = instance.get_latest_materialization_event(dg.AssetKey(["staging", "distrokid", "bank_details"]))
        meta = staged.asset_materialization.metadata
        assert meta["dagster/row_count"].value == 1620 and meta["files"].value == 1
        assert "Reporting" not in meta["preview"].value and "reporting_date" in meta["preview"].value
        landed = instance.get_latest_materialization_event(dg.AssetKey(["landing", "distrokid"]))
        assert landed.asset_materialization.metadata["files"].value == 3
        viral = instance.get_latest_materialization_event(dg.AssetKey(["analytics", "viral_moments"]))
        meta = viral.asset_materialization.metadata
        assert meta["dagster/row_count"].value >= 1  # the samples' Spotify series breaks out once
        assert "data:image/png;base64," in meta["plots"].value
        kpis = instance.get_latest_materialization_event(dg.AssetKey(["analytics", "kpis"]))
        assert kpis.asset_materialization.metadata["kpis"].value == 25
    assert not list(house.storage.list("landing"))
    assert any(o.key.startswith("plots/viral_moments/") and o.key.endswith(".png") for o in house.storage.list("curated"))
    con = duckdb.connect(str(house.settings.warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM viral_moments").fetchone()[0] == meta["dagster/row_count"].value
    con.close()


def test_every_analytics_threshold_is_run_config(tmp_path):
    """The analytics' dataclass configs are Dagster run config, field for field: a run with other
    thresholds gives other tables."""
    house = _land_samples(tmp_path / "home")
    run_config = {"ops": {
        "analytics__viral_moments": {"config": {"z_min": 1e9, "volume_min_by_metric": {"views": 1.0}}},
        "analytics__market_demand": {"config": {"book_score": 101.0, "consider_score": 101.0}},
    }}
    with dg.instance_for_test(temp_dir=_dir(tmp_path / "dagster")) as instance:
        assert _ingest_all(instance, tmp_path / "home", run_config=run_config).success
    con = duckdb.connect(str(house.settings.warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM viral_moments").fetchone()[0] == 0  # no z-score reaches 1e9
    recommendations = {r[0] for r in con.execute("SELECT DISTINCT recommendation FROM market_demand").fetchall()}
    assert recommendations == {"MONITOR"}  # no score reaches 101
    con.close()


def test_forecast_model_then_predictions(tmp_path):
    """analytics/forecast_backtest picks a champion per series; analytics/forecasts refits it and
    publishes 80 % and 95 % intervals, with plots."""
    house = _land_samples(tmp_path / "home")
    with dg.instance_for_test(temp_dir=_dir(tmp_path / "dagster")) as instance:
        assert _ingest_all(instance, tmp_path / "home").success
        result = defs().resolve_job_def("analytics").execute_in_process(
            instance=instance, resources={"lake": LakeResource(home=str(tmp_path / "home"))})
        assert result.success
        event = instance.get_latest_materialization_event(dg.AssetKey(["analytics", "forecasts"]))
        assert "data:image/png;base64," in event.asset_materialization.metadata["plots"].value
    con = duckdb.connect(str(house.settings.warehouse_path), read_only=True)
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
    house = _land_samples(tmp_path / "home")
    overrides = {
        "storage": {"postgres": {"postgres_db": {
            "hostname": PG_DSN["host"], "port": PG_DSN["port"], "username": PG_DSN["user"],
            "password": "", "db_name": pg_database}}},
    }
    with dg.instance_for_test(overrides=overrides, temp_dir=_dir(tmp_path / "dagster")) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = _ingest_all(instance, tmp_path / "home")
        assert result.success
        assert instance.get_run_by_id(result.run_id).is_success
        event = instance.get_latest_materialization_event(dg.AssetKey(["curated", "fct_streams_daily"]))
        assert event.asset_materialization.metadata["dagster/row_count"].value == 730
    with psycopg2.connect(**{**PG_DSN, "dbname": pg_database}) as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM runs WHERE run_id = %s", (result.run_id,))
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
                    (result.run_id,))
        assert cur.fetchone()[0] >= 6
    assert not list(house.storage.list("landing"))
    assert house.settings.warehouse_path.exists()
