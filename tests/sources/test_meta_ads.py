"""Meta Ads: Graph API insights and campaigns (JSON) and Ads Manager CSV exports into
fct_ad_performance and dim_ad_campaign."""

import json
import re
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from assets.sources.base import ParseContext, ParseError, UnusedContent
from assets.sources.meta_ads import (
    _ad_performance,
    parse_ads_manager,
    parse_campaigns,
    parse_insights,
    write_samples,
)
from tests.cli_helpers import query, run

INSIGHTS = "insights_20250527_131455.json"
CAMPAIGNS = "campaigns_20250527_131455.json"


def ctx(name, **options):
    return ParseContext("meta_ads", "x", name, "0" * 64, datetime(2025, 5, 27, tzinfo=timezone.utc), options=options)


def raises(message):
    return pytest.raises(ParseError, match=re.escape(message))


def row(**over):
    base = {"campaign_id": "111", "campaign_name": "C", "adset_id": "211", "adset_name": "A", "spend": "3.41",
            "impressions": "1321", "clicks": "8", "cpc": "0.42625", "ctr": "0.605602", "reach": "1299",
            "frequency": "1.016936", "date_start": "2025-05-23", "date_stop": "2025-05-27"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def insights(rows, envelope=False, **options):
    doc = {"data": rows, "paging": {"cursors": {"before": "a", "after": "b"}}} if envelope else rows
    return parse_insights(json.dumps(doc).encode(), ctx("insights_x.json", **options))


def csv_bytes(lines, sep=",", bom=True):
    text = "\r\n".join(sep.join(cells) if isinstance(cells, list) else cells for cells in lines) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode("utf-8")


# --- Graph API JSON ------------------------------------------------------------------------------

def test_real_insights(bedrot):
    df = parse_insights((bedrot / "metaads" / INSIGHTS).read_bytes(), ctx(INSIGHTS))
    assert len(df) == 31
    assert df["spend"].sum() == pytest.approx(1889.10)
    assert df["impressions"].sum() == 5255985
    assert set(df["currency"]) == {"USD"}  # no account_currency in the rows: the USD default
    assert df["adset_id"].notna().all() and df["adset_id"].is_unique
    assert df["date_stop"].eq(date(2025, 5, 27)).all() and df["date_start"].min() == date(2025, 1, 20)
    first = df.iloc[0]
    assert (first["campaign_id"], first["spend"], first["clicks"], first["cpc"]) == ("120224907266750075", 3.41, 8, 0.42625)


def test_real_campaigns(bedrot):
    df = parse_campaigns((bedrot / "metaads" / CAMPAIGNS).read_bytes(), ctx(CAMPAIGNS))
    assert len(df) == 13 and df["campaign_id"].is_unique
    assert df["status"].value_counts().to_dict() == {"PAUSED": 10, "ACTIVE": 3}
    first = df.iloc[0]
    # 2025-05-23T06:57:56-0700 is 13:57:56 UTC
    assert first["start_time"] == pd.Timestamp("2025-05-23 13:57:56", tz="UTC")
    assert first["objective"] == "OUTCOME_ENGAGEMENT"


def test_daily_rows_in_an_envelope_with_account_currency():
    rows = [row(date_start=d, date_stop=d, adset_id=a, account_id="1029", account_currency="EUR",
                spend="1.5", cpc=None) for d in ("2025-05-01", "2025-05-02") for a in ("211", "212")]
    df = insights(rows, envelope=True)
    assert len(df) == 4 and (df["date_start"] == df["date_stop"]).all()
    assert set(df["currency"]) == {"EUR"} and set(df["account_id"]) == {"1029"}
    assert df["cpc"].isna().all()  # the API leaves cpc out when it cannot compute it
    assert df["spend"].sum() == pytest.approx(6.0)


def test_currency_comes_from_the_row_then_the_option_then_usd():
    assert insights([row()])["currency"].tolist() == ["USD"]
    assert insights([row()], currency="GBP")["currency"].tolist() == ["GBP"]
    assert insights([row(account_currency="eur")], currency="GBP")["currency"].tolist() == ["EUR"]


def test_campaign_level_insights_have_no_ad_set():
    df = insights([row(adset_id=None, adset_name=None)])
    assert df["adset_id"].isna().all() and df["campaign_id"].tolist() == ["111"]


@pytest.mark.parametrize("rows, envelope, message", [
    ([row(), row(adset_id="2"), row(adset_id="3"), row(adset_id="4", spend=None)], False, "[3].spend: missing"),
    ([row(), row(adset_id="2", spend=None)], True, "data[1].spend: missing"),
    ([row(impressions="12a")], False, "[0].impressions: '12a' is not a whole number"),
    ([row(impressions="12.5")], False, "[0].impressions: '12.5' is not a whole number"),
    ([row(spend="3,41")], False, "[0].spend: '3,41' is not a number"),
    ([row(date_start="23/05/2025")], False, "[0].date_start: '23/05/2025' is not a date"),
    ([row(date_start="2025-05-28")], False, "[0]: date_stop 2025-05-27 is before date_start 2025-05-28"),
    ([row(campaign_id=None)], False, "[0].campaign_id: missing"),
    ([row(ad_id="1"), row(ad_id="2")], False, "2 rows share one campaign × ad set × window"),
    ([row(), "x"], False, "[1] is not an object"),
])
def test_insights_bad_input(rows, envelope, message):
    with raises(message):
        insights(rows, envelope=envelope)


def test_insights_not_data():
    with raises("Graph API error, not insights rows: 'Invalid OAuth access token.'"):
        parse_insights(json.dumps({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException",
                                             "code": 190}}).encode(), ctx("insights_x.json"))
    with raises("not valid JSON"):
        parse_insights(b'[{"campaign_id": ', ctx("insights_x.json"))
    with raises("the object has keys ['rows']"):
        parse_insights(b'{"rows": []}', ctx("insights_x.json"))
    with pytest.raises(UnusedContent, match="no rows"):
        parse_insights(b'{"data": [], "paging": {}}', ctx("insights_x.json"))


