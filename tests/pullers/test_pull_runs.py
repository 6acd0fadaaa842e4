"""`soundlake pull` as a user runs it: a run of the `pull` job (the Dagster assets api/<source>),
then the ingest of what landed; unconfigured pullers; and no credential anywhere afterwards —
output, logs, every file under SOUNDLAKE_HOME (the lake's zones, the warehouse, the Dagster
instance) and the Dagster event log."""

from __future__ import annotations

import base64
import json
import logging
import os
from datetime import datetime, timedelta, timezone

from dagster._serdes import serialize_value

from pipelines import launch
from resources.settings import Settings
from tests.cli_helpers import query, run

from .platforms import (
    AD_ACCOUNT,
    GRAPH_APP_SECRET,
    GRAPH_TOKEN,
    IG_USER_ID,
    MAILCHIMP_KEY,
    YOUTUBE_CLIENT_SECRET,
    YOUTUBE_REFRESH_TOKEN,
)

META_INSIGHTS = f"/graph/v21.0/act_{AD_ACCOUNT}/insights"
PREFIXES = ("SOUNDLAKE_YOUTUBE_", "SOUNDLAKE_MAILCHIMP_", "SOUNDLAKE_INSTAGRAM_", "SOUNDLAKE_META_ADS_")


def _configure(monkeypatch, platforms, *sources):
    for name in list(os.environ):
        if name.startswith(PREFIXES):
            monkeypatch.delenv(name)
    for k, v in platforms.env(*sources).items():
        monkeypatch.setenv(k, v)
    platforms.today = datetime.now(timezone.utc).date()
    platforms.rows_per_page = 100


def test_pull_lands_ingests_and_a_body_that_is_not_json_is_quarantined_without_failing(local_env, platforms,
                                                                                        monkeypatch):
    _configure(monkeypatch, platforms, "meta_ads")
    platforms.faults[META_INSIGHTS] = ["ok", "malformed"]  # the second page of insights is broken
    result = run("pull", "meta_ads", "--json")
    assert result.exit_code == 3, result.output  # a file was quarantined; the pull run itself succeeded
    out = json.loads(result.stdout)
    (pulled,) = out["pulls"]
    assert pulled["status"] == "pulled" and len(pulled["files"]) == 3 and len(pulled["malformed"]) == 1
    status = {f["path"].split("/")[1] + ("-p2" if "page-002" in f["path"] else ""): f["status"] for f in out["files"]}
    assert status == {"campaigns": "loaded", "insights": "loaded", "insights-p2": "quarantined"}
    reason = next(f["reason"] for f in out["files"] if f["status"] == "quarantined")
    assert "page-002" in reason and "JSON" in reason
    # 2 campaigns × 90 days = 180 rows; the first page's 100 reached curated
    assert query("SELECT count(*) AS n, min(platform) AS p FROM fct_ad_performance") == [{"n": 100, "p": "meta"}]
    assert query("SELECT count(*) AS n FROM dim_ad_campaign") == [{"n": 2}]

    # the cursor stayed: the next pull asks for the same days and completes them
    platforms.requests.clear()
    again = run("pull", "meta_ads")
    assert again.exit_code == 0, again.output
    since, until = pulled["window"].split("..")
    assert json.loads(platforms.of(META_INSIGHTS)[0][1]["time_range"]) == {"since": since, "until": until}
    assert "pulled          meta_ads   3 responses landed" in again.output
    assert query("SELECT count(*) AS n FROM fct_ad_performance") == [{"n": 180}]


def test_unconfigured_pullers_are_reported_not_failed(local_env, platforms, monkeypatch):
    _configure(monkeypatch, platforms)
    result = run("pull", "--all")
    assert result.exit_code == 0, result.output
    assert result.output.count("not configured") == 8  # the status and the note of each of the four
    assert "SOUNDLAKE_MAILCHIMP_API_KEY" in result.output and "SOUNDLAKE_INSTAGRAM_USER_ID" in result.output
    named = run("pull", "youtube")
    assert named.exit_code == 2 and "set SOUNDLAKE_YOUTUBE_CLIENT_ID" in named.output
    assert run("pull").exit_code == 2 and run("pull", "spotify").exit_code == 2
    assert platforms.requests == []


