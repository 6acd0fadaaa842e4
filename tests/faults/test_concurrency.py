"""Writers wait for each other; readers never block a writer; a moved lake keeps working."""

import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from tests.cli_helpers import query, run
from tests.faults.test_crash import figures


def _ingest_proc(home, *paths):
    env = {**os.environ, "SOUNDLAKE_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ingest", *map(str, paths)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("same", [True, False], ids=["same-folder", "different-folders"])
def test_two_ingests_at_once_both_finish(same, bedrot_lake, tmp_path, monkeypatch, bedrot):
    home = tmp_path / "home"
    monkeypatch.setenv("SOUNDLAKE_HOME", str(home))
    first, second = ([bedrot], [bedrot]) if same else (
        [bedrot / "distrokid", bedrot / "linktree", bedrot / "metaads"],
        [bedrot / "tiktok", bedrot / "toolost"])
    a = _ingest_proc(home, *first)
    b = _ingest_proc(home, *second)
    out_a, err_a = a.communicate(timeout=900)
    out_b, err_b = b.communicate(timeout=900)
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    assert "Traceback" not in err_a + err_b
    assert "waiting for another run" in err_a + err_b, "the second writer said it waits"
    if not same:  # every folder of the fixtures: the lake is the fixtures' lake
        assert {p.name for p in bedrot.iterdir() if p.is_dir()} <= {p.name for p in first + second}
    assert figures(home) == figures(bedrot_lake)


ANALYST = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)  # the README's example, left open
for line in sys.stdin:
    print(con.execute(line).fetchone()[0], flush=True)
"""


def test_an_open_analyst_connection_never_breaks_an_ingest(tmp_path, monkeypatch, bedrot):
    home = tmp_path / "home"
    monkeypatch.setenv("SOUNDLAKE_HOME", str(home))
    assert run("ingest", bedrot / "linktree").exit_code == 0
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(home / "warehouse.duckdb")], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ask(sql):
        analyst.stdin.write(sql + "\n")
        analyst.stdin.flush()
        return analyst.stdout.readline().strip()

    try:
        assert ask("SELECT count(*) FROM fct_link_clicks_daily") == "365"
        result = run("ingest", bedrot / "distrokid")
        assert result.exit_code == 0, result.output
        # the analyst keeps the version they opened; a new connection sees the new one
        assert ask("SELECT count(*) FROM fct_royalties") == "0"
        assert query("SELECT count(*) AS n FROM fct_royalties")[0]["n"] == 8635
        result = run("ingest", bedrot / "metaads")
        assert result.exit_code == 0, result.output
        assert ask("SELECT count(*) FROM fct_link_clicks_daily") == "365", "the open connection still works"
    finally:
        analyst.stdin.close()
        analyst.wait(timeout=30)
    assert query("SELECT round(sum(spend), 2) AS s FROM fct_ad_performance") == [{"s": 1889.10}]


def test_a_moved_home_reads_its_own_lake(bedrot_lake, tmp_path, monkeypatch):
    old = tmp_path / "old"
    shutil.copytree(bedrot_lake, old)
    moved = tmp_path / "moved"
    shutil.copytree(old, moved)
    # the old copy changes after the move: the moved lake must not read it
    shutil.rmtree(old / "lake" / "curated" / "fct_link_clicks_daily")
    monkeypatch.setenv("SOUNDLAKE_HOME", str(moved))
    assert query("SELECT count(*) AS n FROM fct_link_clicks_daily") == [{"n": 365}]
    con = duckdb.connect(str(moved / "warehouse.duckdb"), read_only=True)
    try:
        sql = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'fct_royalties'").fetchone()[0]
    finally:
        con.close()
    assert str(moved) in sql and str(old) not in sql
    shutil.rmtree(old)
    assert figures(moved) == figures(bedrot_lake)


HOLDER = """
import sys, time
from resources.lock import lake_lock
from resources.settings import Settings
with lake_lock(Settings.from_env()):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_writer_that_waits_too_long_gives_up_with_exit_5(local_env, tmp_path, monkeypatch):
    from tests.faults.test_hostile import GOOD_TSV

    (tmp_path / "dk_bank_details_ok.tsv").write_text(GOOD_TSV)
    assert run("ingest", tmp_path / "dk_bank_details_ok.tsv").exit_code == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], text=True, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env={**os.environ, "SOUNDLAKE_HOME": str(local_env)})
    try:
        assert holder.stdout.readline().strip() == "held"
        status = run("status")
        assert status.exit_code == 0 and "busy:" in status.output and "needs repair" not in status.output
        monkeypatch.setenv("SOUNDLAKE_LOCK_TIMEOUT", "2")
        result = run("ingest", tmp_path / "dk_bank_details_ok.tsv")
        assert result.exit_code == 5, result.output
        assert f"pid {holder.pid}" in result.output and "SOUNDLAKE_LOCK_TIMEOUT" in result.output
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert run("ingest", tmp_path / "dk_bank_details_ok.tsv").exit_code == 0  # free again
