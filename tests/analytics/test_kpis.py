"""KPIs (assets/kpis.py, sql/kpis/): the fixtures' figures, every KPI after an ingest and after the
demo, no double counting of overlapping sources, --artist with aliases, --json, empty and missing
tables, the definitions' rules on small hand-made data, and docs/kpis.md being current.

No timings here: `make bench` (workload kpi_queries) measures the KPI queries at 10 M rows."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from assets import kpis as K
from tests.cli_helpers import query, run
from tests.conftest import BEDROT
from tests.warehouse_helpers import insert, model

IDS = set(K.ORDER)
ROW_KEYS = {"kpi", "value", "unit", "period", "as_of", "artist", "breakdown"}


def kpis_json(*args) -> list[dict]:
    result = run("kpis", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def headline(rows: list[dict], kpi: str) -> dict:
    [row] = [r for r in rows if r["kpi"] == kpi and r["breakdown"] is None]
    return row


def bank_details() -> list[dict]:
    """The fixture's bank-details TSV read independently of soundlake: tab separated, CR-only lines."""
    [path] = (BEDROT / "distrokid").glob("dk_bank_details_*.tsv")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter="\t"))


# --- the BEDROT exports, ingested once for the module -------------------------------------------


def test_revenue_matches_the_statement(at_bedrot):
    rows = kpis_json()
    total = headline(rows, "revenue_usd_total")
    assert total["value"] == pytest.approx(1587.060015, abs=1e-6)
    assert total["unit"] == "USD" and total["period"] == "all time" and total["artist"] is None
    expected: dict[str, float] = defaultdict(float)
    for line in bank_details():
        expected[line["Store"]] += float(line["Earnings (USD)"])
    by_store = {r["breakdown"]: r["value"] for r in rows if r["kpi"] == "revenue_usd_by_store"}
    assert by_store.keys() == expected.keys()
    for store, usd in expected.items():
        assert by_store[store] == pytest.approx(usd, abs=1e-6), store
    # as_of is the newest reporting date of the statement, not today
    newest = max(line["Reporting Date"] for line in bank_details())
    assert total["as_of"] == newest


def test_every_kpi_after_the_fixtures(at_bedrot):
    rows = kpis_json()
    assert {r["kpi"] for r in rows} == IDS == {d.id for d in K.discover()}
    assert len(IDS) == 25
    assert all(set(r) == ROW_KEYS for r in rows)
    assert all(r["artist"] is None for r in rows)
    assert not [r for r in rows if (r["breakdown"] or "").startswith("error")], "a KPI failed"
    for r in rows:  # a null value always says why
        if r["value"] is None:
            assert r["breakdown"].startswith("no data: "), r
    email = headline([{**r, "breakdown": None} if r["kpi"] == "email_open_rate" else r for r in rows], "email_open_rate")
    assert email["value"] is None
    assert [r["breakdown"] for r in rows if r["kpi"] == "email_open_rate"] == [
        "no data: nothing in fct_email_campaigns for this KPI"]
    # the table output names every KPI too
    out = run("kpis").stdout
    for kpi in IDS:
        assert re.search(rf"^{kpi} \(", out, re.M), kpi


def test_strict_build_and_table(at_bedrot):
    from assets.lakehouse import Lakehouse

    # as the analytics/kpis asset does: on a read-only connection (the published warehouse is
    # never written), the rows kept as curated/kpis/data.parquet and read through the view `kpis`
    con = Lakehouse.from_env().warehouse.connect(read_only=True)
    try:
        frame = K.build_kpis(con, strict=True, store=False)
        columns = con.execute("DESCRIBE kpis").fetchall()
        in_table = con.execute("SELECT count(*) FROM kpis").fetchone()[0]
    finally:
        con.close()
    assert [(c[0], c[1]) for c in columns] == [("kpi", "VARCHAR"), ("value", "DOUBLE"), ("unit", "VARCHAR"),
                                               ("period", "VARCHAR"), ("as_of", "DATE"), ("artist", "VARCHAR"),
                                               ("breakdown", "VARCHAR")]
    assert in_table == len(frame)
    assert set(frame["kpi"]) == IDS