def test_no_credential_reaches_output_logs_zones_or_the_event_log(local_env, platforms, monkeypatch, caplog, capfd):
    _configure(monkeypatch, platforms, "youtube", "mailchimp", "instagram", "meta_ads")
    platforms.expire_issued = 1  # YouTube's first access token is refused: refreshed
    platforms.expired.add(GRAPH_TOKEN)  # the Graph token has expired: exchanged with the app secret
    platforms.faults[f"/graph/v21.0/{IG_USER_ID}/insights"] = ["ok", "malformed"]
    caplog.set_level(logging.DEBUG)  # urllib3 logs every request line at DEBUG
    result = run("-v", "pull", "--all")
    assert result.exit_code in (0, 3), result.output
    assert len(platforms.google_tokens) == 2 and len(platforms.graph_tokens) >= 2  # the refresh paths ran
    assert "pulled" in result.output and "failed" not in result.output
    secrets = [YOUTUBE_CLIENT_SECRET, YOUTUBE_REFRESH_TOKEN, MAILCHIMP_KEY, GRAPH_APP_SECRET,
               base64.b64encode(f"soundlake:{MAILCHIMP_KEY}".encode()).decode(),
               *platforms.google_tokens, *platforms.graph_tokens]
    # soundlake's records, urllib3's request lines included (the local server's own access log,
    # werkzeug's, is the platform's side of the wire: it sees what any API server sees)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")
    assert "HTTP/1.1" in logged and "oauth/access_token" in logged  # the request lines were logged ...
    captured = capfd.readouterr()
    for text in (result.output, logged, captured.out, captured.err):
        for s in secrets:
            assert s not in text
    # ... every file under the home: the landed and raw responses, staging, curated, the warehouse,
    # the cursors, the Dagster instance (event log, compute logs)
    scanned = 0
    for path in local_env.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            scanned += 1
            for s in secrets:
                assert s.encode() not in data, f"{s[:6]}… in {path}"
    assert scanned > 50
    assert any(local_env.glob("lake/raw/_pullers/*.json"))
    # the event log, event by event (metadata included)
    with launch.instance(Settings.from_env()) as instance:
        runs = instance.get_runs()
        assert {r.job_name for r in runs} == {"pull", "ingest"}
        for r in runs:
            for record in instance.all_logs(r.run_id):
                text = serialize_value(record)
                for s in secrets:
                    assert s not in text


def test_a_failing_puller_fails_its_step_not_the_others(local_env, platforms, monkeypatch):
    _configure(monkeypatch, platforms, "mailchimp", "meta_ads")
    monkeypatch.setenv("SOUNDLAKE_MAILCHIMP_API_KEY", "0000wrong0key0000-us21")
    since = platforms.today - timedelta(days=2)
    result = run("pull", "--all", "--no-ingest", "--since", since.isoformat())  # a backfill of two days
    assert result.exit_code == 1, result.output
    lines = {line.split()[1]: line for line in result.output.splitlines() if line.split()[:1] in (["failed"], ["pulled"])}
    assert lines["mailchimp"].startswith("failed") and "HTTP 401" in lines["mailchimp"] and "API Key Invalid" in lines["mailchimp"]
    assert lines["meta_ads"].startswith("pulled") and "2 responses landed" in lines["meta_ads"]
    assert json.loads(platforms.of(META_INSIGHTS)[0][1]["time_range"]) == {
        "since": since.isoformat(), "until": (platforms.today - timedelta(days=1)).isoformat()}
    assert "0000wrong0key0000" not in result.output
    assert len(list((local_env / "lake" / "landing" / "meta_ads").rglob("*.json"))) == 2  # waiting for the sensor
