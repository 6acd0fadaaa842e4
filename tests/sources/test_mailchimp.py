"""MailChimp: the campaign list and campaign report exports and /3.0/reports pages into
fct_email_campaigns."""

import json
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from assets.lake.landing import identify
from assets.sources import SOURCES
from assets.sources.base import ParseContext, ParseError, UnusedContent
from assets.sources.mailchimp import (
    _email_campaigns,
    parse_campaign_list,
    parse_campaign_report,
    parse_reports_api,
    write_samples,
)
from tests.cli_helpers import query, run

LANDED = datetime(2025, 6, 3, 9, 0, tzinfo=timezone.utc)
LIST = ("Title,Subject,Audience,Send Date,Send Weekday,Total Recipients,Unique Id\r\n"
        "June news,New single out now 🎧,Nova Lights Fans,\"Jun 01, 2023 09:46 pm\",Thursday,\"1,204\",a1b2c3d4e5\r\n"
        "May news,\"Tour dates, at last\",Nova Lights Fans,\"May 02, 2023 08:05 am\",Tuesday,998,f6e5d4c3b2\r\n")
REPORT_HEADER = ("Title,Subject,List,Send Date,Send Weekday,Total Recipients,Successful Deliveries,Soft Bounces,"
                 "Hard Bounces,Total Bounces,Times Forwarded,Forwarded Opens,Unique Opens,Open Rate,Total Opens,"
                 "Unique Clicks,Click Rate,Total Clicks,Unsubscribes,Abuse Complaints,Times Liked on Facebook,"
                 "Folder Id,Unique Id,Total Orders,Total Gross Sales,Total Revenue")
REPORT = (REPORT_HEADER + "\n"
          "June news,New single,Fans,\"Jun 01, 2023 09:46 pm\",Thursday,1204,1200,3,1,4,0,0,540,45.00%,800,60,5.00%,"
          "75,2,0,0,,a1b2c3d4e5,0,$0.00 ,\"$0.11 \"\n"
          "May news,Tour,Fans,\"May 02, 2023 08:05 am\",Tuesday,998,990,5,3,8,0,0,300,30.30%,410,0,n/a,0,1,0,0,,"
          "f6e5d4c3b2,0,$0.00 ,$0.00 \n")


def ctx(name="x.csv"):
    return ParseContext("mailchimp", "x", name, "0" * 64, LANDED)


def page(*reports, total=None):
    return json.dumps({"reports": list(reports), "total_items": total if total is not None else len(reports),
                       "_links": []}).encode()


def api_report(cid="a1b2c3d4e5", **over):
    r = {"id": cid, "campaign_title": "June news", "type": "regular", "list_id": "4ca5becb8d", "list_name": "Fans",
         "subject_line": "New single", "emails_sent": 1204, "abuse_reports": 0, "unsubscribed": 3,
         "send_time": "2023-06-01T21:46:00+00:00",
         "bounces": {"hard_bounces": 1, "soft_bounces": 3, "syntax_errors": 0},
         "opens": {"opens_total": 820, "unique_opens": 560, "open_rate": 0.466667, "last_open": ""},
         "clicks": {"clicks_total": 80, "unique_clicks": 61, "unique_subscriber_clicks": 61, "click_rate": 0.050833},
         "list_stats": {"sub_rate": 0, "unsub_rate": 1, "open_rate": 41.5, "click_rate": 5.2}}
    r.update(over)
    return r


def test_campaign_list_dates_emoji_and_grouped_counts():
    df = parse_campaign_list(LIST.encode(), ctx())
    assert list(df["campaign_id"]) == ["a1b2c3d4e5", "f6e5d4c3b2"]
    assert df.loc[0, "subject"] == "New single out now 🎧" and df.loc[1, "subject"] == "Tour dates, at last"
    assert list(df["sent_at"]) == [pd.Timestamp("2023-06-01 21:46", tz="UTC"), pd.Timestamp("2023-05-02 08:05", tz="UTC")]
    assert list(df["emails_sent"]) == [1204, 998]
    assert "unique_opens" not in df, "the list has no opens: they come from a report"
    draft = LIST + "Next news,Soon,Nova Lights Fans,,,0,0a0b0c0d0e\r\n"
    assert parse_campaign_list(draft.encode(), ctx())["campaign_id"].tolist() == ["a1b2c3d4e5", "f6e5d4c3b2"]
    with pytest.raises(UnusedContent, match="no sent campaign"):
        parse_campaign_list(LIST.split("\r\n")[0].encode() + b"\r\n", ctx())


