"""Bandcamp sales report: UTF-16 with BOM, `1/3/26 10:12am` dates, payouts that are not sales,
refunds and reversals negative, Excel re-saves, and buyer data that never leaves raw."""

import json
import re
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from assets.sources.bandcamp import SALES_REPORT, SAMPLE_BUYER, SAMPLE_HEADER, _sales, parse_sales_report, write_samples
from assets.sources.base import ParseContext, ParseError
from assets.sources.samples import delimited_bytes
from tests.cli_helpers import query, run

HEADER = ["date", "paid to", "item type", "item name", "artist", "currency", "item price", "quantity", "sub total",
          "transaction fee", "item total", "amount you received", "net amount", "upc", "isrc", "buyer name",
          "buyer email", "buyer phone", "ship to street", "ship to city", "country code", "bandcamp transaction id"]
PERSONAL = ["Jane Fan", "jane.fan@example.invalid", "+44 20 7946 0000", "7 Secret Lane", "Fantown",
            "label.owner@example.invalid"]


def row(date_, kind, name, qty, total, net, *, currency="USD", tid="", fee="0.50", isrc="", country="GB"):
    received = "" if net == "" else f"{float(net) + 1:.2f}"
    return [date_, PERSONAL[5], kind, name, "Nova Lights", currency, "", qty, total, fee, total, received, net, "",
            isrc, PERSONAL[0], PERSONAL[1], PERSONAL[2], PERSONAL[3], PERSONAL[4], country, tid]


ROWS = [
    row("1/3/26 10:12am", "album", "Midnight Arcade", "2", "16.00", "13.10", tid="900001"),
    row("12/31/25 11:59pm", "track", "Glass Harbour", "1", "1.00", "0.55", tid="900002", isrc="QZNOV2400002"),
    row("1/15/26 9:00am", "payout", "", "", "", "-120.00", tid=""),
    row("1/20/26 3:30pm", "refund", "Midnight Arcade", "-1", "-8.00", "-6.55", tid="900003"),
    row("1/21/26 3:30pm", "reversal", "Glass Harbour", "1", "1.00", "0.55", tid="900004"),  # written positive
    row("1/22/26 8:05am", "refund", "Midnight Arcade", "", "-2.00", "-2.00", tid="900005"),  # partial
    row("1/23/26 1:00pm", "track", "Glass Harbour", "1", "1.20", "0.70", currency="eur", tid="900006", fee="*"),
]


def ctx(name="bandcamp_sales_report.csv"):
    return ParseContext("bandcamp", "sales_report", name, "0" * 64, datetime(2026, 2, 1, tzinfo=timezone.utc))


def utf16(rows=ROWS, header=HEADER, **kwargs) -> bytes:
    return delimited_bytes([header, *rows], encoding="utf-16", **kwargs)


def test_utf16_report_dates_signs_and_payouts():
    data = utf16()
    assert data[:2] == b"\xff\xfe", "written as Bandcamp does: UTF-16LE with a BOM"
    df = parse_sales_report(data, ctx())
    assert df["sold_at"].tolist()[:3] == [pd.Timestamp("2026-01-03 10:12", tz="UTC"),
                                         pd.Timestamp("2025-12-31 23:59", tz="UTC"),
                                         pd.Timestamp("2026-01-15 09:00", tz="UTC")]
    assert df["date"].iloc[1] == date(2025, 12, 31)
    assert df["item_type"].tolist() == ["album", "track", "payout", "refund", "reversal", "refund", "track"]
    by_tid = df.set_index("transaction_id")
    assert by_tid.loc["900001", ["quantity", "gross", "net", "fees"]].tolist() == [2, 16.0, 13.1, pytest.approx(2.9)]
    # refunds and reversals are negative, also when the file writes them positive
    assert by_tid.loc["900003", ["quantity", "gross", "net"]].tolist() == [-1, -8.0, -6.55]
    assert by_tid.loc["900004", ["quantity", "gross", "net"]].tolist() == [-1, -1.0, -0.55]
    assert by_tid.loc["900004", "fees"] == pytest.approx(-0.45)
    assert pd.isna(by_tid.loc["900005", "quantity"]) and by_tid.loc["900005", "net"] == -2.0
    # a pending payment's fee is "*"; currencies are upper case
    assert by_tid.loc["900006", "pending"] and pd.isna(by_tid.loc["900006", "transaction_fee"])
    assert by_tid.loc["900006", "currency"] == "EUR"
    # a payout has no transaction id: the time stands in for it
    assert df.loc[df["item_type"] == "payout", "transaction_id"].tolist() == ["at:2026-01-15T09:00:00"]
    assert set(df["country"]) == {"GB"}
    assert SALES_REPORT.observed_at("x.csv", data) == datetime(2026, 1, 23, 13, 0, tzinfo=timezone.utc)


