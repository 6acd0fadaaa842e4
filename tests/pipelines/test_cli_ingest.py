"""`soundlake ingest` end to end on the local lake: the fixtures' figures, duplicates, bad input
(each quarantined with a reason naming the file and the problem, the rest of the batch loading,
curated untouched), reprocessing after a fix, the CLI's output formats and exit codes."""

import io
import json
import zipfile
from pathlib import Path

from assets.lakehouse import Lakehouse
from assets.model import ANALYTICS_TABLES
from assets.sources import SOURCES
from assets.sources.distrokid import write_samples
from tests.cli_helpers import query, run
from tests.sources.test_distrokid import OLD_HEADER, tsv

GOOD_ROW = ["2024-10-05", "2024-08", "Spotify", "Nova", "Song A", "QZ1", "1", "10", "100", "Song", "US", "0", "0.04"]


def ingest_json(*paths, extra=()):
    result = run("ingest", *paths, *extra, "--json")
    return result.exit_code, json.loads(result.stdout)


def curated_snapshot(home: Path) -> dict[str, bytes]:
    root = home / "lake" / "curated"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_fixtures_figures_and_duplicates(local_env, bedrot):
    code, results = ingest_json(bedrot / "distrokid")
    assert code == 0, results
    assert {r["status"] for r in results} == {"loaded"}
    assert all(set(r) == {"path", "source", "dataset", "sha256", "status", "rows", "reason"} for r in results)
    [roy] = query("SELECT count(*) AS n, sum(quantity) AS q, round(sum(earnings_usd), 6) AS e FROM fct_royalties")
    assert roy == {"n": 8635, "q": 616709, "e": 1587.060015}
    [streams] = query("SELECT count(*) AS days, sum(streams) AS s, min(date) AS first, max(date) AS last "
                      "FROM fct_streams_daily WHERE source = 'distrokid' AND platform <> 'apple_music'")
    assert streams == {"days": 276, "s": 677589, "first": "2024-08-23", "last": "2025-05-25"}
    [apple] = query("SELECT count(*) AS days FROM fct_streams_daily WHERE platform = 'apple_music'")
    assert apple["days"] == 263
    assert query("SELECT count(*) AS n FROM fct_royalties WHERE platform = 'unknown'") == [{"n": 0}]

    before = curated_snapshot(local_env)
    warehouse_before = query("SELECT count(*) AS n FROM fct_streams_daily")
    code, again = ingest_json(bedrot / "distrokid")
    assert code == 0
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert [r["sha256"] for r in again] == [r["sha256"] for r in results]
    assert curated_snapshot(local_env) == before, "a duplicate changes no table"
    assert query("SELECT count(*) AS n FROM fct_streams_daily") == warehouse_before
    files = query("SELECT status, count(*) AS n FROM lake_files GROUP BY status ORDER BY status")
    assert files == [{"status": "duplicate", "n": 3}, {"status": "loaded", "n": 3}]
    raw = [p for p in (local_env / "lake" / "raw" / "distrokid").rglob("*") if p.is_file()]
    assert len(raw) == 3, "content-addressed: stored once"


def test_profile_never_leaves_raw(local_env, bedrot):
    code, _ = ingest_json(bedrot / "distrokid")
    assert code == 0
    secret_bits = [b"artist@example.com", b"exampleartist", b"00000000-0000-0000-0000000000000000"]
    lake = local_env / "lake"
    for zone in ("staging", "curated"):
        for p in (lake / zone).rglob("*"):
            if p.is_file():
                assert not any(s in p.read_bytes() for s in secret_bits), p
    assert not any(s in (local_env / "warehouse.duckdb").read_bytes() for s in secret_bits)
    rows = query("SELECT * FROM fct_streams_daily LIMIT 1000")
    assert "artist@example.com" not in json.dumps(rows)
    # raw keeps the file byte for byte
    assert any(b"artist@example.com" in p.read_bytes() for p in (lake / "raw").rglob("*.html"))