def test_campaign_report_rates_na_and_money():
    df = parse_campaign_report(REPORT.encode(), ctx()).set_index("campaign_id")
    assert df.loc["a1b2c3d4e5", ["delivered", "bounces", "unique_opens", "clicks"]].tolist() == [1200, 4, 540, 75]
    assert df.loc["a1b2c3d4e5", "open_rate"] == pytest.approx(0.45)
    assert df.loc["a1b2c3d4e5", "revenue"] == pytest.approx(0.11)
    assert pd.isna(df.loc["f6e5d4c3b2", "click_rate"]), "n/a is no rate, not 0"
    assert df.loc["f6e5d4c3b2", "open_rate"] == pytest.approx(0.303)
    with pytest.raises(ParseError, match=r"column 'Open Rate', line 2: '145.00%' is not a rate between 0% and 100%"):
        parse_campaign_report(REPORT.replace("45.00%", "145.00%").encode(), ctx())
    with pytest.raises(ParseError, match=r"missing column\(s\) 'Unique Opens'"):
        parse_campaign_report(REPORT.replace("Unique Opens", "Opens").encode(), ctx())
    with pytest.raises(ParseError, match=r"column 'Send Date', line 3: 'someday' is not a send date"):
        parse_campaign_report(REPORT.replace("\"May 02, 2023 08:05 am\"", "someday").encode(), ctx())


def test_reports_api_page_fractions_and_errors():
    df = parse_reports_api(page(api_report(), api_report("f6e5d4c3b2", clicks={"clicks_total": 0, "unique_clicks": 0,
                                                                               "click_rate": 0})), ctx("r.json"))
    first = df.iloc[0]
    assert first[["campaign_id", "emails_sent", "bounces", "delivered", "unique_opens", "clicks"]].tolist() == [
        "a1b2c3d4e5", 1204, 4, 1200, 560, 80]
    assert first["open_rate"] == pytest.approx(0.466667), "opens.open_rate is a fraction (list_stats is a percent)"
    assert first["sent_at"] == pd.Timestamp("2023-06-01 21:46", tz="UTC")
    bare = parse_reports_api(page({k: v for k, v in api_report().items() if k != "bounces"}), ctx("r.json")).iloc[0]
    assert pd.isna(bare["bounces"]) and pd.isna(bare["delivered"]), "no bounces object: unknown, not 0"
    assert bare["emails_sent"] == 1204
    with pytest.raises(UnusedContent, match="no campaign reports"):
        parse_reports_api(page(total=12), ctx("r.json"))
    with pytest.raises(ParseError, match=r"reports\[0\].opens.open_rate: 46.7 is not a fraction"):
        parse_reports_api(page(api_report(opens={"opens_total": 1, "unique_opens": 1, "open_rate": 46.7})), ctx("r.json"))
    with pytest.raises(ParseError, match="MailChimp API error.*API Key Invalid"):
        parse_reports_api(b'{"type": "x", "title": "API Key Invalid", "status": 401, "detail": "Your API key may be invalid"}',
                          ctx("r.json"))


def test_recognised_by_header_and_merged_per_campaign():
    assert identify(SOURCES, "export.csv", LIST.encode()) == ("mailchimp", "campaign_list")
    assert identify(SOURCES, "export.csv", REPORT.encode()) == ("mailchimp", "campaign_report")
    assert identify(SOURCES, "page-1.json", page(api_report())) == ("mailchimp", "reports_api")
    older = parse_campaign_report(REPORT.encode(), ctx()).assign(sha256="a" * 64,
                                                                 observed_at=pd.Timestamp("2023-06-05", tz="UTC"))
    newer = parse_reports_api(page(api_report()), ctx("r.json")).assign(sha256="b" * 64,
                                                                      observed_at=pd.Timestamp("2023-06-20", tz="UTC"))
    listed = parse_campaign_list(LIST.encode(), ctx()).assign(sha256="c" * 64,
                                                              observed_at=pd.Timestamp("2023-06-02", tz="UTC"))
    out = _email_campaigns({"campaign_report": older, "reports_api": newer, "campaign_list": listed}).set_index("campaign_id")
    assert out.loc["a1b2c3d4e5", ["unique_opens", "sha256", "audience", "campaign_type"]].tolist() == [560, "b" * 64,
                                                                                                       "Fans", "regular"]
    assert out.loc["f6e5d4c3b2", ["unique_opens", "sha256"]].tolist() == [300, "a" * 64]
    assert set(out["platform"]) == {"mailchimp"}


def test_samples_ingest_into_curated_and_the_kpi(local_env, tmp_path):
    files = write_samples(tmp_path / "mc", seed=3, end=date(2025, 5, 31))
    result = run("ingest", tmp_path / "mc", "--json")
    assert result.exit_code == 0, result.output
    assert sorted((r["dataset"], r["status"]) for r in json.loads(result.stdout)) == [
        ("campaign_list", "loaded"), ("campaign_report", "loaded"), ("reports_api", "loaded")]
    assert len(files) == 3
    rows = query("SELECT count(*) AS n, count(unique_opens) AS opened, count(DISTINCT source) AS s, "
                 "max(open_rate) <= 1 AS fractions FROM fct_email_campaigns")
    assert rows == [{"n": 8, "opened": 8, "s": 1, "fractions": True}]
    kpi = [r for r in json.loads(run("kpis", "--json").stdout) if r["kpi"] == "email_open_rate"][0]
    opened = query("SELECT sum(unique_opens) / sum(emails_sent) * 100 AS v FROM fct_email_campaigns")[0]["v"]
    assert kpi["value"] == pytest.approx(opened)
