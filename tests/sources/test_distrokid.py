"""DistroKid parsers: both bank-details header variants, CR-only lines, ISO-8859-1, the stats
pages' series, and the account holder's profile that must never leave raw."""

from datetime import date, datetime, timezone

import pytest

from assets.sources.base import ParseContext, ParseError
from assets.sources.distrokid import (
    parse_applemusic_stats,
    parse_bank_details,
    parse_streams_stats,
    write_samples,
)

OLD_HEADER = ["Reporting Date", "Sale Month", "Store", "Artist", "Title", "ISRC", "UPC", "Quantity",
              "Team Percentage", "Song/Album", "Country of Sale", "Songwriter Royalties Withheld", "Earnings (USD)"]
NEW_HEADER = ["Reporting Date", "Sale Month (YYYY-MM)", "Store", "Artist", "Title", "ISRC", "UPC", "Quantity",
              "Team Percentage", "Song/Album", "Country of Sale", "Songwriter Royalties Withheld (USD)",
              "Earnings (USD)", "Date Inserted", "Source Type", "Recoup (USD)"]


def ctx(name="dk_bank_details_20250527_102936.tsv"):
    return ParseContext("distrokid", "x", name, "0" * 64, datetime(2025, 5, 28, tzinfo=timezone.utc))


def tsv(header, rows, sep="\r", encoding="utf-8"):
    return sep.join(["\t".join(header)] + ["\t".join(r) for r in rows]).encode(encoding)


def test_bank_details_old_header_cr_only():
    data = tsv(OLD_HEADER, [
        ["2024-10-05", "2024-08", "YouTube (Ads)", "ZONE A0", "HOLD ON I", "QZTAW2496365", "198667254765", "1", "100",
         "Song", "US", "0", "0.01931943"],
        ["2024-10-05", "2024-08", "YouTube (Ads)", "ZONE A0", "HOLD ON I", "QZTAW2496365", "198667254765", "3", "100",
         "Song", "US", "0", "0.05"],
    ])
    df = parse_bank_details(data, ctx())
    assert len(df) == 2
    assert df["sale_month"].iloc[0] == date(2024, 8, 1)
    assert df["quantity"].tolist() == [1, 3]
    assert df["line_seq"].tolist() == [1, 2], "identical lines of one statement stay apart"
    assert df["earnings_usd"].sum() == pytest.approx(0.06931943)