def test_personal_data_is_never_read():
    df = parse_sales_report(utf16(), ctx())
    text = df.to_csv()
    for value in PERSONAL:
        assert value not in text
    assert not [c for c in df.columns if c.startswith(("buyer", "ship_to", "paid"))]


def test_into_fct_sales_payouts_left_out():
    staged = parse_sales_report(utf16(), ctx()).assign(sha256="s", observed_at=pd.Timestamp("2026-02-01", tz="UTC"))
    sales = _sales({"sales_report": staged})
    assert "payout" not in set(sales["item_type"]) and len(sales) == 6
    assert set(sales["platform"]) == {"bandcamp"}
    assert sales["net"].sum() == pytest.approx(13.10 + 0.55 - 6.55 - 0.55 - 2.00 + 0.70)
    assert sales["net_usd"].sum() == pytest.approx(13.10 + 0.55 - 6.55 - 0.55 - 2.00), "EUR is not USD"
    assert sales.loc[sales["currency"] == "EUR", "net_usd"].isna().all()


def test_excel_resave_sep_line_semicolons_decimal_commas_and_api_names():
    header = ["date", "item_type", "item_name", "artist", "currency", "quantity", "item_total", "net_amount",
              "buyer_email", "bandcamp_transaction_id"]
    rows = [["04 Jan 2021 23:22:11 GMT", "album", "Very Cool", "Nova Lights", "EUR", "1", "10,99", "9,50",
             PERSONAL[1], "1"],
            ["2021-01-05 10:00:00", "track", "Very Cool; Reprise", "Nova Lights", "EUR", "1", "1,00", "0,80",
             PERSONAL[1], "2"]]
    data = delimited_bytes([header, *rows], sep=";", preamble=["sep=;"], bom=True)
    df = parse_sales_report(data, ctx())
    assert df["gross"].tolist() == [10.99, 1.0] and df["net"].tolist() == [9.5, 0.8]
    assert df["sold_at"].iloc[0] == pd.Timestamp("2021-01-04 23:22:11", tz="UTC")
    assert df["item_name"].iloc[1] == "Very Cool; Reprise"
    # UTF-16 with a sep= line, as Meta Business Suite writes its files
    data = delimited_bytes([HEADER, *ROWS[:2]], encoding="utf-16", preamble=["sep=,"])
    assert len(parse_sales_report(data, ctx())) == 2


def test_identical_lines_of_one_transaction_stay_apart():
    data = utf16([ROWS[0], ROWS[0], ROWS[1]])
    df = parse_sales_report(data, ctx())
    assert df["line_seq"].tolist() == [1, 2, 1]


@pytest.mark.parametrize("rows, header, message", [
    (ROWS[:1], [h for h in HEADER if h != "net amount"], "missing column(s) 'net amount'"),
    ([ROWS[0], ["13/45/26 10:12am", *ROWS[0][1:]]], HEADER, "column 'date', line 3: '13/45/26 10:12am' is not a date"),
    ([ROWS[0], [*ROWS[0][:12], "lots", *ROWS[0][13:]]], HEADER, "column 'net amount', line 3: 'lots' is not an amount"),
    ([ROWS[0], [*ROWS[0][:5], "", *ROWS[0][6:]]], HEADER, "column 'currency', line 3: a sale line without a currency"),
    ([ROWS[0], ROWS[0][:4]], HEADER, "line 3 has 4 fields, the header has 22"),
    ([], HEADER, "a header but no lines"),
])
def test_bad_reports_name_the_problem(rows, header, message):
    if header != HEADER:
        rows = [[v for h, v in zip(HEADER, r) if h in header] for r in rows]
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_sales_report(utf16(rows, header), ctx())


