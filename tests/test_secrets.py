"""Known secrets planted everywhere a user's secrets live — tokens, cookies and passwords inside the
exports, the S3 secret key, the webhook URL and the SMTP password in the environment — and looked
for after an ingest (with failing alert channels, so error paths log too), `status` and `alerts`:
in the captured logs and output, every file under SOUNDLAKE_HOME (the Dagster instance with its
event log, the warehouse file), the Dagster event log read back through the instance, every object
of the zones past raw, and every relation of the warehouse. Raw keeps the exports byte for byte,
so the file contents' secrets are allowed there only.

The lake is on S3 (a real moto server), the webhook a real HTTP server answering 500, the SMTP
server a closed port."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from assets.sources import SOURCES
from tests.cli_helpers import run

TOKEN = "EAAGplantedMetaAccessToken7e1f"  # a Graph API access token in a paging URL
COOKIE = "dkSessionCookiePlanted4c2b"  # a session cookie saved with a DistroKid page
CSRF = "csrfTokenPlanted9a0d"
BEARER = "ltBearerPlanted31f7"  # Linktree's admin-app authorization captured with a response
TOOLOST_TOKEN = "tlApiTokenPlanted55e2"
FILE_PASSWORD = "hunter2PlantedInAFile"  # a password in a file that cannot be read at all
HOOK_SECRET = "hookSecretPlanted8b3c"
SMTP_PASSWORD = "smtpPasswordPlanted0e6a"
FILE_SECRETS = [TOKEN, COOKIE, CSRF, BEARER, TOOLOST_TOKEN, FILE_PASSWORD]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _samples(source: str, folder: Path) -> list[Path]:
    out = folder / source
    out.mkdir(parents=True)
    return SOURCES[source].samples(out, 7)


def plant_exports(folder: Path) -> Path:
    """Sample exports of four sources with secrets where real captures carry them, and one file of
    nothing but a password under a name soundlake recognises."""
    exports = folder / "exports"
    exports.mkdir()
    meta = next(p for p in _samples("meta_ads", folder) if p.name.startswith("insights"))
    doc = json.loads(meta.read_bytes())
    rows = doc["data"] if isinstance(doc, dict) else doc
    paging = {"cursors": {"before": "QVFI", "after": "QVFJ"},
              "next": f"https://graph.facebook.com/v19.0/act_1/insights?access_token={TOKEN}&after=QVFJ"}
    (exports / meta.name).write_text(json.dumps({"data": rows, "paging": paging}))

    page = next(p for p in _samples("distrokid", folder) if p.name.startswith("streams_stats"))
    html = page.read_text()
    planted = (f'<input type="hidden" name="csrf" value="{CSRF}">'
               f'<script>document.cookie = "dk_session={COOKIE}; path=/";</script>')
    (exports / page.name).write_text(html.replace("</body>", planted + "</body>") if "</body>" in html else html + planted)

    for capture in _samples("linktree", folder):
        doc = json.loads(capture.read_bytes())
        if isinstance(doc, dict):
            doc["extensions"] = {"request": {"headers": {"authorization": f"Bearer {BEARER}"}}}
        (exports / capture.name).write_text(json.dumps(doc))

    for export in _samples("toolost", folder):
        doc = json.loads(export.read_bytes())
        if isinstance(doc, dict):
            doc["token"] = TOOLOST_TOKEN
        (exports / export.name).write_text(json.dumps(doc))

    (exports / "dk_bank_details_20260101_000000.tsv").write_text(f"password={FILE_PASSWORD}\nuser=alice\n")
    return exports


@pytest.fixture
def planted_env(s3_env, monkeypatch, httpserver):
    httpserver.expect_request(f"/services/T0/B0/{HOOK_SECRET}").respond_with_data("boom", status=500)
    env = {
        "SOUNDLAKE_ALERT_WEBHOOK_URL": httpserver.url_for(f"/services/T0/B0/{HOOK_SECRET}"),
        "SOUNDLAKE_SMTP_HOST": "127.0.0.1", "SOUNDLAKE_SMTP_PORT": str(_closed_port()),
        "SOUNDLAKE_SMTP_USER": "alice", "SOUNDLAKE_SMTP_PASSWORD": SMTP_PASSWORD,
        "SOUNDLAKE_SMTP_STARTTLS": "false", "SOUNDLAKE_SMTP_FROM": "lake@example.org",
        "SOUNDLAKE_ALERT_EMAIL_TO": "label@example.org",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return {**s3_env, **env}


def _found(secrets: list[str], blob: bytes | str) -> list[str]:
    data = blob.encode("utf-8", "replace") if isinstance(blob, str) else blob
    return [s for s in secrets if s.encode() in data]


def test_planted_secrets_stay_out_of_logs_events_zones_and_warehouse(planted_env, tmp_path, caplog, capfd,
                                                                    minio_client, httpserver, monkeypatch):
    env_secrets = [planted_env["SOUNDLAKE_S3_SECRET_KEY"], HOOK_SECRET, SMTP_PASSWORD]
    every = FILE_SECRETS + env_secrets
    exports = plant_exports(tmp_path)
    caplog.set_level(logging.DEBUG)

    ingest = run("ingest", exports, "--json")
    assert ingest.exit_code == 3, ingest.output  # the password file is quarantined, the rest loads
    results = json.loads(ingest.stdout)
    assert [Path(r["path"]).name for r in results if r["status"] == "quarantined"] == \
        ["dk_bank_details_20260101_000000.tsv"], results
    assert {r["status"] for r in results} == {"loaded", "quarantined", "unused"}, results
    [refused] = [r for r in results if r["status"] == "quarantined"]
    assert "dk_bank_details_20260101_000000.tsv: bank details TSV: line 1 is not a header of this format" \
        in refused["reason"], refused  # the reason says what is wrong without quoting the line
    status = run("status", "--json")
    alerts = run("alerts")
    assert status.exit_code == 0 and alerts.exit_code == 1, alerts.output  # both channels fail
    assert httpserver.log, "the webhook was called (and failed), so its error paths ran"

    leaks: dict[str, list[str]] = {}

    def check(where: str, blob, secrets=every):
        if found := _found(secrets, blob):
            leaks[where] = found

    for name, result in (("ingest", ingest), ("status", status), ("alerts", alerts)):
        check(f"`soundlake {name}` output", result.output + (result.stderr or ""))
    for record in caplog.records:
        if record.name == "werkzeug":  # the test's webhook server logging its own requests, not soundlake
            continue
        check(f"log record of {record.name} ({record.pathname}:{record.lineno})", record.getMessage())
    out, err = capfd.readouterr()
    check("captured stdout/stderr", out + err)

    home = Path(planted_env["SOUNDLAKE_HOME"])
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files) and any(p.name == "warehouse.duckdb" for p in files)
    for path in files:
        check(str(path.relative_to(home)), path.read_bytes())

    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        runs = instance.get_runs()
        assert runs
        for r in runs:
            check(f"Dagster run {r.run_id} (config, tags)", json.dumps([r.run_config, r.tags], default=str))
            for event in instance.all_logs(r.run_id):
                check(f"Dagster event log of run {r.run_id}", repr(event))

    prefix = planted_env["SOUNDLAKE_S3_BUCKET_PREFIX"]
    for zone in ("staging", "curated", "archive"):
        bucket = f"{prefix}{zone}"
        if not minio_client.bucket_exists(bucket):
            continue
        for obj in minio_client.list_objects(bucket, recursive=True):
            check(f"s3://{bucket}/{obj.object_name}", minio_client.get_object(bucket, obj.object_name).read())
    raw = f"{prefix}raw"
    for obj in minio_client.list_objects(raw, prefix="_manifest/", recursive=True):
        check(f"s3://{raw}/{obj.object_name} (the manifest)", minio_client.get_object(raw, obj.object_name).read())

    from pipelines import app

    house = app.existing()
    _cols, rows = app.query(house, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
    relations = [r[0] for r in rows]
    assert "lake_files" in relations and "fct_ad_performance" in relations
    for rel in relations:
        check(f"warehouse {rel}", repr(app.query(house, f'SELECT * FROM "{rel}"')[1]))

    assert not leaks, "secrets found:\n" + "\n".join(f"- {w}: {s}" for w, s in leaks.items())