def test_campaigns_envelope_and_bad_input():
    camp = {"id": "1", "name": "C", "status": "PAUSED", "objective": "OUTCOME_TRAFFIC",
            "start_time": "2025-05-23T06:57:56-0700", "created_time": "2025-05-23T06:57:55+0000"}
    df = parse_campaigns(json.dumps({"data": [camp], "paging": {}}).encode(), ctx("campaigns_x.json"))
    assert df["created_time"].iloc[0] == pd.Timestamp("2025-05-23 06:57:55", tz="UTC")
    assert df["updated_time"].isna().all()
    with raises("data[1].start_time: 'yesterday' is not a time"):
        parse_campaigns(json.dumps({"data": [camp, {**camp, "id": "2", "start_time": "yesterday"}]}).encode(),
                        ctx("campaigns_x.json"))
    with raises("[1].id: campaign '1' appears twice"):
        parse_campaigns(json.dumps([camp, camp]).encode(), ctx("campaigns_x.json"))
    with raises("[0].id: missing"):
        parse_campaigns(json.dumps([{k: v for k, v in camp.items() if k != "id"}]).encode(), ctx("campaigns_x.json"))
    with raises("not a Meta Ads campaigns list"):  # say, another platform's campaigns_*.json
        parse_campaigns(json.dumps([{"id": "a1", "title": "Newsletter"}]).encode(), ctx("campaigns_x.json"))


# --- Ads Manager CSV -----------------------------------------------------------------------------

COMMA_HEADER = ['"Reporting starts"', '"Reporting ends"', '"Campaign name"', '"Campaign ID"', '"Ad set name"',
                '"Ad set ID"', '"Impressions"', '"Reach"', '"Frequency"', '"Amount spent (USD)"',
                '"CPM (cost per 1,000 impressions) (USD)"', '"Link clicks"', '"CPC (cost per link click) (USD)"',
                '"CTR (link click-through rate)"']


