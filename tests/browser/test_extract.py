"""The browser extractors end to end against the fake dashboards, in real headless Chromium: the
first login with its 2FA code, the saved session reused headless by `soundlake extract`, the
downloads and captures landed and ingested into curated, an expired session failing only its
source (with "log in again", an alert, nothing landed), sources that are not configured."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from assets.analytics.alerts import session_events
from assets.extract import EXTRACTORS
from assets.lakehouse import Lakehouse
from pipelines import app
from pipelines.cli import main
from resources.settings import Settings
from tests.cli_helpers import query, run

from .conftest import Answers, sessions
from .fake_dashboards import S4A_ARTIST, TIKTOK_HANDLE


def sign_in(source: str, answers: Answers | None = None) -> dict:
    return app.login(Settings.from_env(), source, prompt=answers or Answers(), headless=True)


def extract_json(*args):
    result = run("extract", *args, "--json")
    return result.exit_code, json.loads(result.stdout), result


def test_every_dashboard_login_extract_and_ingest_into_curated(browser_env, dashboards):
    fake = dashboards.app
    for source in EXTRACTORS:
        answers = Answers()
        summary = sign_in(source, answers)
        # the person was asked for the username, then the password and the 2FA code, both hidden
        assert answers.asked == [("username", False), ("password", True), ("code", True)], source
        assert summary["cookies"] and all("value" not in c for c in summary["cookies"])
        assert max(c["expires"] for c in summary["cookies"]) > 0  # the session cookie's expiry, for the alert
    logins = list(fake.logins)
    assert logins[-5:] == list(EXTRACTORS)

    code, out, result = extract_json("--all")
    assert code == 0, result.output
    assert fake.logins == logins, "the saved sessions were reused: nobody signed in again"
    by_source = {e["source"]: e for e in out["sources"]}
    assert {s: e["status"] for s, e in by_source.items()} == {s: "landed" for s in EXTRACTORS}
    assert {s: e["files"] for s, e in by_source.items()} == {
        "distrokid": 3, "toolost": 2, "spotify_for_artists": 4, "tiktok": 2, "linktree": 2}
    files = out["files"]
    assert len(files) == 13 and {f["status"] for f in files} == {"loaded"}, files
    # landed as landing/<source>/<dataset>/<platform name or capture>_<timestamp>
    names = {f["path"] for f in files}
    assert any(n.startswith("distrokid/bank_details/dk_bank_details_2") and n.endswith(".tsv") for n in names)
    assert any(n.startswith("tiktok/overview/Overview_") and f"_{TIKTOK_HANDLE}_2" in n for n in names)
    assert any(n.startswith("linktree/graphql/graphql_getAccountAnalytics_") for n in names)
    assert {f["dataset"] for f in files if f["source"] == "spotify_for_artists"} == {"audience_timeline", "song_table"}

    # curated holds what the dashboards served, figure for figure
    bank = fake.sample("distrokid", "dk_bank_details")[1].decode().split("\r")
    [roy] = query("SELECT count(*) AS n FROM fct_royalties WHERE source = 'distrokid'")
    assert roy["n"] == len([line for line in bank[1:] if line.strip()])
    spotify = json.loads(fake.sample("toolost", "toolost_spotify")[1])
    [tl] = query("SELECT sum(streams) AS s FROM fct_streams_daily WHERE source = 'toolost' AND platform = 'spotify'")
    assert tl["s"] == sum(int(r["streams"]) for r in spotify["streams"])
    [aud] = query("SELECT count(*) AS n, min(artist) AS artist FROM fct_audience_daily WHERE source = 'spotify_for_artists'")
    assert aud["n"] > 300 and aud["artist"] == S4A_ARTIST
    periods = query("SELECT DISTINCT period FROM fct_streams_totals WHERE source = 'spotify_for_artists' ORDER BY 1")
    assert len(periods) == 3
    [tt] = query("SELECT count(*) AS n, min(account) AS account FROM fct_social_daily WHERE platform = 'tiktok'")
    assert tt["n"] >= 365 and tt["account"] == TIKTOK_HANDLE
    capture = max(fake.samples["linktree"].values(), key=len)  # the overview query the page asks first
    overview = json.loads(capture)["data"]["getAccountAnalytics"]["overview"]
    [lt] = query("SELECT sum(views) AS v, sum(clicks) AS c FROM fct_link_clicks_daily")
    assert (lt["v"], lt["c"]) == (overview["totalViews"], overview["totalClicks"])

    # the Dagster runs: one extract run per source, then one ingest run of their batch
    assert len({e["run_id"] for e in out["sources"]}) == 5


def test_expired_session_fails_its_source_only_alerts_and_lands_nothing(browser_env, dashboards, httpserver,
                                                                          monkeypatch):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    monkeypatch.setenv("SOUNDLAKE_ALERT_WEBHOOK_URL", httpserver.url_for("/hook"))
    sign_in("toolost")
    sign_in("linktree")
    dashboards.app.expire("toolost")  # the platform signs the session out

    code, out, result = extract_json("toolost", "linktree")
    assert code == 1, result.output
    toolost, linktree = out["sources"]
    assert toolost["status"] == "failed" and "log in again to toolost" in toolost["message"]
    assert linktree == {**linktree, "status": "landed", "files": 2}
    assert {f["source"] for f in out["files"]} == {"linktree"} and {f["status"] for f in out["files"]} == {"loaded"}
    house = Lakehouse.from_settings()
    assert not list(house.storage.list("landing", "toolost/")), "nothing partial landed"
    assert "toolost" not in set(house.lake.manifest()["source"].dropna())

    # the session file says the dashboard refused it: the session alert fires, and was sent
    summary = sessions().summary("toolost")
    assert summary["soundlake"]["rejected_at"] and "log in again to toolost" in summary["soundlake"]["rejected_reason"]
    [alert] = [a for a in session_events(Settings.from_env().sessions_dir, datetime.now(timezone.utc)) if "toolost" in a.alert_id]
    assert alert.severity == "critical" and "log in again to toolost" in alert.subject
    posted = [json.loads(req.get_data()) for req, _ in httpserver.log]
    assert any("log in again to toolost" in p["text"] for p in posted), posted

    # the CLI run alone (nothing else to ingest) still alerts; a new login clears the refusal
    httpserver.clear_log()
    code, out, _ = extract_json("toolost")
    assert code == 1 and out["files"] == []
    sign_in("toolost")
    assert sessions().summary("toolost")["soundlake"]["rejected_at"] is None
    code, out, _ = extract_json("toolost")
    assert code == 0 and {f["status"] for f in out["files"]} == {"loaded"}
    assert not [a for a in session_events(Settings.from_env().sessions_dir, datetime.now(timezone.utc)) if "toolost" in a.alert_id]


def test_not_configured_is_not_a_failure(browser_env):
    code, out, result = extract_json("--all")
    assert code == 0, result.output
    assert {e["status"] for e in out["sources"]} == {"not configured"}
    assert all("soundlake login" in e["message"] for e in out["sources"]) and out["files"] == []
    named = run("extract", "tiktok")
    assert named.exit_code == 2 and "soundlake login tiktok" in named.output
    assert run("extract").exit_code == 2  # neither sources nor --all


@pytest.mark.parametrize("answers, said", [(Answers(password="wrong password"), "Wrong e-mail or password"),
                                           (Answers(code="000000"), "code is not valid")])
def test_a_refused_login_says_why_and_saves_nothing(browser_env, answers, said):
    from assets.extract.base import LoginFailed

    with pytest.raises(LoginFailed, match=said):
        sign_in("distrokid", answers)
    assert not sessions().configured("distrokid")


def test_login_from_the_terminal(browser_env, dashboards):
    from .fake_dashboards import PASSWORD, USERNAME, totp_code

    result = CliRunner().invoke(main, ["login", "linktree", "--terminal"], input=f"{USERNAME}\n{PASSWORD}\n{totp_code()}\n")
    assert result.exit_code == 0, result.output
    assert "signed in to linktree" in result.output and "secrets/linktree.vault" in result.output
    assert PASSWORD not in result.output  # typed hidden
    wrong = CliRunner().invoke(main, ["login", "linktree", "--terminal"], input=f"{USERNAME}\nnope\n")
    assert wrong.exit_code == 1 and "refused the login" in wrong.output


def test_headed_login_needs_a_display(browser_env, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = run("login", "tiktok")
    assert result.exit_code == 2 and "--terminal" in result.output


def test_the_daily_schedule_starts_a_run_per_configured_source(browser_env):
    import dagster as dg

    from pipelines.definitions import defs

    schedule = next(s for s in defs.schedules if s.name == "extract_daily")
    tick = datetime(2026, 3, 2, 5, tzinfo=timezone.utc)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        assert "no browser extractor is configured" in schedule.evaluate_tick(context).skip_message
        sign_in("tiktok")
        requests = schedule.evaluate_tick(context).run_requests
    assert [[k.to_user_string() for k in r.asset_selection] for r in requests] == [["extract/tiktok"]]
    assert requests[0].run_key == "extract-tiktok-2026-03-02"


def test_cli_choices_are_the_extractors():
    from pipelines.cli import EXTRACTOR_SOURCES

    assert sorted(EXTRACTOR_SOURCES) == sorted(EXTRACTORS)


def test_the_scheduled_run_lands_for_the_sensor_which_ingests_with_the_options(browser_env):
    """The daily path: a run of the extract job (no CLI around it) lands; the landing sensor
    announces the files and its ingest run parses them with the options the extractor recorded
    (TikTok's account, which the stamped name no longer says alone)."""
    import dagster as dg

    from assets.extract_assets import extract_key
    from pipelines import launch
    from resources.lake_resource import LakeResource
    from sensors.landing import landing_sensor

    settings = Settings.from_env()
    sign_in("tiktok")
    extracted = launch.run_job(settings, "extract", asset_selection=[extract_key("tiktok")])
    assert extracted.success, extracted.failures
    meta = extracted.metadata("extract/tiktok")
    assert meta["status"] == "landed" and meta["files"] == 2
    with launch.instance(settings) as instance:
        with dg.build_sensor_context(instance=instance, resources={"lake": LakeResource()}) as ctx:
            request = landing_sensor(ctx)
    assert sorted(request.run_config["ops"]["landing"]["config"]["keys"]) == sorted(meta["landing_keys"])
    run_ = launch.run_job(settings, "ingest", asset_selection=request.asset_selection, run_config=request.run_config)
    assert run_.success, run_.failures
    [row] = query("SELECT count(DISTINCT account) AS accounts, min(account) AS account FROM fct_social_daily")
    assert row == {"accounts": 1, "account": TIKTOK_HANDLE}


def test_navigation_errors_are_retried_with_backoff(monkeypatch):
    """A navigation that fails (a network error) is tried again, up to NAV_ATTEMPTS times."""
    from playwright.sync_api import Error as PlaywrightError
    from tenacity import nap

    from assets.extract import base

    monkeypatch.setattr(nap.time, "sleep", lambda s: None)
    dashboard = base.Dashboard(EXTRACTORS["toolost"], page=None, base_url="http://127.0.0.1:9/toolost/")
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < base.NAV_ATTEMPTS:
            raise PlaywrightError("net::ERR_CONNECTION_RESET")
        return "page"

    assert dashboard._retry("opening portal/analytics", flaky) == "page" and len(calls) == base.NAV_ATTEMPTS
    tries = []

    def down():
        tries.append(1)
        raise PlaywrightError("net::ERR_CONNECTION_REFUSED")

    with pytest.raises(PlaywrightError, match="ERR_CONNECTION_REFUSED"):
        dashboard._retry("opening portal/analytics", down)
    assert len(tries) == base.NAV_ATTEMPTS


def test_a_window_nobody_signs_in_to_times_out_and_saves_nothing(browser_env):
    """`soundlake login` without --terminal waits for the person to finish in the window; the
    same flow (headless here) gives up after --wait seconds with what to do."""
    from assets.extract.base import LoginFailed

    with pytest.raises(LoginFailed, match=r"not signed in after 3 s; run `soundlake login tiktok` again"):
        app.login(Settings.from_env(), "tiktok", prompt=None, headless=True, wait_s=3)
    assert not sessions().configured("tiktok")