def test_bank_details_new_header_crlf_latin1():
    data = tsv(NEW_HEADER, [
        ["2025-01-10", "2024-11", "Deezer", "Beyoncé Tribute", "Café", "QZ1", "123", "7", "50", "Song", "FR", "0.01",
         "0.02", "2025-01-09", "Stream", "0.00"],
    ], sep="\r\n", encoding="iso-8859-1")
    df = parse_bank_details(data, ctx())
    assert df["artist"].iloc[0] == "Beyoncé Tribute"
    assert df["title"].iloc[0] == "Café"
    assert df["recoup_usd"].iloc[0] == 0.0
    assert df["songwriter_royalties_withheld_usd"].iloc[0] == 0.01
    assert df["date_inserted"].iloc[0] == date(2025, 1, 9)
    assert df["source_type"].iloc[0] == "Stream"


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (bytes(range(256)) * 20, "binary"),
    (tsv(OLD_HEADER[:-1], [["2024-10-05", "2024-08", "Spotify", "A", "T", "I", "U", "1", "100", "Song", "US", "0"]]),
     "'Earnings (USD)'"),
    (tsv(OLD_HEADER, [["2024-10-05", "2024-08", "Spotify", "A", "T", "I", "U", "1", "100", "Song", "US", "0", "0.1"],
                      ["2024-10-06", "2024-08", "Spotify", "A"]]), "line 3 has 4 fields"),
    (tsv(OLD_HEADER, [["2024-10-05", "2024-08", "Spotify", "A", "T", "I", "U", "lots", "100", "Song", "US", "0", "1"]]),
     "column 'Quantity', line 2: 'lots'"),
    (tsv(OLD_HEADER, [["05/10/2024x", "2024-08", "Spotify", "A", "T", "I", "U", "1", "100", "Song", "US", "0", "1"]]),
     "column 'Reporting Date', line 2"),
])
def test_bank_details_bad_input_names_the_problem(data, message):
    with pytest.raises(ParseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_bank_details(data, ctx())


def test_samples_parse_and_hide_the_profile(tmp_path):
    bank, streams, apple = write_samples(tmp_path, seed=1, end=date(2025, 6, 30))
    assert b"\r" in bank.read_bytes() and b"\n" not in bank.read_bytes()
    assert len(parse_bank_details(bank.read_bytes(), ctx())) > 100
    s = parse_streams_stats(streams.read_bytes(), ctx(streams.name))
    assert set(s["series"]) == {"trend365day", "trend60day", "trendWeekly", "trendMonthly"}
    assert set(s["platform"]) == {"spotify"}, "the page says its streams series is Spotify's"
    daily = s[s["series"] == "trend365day"]
    assert len(daily) == 365 and daily["date"].max() == date(2025, 6, 30)
    a = parse_applemusic_stats(apple.read_bytes(), ctx(apple.name))
    assert {"last365days", "byWeek", "byMonth", "country1year", "tracks1year"} <= set(a["series"])
    for frame in (s, a):
        text = frame.to_csv()
        assert "sample.person@example.invalid" not in text and "Sample Person" not in text


def test_streams_page_without_a_store_is_all_stores():
    page = ('<html><script>AmCharts.makeChart("trend365day", {"dataProvider": [{"category": "2025-01-01", '
            '"column-1": 5}, {"category": "2025-01-02", "column-1": 7}]});</script></html>').encode()
    df = parse_streams_stats(page, ctx("streams_stats_x.html"))
    assert df["platform"].unique().tolist() == ["all"]
    assert df["streams"].sum() == 12


@pytest.mark.parametrize("page, message", [
    (b"<html><body>Log in to DistroKid</body></html>", "no streams chart"),
    (b'<html><script>AmCharts.makeChart("trend365day", {"dataProvider": [{"category": "2025-13-45", "column-1": 5}]})'
     b"</script></html>", "trend365day.category"),
    (b'<html><script>AmCharts.makeChart("trend365day", {"dataProvider": [{"category": "2025-01-01", "column-1": 5}'
     b"</script></html>", "not valid JSON"),
])
def test_streams_page_errors(page, message):
    with pytest.raises(ParseError, match=message):
        parse_streams_stats(page, ctx("streams_stats_x.html"))


def test_apple_week_and_month_fields():
    page = ('<script>var chartData = {"last365days": {"dataProvider": [{"field": "2024-12-30", "value": 3}]}, '
            '"byWeek": {"dataProvider": [{"field": "53/24", "value": 9}, {"field": "1/25", "value": 4}, '
            '{"field": "36/24", "value": 72}]}, "byMonth": {"dataProvider": [{"field": "09-24", "value": 1701}]}};'
            "</script>").encode()
    df = parse_applemusic_stats(page, ctx("applemusic_stats_x.html")).set_index(["series", "value"])
    assert df.loc[("byWeek", 9), "date"] == date(2024, 12, 30)  # the week split by New Year
    assert df.loc[("byWeek", 4), "date"] == date(2025, 1, 1)
    assert df.loc[("byWeek", 72), "date"] == date(2024, 9, 2)
    assert df.loc[("byMonth", 1701), "date"] == date(2024, 9, 1)
    with pytest.raises(ParseError, match="last365days"):
        parse_applemusic_stats(b"<script>var chartData = {};</script>", ctx("applemusic_stats_x.html"))


def test_real_fixtures(bedrot):
    folder = bedrot / "distrokid"
    bank = parse_bank_details((folder / "dk_bank_details_20250527_102936.tsv").read_bytes(), ctx())
    assert len(bank) == 8635 and bank["quantity"].sum() == 616709
    assert round(bank["earnings_usd"].sum(), 6) == 1587.060015
    assert bank["store"].nunique() == 16
    assert bank["artist"].value_counts().to_dict() == {"ZONE A0": 4834, "PIG1987": 3801}
    streams = parse_streams_stats((folder / "streams_stats_20250527_102936.html").read_bytes(), ctx("s.html"))
    daily = streams[streams["series"] == "trend365day"]
    assert len(daily) == 276 and daily["streams"].sum() == 677589
    assert (daily["date"].min(), daily["date"].max()) == (date(2024, 8, 23), date(2025, 5, 25))
    apple = parse_applemusic_stats((folder / "applemusic_stats_20250527_102936.html").read_bytes(), ctx("a.html"))
    assert len(apple[apple["series"] == "last365days"]) == 263
    assert apple[apple["series"] == "byMonth"]["value"].sum() == 20151  # the chart's own total


def test_bank_details_quoted_values():
    header = "\t".join(f'"{h}"' for h in OLD_HEADER)
    row = "\t".join(f'"{v}"' for v in ["2024-10-05", "2024-08", "Spotify", "Nova", "Song\tA", "QZ1", "1", "10",
                                      "100", "Song", "US", "0", "0.04"])
    df = parse_bank_details(f"{header}\r{row}".encode(), ctx())
    assert df["title"].iloc[0] == "Song\tA" and df["store"].iloc[0] == "Spotify"