def test_ads_manager_comma_separated_with_ids_and_a_summary_row():
    data = csv_bytes([
        COMMA_HEADER,
        # the summary row: blank names; counting it would double everything
        '"2025-05-01","2025-05-27","","","","","7,734","5,000","1.5468","27.45","3.55","90","0.305","1.163693"',
        '"2025-05-01","2025-05-27","Spring push","120224907266750075","Broad","120224907266740075",'
        '"6,413","4,100","1.564146","23.98","3.74","82","0.292439","1.278653"',
        '"2025-05-01","2025-05-27","Spring push","120224907266750075","Retarget","120224907266810075",'
        '"1,321","1,299","1.016936","3.47","2.63","8","0.43375","0.605602"',
    ])
    df = parse_ads_manager(data, ctx("BEDROT-Ad-sets-May-1-2025-May-27-2025.csv"))
    assert len(df) == 2
    assert df["spend"].sum() == pytest.approx(27.45)
    assert df["impressions"].tolist() == [6413, 1321] and df["reach"].tolist() == [4100, 1299]
    assert df["adset_id"].tolist() == ["120224907266740075", "120224907266810075"]
    assert set(df["currency"]) == {"USD"}
    # no "Clicks (all)": the link-click family, all three from it
    assert df["clicks"].tolist() == [82, 8] and df["cpc"].tolist() == [0.292439, 0.43375]
    assert df["ctr"].tolist() == [1.278653, 0.605602]
    assert (df["date_start"] == date(2025, 5, 1)).all() and (df["date_stop"] == date(2025, 5, 27)).all()


def test_ads_manager_semicolons_decimal_comma_and_eur():
    header = ["Reporting starts", "Reporting ends", "Campaign name", "Ad set name", "Impressions", "Reach",
              "Frequency", "Amount spent (EUR)", "CPM (cost per 1,000 impressions) (EUR)", "Clicks (all)",
              "CTR (all)", "CPC (all) (EUR)", "Link clicks"]
    data = csv_bytes([
        header,
        ["2025-04-01", "2025-04-30", "", "", "42.105", "20.000", "2,1", "1.234,56", "29,32", "500", "1,19", "2,47", "300"],
        ["2025-04-01", "2025-04-30", "Static Bloom EU", "DE/AT/CH", "30.000", "14.000", "2,142857", "1.000,06",
         "33,34", "400", "1,333333", "2,500150", "250"],
        ["2025-04-01", "2025-04-30", "Static Bloom EU", "FR/BE", "12.105", "6.000", "2,0175", "234,50", "19,37",
         "100", "0,826105", "2,345", "50"],
    ], sep=";")
    df = parse_ads_manager(data, ctx("Nova-Lights-EU-Campaigns-Apr-1-2025-Apr-30-2025.csv"))
    assert df["spend"].tolist() == [1000.06, 234.50]
    assert df["impressions"].tolist() == [30000, 12105] and df["reach"].tolist() == [14000, 6000]
    assert df["frequency"].tolist() == [2.142857, 2.0175]
    assert df["clicks"].tolist() == [400, 100] and df["cpc"].tolist() == [2.50015, 2.345]  # the "(all)" family
    assert set(df["currency"]) == {"EUR"}
    # no id columns: the curated model keys such rows by name
    assert df["campaign_id"].tolist() == ["name:Static Bloom EU"] * 2
    assert df["adset_id"].tolist() == ["name:DE/AT/CH", "name:FR/BE"]
    curated = _ad_performance({"ads_manager": df.assign(sha256="0" * 64, observed_at=pd.Timestamp("2025-05-01", tz="UTC")),
                               "insights": insights([row()]).assign(sha256="1" * 64,
                                                                    observed_at=pd.Timestamp("2025-05-27", tz="UTC"))})
    eur = curated[curated["currency"] == "EUR"]
    assert eur["spend_usd"].isna().all() and eur["spend"].sum() == pytest.approx(1234.56)
    assert curated.loc[curated["currency"] == "USD", "spend_usd"].tolist() == [3.41]
    assert set(curated["platform"]) == {"meta"}