def test_overlapping_sources_count_once(at_bedrot):
    """DistroKid's streams page and TooLost's Spotify export cover the same days, but each reports
    its own catalogue: both count, each once; the KPI equals the account rows of v_streams_daily."""
    [overlap] = query("SELECT count(*) AS days FROM fct_streams_daily a JOIN fct_streams_daily b "
                      "ON a.date = b.date AND a.platform = b.platform AND a.artist IS NULL AND b.artist IS NULL "
                      "AND a.track IS NULL AND b.track IS NULL AND a.source = 'distrokid' AND b.source = 'toolost'")
    assert overlap["days"] > 100
    [picked] = query("SELECT sum(streams) AS s, max(date) AS last FROM v_streams_daily "
                     "WHERE artist IS NULL AND track IS NULL")
    [account] = query("SELECT sum(streams) AS s FROM v_streams_account_daily")
    [distributors] = query("SELECT sum(streams) AS s FROM fct_streams_daily WHERE artist IS NULL AND track IS NULL "
                           "AND source IN ('distrokid', 'toolost')")
    total = headline(kpis_json(), "streams_total")
    assert total["value"] == picked["s"] == account["s"] == distributors["s"]
    assert query("SELECT count(*) AS n FROM (SELECT 1 FROM v_streams_daily GROUP BY date, platform, source, artist, "
                 "track HAVING count(*) > 1)") == [{"n": 0}]
    assert total["as_of"] == picked["last"]


def test_artist_filter_and_aliases(at_bedrot):
    zone = kpis_json("--artist", "zone.a0")  # the TikTok handle of ZONE A0
    assert {r["kpi"] for r in zone} == IDS
    assert {r["artist"] for r in zone} == {"ZONE A0"}
    assert kpis_json("--artist", "Zone A0") == zone == kpis_json("--artist", "ZONE A0")
    earned = sum(float(line["Earnings (USD)"]) for line in bank_details() if line["Artist"] == "ZONE A0")
    assert headline(zone, "revenue_usd_total")["value"] == pytest.approx(earned, abs=1e-6)
    pig = headline(kpis_json("--artist", "pig1987"), "revenue_usd_total")["value"]
    assert pig + headline(zone, "revenue_usd_total")["value"] == pytest.approx(1587.060015, abs=1e-6)
    # KPIs not broken down by artist say so instead of vanishing
    [delay] = [r for r in zone if r["kpi"] == "royalty_payment_delay_months"]
    assert delay["value"] is None and delay["breakdown"] == "no data: not broken down by artist"
    out = run("kpis", "--artist", "zone.a0").stdout
    assert out.startswith("KPIs: ZONE A0")

    unknown = run("kpis", "--artist", "Nobody Famous")
    assert unknown.exit_code == 2
    assert "Nobody Famous" in unknown.output and "known artists: PIG1987, ZONE A0" in unknown.output


def test_json_and_table_shapes(at_bedrot):
    rows = kpis_json()
    for r in rows:
        assert set(r) == ROW_KEYS
        assert r["value"] is None or isinstance(r["value"], float)
        assert r["as_of"] is None or date.fromisoformat(r["as_of"])
        assert isinstance(r["unit"], str) and isinstance(r["period"], str)
    # rows come KPI by KPI in the documented order, the headline first
    order = [r["kpi"] for r in rows]
    assert sorted(set(order), key=order.index) == list(K.ORDER)
    by_store = [r for r in rows if r["kpi"] == "revenue_usd_by_store"]
    assert [r["value"] for r in by_store] == sorted((r["value"] for r in by_store), reverse=True)
    top = [r for r in rows if r["kpi"] == "top_tracks_streams"]
    assert 1 <= len(top) <= 10
    out = run("kpis").stdout
    assert "more (--all, --json)" in out  # 137 countries are cut to 10
    assert "more (--all" not in run("kpis", "--all").stdout


