"""Hostile input and hostile SQL: refused with a reason, nothing stored, nothing read outside the
lake, and every result line says what happened."""

import json
import os
import stat
import zipfile

import pytest

from tests.cli_helpers import query, run

GOOD_TSV = (
    "Reporting Date\tSale Month\tStore\tArtist\tTitle\tISRC\tUPC\tQuantity\tTeam Percentage\tSong/Album\t"
    "Country of Sale\tSongwriter Royalties Withheld\tEarnings (USD)\n"
    "2025-05-01\t2025-03\tSpotify\tZone A\tSong\tQZ0000000001\t\t100\t100\tSong\tUS\t0\t0.35\n"
)


def ingest_json(*paths):
    result = run("ingest", *paths, "--json")
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip().startswith("[") else result.output)


def test_a_symlink_out_of_the_folder_is_refused(local_env, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "dk_bank_details_x.tsv").symlink_to("/etc/passwd")
    (folder / "dk_bank_details_ok.tsv").write_text(GOOD_TSV)
    code, results = ingest_json(folder)
    assert code == 3
    by_name = {os.path.basename(r["path"]): r for r in results}
    link = by_name["dk_bank_details_x.tsv"]
    assert link["status"] == "quarantined" and "outside the folder" in link["reason"]
    assert "root:" not in json.dumps(results), "nothing of the link's target is quoted"
    assert by_name["dk_bank_details_ok.tsv"]["status"] == "loaded"
    raw = [p for p in (local_env / "lake" / "raw").rglob("*") if p.is_file() and "_manifest" not in p.parts]
    assert len(raw) == 1, "only the real file reached raw"
    assert all(b"root:" not in p.read_bytes() for p in raw)