def test_ads_manager_tab_separated_with_a_preamble_and_no_bom():
    data = csv_bytes(["Ads report for Sample Artist", "",
                      ["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (GBP)", "Impressions"],
                      ["2025-04-01", "2025-04-30", "Radio push", "12.5", "1000"]], sep="\t", bom=False)
    df = parse_ads_manager(data, ctx("x.csv"))
    assert df[["campaign_id", "currency", "spend", "impressions"]].values.tolist() == [["name:Radio push", "GBP", 12.5, 1000]]
    assert df["adset_id"].isna().all()  # a campaign-level export


def _dated(starts, ends, extra=None):
    head = ["Reporting starts", "Reporting ends", "Campaign name", "Ad set name", "Amount spent (USD)"] + (extra or [])
    lines = [head]
    for i, (s, e) in enumerate(zip(starts, ends)):
        lines.append([s, e, "C", f"A{i}", "1.00"] + ["2025-05-02"] * len(extra or []))
    return parse_ads_manager(csv_bytes(lines), ctx("x.csv"))


def test_ads_manager_slashed_dates_are_settled_by_the_file():
    # a day above 12 says day-first ...
    df = _dated(["01/04/2025", "25/03/2025"], ["30/04/2025", "31/03/2025"])
    assert df["date_start"].tolist() == [date(2025, 4, 1), date(2025, 3, 25)]
    # ... or month-first (an Excel re-save)
    df = _dated(["4/1/2025"], ["4/30/2025"])
    assert (df["date_start"].iloc[0], df["date_stop"].iloc[0]) == (date(2025, 4, 1), date(2025, 4, 30))
    # every part ≤ 12, but only day-first keeps the window's end after its start (3 Feb..1 Mar, not 2 Mar..3 Jan)
    df = _dated(["3/2/2025"], ["1/3/2025"])
    assert (df["date_start"].iloc[0], df["date_stop"].iloc[0]) == (date(2025, 2, 3), date(2025, 3, 1))
    # dotted dates are day-first; same-day windows from a "Day" breakdown
    df = _dated(["01.04.2025"], ["30.04.2025"], extra=["Day"])
    assert (df["date_start"].iloc[0], df["date_stop"].iloc[0]) == (date(2025, 5, 2), date(2025, 5, 2))
    df = _dated(["01.04.2025"], ["30.04.2025"])
    assert df["date_stop"].iloc[0] == date(2025, 4, 30)
    with raises("column 'Reporting starts', line 2: '03/04/2025' could be day-first or month-first"):
        _dated(["03/04/2025"], ["03/04/2025"])


@pytest.mark.parametrize("lines, message", [
    ([["Reporting starts", "Reporting ends", "Campaign name", "Impressions"], ["2025-04-01", "2025-04-30", "C", "1"]],
     "missing column(s) 'Amount spent (<currency>)'; the header has 'Reporting starts'"),
    ([["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (USD)"],
      ["2025-04-01", "2025-04-30", "C", "1"], ["2025-04-31", "2025-04-30", "D", "1"]],
     "column 'Reporting starts', line 3: '2025-04-31' is not a date"),
    ([["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (USD)"],
      ["2025-05-01", "2025-04-30", "C", "1"]], "line 2: 'Reporting ends' 2025-04-30 is before 'Reporting starts' 2025-05-01"),
    ([["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (USD)", "Impressions"],
      ["2025-04-01", "2025-04-30", "C", "1.5", "1200"], ["2025-04-01", "2025-04-30", "D", "2", "lots"]],
     "column 'Impressions', line 3: 'lots' is not a whole number"),
    ([["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (USD)", "Impressions"],
      ["2025-04-01", "2025-04-30", "C", "1.5", "1.5"]], "column 'Impressions', line 2: '1.5' is not a whole number"),
    ([["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (USD)", "Cost per result (GBP)"],
      ["2025-04-01", "2025-04-30", "C", "1", "1"]], "several currencies (USD in 'Amount spent (USD)', GBP in 'Cost per result (GBP)')"),
    ([["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (USD)", "Frequency"],
      '2025-04-01,2025-04-30,C,12.34,"1,5"'], "numbers mix decimal marks"),
    ([["Reporting starts", "Reporting ends", "Campaign name", "Campaign ID", "Amount spent (USD)"],
      ["2025-04-01", "2025-04-30", "C", "1.20225E+17", "1"]], "column 'Campaign ID', line 2: '1.20225E+17' is an id a spreadsheet"),
    ([["Reporting starts", "Reporting ends", "Campaign name", "Ad set name", "Amount spent (USD)"],
      ["2025-04-01", "2025-04-30", "C", "A", "1"], ["2025-04-01", "2025-04-30", "C", "A", "2"]],
     "2 rows share one campaign × ad set × window"),
    ([["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (USD)"], ["2025-04-01", "2025-04-30", "C"]],
     "line 2 has 3 fields, the header has 4"),
    ([["Date", "Campaign", "Spend"], ["2025-04-01", "C", "1"]], "no header line with a 'Reporting starts' column"),
])
def test_ads_manager_bad_input(lines, message):
    with raises(message):
        parse_ads_manager(csv_bytes(lines), ctx("x.csv"))