def test_samples_round_trip(tmp_path):
    [path] = write_samples(tmp_path, seed=3, end=date(2025, 6, 30))
    data = path.read_bytes()
    assert data[:2] == b"\xff\xfe" and SALES_REPORT.matches_name(path.name) and SALES_REPORT.sniff(path.name, data[:4096])
    assert data.decode("utf-16").splitlines()[0].split(",") == SAMPLE_HEADER
    df = parse_sales_report(data, ctx(path.name))
    assert {"album", "track", "package", "payout", "refund", "reversal"} <= set(df["item_type"])
    assert not df["sold_at"].is_monotonic_increasing, "the report is not sorted"
    assert (df.loc[df["item_type"].isin(["refund", "reversal"]), "net"] < 0).all()
    assert df["quantity"].isna().sum() >= 1 + (df["item_type"] == "payout").sum()  # the partial refund
    assert (df["currency"] == "EUR").sum() == 1
    assert write_samples(tmp_path / "again", seed=3, end=date(2025, 6, 30))[0].read_bytes() == data


def test_ingest_samples_buyers_stay_in_raw_and_sales_count_as_revenue(local_env, tmp_path):
    [path] = write_samples(tmp_path / "bandcamp", seed=7)
    staged = parse_sales_report(path.read_bytes(), ctx(path.name))
    result = run("ingest", tmp_path / "bandcamp", "--json")
    assert result.exit_code == 0, result.output
    [loaded] = json.loads(result.stdout)
    assert (loaded["source"], loaded["dataset"], loaded["status"]) == ("bandcamp", "sales_report", "loaded")

    sales = staged[staged["item_type"] != "payout"]
    got = query("SELECT count(*) AS n, sum(net_usd) AS usd, count(*) FILTER (WHERE net < 0) AS negative, "
                "count(DISTINCT platform) AS platforms FROM fct_sales")
    assert got == [{"n": len(sales), "usd": pytest.approx(sales.loc[sales["currency"] == "USD", "net"].sum()),
                    "negative": int((sales["net"] < 0).sum()), "platforms": 1}]
    assert query("SELECT count(*) AS n FROM fct_sales WHERE item_type = 'payout'") == [{"n": 0}]

    # buyer name, e-mail, phone, address and the "paid to" e-mail: in raw, nowhere after it (staging,
    # curated, the warehouse, the Dagster instance's runs, events, metadata and logs)
    secrets = [s.encode(enc) for s in (*SAMPLE_BUYER, "Sampletown") for enc in ("utf-8", "utf-16-le")]
    raw = local_env / "lake" / "raw"
    assert any(SAMPLE_BUYER[1].encode("utf-16-le") in p.read_bytes() for p in raw.rglob("*.csv"))
    others = [p for p in local_env.rglob("*") if p.is_file() and not p.is_relative_to(raw)]
    places = {"/".join(p.relative_to(local_env).parts[:2]) for p in others}
    assert {"lake/staging", "lake/curated", "warehouse.duckdb"} <= places and any(p.startswith("dagster") for p in places)
    for p in others:
        assert not any(s in p.read_bytes() for s in secrets), p

    # the revenue KPIs count the sales (net USD, refunds and reversals subtracted)
    result = run("kpis", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    usd = sales.loc[sales["currency"] == "USD", "net"].sum()
    [total] = [r for r in rows if r["kpi"] == "revenue_usd_total" and r["artist"] is None and r["breakdown"] is None]
    assert total["value"] == pytest.approx(usd)
    by_store = {r["breakdown"]: r["value"] for r in rows if r["kpi"] == "revenue_usd_by_store" and r["artist"] is None}
    assert by_store == {"Bandcamp": pytest.approx(usd)}
    result = run("kpis", "--artist", "nova lights", "--json")
    assert result.exit_code == 0, result.output
    nova = [r for r in json.loads(result.stdout) if r["kpi"] == "revenue_usd_total" and r["breakdown"] is None]
    artist_usd = sales.loc[(sales["currency"] == "USD") & (sales["artist"] == "Nova Lights"), "net"].sum()
    assert [r["value"] for r in nova] == [pytest.approx(artist_usd)]
