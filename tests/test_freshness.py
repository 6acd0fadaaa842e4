"""Freshness per source: each source's expected cadence (assets/freshness.py) and `soundlake status`
naming the sources whose newest data is older than it."""

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from assets import freshness
from assets.sources import SOURCES
from tests.cli_helpers import run
from tests.lake.test_landing import statement


def test_every_source_has_a_cadence_and_overrides_apply():
    for name in SOURCES:
        assert freshness.cadence_days(name, {}) > 0
    assert freshness.cadence_days("distrokid", {}) == 35
    assert freshness.cadence_days("a_source_added_later", {}) == freshness.DEFAULT_CADENCE_DAYS
    env = {"SOUNDLAKE_FRESHNESS_DAYS": "3, distrokid=40"}
    assert freshness.cadence_days("distrokid", env) == 40 and freshness.cadence_days("tiktok", env) == 3
    with pytest.raises(ValueError, match="SOUNDLAKE_FRESHNESS_DAYS: 'tiktok=soon'"):
        freshness.cadence_days("tiktok", {"SOUNDLAKE_FRESHNESS_DAYS": "tiktok=soon"})


def test_judge():
    now = datetime(2026, 5, 1, tzinfo=timezone.utc)
    assert freshness.judge("tiktok", now - timedelta(days=8), now, {}) == {"cadence_days": 7, "stale": True}
    assert freshness.judge("tiktok", now - timedelta(days=6), now, {})["stale"] is False
    assert freshness.judge("distrokid", now - timedelta(days=30), now, {})["stale"] is False
    assert freshness.judge("tiktok", None, now, {})["stale"] is False, "nothing loaded is not late"


def _timeline(last: date, days: int = 30) -> bytes:
    lines = ["date,listeners,streams,followers"]
    for i in range(days):
        d = last - timedelta(days=days - 1 - i)
        lines.append(f"{d.isoformat()},{100 + i},{200 + i},{1000 + i}")
    return ("\n".join(lines) + "\n").encode()


def test_status_shows_the_stale_source(local_env, tmp_path, monkeypatch):
    """Spotify for Artists' newest day is 20 days old (cadence 7): stale; the DistroKid statement
    landed today (cadence 35): fresh."""
    monkeypatch.delenv(freshness.ENV, raising=False)
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "Nova Lights-audience-timeline.csv").write_bytes(_timeline(date.today() - timedelta(days=20)))
    (folder / "dk_bank_details_x.tsv").write_bytes(statement())
    assert run("ingest", folder).exit_code == 0

    rows = {r["source"]: r for r in json.loads(run("status", "--json").stdout)}
    s4a, dk = rows["spotify_for_artists"], rows["distrokid"]
    assert s4a["stale"] is True and s4a["cadence_days"] == 7 and s4a["freshness_days"] > 7
    assert dk["stale"] is False and dk["cadence_days"] == 35
    assert rows["tiktok"]["stale"] is False, "a source with nothing loaded is not stale"

    plain = run("status")
    assert plain.exit_code == 0
    assert "stale (spotify_for_artists): newest data" in plain.output and "expected every 7 days" in plain.output
    assert "stale (distrokid)" not in plain.output

    monkeypatch.setenv(freshness.ENV, "spotify_for_artists=30")
    rows = {r["source"]: r for r in json.loads(run("status", "--json").stdout)}
    assert rows["spotify_for_artists"]["stale"] is False and rows["spotify_for_artists"]["cadence_days"] == 30


def test_status_refuses_a_cadence_it_cannot_read(local_env, tmp_path, monkeypatch):
    (tmp_path / "dk_bank_details_x.tsv").write_bytes(statement())
    assert run("ingest", tmp_path / "dk_bank_details_x.tsv").exit_code == 0
    monkeypatch.setenv(freshness.ENV, "tiktok=soon")
    result = run("status")
    assert result.exit_code == 2
    assert "SOUNDLAKE_FRESHNESS_DAYS: 'tiktok=soon' is neither DAYS nor SOURCE=DAYS" in result.output