def test_ads_manager_only_a_summary_is_unused():
    data = csv_bytes([["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (USD)"],
                      ["2025-04-01", "2025-04-30", "", "0"]])
    with pytest.raises(UnusedContent):
        parse_ads_manager(data, ctx("x.csv"))


# --- recognition, samples, end to end ------------------------------------------------------------

def test_files_are_recognised_by_content_and_do_not_steal_others(tmp_path, bedrot):
    from assets.lake import SNIFF_BYTES, Lake
    from assets.sources import SOURCES

    lake = Lake(None)
    for path, dataset in zip(write_samples(tmp_path / "meta", seed=3, end=date(2025, 6, 30)),
                             ("insights", "campaigns", "ads_manager")):
        assert lake.identify(path.name, path.read_bytes()[:SNIFF_BYTES]) == ("meta_ads", dataset)
        assert lake.identify("export.dat", path.read_bytes()[:SNIFF_BYTES]) == ("meta_ads", dataset)
    others = [p for p in bedrot.rglob("*") if p.is_file() and p.parent.name != "metaads"]
    for name, src in SOURCES.items():
        if name != "meta_ads":
            others += src.samples(tmp_path / name, 7)
    assert others
    for p in others:
        ident = lake.identify(p.name, p.read_bytes()[:SNIFF_BYTES])
        assert ident is None or ident[0] != "meta_ads", p


def test_samples_round_trip(tmp_path):
    ins, camps, am = write_samples(tmp_path, seed=2, end=date(2025, 6, 30))
    assert write_samples(tmp_path / "again", seed=2, end=date(2025, 6, 30))[0].read_bytes() == ins.read_bytes()
    df = parse_insights(ins.read_bytes(), ctx(ins.name))
    assert df["date_stop"].max() == date(2025, 6, 30) and (df["date_start"] == df["date_stop"]).all()
    assert 55 <= df["date_start"].nunique() <= 60
    assert df["campaign_id"].nunique() == 2 and df["adset_id"].nunique() == 4
    assert set(parse_campaigns(camps.read_bytes(), ctx(camps.name))["campaign_id"]) >= set(df["campaign_id"])
    eu = parse_ads_manager(am.read_bytes(), ctx(am.name))
    assert set(eu["currency"]) == {"EUR"} and len(eu) == 3 and eu["spend"].gt(0).all()
    assert eu["date_stop"].max() < df["date_start"].min()  # a different window
    assert am.read_bytes().startswith(b"\xef\xbb\xbf") and b";" in am.read_bytes().split(b"\n")[0]


