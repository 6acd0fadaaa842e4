"""The landing sensor: what it announces, what it selects, and that it never announces twice."""

import json
import os
import time

import dagster as dg
import pytest

from assets.factory import LANDING_OP
from assets.lakehouse import Lakehouse
from pipelines import launch
from resources.lake_resource import LakeResource
from sensors.landing import landing_sensor
from tests.lake.test_landing import statement


@pytest.fixture
def house(local_env) -> Lakehouse:
    return Lakehouse.from_env()


@pytest.fixture
def instance(house):
    with launch.instance(house.settings) as inst:
        yield inst


def tick(instance, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"lake": LakeResource()}) as ctx:
        result = landing_sensor(ctx)
        return result, ctx.cursor


def keys(request: dg.RunRequest) -> set[str]:
    return {k.to_user_string() for k in request.asset_selection}


def test_nothing_to_do(instance):
    result, _ = tick(instance)
    assert isinstance(result, dg.SkipReason)


def test_a_drop_selects_its_source_and_what_depends_on_it(house, instance):
    house.storage.put("landing", "drop/dk_bank_details.tsv", statement())
    request, cursor = tick(instance)
    assert isinstance(request, dg.RunRequest)
    selected = keys(request)
    assert {"landing/distrokid", "raw/distrokid", "staging/distrokid/bank_details", "curated/fct_royalties",
            "warehouse/duckdb", "analytics/kpis", "analytics/alerts"} <= selected
    assert not {k for k in selected if k.startswith(("raw/tiktok", "staging/tiktok", "curated/fct_social"))}
    assert "staging/distrokid/streams_stats" not in selected and "analytics/forecasts" not in selected
    assert request.run_config == {"ops": {LANDING_OP: {"config": {"keys": ["drop/dk_bank_details.tsv"]}}}}
    # announced once: the next tick, with the run still queued, says nothing new
    again, cursor2 = tick(instance, cursor)
    assert isinstance(again, dg.SkipReason)
    assert json.loads(cursor2).keys() == {"drop/dk_bank_details.tsv"}


def test_a_file_with_an_old_modification_time_is_found(house, instance):
    house.storage.put("landing", "distrokid/bank_details/new.tsv", statement("new"))
    first, cursor = tick(instance)
    assert isinstance(first, dg.RunRequest)
    # `cp -p` / `rsync -a` / unzip: a file dated years ago arrives after the cursor was set
    house.storage.put("landing", "distrokid/bank_details/old.tsv", statement("old"))
    path = house.settings.lake_dir / "landing" / "distrokid" / "bank_details" / "old.tsv"
    os.utime(path, (time.time() - 3 * 365 * 86400,) * 2)
    second, _ = tick(instance, cursor)
    assert isinstance(second, dg.RunRequest)
    assert second.run_config["ops"][LANDING_OP]["config"]["keys"] == ["distrokid/bank_details/old.tsv"]


def test_a_changed_file_of_the_same_name_is_announced_again(house, instance):
    house.storage.put("landing", "drop/dk_bank_details.tsv", statement("one"))
    _, cursor = tick(instance)
    house.storage.put("landing", "drop/dk_bank_details.tsv", statement("a longer title"))
    request, _ = tick(instance, cursor)
    assert isinstance(request, dg.RunRequest)


def test_files_claimed_by_a_running_cli_run_are_left_to_it(house, instance, tmp_path):
    f = tmp_path / "dk_bank_details_x.tsv"
    f.write_bytes(statement())
    house.lake.land_paths([f], batch="cli-run-that-just-started")  # its run does not exist yet: presumed starting
    result, _ = tick(instance)
    assert isinstance(result, dg.SkipReason)


def test_a_duplicate_selects_landing_and_raw_only(house, instance, tmp_path):
    f = tmp_path / "dk_bank_details_x.tsv"
    f.write_bytes(statement())
    from pipelines import app

    assert app.ingest(house, [f]).run.success  # a whole run: nothing in the lake is stale
    house.storage.put("landing", "drop/copy.tsv", statement())  # the same bytes again
    request, _ = tick(instance)
    assert keys(request) == {"landing/distrokid", "raw/distrokid"}


def test_the_run_of_a_duplicate_also_rebuilds_what_an_interrupted_run_left_stale(house, instance, tmp_path):
    f = tmp_path / "dk_bank_details_x.tsv"
    f.write_bytes(statement())
    house.lake.land_paths([f], batch="b")  # a run that stored and parsed the file, then died before curated
    house.lake.to_raw(house.lake.claimed("b"))
    house.lake.stage()
    house.storage.put("landing", "drop/copy.tsv", statement())  # the same bytes again
    request, _ = tick(instance)
    assert {"landing/distrokid", "raw/distrokid", "curated/fct_royalties", "warehouse/duckdb",
            "analytics/kpis"} <= keys(request)
