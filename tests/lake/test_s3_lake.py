"""The whole lake on S3 (a real moto server): the CLI ingests the real DistroKid exports, the
warehouse reads ``s3://`` through httpfs, and the figures match the local backend's."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from click.testing import CliRunner

from assets.lakehouse import Lakehouse
from pipelines import app
from pipelines.cli import main
from resources.settings import Settings

ROYALTIES_ROWS = 8635
ROYALTIES_QUANTITY = 616709
ROYALTIES_EARNINGS = 1587.060015
DK_STREAMS_DAYS = 276
DK_STREAMS_TOTAL = 677589

# Aggregates that must come out the same whichever backend holds the lake.
AGGREGATES = [
    "SELECT count(*), sum(quantity), round(sum(earnings_usd), 6) FROM fct_royalties",
    ("SELECT platform, count(*), sum(quantity), round(sum(earnings_usd), 6) FROM fct_royalties "
     "GROUP BY platform ORDER BY platform"),
    ("SELECT strftime(reporting_date, '%Y-%m') AS m, count(*), round(sum(earnings_usd), 6) FROM fct_royalties "
     "GROUP BY m ORDER BY m"),
    "SELECT country, count(*), sum(quantity) FROM fct_royalties GROUP BY country ORDER BY country",
    ("SELECT platform, count(*), sum(streams), min(date), max(date) FROM fct_streams_daily "
     "GROUP BY platform ORDER BY platform"),
    "SELECT platform, count(*), sum(streams) FROM v_streams_daily GROUP BY platform ORDER BY platform",
    "SELECT dataset, status, rows FROM lake_files ORDER BY dataset",
]


def run_cli(*args: str, expect: int = 0):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == expect, f"soundlake {' '.join(args)} -> {result.exit_code}\n{result.output}"
    return result


def ingest_json(path) -> list[dict]:
    return json.loads(run_cli("ingest", str(path), "--json").stdout)


def cli_query(sql: str) -> list[dict]:
    return json.loads(run_cli("query", sql, "--format", "json").stdout)


def query(sql: str) -> list[tuple]:
    return app.query(Lakehouse.from_env(), sql)[1]


def check_figures() -> None:
    [row] = cli_query(
        "SELECT count(*) AS n, sum(quantity) AS q, round(sum(earnings_usd), 6) AS usd FROM fct_royalties"
    )
    assert row == {"n": ROYALTIES_ROWS, "q": ROYALTIES_QUANTITY, "usd": pytest.approx(ROYALTIES_EARNINGS, abs=1e-9)}
    assert query("SELECT count(*), sum(quantity), round(sum(earnings_usd), 6) FROM fct_royalties") == [
        (ROYALTIES_ROWS, ROYALTIES_QUANTITY, pytest.approx(ROYALTIES_EARNINGS, abs=1e-9))
    ]
    assert query(
        "SELECT count(*), sum(streams) FROM fct_streams_daily WHERE source = 'distrokid' AND platform <> 'apple_music'"
    ) == [(DK_STREAMS_DAYS, DK_STREAMS_TOTAL)]


def curated_objects(storage) -> dict[str, bytes]:
    return {o.key: storage.get("curated", o.key) for o in storage.list("curated")}


def test_s3_lake_end_to_end(s3_env, bedrot, minio_client):
    prefix = s3_env["SOUNDLAKE_S3_BUCKET_PREFIX"]
    results = ingest_json(bedrot / "distrokid")
    assert sorted((r["dataset"], r["status"]) for r in results) == [
        ("applemusic_stats", "loaded"), ("bank_details", "loaded"), ("streams_stats", "loaded"),
    ]
    bank = next(r for r in results if r["dataset"] == "bank_details")
    assert bank["rows"] == ROYALTIES_ROWS

    settings = Settings.from_env()
    assert settings.s3 is not None
    platform = Lakehouse.from_env(settings)
    assert platform.storage.kind == "s3"
    assert not (settings.lake_dir).exists(), "the S3 backend must not write a local lake"

    # the views read s3:// (through httpfs), not some local copy
    con = platform.warehouse.connect(read_only=True)
    try:
        sql = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'fct_royalties'").fetchone()[0]
    finally:
        con.close()
    assert f"s3://{prefix}curated/fct_royalties/" in sql

    check_figures()

    # the objects really are on the server: look with a client of our own
    raw = {o.object_name for o in minio_client.list_objects(f"{prefix}raw", recursive=True)}
    assert re.compile(rf"distrokid/bank_details/\d{{4}}/\d{{2}}/{bank['sha256']}\.tsv").fullmatch(
        next(k for k in raw if k.startswith("distrokid/bank_details/"))
    )
    assert sum(k.startswith("distrokid/") for k in raw) == 3
    assert any(k.startswith("_manifest/") and k.endswith(".parquet") for k in raw)
    assert list(minio_client.list_objects(f"{prefix}landing", recursive=True)) == []  # landing is emptied
    curated_keys = {o.object_name for o in minio_client.list_objects(f"{prefix}curated", recursive=True)}
    assert any(re.fullmatch(r"fct_royalties/month=\d{4}-\d{2}/part-[0-9a-f]{16}\.parquet", k) for k in curated_keys)
    assert any(re.fullmatch(r"fct_streams_daily/month=\d{4}-\d{2}/part-[0-9a-f]{16}\.parquet", k) for k in curated_keys)

    # ingesting the same files again changes nothing
    before = curated_objects(platform.storage)
    raw_before = {k for k in raw if not k.startswith("_manifest/")}
    again = ingest_json(bedrot / "distrokid")
    assert len(again) == 3
    assert {r["status"] for r in again} == {"duplicate"}, again
    assert {r["sha256"] for r in again} == {r["sha256"] for r in results}
    assert curated_objects(platform.storage) == before
    raw_after = {o.object_name for o in minio_client.list_objects(f"{prefix}raw", recursive=True)}
    assert {k for k in raw_after if not k.startswith("_manifest/")} == raw_before
    check_figures()
    assert query("SELECT status, count(*) FROM lake_files GROUP BY status ORDER BY status") == [
        ("duplicate", 3), ("loaded", 3),
    ]

    # the S3 credentials live only in each connection, never in the warehouse file
    secret = s3_env["SOUNDLAKE_S3_SECRET_KEY"].encode()
    files = [p for p in settings.home.rglob("*") if p.is_file()]
    assert settings.warehouse_path in files
    for path in files:
        assert secret not in path.read_bytes(), f"{path} holds the S3 secret key"
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)  # no prepare_connection
    try:
        assert con.execute("SELECT name FROM duckdb_secrets()").fetchall() == []
    finally:
        con.close()


def test_local_lake_figures(local_env, bedrot):
    results = ingest_json(bedrot / "distrokid")
    assert {r["status"] for r in results} == {"loaded"}
    assert Settings.from_env().s3 is None
    assert (local_env / "lake" / "curated" / "fct_royalties").is_dir()
    check_figures()
    again = ingest_json(bedrot / "distrokid")
    assert {r["status"] for r in again} == {"duplicate"}
    check_figures()


def test_backends_agree(s3_env, bedrot, monkeypatch, tmp_path):
    ingest_json(bedrot / "distrokid")
    on_s3 = {sql: query(sql) for sql in AGGREGATES}

    for name in list(s3_env):
        if name.startswith("SOUNDLAKE_S3_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SOUNDLAKE_HOME", str(tmp_path / "home-local"))
    assert Settings.from_env().s3 is None
    ingest_json(bedrot / "distrokid")
    on_local = {sql: query(sql) for sql in AGGREGATES}

    for sql in AGGREGATES:
        assert on_s3[sql], sql
        assert on_s3[sql] == on_local[sql], sql
    assert on_s3[AGGREGATES[0]] == [(ROYALTIES_ROWS, ROYALTIES_QUANTITY, pytest.approx(ROYALTIES_EARNINGS, abs=1e-9))]


def test_readme_minio_example_runs(s3_env, tmp_path):
    """The README's "Query the lake" MinIO snippet, run as a user would (its own process),
    against the S3 server after a real ingest: it gives the per-store sums of the statement."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.sources.test_distrokid import OLD_HEADER, tsv

    rows = [["2024-10-05", "2024-08", store, "Nova", "Song A", "QZ1", "1", str(q), "100", "Song", "US", "0", str(usd)]
            for store, q, usd in (("Spotify", 10, 0.04), ("Apple Music", 3, 0.03), ("Spotify", 5, 0.02))]
    rows[2][4] = "Song B"
    (tmp_path / "dk_bank_details_x.tsv").write_bytes(tsv(OLD_HEADER, rows))
    run_cli("ingest", str(tmp_path / "dk_bank_details_x.tsv"))

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("<!-- query-minio-example -->", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    script = tmp_path / "example.py"
    script.write_text(code)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(script)], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('Spotify', 0.06), ('Apple Music', 0.03)]"