def test_ingest_fixtures_end_to_end(local_env, bedrot):
    folder = str(bedrot / "metaads")
    result = run("ingest", folder, "--json")
    assert result.exit_code == 0, result.output
    assert {(r["dataset"], r["status"], r["rows"]) for r in json.loads(result.stdout)} == {
        ("insights", "loaded", 31), ("campaigns", "loaded", 13)}
    perf = "SELECT count(*) AS n, round(sum(spend_usd), 2) AS usd, sum(impressions) AS imp FROM fct_ad_performance"
    campaigns = "SELECT status, count(*) AS n FROM dim_ad_campaign GROUP BY ALL ORDER BY status"
    before = (query(perf), query(campaigns))
    (figures,), statuses = before
    assert figures["n"] == 31 and figures["imp"] == 5255985 and figures["usd"] == pytest.approx(1889.10)
    assert statuses == [{"status": "ACTIVE", "n": 3}, {"status": "PAUSED", "n": 10}]
    assert query("SELECT DISTINCT platform, source, currency FROM fct_ad_performance") == [
        {"platform": "meta", "source": "meta_ads", "currency": "USD"}]
    again = run("ingest", folder, "--json")
    assert again.exit_code == 0, again.output
    assert {r["status"] for r in json.loads(again.stdout)} == {"duplicate"}
    assert (query(perf), query(campaigns)) == before


def test_ingest_samples_and_a_broken_export(local_env, tmp_path):
    folder = tmp_path / "drop"
    write_samples(folder, seed=5, end=date(2025, 6, 30))
    result = run("ingest", str(folder), "--json")
    assert result.exit_code == 0, result.output
    assert {r["status"] for r in json.loads(result.stdout)} == {"loaded"}
    rows = query("SELECT currency, count(*) AS n, count(spend_usd) AS usd, sum(spend) > 0 AS spent "
                  "FROM fct_ad_performance GROUP BY ALL ORDER BY currency")
    assert [(r["currency"], r["usd"] == r["n"], r["spent"]) for r in rows] == [("EUR", False, True), ("USD", True, True)]
    assert rows[0]["usd"] == 0  # EUR spend is kept as spend/currency, no guessed USD

    # a later export of the last two days (late attribution changed a figure): each day once, the newest wins
    daily = "SELECT count(*) AS n FROM fct_ad_performance WHERE currency = 'USD'"
    n = query(daily)[0]["n"]
    later = tmp_path / "later"
    later.mkdir()
    doc = json.loads(next(folder.glob("insights_*.json")).read_text())
    last = [r for r in doc["data"] if r["date_start"] >= "2025-06-29"]
    last[0] = {**last[0], "spend": "99.99"}
    (later / "insights_20250702_080000.json").write_text(json.dumps({"data": last, "paging": {}}))
    assert run("ingest", str(later)).exit_code == 0
    assert query(daily)[0]["n"] == n
    assert query(f"SELECT spend FROM fct_ad_performance WHERE date_start = DATE '{last[0]['date_start']}' "
                  f"AND adset_id = '{last[0]['adset_id']}'") == [{"spend": 99.99}]

    broken = tmp_path / "broken"
    broken.mkdir()
    doc = [row(), row(adset_id="212", impressions="n/a")]
    (broken / "insights_20250601_090000.json").write_text(json.dumps(doc))
    (broken / "insights_20250602_090000.json").write_text(json.dumps([row(spend="-5")]))  # caught by the GX suite
    (broken / "Label-Campaigns-May-1-2025-May-31-2025.csv").write_bytes(csv_bytes([
        ["Reporting starts", "Reporting ends", "Campaign name", "Impressions"], ["2025-05-01", "2025-05-31", "C", "9"]]))
    result = run("ingest", str(broken), "--json")
    assert result.exit_code == 3, result.output
    reasons = {r["path"].rsplit("/", 1)[-1]: (r["status"], r["reason"]) for r in json.loads(result.stdout)}
    assert {s for s, _ in reasons.values()} == {"quarantined"}
    assert "[1].impressions: 'n/a' is not a whole number" in reasons["insights_20250601_090000.json"][1]
    assert "failed the quality checks" in reasons["insights_20250602_090000.json"][1]
    assert "spend" in reasons["insights_20250602_090000.json"][1]
    assert "missing column(s) 'Amount spent (<currency>)'" in reasons["Label-Campaigns-May-1-2025-May-31-2025.csv"][1]