# --- the demo ------------------------------------------------------------------------------------


def test_every_kpi_after_the_demo(demo_lake, at_demo):
    assert "kpis: 25 (" in demo_lake[1]
    rows = kpis_json()
    assert {r["kpi"] for r in rows} == IDS
    assert not [r for r in rows if (r["breakdown"] or "").startswith("error")]
    missing = {r["kpi"] for r in rows if r["value"] is None}
    assert missing == set(), missing  # the demo covers every platform, MailChimp included
    artists = {r[0] for r in duckdb.connect(str(at_demo / "warehouse.duckdb"), read_only=True).execute(
        "SELECT DISTINCT artist FROM kpis WHERE artist IS NOT NULL").fetchall()}
    assert {"Nova Lights", "Ivy Vale"} <= artists
    nova = kpis_json("--artist", "nova.lights")
    assert {r["kpi"] for r in nova} == IDS and {r["artist"] for r in nova} == {"Nova Lights"}


# --- the definitions on small hand-made data ---------------------------------------------------


def values(con) -> dict[tuple[str, str | None, str | None], dict]:
    frame = K.build_kpis(con, strict=True)
    out = {}
    for r in frame.to_dict("records"):
        artist = None if r["artist"] is None or r["artist"] != r["artist"] else r["artist"]
        out[(r["kpi"], artist, r["breakdown"])] = r
    return out


