"""Alerts: events of every kind, sent once, to a real local HTTP server (pytest-httpserver) and a
real local SMTP server (aiosmtpd); retries, secrets, the run-failure sensor, ingests."""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as email_policy

import dagster as dg
import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from werkzeug import Response

from assets.analytics.alerts import (
    AlertConfig,
    anomaly_events,
    dispatch,
    read_analytics,
    run_failure_event,
    session_events,
    stale_source_events,
    viral_events,
)
from assets.analytics.run import write_table
from assets.lakehouse import Lakehouse
from pipelines.app import write_demo_exports
from resources.alerts import Alert, EmailChannel, WebhookChannel
from tests.cli_helpers import query, run

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=timezone.utc)
HOOK_PATH = "/services/T0ALERTS/B0HOOK/s3cr3tHookToken42"
SMTP_PASSWORD = "smtp-pa55word-9d1e"  # distinctive, so the tests can look for it


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- servers ------------------------------------------------------------------------------------

class _Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (no TLS) that accepts AUTH with user `alerts` and
    SMTP_PASSWORD. Yields ``(port, collector)``; ``collector.messages`` are the envelopes."""
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"alerts" and auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    collector = _Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=_free_port(),
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        yield controller.port, collector
    finally:
        controller.stop()


def _hook_posts(httpserver) -> list[dict]:
    return [json.loads(req.get_data()) for req, _ in httpserver.log if req.path == HOOK_PATH]


def _posted_ids(httpserver) -> list[str]:
    """Alert ids of the webhook posts (the context block ends with the id in backticks)."""
    return [p["blocks"][1]["elements"][0]["text"].rsplit("`", 2)[1] for p in _hook_posts(httpserver)]


@pytest.fixture
def hook(httpserver, monkeypatch):
    """A webhook that accepts everything, configured through SOUNDLAKE_ALERT_WEBHOOK_URL."""
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    monkeypatch.setenv("SOUNDLAKE_ALERT_WEBHOOK_URL", httpserver.url_for(HOOK_PATH))
    return httpserver


@pytest.fixture
def platform(local_env, monkeypatch) -> Lakehouse:
    for name in ("SOUNDLAKE_ALERT_WEBHOOK_URL", "SOUNDLAKE_SMTP_HOST", "SOUNDLAKE_ALERT_EMAIL_TO"):
        monkeypatch.delenv(name, raising=False)
    return Lakehouse.from_env()


# --- synthetic inputs -------------------------------------------------------------------------------

def _moments(rows) -> pd.DataFrame:
    base = {"artist": "ZONE A0", "platform": "tiktok", "metric": "views", "baseline": 1000.0,
            "peak_value": 9000.0, "lift": 9.0, "cross_platform_confirmed": False}
    out = []
    for series_id, start, score, *rest in rows:
        start = date.fromisoformat(start)
        out.append({**base, "series_id": series_id, "start_date": start, "peak_date": start + timedelta(days=1),
                    "end_date": start + timedelta(days=4), "score": score,
                    **(rest[0] if rest else {})})
    return pd.DataFrame(out)


def _anomalies(rows) -> pd.DataFrame:
    out = []
    for series_id, kind, start, end, severity in rows:
        out.append({"series_id": series_id, "artist": None, "platform": series_id.split("/")[0], "metric": "streams",
                    "kind": kind, "start_date": date.fromisoformat(start), "end_date": date.fromisoformat(end),
                    "value": 3.0, "expected": 120.0, "severity": severity,
                    "detail": f"{series_id} fell to 3 on {end} against a usual 120."})
    return pd.DataFrame(out)


def _write_inputs(platform, moments=None, anomalies=None) -> None:
    if moments is not None:
        write_table(platform.storage, "viral_moments", moments, NOW)
    if anomalies is not None:
        write_table(platform.storage, "anomalies", anomalies, NOW)


def _alerts_table(platform) -> pd.DataFrame:
    return read_analytics(platform.storage, "alerts")


# --- events of each kind ----------------------------------------------------------------------------

def test_viral_alert_sentences_use_the_kind_of_moment():
    moments = _moments([
        ("tiktok/ZONE A0/views", "2025-05-20", 12.0, {"kind": "breakout", "ongoing": False}),
        ("spotify/ZONE A0/streams", "2025-05-25", 8.0, {"kind": "spike", "ongoing": False}),
        ("spotify/account/streams", "2025-05-10", 8.0, {"kind": "surge", "ongoing": True}),
    ])
    alerts, _ = viral_events(moments, date(2025, 5, 31), AlertConfig())
    by_series = {a.alert_id.split(":")[1]: a for a in alerts}
    breakout, spike, surge = (by_series[s] for s in ("tiktok/ZONE A0/views", "spotify/ZONE A0/streams",
                                                       "spotify/account/streams"))
    assert breakout.subject.startswith("Viral moment (breakout)")
    assert "broke out to a new level" in breakout.message and "settled at a new level by 2025-05-24" in breakout.message
    assert spike.subject.startswith("Viral moment (spike)") and "back to the usual level" in spike.message
    assert surge.subject.startswith("Viral moment (surge)") and "still running" in surge.message


def test_viral_moments_alert_when_recent_and_strong_enough():
    moments = _moments([
        ("tiktok/ZONE A0/views", "2025-06-01", 12.0, {"cross_platform_confirmed": True}),
        ("spotify/ZONE A0/streams", "2025-05-20", 5.0),
        ("spotify/account/streams", "2025-06-02", 2.5),  # under the minimum score
        ("tiktok/PIG1987/views", "2024-08-01", 40.0),  # ten months before the newest day
        ("linktree/account/clicks", "2025-04-20", 9.0),  # 41 days before: just too old
    ])
    alerts, skipped = viral_events(moments, date(2025, 5, 31), AlertConfig())
    assert [a.alert_id for a in alerts] == ["viral_moment:spotify/ZONE A0/streams:2025-05-20",
                                            "viral_moment:tiktok/ZONE A0/views:2025-06-01"]
    assert skipped == 2
    assert [a.severity for a in alerts] == ["info", "warning"]  # confirmed on another platform: warning
    tiktok = alerts[1]
    assert "9.0× the usual 1,000" in tiktok.message and "9,000 on 2025-06-02" in tiktok.message
    assert "Another platform" in tiktok.message

    stricter, skipped = viral_events(moments, date(2025, 5, 31), AlertConfig(viral_min_score=10, max_age_days=400))
    assert [a.alert_id for a in stricter] == ["viral_moment:tiktok/PIG1987/views:2024-08-01",
                                              "viral_moment:tiktok/ZONE A0/views:2025-06-01"]
    assert skipped == 0


def test_anomalies_alert_by_severity_and_when_they_touch_the_recent_days():
    anomalies = _anomalies([
        ("spotify/account/streams", "drop", "2025-05-20", "2025-05-24", "warning"),
        ("apple_music/account/streams", "missing_days", "2025-05-25", "2025-05-28", "info"),  # under warning
        ("tiktok/ZONE A0/views", "drop", "2024-08-01", "2024-08-03", "critical"),  # over long ago
        ("toolost/account/streams", "all_zero", "2025-02-01", "2025-05-31", "critical"),  # old but still going on
    ])
    alerts, skipped = anomaly_events(anomalies, date(2025, 5, 31), AlertConfig())
    assert [a.alert_id for a in alerts] == ["anomaly:all_zero:toolost/account/streams:2025-02-01",
                                            "anomaly:drop:spotify/account/streams:2025-05-20"]
    assert skipped == 1
    assert alerts[0].severity == "critical" and "silently sends zeros" in alerts[0].message
    assert "fell to 3" in alerts[1].message and "taken down" in alerts[1].message

    everything, _ = anomaly_events(anomalies, date(2025, 5, 31), AlertConfig(anomaly_min_severity="info"))
    assert len(everything) == 3
    only_critical, _ = anomaly_events(anomalies, date(2025, 5, 31), AlertConfig(anomaly_min_severity="critical"))
    assert [a.alert_id.split(":")[1] for a in only_critical] == ["all_zero"]


def test_stale_sources_by_freshness_with_per_source_limits():
    manifest = pd.DataFrame([
        {"source": "tiktok", "status": "loaded", "observed_at": pd.Timestamp("2025-06-08", tz="UTC")},  # 2.5 days
        {"source": "distrokid", "status": "loaded", "observed_at": pd.Timestamp("2025-05-20", tz="UTC")},  # 21.5
        {"source": "distrokid", "status": "loaded", "observed_at": pd.Timestamp("2025-04-01", tz="UTC")},
        {"source": "toolost", "status": "loaded", "observed_at": pd.Timestamp("2025-03-01", tz="UTC")},  # 101.5
        {"source": "meta_ads", "status": "quarantined", "observed_at": pd.Timestamp("2024-01-01", tz="UTC")},
        {"source": "linktree", "status": "loaded", "observed_at": pd.NaT},  # no observed_at: no freshness
    ])
    alerts = stale_source_events(manifest, NOW, AlertConfig())
    assert [(a.alert_id, a.severity) for a in alerts] == [("stale_source:distrokid:2025-05-20", "warning"),
                                                          ("stale_source:toolost:2025-03-01", "critical")]
    assert "no new distrokid data for 22 days" in alerts[0].subject
    assert "soundlake ingest" in alerts[0].message

    monthly = stale_source_events(manifest, NOW, AlertConfig(stale_days_by_source={"distrokid": 35}))
    assert [a.alert_id for a in monthly] == ["stale_source:toolost:2025-03-01"]
    config = AlertConfig.from_env({"SOUNDLAKE_ALERT_STALE_DAYS": "2,distrokid=35"})
    assert config.stale_days == 2 and config.stale_days_for("distrokid") == 35
    assert [a.alert_id.split(":")[1] for a in stale_source_events(manifest, NOW, config)] == ["tiktok", "toolost"]


def _storage_state(*expires: float) -> str:
    cookies = [{"name": f"c{i}", "value": "SECRET-COOKIE-VALUE", "domain": ".example.com", "path": "/",
                "expires": e, "httpOnly": True, "secure": True, "sameSite": "Lax"} for i, e in enumerate(expires)]
    return json.dumps({"cookies": cookies, "origins": []})


def test_sessions_expired_or_expiring(tmp_path):
    now = NOW.timestamp()
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    (sessions / "tiktok.json").write_text(_storage_state(now - 86400, now - 60, -1))  # all expired
    (sessions / "distrokid.json").write_text(_storage_state(now - 86400, now + 2 * 86400))  # in 2 days
    (sessions / "spotify_for_artists.json").write_text(_storage_state(now - 10, now + 30 * 86400))  # fine
    (sessions / "linktree.json").write_text(_storage_state(-1, -1))  # session cookies only: cannot tell
    (sessions / "meta_ads.json").write_text(json.dumps({"cookies": [], "origins": []}))  # signed out
    (sessions / "broken.json").write_text("{not json")
    alerts = {a.alert_id.split(":")[1]: a for a in session_events(sessions, NOW, AlertConfig())}
    assert set(alerts) == {"tiktok", "distrokid", "meta_ads"}
    assert alerts["tiktok"].severity == "critical" and alerts["tiktok"].alert_id == "session_expired:tiktok:2025-06-10T11:59"
    assert alerts["distrokid"].severity == "warning" and alerts["distrokid"].alert_id.startswith("session_expiring:")
    assert "48 hours" in alerts["distrokid"].subject
    assert alerts["meta_ads"].severity == "critical"
    assert all(a.kind == "session_expired" for a in alerts.values())
    assert not any("SECRET-COOKIE-VALUE" in a.message for a in alerts.values())
    narrow = {a.alert_id.split(":")[1] for a in session_events(sessions, NOW, AlertConfig(session_warn_days=1))}
    assert narrow == {"tiktok", "meta_ads"}  # two days away is outside a one-day warning window


# --- dispatch: once, retries, per channel -------------------------------------------------------------

def test_dispatch_sends_every_kind_once_to_the_webhook(platform, hook, monkeypatch):
    _write_inputs(platform,
                  _moments([("tiktok/ZONE A0/views", "2025-06-01", 12.0), ("tiktok/ZONE A0/views", "2024-01-05", 30.0)]),
                  _anomalies([("spotify/account/streams", "drop", "2025-06-03", "2025-06-05", "warning")]))
    sessions = platform.settings.sessions_dir
    sessions.mkdir(parents=True)
    (sessions / "tiktok.json").write_text(_storage_state(NOW.timestamp() - 3600))
    platform = Lakehouse.from_env()  # the webhook variable is read now
    failure = run_failure_event("ingest", "0123-abcd", "step raw_distrokid: boom")

    result = dispatch(platform, now=NOW, events=[failure])
    ids = {"viral_moment:tiktok/ZONE A0/views:2025-06-01", "anomaly:drop:spotify/account/streams:2025-06-03",
           "session_expired:tiktok:2025-06-10T11:00", "run_failure:0123-abcd"}
    assert {a["alert_id"] for a in result.alerts} == ids
    assert all(a["status"] == "sent" and a["channels"] == ["webhook"] for a in result.alerts)
    assert result.skipped == {"viral_moment": 1} and result.ok
    assert result.newest_day == date(2025, 6, 5)  # no warehouse: the newest end_date of the tables
    assert sorted(_posted_ids(hook)) == sorted(ids)
    post = _hook_posts(hook)[0]
    assert post["text"] and post["blocks"][0]["type"] == "section" and post["blocks"][0]["text"]["type"] == "mrkdwn"

    table = _alerts_table(platform)
    assert set(table["alert_id"]) == ids and table["sent_at"].notna().all() and set(table["channels"]) == {"webhook"}
    sent_at = dict(zip(table["alert_id"], table["sent_at"]))

    again = dispatch(platform, now=NOW + timedelta(hours=1), events=[failure])
    assert again.alerts == [] and again.already_sent == 4
    assert len(_hook_posts(hook)) == 4  # nothing posted twice
    table = _alerts_table(platform)
    assert dict(zip(table["alert_id"], table["sent_at"])) == sent_at


def test_failed_webhook_is_retried_at_the_next_dispatch_then_sent_once(platform, httpserver, caplog):
    answers = {"status": 500}
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_handler(
        lambda request: Response("down", status=answers["status"]))
    _write_inputs(platform, _moments([("tiktok/ZONE A0/views", "2025-06-01", 12.0)]), _anomalies([]))
    channel = WebhookChannel(httpserver.url_for(HOOK_PATH), backoff=0.01)

    first = dispatch(platform, now=NOW, channels=[channel])
    assert [a["status"] for a in first.alerts] == ["failed"] and not first.ok
    assert "HTTP 500" in first.failures["webhook to localhost"] and "3 attempts" in first.failures["webhook to localhost"]
    assert len(_hook_posts(httpserver)) == 3  # one call, two retries
    table = _alerts_table(platform)
    assert len(table) == 1 and table["sent_at"].isna().all() and table["channels"].iloc[0] == ""
    assert "stay pending" in caplog.text

    answers["status"] = 200
    second = dispatch(platform, now=NOW + timedelta(hours=1), channels=[channel])
    assert [a["status"] for a in second.alerts] == ["sent"]
    table = _alerts_table(platform)
    assert table["sent_at"].iloc[0] == pd.Timestamp(NOW + timedelta(hours=1))
    assert table["first_seen"].iloc[0] == pd.Timestamp(NOW)
    assert len(_hook_posts(httpserver)) == 4

    third = dispatch(platform, now=NOW + timedelta(hours=2), channels=[channel])
    assert third.alerts == [] and len(_hook_posts(httpserver)) == 4


def test_429_honours_retry_after_and_4xx_is_final(httpserver):
    calls = []

    def handler(request):
        calls.append(time.monotonic())
        return Response("slow down", status=429, headers={"Retry-After": "0.2"}) if len(calls) == 1 else Response("ok")

    httpserver.expect_request("/ok", method="POST").respond_with_handler(handler)
    httpserver.expect_request("/gone", method="POST").respond_with_data("no_service", status=404)
    alert = Alert("x:1", "anomaly", "warning", "s", "m")
    assert WebhookChannel(httpserver.url_for("/ok"), backoff=0.01).send([alert]).accepted == ["x:1"]
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.2
    gone = WebhookChannel(httpserver.url_for("/gone"), backoff=0.01).send([alert, alert])
    assert gone.accepted == [] and "HTTP 404 (no_service)" in gone.error
    assert sum(req.path == "/gone" for req, _ in httpserver.log) == 1  # not retried, and the batch stopped


def test_email_content_and_per_channel_retry(platform, hook, smtp_server, monkeypatch):
    port, collector = smtp_server
    _write_inputs(platform, _moments([("tiktok/ZONE A0/views", "2025-06-01", 12.0)]),
                  _anomalies([("spotify/account/streams", "drop", "2025-06-03", "2025-06-05", "critical")]))
    monkeypatch.setenv("SOUNDLAKE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SOUNDLAKE_SMTP_PORT", str(_free_port()))  # nobody listens: e-mail fails
    monkeypatch.setenv("SOUNDLAKE_SMTP_STARTTLS", "false")
    monkeypatch.setenv("SOUNDLAKE_SMTP_USER", "alerts")
    monkeypatch.setenv("SOUNDLAKE_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("SOUNDLAKE_SMTP_FROM", "soundlake@example.org")
    monkeypatch.setenv("SOUNDLAKE_ALERT_EMAIL_TO", "artist@example.org, manager@example.org")

    first = dispatch(Lakehouse.from_env(), now=NOW)
    assert {a["status"] for a in first.alerts} == {"failed"} and all(a["channels"] == ["webhook"] for a in first.alerts)
    assert len(_hook_posts(hook)) == 2 and any("e-mail via 127.0.0.1" in k for k in first.failures)
    assert _alerts_table(Lakehouse.from_env())["sent_at"].isna().all()

    monkeypatch.setenv("SOUNDLAKE_SMTP_PORT", str(port))
    second = dispatch(Lakehouse.from_env(), now=NOW + timedelta(hours=1))
    assert {a["status"] for a in second.alerts} == {"sent"} and second.ok
    assert len(_hook_posts(hook)) == 2  # the webhook had them already
    assert len(collector.messages) == 1  # one digest
    envelope = collector.messages[0]
    assert envelope.mail_from == "soundlake@example.org"
    assert envelope.rcpt_tos == ["artist@example.org", "manager@example.org"]
    mail = message_from_bytes(envelope.content, policy=email_policy)
    assert mail["Subject"] == "[soundlake] 2 alerts (1 critical, 1 info)"
    body = mail.get_content()
    assert body.index("[CRITICAL] Anomaly (critical): drop in spotify/account/streams") < body.index("[INFO] Viral moment")
    assert "fell to 3" in body and "id viral_moment:tiktok/ZONE A0/views:2025-06-01" in body
    table = _alerts_table(Lakehouse.from_env())
    assert set(table["channels"]) == {"email,webhook"} and table["sent_at"].notna().all()

    dispatch(Lakehouse.from_env(), now=NOW + timedelta(hours=2))
    assert len(collector.messages) == 1 and len(_hook_posts(hook)) == 2


def test_one_alert_email_subject(smtp_server):
    port, collector = smtp_server
    channel = EmailChannel("127.0.0.1", port, sender="a@example.org", recipients=["b@example.org"], starttls=False)
    result = channel.send([Alert("run_failure:1", "run_failure", "critical", "Dagster run of ingest failed", "m")])
    assert result.accepted == ["run_failure:1"] and result.error is None
    mail = message_from_bytes(collector.messages[0].content, policy=email_policy)
    assert mail["Subject"] == "[soundlake] critical: Dagster run of ingest failed"


def test_secrets_never_reach_logs_errors_or_the_table(platform, httpserver, smtp_server, monkeypatch, caplog):
    port, collector = smtp_server
    caplog.set_level(logging.DEBUG)
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("boom", status=503)
    hook_url = httpserver.url_for(HOOK_PATH)
    monkeypatch.setenv("SOUNDLAKE_ALERT_WEBHOOK_URL", hook_url)
    monkeypatch.setenv("SOUNDLAKE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SOUNDLAKE_SMTP_PORT", str(port))
    monkeypatch.setenv("SOUNDLAKE_SMTP_STARTTLS", "false")
    monkeypatch.setenv("SOUNDLAKE_SMTP_USER", "alerts")
    monkeypatch.setenv("SOUNDLAKE_SMTP_PASSWORD", SMTP_PASSWORD + "-wrong")  # the server refuses the login
    monkeypatch.setenv("SOUNDLAKE_ALERT_EMAIL_TO", "artist@example.org")
    failure = run_failure_event("ingest", "r1", f"could not post to {hook_url} with {SMTP_PASSWORD}-wrong")
    platform = Lakehouse.from_env()

    result = dispatch(platform, events=[failure])  # now: the CLI below retries it at its own now
    assert len(result.failures) == 2 and collector.messages == []
    assert "503" in result.failures["webhook to localhost"]
    assert "SMTPAuthenticationError" in next(v for k, v in result.failures.items() if k.startswith("e-mail"))
    secrets = [HOOK_PATH, "s3cr3tHookToken42", SMTP_PASSWORD]
    ours = [r for r in caplog.records if not r.name.startswith("werkzeug")]  # the test server logs its own requests
    assert any(r.name == "urllib3.connectionpool" for r in ours)  # urllib3 did log the requests ...
    logged = "\n".join(r.getMessage() for r in ours)
    assert not any(s in logged for s in secrets)  # ... without the webhook's path
    assert not any(s in json.dumps(result.to_json(), default=str) for s in secrets)
    assert not any(s in repr(platform.settings) for s in secrets)
    table = _alerts_table(platform)
    assert "[redacted]" in table["message"].iloc[0]
    assert not any(s in table.to_csv() for s in secrets)
    raw = b"".join(platform.storage.get("curated", o.key) for o in platform.storage.list("curated", "alerts/"))
    assert not any(s.encode() in raw for s in secrets)

    # the CLI says what failed (exit 1), by host only
    out = run("alerts", "--json")
    assert out.exit_code == 1
    assert not any(s in out.output for s in secrets)


# --- the command, the sensor, ingests -------------------------------------------------------------------

def test_cli_without_channels_and_dry_run(platform, hook, monkeypatch):
    _write_inputs(platform, _moments([("tiktok/ZONE A0/views", "2025-06-01", 12.0)]), _anomalies([]))
    monkeypatch.delenv("SOUNDLAKE_ALERT_WEBHOOK_URL")
    out = run("alerts")
    assert out.exit_code == 0, out.output
    assert "none configured" in out.output and "no channel" in out.output and "Viral moment" in out.output
    assert _alerts_table(platform).empty  # nothing sent, nothing recorded

    monkeypatch.setenv("SOUNDLAKE_ALERT_WEBHOOK_URL", hook.url_for(HOOK_PATH))
    dry = run("alerts", "--dry-run", "--json")
    assert dry.exit_code == 0
    assert [a["status"] for a in json.loads(dry.stdout)["alerts"]] == ["would send"]
    assert _hook_posts(hook) == [] and _alerts_table(platform).empty

    sent = run("alerts")
    assert sent.exit_code == 0 and sent.output.splitlines()[1].startswith("sent ")
    assert run("alerts").output.splitlines()[1] == "nothing new to send (1 sent before)"
    assert len(_hook_posts(hook)) == 1

    monkeypatch.setenv("SOUNDLAKE_ALERT_MAX_AGE_DAYS", "many")
    assert run("alerts").exit_code == 2


def test_run_failure_sensor_alerts_the_failed_run(local_env, hook):
    from resources.lake_resource import LakeResource
    from sensors.alerts import alert_on_run_failure

    @dg.op
    def parse_statement():
        raise ValueError("DistroKid statement has no 'Earnings (USD)' column")

    @dg.job
    def nightly_ingest():
        parse_statement()

    instance = dg.DagsterInstance.ephemeral()
    result = nightly_ingest.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    # the lake resource holds the lake lock during runs, so it is a context manager: the daemon
    # opens a sensor's context with `with`, and so does this test
    with dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure", dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(), resources={"lake": LakeResource(home=str(local_env))},
    ) as context:
        alert_on_run_failure(context)
        posts = _hook_posts(hook)
        assert len(posts) == 1
        text = posts[0]["blocks"][0]["text"]["text"]
        assert "Dagster run of nightly_ingest failed" in posts[0]["text"]
        assert result.run_id in text and "step parse_statement:" in text
        assert "step parse_statement: ValueError: DistroKid statement has no 'Earnings (USD)' column" in text
        assert _posted_ids(hook) == [f"run_failure:{result.run_id}"]

        alert_on_run_failure(context)  # the same failure again (a re-evaluated tick): not sent twice
        assert len(_hook_posts(hook)) == 1
    table = _alerts_table(Lakehouse.from_env())
    assert table[["kind", "severity"]].to_dict("records") == [{"kind": "run_failure", "severity": "critical"}]


def test_demo_ingest_sends_viral_moments_once(local_env, hook):
    folder = local_env.parent / "exports"
    write_demo_exports(folder)
    assert run("ingest", folder).exit_code == 0
    ids = _posted_ids(hook)
    assert ids and all(i.startswith(("viral_moment:", "anomaly:")) for i in ids)
    assert len(ids) == len(set(ids))
    rows = query("SELECT alert_id, kind, sent_at, channels FROM alerts ORDER BY alert_id")
    assert [r["alert_id"] for r in rows] == sorted(ids) and all(r["sent_at"] and r["channels"] == "webhook" for r in rows)
    newest = query("SELECT max(date) AS d FROM fct_streams_daily")[0]["d"]
    starts = [date.fromisoformat(i.rsplit(":", 1)[1]) for i in ids]
    assert all((date.fromisoformat(newest) - s).days <= 30 for s in starts)  # only recent ones

    folder2 = local_env.parent / "exports-again"
    write_demo_exports(folder2)  # the same files, a second time
    assert run("ingest", folder2).exit_code == 0
    assert len(_posted_ids(hook)) == len(ids)


def test_bedrot_ingest_alerts_stale_sources_and_the_recent_drop(local_env, hook, bedrot):
    assert run("ingest", bedrot).exit_code == 0
    ids = set(_posted_ids(hook))
    stale = {i.split(":")[1] for i in ids if i.startswith("stale_source:")}
    assert stale == {"distrokid", "linktree", "meta_ads", "tiktok", "toolost"}  # exports from May 2025
    assert "anomaly:drop:apple_music/account/streams:2025-05-23" in ids
    # the two short spikes of May 2025 (once swallowed by moments that ran since 2024, now moments of
    # their own because those settled at their new levels); every other moment started > 30 days before 2025-05-27
    assert {i for i in ids if i.startswith("viral_moment:")} == {
        "viral_moment:apple_music/account/streams:2025-05-03", "viral_moment:linktree/account/clicks:2025-05-04"}
    dry = json.loads(run("alerts", "--dry-run", "--json").stdout)
    assert dry["alerts"] == [] and dry["already_sent"] == len(ids)
    assert dry["skipped"]["viral_moment"] >= 1  # the 2024 moments: counted, not sent


def test_alerts_asset_runs_in_the_ingest_job_with_run_config(local_env, hook):
    from assets.analytics_assets import ALERTS_KEY, alerts
    from pipelines.definitions import defs
    from resources.lake_resource import LakeResource

    assert ALERTS_KEY in defs.resolve_job_def("ingest").asset_layer.executable_asset_keys
    assert defs.resolve_sensor_def("alert_on_run_failure") is not None

    platform = Lakehouse.from_env()
    _write_inputs(platform, _moments([("tiktok/ZONE A0/views", "2025-01-02", 12.0),
                                      ("tiktok/ZONE A0/views", "2024-01-05", 30.0)]), _anomalies([]))
    result = dg.materialize([alerts], resources={"lake": LakeResource(home=str(local_env))},
                            run_config={"ops": {"analytics__alerts": {"config": {"max_age_days": 400}}}})
    assert result.success
    meta = result.asset_materializations_for_node("analytics__alerts")[0].metadata
    assert meta["sent"].value == 2 and meta["channels"].value == ["webhook to localhost"]
    assert sorted(_posted_ids(hook)) == ["viral_moment:tiktok/ZONE A0/views:2024-01-05",
                                         "viral_moment:tiktok/ZONE A0/views:2025-01-02"]
    again = dg.materialize([alerts], resources={"lake": LakeResource(home=str(local_env))})
    assert again.success and len(_hook_posts(hook)) == 2


def test_half_configured_channels_are_reported_not_raised(platform, monkeypatch):
    _write_inputs(platform, _moments([("tiktok/ZONE A0/views", "2025-06-01", 12.0)]), _anomalies([]))
    monkeypatch.setenv("SOUNDLAKE_SMTP_HOST", "127.0.0.1")
    out = run("alerts")
    assert out.exit_code == 1 and "SOUNDLAKE_ALERT_EMAIL_TO is not" in out.output
    monkeypatch.setenv("SOUNDLAKE_ALERT_EMAIL_TO", "artist@example.org")
    monkeypatch.setenv("SOUNDLAKE_SMTP_PORT", "58y")
    out = run("alerts")
    assert out.exit_code == 1 and "not a port number" in out.output and "e-mail via" not in out.output
    assert run("status").exit_code == 0  # a typo in an alert variable stops nothing else
