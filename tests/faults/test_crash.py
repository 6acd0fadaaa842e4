"""A run killed (SIGKILL) anywhere leaves no wrong number behind: a plain re-ingest of the same
files gives exactly the figures of an undisturbed run, and a query in between sees one complete
version of the lake (the one before, or the new one), never half a build."""

import os
import shutil
import signal
import subprocess
import sys

import pytest

from tests.cli_helpers import run
from tests.conftest import BEDROT

# the figures the issue named, and the totals of every fact table
FIGURES = {
    "link_days": "SELECT count(*) FROM fct_link_clicks_daily",
    "meta_spend": "SELECT round(sum(spend), 2) FROM fct_ad_performance",
    "social": "SELECT count(*), sum(views) FROM fct_social_daily",
    "royalties": "SELECT count(*), round(sum(earnings_usd), 4) FROM fct_royalties",
    "streams": "SELECT count(*), sum(streams) FROM fct_streams_daily",
    "audience": "SELECT count(*) FROM fct_audience_daily",
    "kpis": "SELECT count(*), count(value) FROM kpis",
    "viral": "SELECT count(*) FROM viral_moments",
}
ANALYTICS = ("kpis", "viral")  # computed after the warehouse is published: they may lag a kill by one run
KILL_POINTS = ["landing", "raw:3", "staging:3", "curated:2", "curated:12", "warehouse", "analytics:2"]


def figures(home) -> dict:
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in FIGURES.items()}
    finally:
        con.close()


def ingest_killed(home, paths, point: str) -> int:
    env = {**os.environ, "SOUNDLAKE_HOME": str(home), "SOUNDLAKE_KILL_AT": point}
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "ingest", *map(str, paths)], env=env,
                          capture_output=True, text=True, timeout=600)
    return proc.returncode


@pytest.fixture(scope="module")
def expected(bedrot_lake):
    return figures(bedrot_lake)


@pytest.fixture(scope="module")
def linktree_lake(tmp_path_factory):
    """A lake that already has a warehouse: the Linktree exports ingested."""
    if not BEDROT.is_dir():
        pytest.skip("the BEDROT fixtures are not beside the repository")
    home = tmp_path_factory.mktemp("linktree") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOUNDLAKE_HOME", str(home))
        assert run("ingest", BEDROT / "linktree").exit_code == 0
    return home


def test_the_undisturbed_figures_are_the_issues(expected):
    assert expected["link_days"] == [(365,)]
    assert expected["meta_spend"] == [(1889.10,)]
    assert expected["social"][0][0] > 0


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_killed_ingest_is_healed_by_a_plain_re_ingest(point, expected, linktree_lake, tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(linktree_lake, home)
    monkeypatch.setenv("SOUNDLAKE_HOME", str(home))
    before = figures(home)

    assert ingest_killed(home, [BEDROT], point) == -signal.SIGKILL

    # between the kill and the re-run a reader sees one whole version of the model: the one
    # before, or the new one (the analytics computed from it may still be the earlier ones, and
    # `soundlake status` says the lake needs repair)
    def model(f):
        return {k: v for k, v in f.items() if k not in ANALYTICS}

    between = figures(home)
    assert model(between) in (model(before), model(expected)), f"a half-built lake after a kill at {point}: {between}"
    if between != before:
        assert between == expected or "needs repair" in run("status").output

    result = run("ingest", BEDROT)
    assert result.exit_code == 0, result.output
    assert figures(home) == expected, f"after a kill at {point}, the re-run's figures differ"
    # and nothing is left to repair
    assert "nothing to repair" in run("repair").output
    assert not list((home / "lake").rglob(".tmp-*")), "temporary files of the killed run are cleaned"
    assert not list(home.glob(".tmp-*")), "a half-published warehouse is cleaned"


def test_a_kill_while_the_first_warehouse_is_published(expected, tmp_path, monkeypatch, bedrot):
    home = tmp_path / "home"
    monkeypatch.setenv("SOUNDLAKE_HOME", str(home))
    assert ingest_killed(home, [bedrot], "warehouse") == -signal.SIGKILL
    # no warehouse was published: a reader says so instead of answering from half of one
    result = run("query", "SELECT count(*) FROM fct_royalties")
    assert result.exit_code == 2 and "repair" in result.output
    status = run("status")
    assert "needs repair" in status.output
    result = run("ingest", bedrot)
    assert result.exit_code == 0, result.output
    assert figures(home) == expected


def test_repair_rebuilds_a_deleted_curated_zone(expected, linktree_lake, tmp_path, monkeypatch, bedrot):
    home = tmp_path / "home"
    shutil.copytree(linktree_lake, home)
    monkeypatch.setenv("SOUNDLAKE_HOME", str(home))
    assert run("ingest", bedrot).exit_code == 0
    shutil.rmtree(home / "lake" / "curated")
    result = run("query", "SELECT count(*) FROM fct_royalties")
    assert result.exit_code != 0 and "soundlake repair" in result.output, "a reader says how to fix it"
    assert "needs repair: curated/fct_royalties" in run("status").output
    result = run("repair")
    assert result.exit_code == 0, result.output
    assert "curated/fct_royalties" in result.output
    assert figures(home) == expected