D0 = date(2025, 3, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def test_empty_lake_gives_one_empty_row_per_kpi():
    con = model()
    frame = K.build_kpis(con, strict=True)
    assert sorted(frame["kpi"]) == sorted(IDS)
    assert frame["value"].isna().all()
    assert all(b.startswith("no data: ") for b in frame["breakdown"])
    [email] = frame[frame["kpi"] == "email_open_rate"]["breakdown"]
    assert email == "no data: nothing in fct_email_campaigns for this KPI"  # the table exists, no campaign yet
    [streams] = frame[frame["kpi"] == "streams_total"]["breakdown"]
    assert "v_streams_account_daily" in streams


def test_email_open_rate_once_campaigns_are_loaded():
    con = model()
    empty = values(con)[("email_open_rate", None, "no data: nothing in fct_email_campaigns for this KPI")]
    assert pd.isna(empty["value"])
    insert(con, "fct_email_campaigns", [
        dict(campaign_id="a", sent_at="2025-03-01 10:00:00", emails_sent=100, unique_opens=50),
        dict(campaign_id="b", sent_at="2025-03-08 10:00:00", emails_sent=300, unique_opens=30),
    ])
    row = values(con)[("email_open_rate", None, None)]
    assert row["value"] == pytest.approx(20.0)  # 80 of 400, weighted by campaign size
    assert row["as_of"] == date(2025, 3, 8)


def test_windows_end_on_the_day_every_platform_reported():
    con = model()
    rows = []
    for n in range(28):  # Spotify through day 27, Apple Music one day further, YouTube stopped on day 5
        rows.append(dict(date=day(n), platform="spotify", source="distrokid", streams=10 if n >= 14 else 5))
    for n in range(29):
        rows.append(dict(date=day(n), platform="apple_music", source="distrokid", streams=1))
    for n in range(6):
        rows.append(dict(date=day(n), platform="youtube", source="distrokid", streams=1000))
    insert(con, "fct_streams_daily", rows)
    got = values(con)
    last7 = got[("streams_last_7d", None, None)]
    assert last7["as_of"] == day(27)
    assert last7["value"] == 7 * 10 + 7 * 1
    wow = got[("streams_growth_pct_wow", None, None)]
    assert wow["value"] == pytest.approx((77 / 77 - 1) * 100)
    mom = got[("streams_growth_pct_mom", None, "no data: fewer than 56 days of streams")]
    assert mom["value"] != mom["value"] or mom["value"] is None  # NaN/None: not enough history
    total = got[("streams_total", None, None)]
    assert total["value"] == 14 * 5 + 14 * 10 + 29 + 6000 and total["as_of"] == day(28)


def test_account_total_and_artist_dashboards_never_add_up():
    con = model()
    rows = []
    for n in range(10):
        rows.append(dict(date=day(n), platform="spotify", source="distrokid", streams=100))
        rows.append(dict(date=day(n), platform="spotify", source="toolost", streams=100))  # another catalogue
        rows.append(dict(date=day(n), platform="spotify", source="spotify_for_artists", artist="Nova Lights",
                         streams=60, listeners=40))
        rows.append(dict(date=day(n), platform="spotify", source="spotify_for_artists", artist="nova.lights",
                         track="Glass Harbour", streams=60))
    insert(con, "fct_streams_daily", rows)
    got = values(con)
    assert got[("streams_total", None, None)]["value"] == 2000  # both distributors' catalogues, no dashboard rows
    assert got[("streams_total", "Nova Lights", None)]["value"] == 600  # the dashboard's, under the canonical name
    assert got[("listeners_last_day", "Nova Lights", None)]["value"] == 40
    assert got[("listeners_last_day", None, None)]["value"] == 40  # no account listeners: the artists' sum


def test_top_tracks_use_daily_stats_only_when_they_cover_the_catalogue():
    con = model()
    streams, royalties = [], []
    for n in range(10):
        streams.append(dict(date=day(n), platform="spotify", source="spotify_for_artists", artist="Ivy Vale",
                            streams=100))
        streams.append(dict(date=day(n), platform="spotify", source="spotify_for_artists", artist="Ivy Vale",
                            track="Paper Satellites", streams=10))  # 10 % of the artist's streams
    for title, isrc, qty in (("Paper Satellites", "QZ1", 500), ("Low Tide Radio", "QZ2", 1500)):
        royalties.append(dict(reporting_date=date(2025, 5, 10), sale_month=date(2025, 3, 1), store="Spotify",
                              platform="spotify", artist="Ivy Vale", title=title, isrc=isrc, country="US",
                              quantity=qty, earnings_usd=qty * 0.004, item_type="Song", line_seq=1, source="distrokid"))
    insert(con, "fct_streams_daily", streams)
    insert(con, "fct_royalties", royalties)
    got = values(con)
    top = got[("top_tracks_streams", "Ivy Vale", "Low Tide Radio")]
    assert top["value"] == 1500 and top["period"] == "all time (royalty statements)"
    share = got[("catalogue_concentration_top_track_share", "Ivy Vale", None)]
    assert share["value"] == pytest.approx(75.0)

    # per-song timelines for the whole catalogue: the daily stats win
    con.execute("DELETE FROM fct_streams_daily WHERE track IS NOT NULL")
    insert(con, "fct_streams_daily", [
        dict(date=day(n), platform="spotify", source="spotify_for_artists", artist="Ivy Vale", track=t, streams=s)
        for n in range(10) for t, s in (("Paper Satellites", 70), ("Low Tide Radio", 30))])
    got = values(con)
    top = got[("top_tracks_streams", "Ivy Vale", "Paper Satellites")]
    assert top["value"] == 700 and top["period"] == "all time (daily stats)"
    assert got[("top_tracks_streams", None, "Ivy Vale — Paper Satellites")]["value"] == 700


def test_ad_windows_of_different_lengths_count_once():
    con = model()
    base = dict(platform="meta", campaign_id="c1", campaign_name="C", currency="USD", source="meta_ads")
    insert(con, "fct_ad_performance", [
        # a lifetime row and daily rows of the same ad set overlap: the lifetime row covers more
        dict(base, adset_id="a1", date_start=day(0), date_stop=day(9), spend=10.0, spend_usd=10.0,
             impressions=10_000, clicks=100),
        *[dict(base, adset_id="a1", date_start=day(n), date_stop=day(n), spend=0.5, spend_usd=0.5,
               impressions=800, clicks=8) for n in range(7, 10)],
        *[dict(base, adset_id="a2", date_start=day(n), date_stop=day(n), spend=2.0, spend_usd=2.0,
               impressions=1_000, clicks=20) for n in range(5)],
        dict(base, adset_id="a3", date_start=day(0), date_stop=day(3), currency="EUR", spend=9.0, spend_usd=None,
             impressions=5_000, clicks=50),
    ])
    got = values(con)
    assert got[("ad_spend_usd_total", None, None)]["value"] == pytest.approx(10.0 + 5 * 2.0)
    assert got[("ad_cpm_usd", None, None)]["value"] == pytest.approx(20.0 / 15_000 * 1000)
    assert got[("ad_cpc_usd", None, None)]["value"] == pytest.approx(20.0 / 200)
    assert got[("ad_spend_usd_total", None, None)]["as_of"] == day(9)


def test_revenue_month_delay_and_expected_vs_actual():
    con = model()
    lines = []
    for m, (sale, reported) in enumerate(((date(2025, 1, 1), date(2025, 3, 10)), (date(2025, 2, 1), date(2025, 4, 12)),
                                          (date(2025, 3, 1), date(2025, 4, 20)))):
        lines.append(dict(reporting_date=reported, sale_month=sale, store="Spotify", platform="spotify",
                          artist="Nova Lights", title="Glass Harbour", isrc="QZ9", country="US",
                          quantity=31_000 if m == 0 else 28_000, earnings_usd=124.0 if m == 0 else 100.0,
                          item_type="Song", line_seq=1, source="distrokid"))
    insert(con, "fct_royalties", lines)
    insert(con, "fct_streams_daily", [dict(date=date(2025, 2, 1) + timedelta(days=n), platform="spotify",
                                           source="distrokid", streams=1000) for n in range(28)])
    got = values(con)
    last = got[("revenue_usd_last_month", None, None)]
    assert last["period"] == "2025-04" and last["value"] == pytest.approx(200.0)
    assert last["as_of"] == date(2025, 4, 20)
    assert got[("royalty_payment_delay_months", None, None)]["value"] == 2  # delays 2, 2, 1
    assert got[("royalty_payment_delay_months", None, "Spotify")]["value"] == 2
    # February: 28,000 streams at January's 0.004 USD per stream = 112 USD expected, 100 paid
    feb = got[("expected_vs_actual_revenue_usd", None, "spotify")]
    assert feb["period"] == "2025-02" and feb["value"] == pytest.approx(100.0 - 112.0)
    assert got[("expected_vs_actual_revenue_usd", None, None)]["value"] == pytest.approx(-12.0)


# --- the runner -------------------------------------------------------------------------------------


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_a_failing_kpi_is_an_error_row_unless_strict(tmp_path):
    kpi_dir = tmp_path / "kpis"
    kpi_dir.mkdir()
    write(kpi_dir / "broken.sql", "-- kpi: broken\n-- topic: lake\n-- unit: x\n-- period: all time\n"
                                  "-- definition: divides by a column that is not there\nSELECT nope AS value FROM lake_files")
    write(kpi_dir / "missing.sql", "-- kpi: missing\n-- topic: lake\n-- unit: x\n-- period: all time\n"
                                   "-- definition: reads a table no source fills\nSELECT 1.0 AS value, NULL AS period, "
                                   "NULL::DATE AS as_of, NULL AS artist, NULL AS breakdown FROM fct_nothing")
    con = model()
    frame = K.build_kpis(con, kpi_dir=kpi_dir)
    rows = {r["kpi"]: r for r in frame.to_dict("records")}
    assert rows["broken"]["breakdown"].startswith("error: ")
    assert rows["missing"]["breakdown"] == "no data: fct_nothing does not exist"
    with pytest.raises(K.KpiError, match="broken"):
        K.build_kpis(con, kpi_dir=kpi_dir, strict=True)


def test_headers_are_checked(tmp_path):
    ok = "-- kpi: {id}\n-- topic: lake\n-- unit: x\n-- period: p\n-- definition: d\n--   more of it\nSELECT 1"
    kpi = K.parse_kpi(write(tmp_path / "good_one.sql", ok.format(id="good_one")))
    assert kpi.definition == "d more of it" and kpi.sql == "SELECT 1"
    with pytest.raises(K.KpiError, match="file name"):
        K.parse_kpi(write(tmp_path / "other.sql", ok.format(id="not_other")))
    with pytest.raises(K.KpiError, match="lacks unit"):
        K.parse_kpi(write(tmp_path / "no_unit.sql", ok.format(id="no_unit").replace("-- unit: x\n", "")))
    with pytest.raises(K.KpiError, match="topic"):
        K.parse_kpi(write(tmp_path / "bad_topic.sql", ok.format(id="bad_topic").replace("topic: lake", "topic: vibes")))
    with pytest.raises(K.KpiError, match="no SQL"):
        K.parse_kpi(write(tmp_path / "empty.sql", "-- kpi: empty\n-- topic: lake\n-- unit: x\n-- period: p\n-- definition: d\n"))


def test_kpi_sql_is_reproducible():
    """No KPI or input depends on the day it runs: "last 7 days" end on the newest day of the data."""
    for path in sorted(K.KPI_DIR.rglob("*.sql")):
        body = "\n".join(line for line in path.read_text().splitlines() if not line.strip().startswith("--"))
        assert not re.search(r"\b(current_date|current_timestamp|now\s*\(|today\s*\(|get_current)", body, re.I), path


# --- docs/kpis.md -------------------------------------------------------------------------------


def test_docs_are_current():
    assert K.DOC_PATH.exists(), "docs/kpis.md is missing: run `python -m assets.kpis`"
    assert K.DOC_PATH.read_text(encoding="utf-8") == K.render_docs(), (
        "docs/kpis.md is out of date with sql/kpis/: run `python -m assets.kpis`")
    text = K.DOC_PATH.read_text(encoding="utf-8")
    for d in K.discover():
        assert f"### {d.id}\n" in text and K._cell(d.definition) in text
    for d in K.discover_inputs():
        assert f"### {d.name}\n" in text


def test_docs_check_flag(tmp_path, monkeypatch, capsys):
    proc = subprocess.run([sys.executable, "-m", "assets.kpis", "--check"], cwd=K.ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    stale = tmp_path / "kpis.md"
    monkeypatch.setattr(K, "DOC_PATH", stale)
    assert K.main(["--check"]) == 1
    assert "missing" in capsys.readouterr().err
    stale.write_text(K.render_docs().replace("royalty", "loyalty"), encoding="utf-8")
    assert K.main(["--check"]) == 1
    assert K.main([]) == 0 and K.main(["--check"]) == 0


def test_followers_growth_counts_follows_of_accounts_without_follower_counts():
    con = model()
    rows = []
    for n in range(40):
        # TikTok reports its follower count: growth is the count's change over 30 days
        rows.append(dict(date=day(n), platform="tiktok", source="tiktok", account="nova.lights", followers=1000 + 2 * n))
        # YouTube reports subscribers gained and lost; X follows and unfollows; neither a count
        rows.append(dict(date=day(n), platform="youtube", source="youtube", account="Nova Lights", new_follows=3,
                         unfollows=1, subscribers=2))
        rows.append(dict(date=day(n), platform="x", source="x", account="novalights", new_follows=5, unfollows=2,
                         followers_change=3))
    for n in range(30, 40):  # ten days of Instagram follows: too short a series to say
        rows.append(dict(date=day(n), platform="instagram", source="instagram", account="ivy", new_follows=9))
    insert(con, "fct_social_daily", rows)
    row = values(con)[("followers_growth_30d", None, None)]
    assert row["value"] == 2 * 30 + 2 * 30 + 3 * 30
    assert row["as_of"] == day(39)