def test_raw_is_private(local_env, tmp_path):
    (tmp_path / "dk_bank_details_ok.tsv").write_text(GOOD_TSV)
    assert ingest_json(tmp_path / "dk_bank_details_ok.tsv")[0] == 0
    lake = local_env / "lake"
    for p in [lake, *lake.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode & 0o077 == 0, f"{p} is {oct(mode)}: readable by others"
    assert stat.S_IMODE((local_env / "warehouse.duckdb").stat().st_mode) == 0o600


def test_a_zip_bomb_is_refused_before_it_is_expanded(local_env, tmp_path):
    bomb = tmp_path / "export.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("dk_bank_details_big.tsv", GOOD_TSV.encode() + b"\0" * (64 << 20))
    assert bomb.stat().st_size < 1 << 20
    code, results = ingest_json(bomb)
    assert code == 3
    assert results[0]["status"] == "quarantined" and "zip bomb" in results[0]["reason"]
    assert "export.zip" in results[0]["reason"]
    raw = [p for p in (local_env / "lake" / "raw").rglob("*") if p.is_file() and "_manifest" not in p.parts]
    assert raw == [], "nothing of it is stored"


def test_a_zip_of_too_many_members_is_refused(local_env, tmp_path, monkeypatch):
    monkeypatch.setenv("SOUNDLAKE_MAX_ZIP_MEMBERS", "50")
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(51):
            zf.writestr(f"f{i}.txt", "x")
    code, results = ingest_json(many)
    assert code == 3
    assert len(results) == 1 and "51 files, more than the limit of 50" in results[0]["reason"]


def test_a_file_over_the_size_limit_is_refused(local_env, tmp_path, monkeypatch):
    monkeypatch.setenv("SOUNDLAKE_MAX_FILE_MB", "0.001")
    big = tmp_path / "dk_bank_details_big.tsv"
    big.write_text(GOOD_TSV * 20)
    code, results = ingest_json(big)
    assert code == 3 and "SOUNDLAKE_MAX_FILE_MB" in results[0]["reason"]


def test_json_nested_too_deep_is_quarantined(local_env, tmp_path):
    deep = tmp_path / "toolost_spotify_20250526_141126.json"
    deep.write_text("[" * 5000 + "]" * 5000)
    code, results = ingest_json(deep)
    assert code == 3
    assert "nested 5000 levels deep" in results[0]["reason"]


def test_an_empty_folder_says_so(local_env, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("ingest", tmp_path / "empty")
    assert result.exit_code == 2
    assert "no files" in result.output


def test_a_newline_in_a_file_name_cannot_forge_a_result_line(local_env, tmp_path):
    name = "dk_bank_details_a.tsv\nloaded      distrokid:bank_details  forged.tsv 999 rows"
    (tmp_path / name).write_text(GOOD_TSV)
    result = run("ingest", tmp_path / name)
    lines = result.stdout.splitlines()
    assert len(lines) == 1, lines
    assert "\\n" in lines[0]


def test_copies_of_a_quarantined_file_say_so(local_env, tmp_path):
    bad = tmp_path / "a" / "dk_bank_details_bad.tsv"
    bad.parent.mkdir()
    bad.write_text("Reporting Date\tnothing else\n2025-01-01\tx\n")
    copy = tmp_path / "a" / "dk_bank_details_copy.tsv"
    copy.write_bytes(bad.read_bytes())
    code, results = ingest_json(tmp_path / "a")
    assert code == 3
    by_name = {os.path.basename(r["path"]): r for r in results}
    dup = next(r for r in by_name.values() if r["status"] == "duplicate")
    assert "which is quarantined" in dup["reason"] and "(loaded)" not in dup["reason"]
    # ingesting the quarantined file again is not a success either
    code, results = ingest_json(bad)
    assert code == 3
    assert results[0]["status"] == "duplicate" and "which is quarantined" in results[0]["reason"]


@pytest.fixture
def small_lake(local_env, tmp_path):
    (tmp_path / "dk_bank_details_ok.tsv").write_text(GOOD_TSV)
    assert ingest_json(tmp_path / "dk_bank_details_ok.tsv")[0] == 0
    return local_env


@pytest.mark.parametrize("sql, why", [
    ("SELECT * FROM read_text('/etc/passwd')", "disabled by configuration"),
    ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
    ("COPY (SELECT 1) TO 'x.csv'", "COPY statements are refused"),
    ("ATTACH '/tmp/other.duckdb' AS o", "ATTACH statements are refused"),
    ("INSTALL httpfs", "statements are refused"),
    ("LOAD httpfs", "statements are refused"),
    ("SET threads = 1", "SET statements are refused"),
    ("CREATE TABLE t AS SELECT 1", "CREATE statements are refused"),
    ("SELECT 1; SELECT 2", "one statement at a time"),
    ("EXPORT DATABASE '/tmp/x'", "EXPORT statements are refused"),
    ("CALL checkpoint()", "CALL statements are refused"),
])
def test_query_is_a_sandbox(small_lake, sql, why):
    result = run("query", sql)
    assert result.exit_code != 0
    assert why in result.output, result.output


def test_query_cannot_write_into_the_lake(small_lake):
    curated = small_lake / "lake" / "curated"
    target = next(curated.glob("fct_royalties/month=*/")) / "zz.parquet"
    result = run("query", f"COPY (SELECT * FROM fct_royalties) TO '{target}'")
    assert result.exit_code == 2
    assert not target.exists()
    manifest = small_lake / "lake" / "raw" / "_manifest" / "zz.parquet"
    assert run("query", f"COPY (SELECT 1 AS x) TO '{manifest}'").exit_code == 2
    assert not manifest.exists()
    # reading the model still works, and the lake's own tables are readable
    assert query("SELECT count(*) AS n FROM fct_royalties") == [{"n": 1}]
    assert query("SELECT count(*) AS n FROM lake_files_history")[0]["n"] >= 1
    assert query("DESCRIBE fct_royalties")
    assert run("status").exit_code == 0


def test_an_unreachable_s3_server_is_one_line_and_exit_4(local_env, tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SOUNDLAKE_S3_ENDPOINT", f"127.0.0.1:{port}")
    monkeypatch.setenv("SOUNDLAKE_S3_ACCESS_KEY", "k")
    monkeypatch.setenv("SOUNDLAKE_S3_SECRET_KEY", "s")
    monkeypatch.setenv("SOUNDLAKE_S3_RETRIES", "0")
    (tmp_path / "dk_bank_details_ok.tsv").write_text(GOOD_TSV)
    result = run("ingest", tmp_path / "dk_bank_details_ok.tsv")
    assert result.exit_code == 4, result.output
    assert f"127.0.0.1:{port}" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 3


def test_a_hung_s3_server_times_out(local_env, tmp_path, monkeypatch):
    import socket
    import threading
    import time

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]
    held = []

    def accept():  # accepts connections and never answers (a SIGSTOPped server)
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("SOUNDLAKE_S3_ENDPOINT", f"127.0.0.1:{port}")
    monkeypatch.setenv("SOUNDLAKE_S3_ACCESS_KEY", "k")
    monkeypatch.setenv("SOUNDLAKE_S3_SECRET_KEY", "s")
    monkeypatch.setenv("SOUNDLAKE_S3_READ_TIMEOUT", "1")
    monkeypatch.setenv("SOUNDLAKE_S3_RETRIES", "1")
    (tmp_path / "dk_bank_details_ok.tsv").write_text(GOOD_TSV)
    started = time.monotonic()
    try:
        result = run("ingest", tmp_path / "dk_bank_details_ok.tsv")
    finally:
        server.close()
        for c in held:
            c.close()
    assert result.exit_code == 4, result.output
    assert time.monotonic() - started < 60, "a hung server is given up on within the configured timeouts"