def bad_files(folder: Path) -> dict[str, str]:
    """File name -> a piece of the reason it must be quarantined with."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dk_bank_details_empty.tsv").write_bytes(b"")
    (folder / "dk_bank_details_garbage.tsv").write_bytes(bytes(range(256)) * 64)
    (folder / "dk_bank_details_truncated.tsv").write_bytes(tsv(OLD_HEADER, [GOOD_ROW, GOOD_ROW[:5]]))
    (folder / "dk_bank_details_nocol.tsv").write_bytes(
        tsv([h for h in OLD_HEADER if h != "Quantity"], [[v for i, v in enumerate(GOOD_ROW) if i != 7]]))
    (folder / "streams_stats_nocharts.html").write_bytes(b"<html><body>Please log in</body></html>")
    (folder / "holiday_photos.txt").write_bytes(b"not a music export at all\n")
    with zipfile.ZipFile(folder / "bundle.zip", "w") as zf:
        zf.writestr("../../evil.tsv", tsv(OLD_HEADER, [GOOD_ROW]))
    return {
        "dk_bank_details_empty.tsv": "empty",
        "dk_bank_details_garbage.tsv": "binary",
        "dk_bank_details_truncated.tsv": "line 3 has 5 fields",
        "dk_bank_details_nocol.tsv": "'Quantity'",
        "streams_stats_nocharts.html": "no streams chart",
        "holiday_photos.txt": "matches no source",
        "../../evil.tsv": "refused before landing",
    }


def test_bad_input_is_quarantined_and_nothing_else_changes(local_env, tmp_path):
    good = write_samples(tmp_path / "good", seed=5)
    code, first = ingest_json(*good)
    assert code == 0
    before = curated_snapshot(local_env)
    totals = query("SELECT count(*) AS n, sum(earnings_usd) AS e FROM fct_royalties")

    expected = bad_files(tmp_path / "bad")
    extra_good = tmp_path / "bad" / "dk_bank_details_extra.tsv"
    extra_good.write_bytes(tsv(OLD_HEADER, [GOOD_ROW]))
    code, results = ingest_json(tmp_path / "bad")
    assert code == 3
    by_name = {r["path"].split("!")[-1] if "!" in r["path"] else Path(r["path"]).name: r for r in results}
    for name, needle in expected.items():
        r = by_name[name]
        assert r["status"] == "quarantined", r
        assert needle in r["reason"], r
        assert Path(name).name in r["reason"] or name in r["reason"], "the reason names the file"
    assert by_name["dk_bank_details_extra.tsv"]["status"] == "loaded", "the rest of the batch still loads"
    assert by_name["dk_bank_details_extra.tsv"]["rows"] == 1

    after = curated_snapshot(local_env)
    changed = {k for k in after if before.get(k) != after[k]} | (set(before) - set(after))
    # in the model only the good file's month changed; analytics derived from it (revenue per
    # stream, payment delays, ...) follow it
    # (a partition's file is named by its content: the month's old file went, a new one came;
    # _state/ records the tables' new versions)
    model_changed = {k.rpartition("/")[0] for k in changed
                     if k.split("/")[0] not in {*ANALYTICS_TABLES, "kpis"} and not k.startswith("_state/")}
    assert model_changed == {"fct_royalties/month=2024-10"}, "only the good file's month changed"
    new_totals = query("SELECT count(*) AS n, sum(earnings_usd) AS e FROM fct_royalties")
    assert new_totals[0]["n"] == totals[0]["n"] + 1
    assert not list((local_env / "lake").rglob("evil.tsv")), "the zip-slip member never landed"

    status = json.loads(run("status", "--json").stdout)
    quarantined = {q["file"] for s in status for q in s["quarantined_files"]}
    assert {"dk_bank_details_empty.tsv", "holiday_photos.txt", "streams_stats_nocharts.html"} <= quarantined
    # quarantined files stay in raw (except the refused path, which never landed)
    assert len(list((local_env / "lake" / "raw" / "_unidentified").rglob("*.txt"))) == 1


def test_quarantined_file_is_reprocessed_after_a_fix(local_env, tmp_path):
    f = tmp_path / "mystery_export.tsv"  # a name no source recognises, and content without the header
    f.write_bytes(tsv(OLD_HEADER, [GOOD_ROW]).replace(b"Reporting Date\t", b"Reporting Day\t"))
    code, [r] = ingest_json(f)
    assert code == 3 and r["status"] == "quarantined"
    # after the "fix" (here: the person tells soundlake which source it is) the same bytes land again
    code, [dup] = ingest_json(f, extra=("--source", "distrokid"))
    assert dup["status"] == "duplicate" and "quarantined" in dup["reason"]
    # reprocessing from raw: still unreadable as distrokid, with a reason that names the column
    result = run("reprocess", "--json")
    assert result.exit_code == 3
    # a correct file with the same name loads, and reprocess leaves it loaded
    g = tmp_path / "dk_bank_details_fixed.tsv"
    g.write_bytes(tsv(OLD_HEADER, [GOOD_ROW]))
    code, [ok] = ingest_json(g)
    assert code == 0 and ok["status"] == "loaded"


def test_reprocess_picks_up_a_fixed_parser(local_env, tmp_path, monkeypatch):
    from assets.sources import SOURCES, distrokid

    bad = tmp_path / "dk_bank_details_semicolon.tsv"
    bad.write_bytes(tsv(OLD_HEADER, [GOOD_ROW]).replace(b"\t", b";"))
    code, [r] = ingest_json(bad)
    assert code == 3 and "missing column" in r["reason"]

    original = distrokid.parse_bank_details

    def fixed(data, ctx):
        return original(data.replace(b";", b"\t"), ctx)

    ds = distrokid.BANK_DETAILS.__class__(**{**distrokid.BANK_DETAILS.__dict__, "parse": fixed})
    src = distrokid.SOURCE.__class__(**{**distrokid.SOURCE.__dict__, "datasets": (ds,) + distrokid.SOURCE.datasets[1:],
                                        "version": distrokid.SOURCE.version + 1})
    monkeypatch.setitem(SOURCES, "distrokid", src)
    house = Lakehouse.from_env()
    assert house.lake.sources["distrokid"].version == src.version
    results = house.lake.stage()  # a new parser version retries quarantined files by itself
    assert [x.status for x in results.values()] == ["loaded"]
    house.lake.build_curated()
    house.refresh_warehouse()
    assert query("SELECT count(*) AS n FROM fct_royalties") == [{"n": 1}]


def test_cli_usage_errors_and_formats(local_env, tmp_path):
    assert run("ingest").exit_code == 2
    assert run("ingest", tmp_path / "nope.tsv").exit_code == 2
    assert run("ingest", tmp_path, "--source", "myspace").exit_code == 2
    assert run("ingest", tmp_path, "--as-of", "yesterday").exit_code == 2
    f = tmp_path / "dk_bank_details_1.tsv"
    f.write_bytes(tsv(OLD_HEADER, [GOOD_ROW]))
    assert run("ingest", f).exit_code == 0
    out = run("query", "SELECT store, quantity, earnings_usd FROM fct_royalties", "--format", "csv").stdout
    assert out.splitlines() == ["store,quantity,earnings_usd", "Spotify,10,0.04"]
    table = run("query", "SELECT store FROM fct_royalties").stdout
    assert "Spotify" in table
    bad = run("query", "SELECT nope FROM nowhere")
    assert bad.exit_code == 1 and "query failed" in bad.output
    assert "ingest" in run("--help").stdout


def test_zip_of_exports_is_opened(local_env, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("exports/dk_bank_details_2.tsv", tsv(OLD_HEADER, [GOOD_ROW]))
    (tmp_path / "exports.zip").write_bytes(buf.getvalue())
    code, [r] = ingest_json(tmp_path / "exports.zip")
    assert code == 0 and r["dataset"] == "bank_details" and r["rows"] == 1


def test_demo_summary(local_env):
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert "fct_royalties" in result.stdout and "fct_streams_daily" in result.stdout
    summary = json.loads(run("demo", "--json").stdout)
    assert summary["tables"]["fct_royalties"] > 0 and summary["tables"]["fct_streams_daily"] >= 730
    # the demo covers every platform module: every curated table and every source has rows
    assert all(n > 0 for n in summary["tables"].values()), summary["tables"]
    sources = query("SELECT DISTINCT source FROM lake_files WHERE status = 'loaded' ORDER BY 1")
    assert [r["source"] for r in sources] == sorted(SOURCES)
    # the second demo brings the same exports again: duplicates; Linktree's unused capture stays unused
    n = summary["exports"]
    assert summary["files"] == {"duplicate": n, "loaded": n - 1, "unused": 1}
    # and the analytics: moments, forecasts with baselines in the backtest
    assert summary["analytics"]["viral_moments"] > 0 and summary["analytics"]["forecasts"] > 0
    assert summary["forecasts"]["compared"] > 0


def test_archive_keeps_previous_versions_and_old_raw(local_env, tmp_path):
    from datetime import datetime, timedelta, timezone

    f1 = tmp_path / "dk_bank_details_20250101_000000.tsv"
    f1.write_bytes(tsv(OLD_HEADER, [GOOD_ROW]))
    assert ingest_json(f1)[0] == 0
    row2 = GOOD_ROW[:7] + ["20"] + GOOD_ROW[8:]
    f2 = tmp_path / "dk_bank_details_20250201_000000.tsv"
    f2.write_bytes(tsv(OLD_HEADER, [GOOD_ROW, row2]))
    assert ingest_json(f2)[0] == 0
    archive = local_env / "lake" / "archive" / "curated" / "fct_royalties"
    assert len(list(archive.rglob("*.parquet"))) == 1, "the rewritten month's previous version is archived"

    house = Lakehouse.from_env()
    moved = house.lake.archive_raw(30, now=datetime.now(timezone.utc) + timedelta(days=31))
    assert len(moved) == 2
    assert not list((local_env / "lake" / "raw" / "distrokid").rglob("*.tsv"))
    assert len(list((local_env / "lake" / "archive" / "raw").rglob("*.tsv"))) == 2
    # the archived raw files are still readable: a full rebuild gives the same curated table
    before = curated_snapshot(local_env)
    for p in (local_env / "lake" / "staging").rglob("*.parquet"):
        p.unlink()
    house.lake.stage(reprocess=True)
    house.lake.build_curated()
    assert curated_snapshot(local_env) == before


def test_same_file_name_twice_in_one_batch(local_env, tmp_path):
    """Two exports with one name (from two folders) in one batch both land; neither overwrites."""
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, title in ((a, "Song A"), (b, "Song B")):
        folder.mkdir()
        row = GOOD_ROW[:4] + [title] + GOOD_ROW[5:]
        (folder / "dk_bank_details.tsv").write_bytes(tsv(OLD_HEADER, [row]))
    code, out = ingest_json(a, b)
    assert code == 0, out
    assert [r["status"] for r in out] == ["loaded", "loaded"]
    assert len({r["sha256"] for r in out}) == 2
    assert query("SELECT string_agg(title, ',' ORDER BY title) AS t FROM fct_royalties") == [{"t": "Song A,Song B"}]
    names = query("SELECT original_name FROM lake_files ORDER BY original_name")
    assert names == [{"original_name": "dk_bank_details (2).tsv"}, {"original_name": "dk_bank_details.tsv"}]
