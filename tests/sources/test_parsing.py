"""The parsing helpers every source uses: one test per trap FORMATS.md lists, each with a small
file written here."""

import re
from datetime import date, datetime, timezone

import numpy as np
import pyarrow as pa
import pytest

from assets.sources.base import ParseError
from assets.sources.parsing import (
    EMPTY,
    Column,
    counts,
    date_parts,
    dates,
    decimal_mark,
    decode,
    header_names,
    json_column,
    numbers,
    read_delimited,
    text,
    timestamp_from_name,
    timestamps,
    yearless_dates,
)


def col(*values, name="c"):
    return Column(name, pa.array(values, pa.string()))


def raises(message):
    return pytest.raises(ParseError, match=re.escape(message))


def rows(table):
    return [list(r.values()) for r in table.values.to_pylist()]


# --- decoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    "a,b\nCafé,1\n".encode("utf-8"),
    "\ufeffa,b\nCafé,1\n".encode("utf-8"),  # UTF-8 with BOM
    "a,b\nCafé,1\n".encode("utf-16"),  # UTF-16 with BOM (LE here)
    "\ufeffa,b\nCafé,1\n".encode("utf-16-be"),
    "a,b\nCafé,1\n".encode("iso-8859-1"),  # not UTF-8: Latin-1
])
def test_decode_encodings(data):
    assert decode(data) == "a,b\nCafé,1\n"


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b"  \r\n", "the file is empty"),
    (b"\xff\xfe", "the file is empty"),
    (bytes(range(256)) * 20, "binary"),
])
def test_decode_refuses_empty_and_binary(data, message):
    with pytest.raises(ParseError, match=message):
        decode(data)


def test_timestamp_from_name():
    assert timestamp_from_name("dk_bank_details_20250527_102936.tsv") == datetime(2025, 5, 27, 10, 29, 36,
                                                                                tzinfo=timezone.utc)
    assert timestamp_from_name("graphql_20250527-141844_257580.json").hour == 14
    assert timestamp_from_name("Overview.csv") is None
    assert timestamp_from_name("x_20251399_000000.csv") is None  # no such day


# --- delimited text -----------------------------------------------------------------------------


def test_utf8_bom_and_every_value_quoted():
    table = read_delimited('\ufeff"Date","Views"\n"May 28","1,204"\n'.encode(), "x")
    assert table.header == ("Date", "Views") and rows(table) == [["May 28", "1,204"]]


def test_utf16le_bom_sep_line_and_title_line():
    """Meta Business Suite: UTF-16LE with BOM, ``sep=,``, a title line, then the header."""
    data = 'sep=,\n"Views"\n"Date","Primary"\n"2025-10-31T00:00:00","312"\n'.encode("utf-16-le")
    table = read_delimited(b"\xff\xfe" + data, "views export", header=("Date",))
    assert (table.header, table.header_line, table.sep) == (("Date", "Primary"), 3, ",")
    assert rows(table) == [["2025-10-31T00:00:00", "312"]] and table.lines.tolist() == [4]
    assert header_names(b"\xff\xfe" + data, header=("Date",)) == ["date", "primary"]


def test_semicolon_excel_resave_with_decimal_comma():
    data = "Date;Amount spent (EUR);Impressions\r\n01.04.2025;1.234,56;42.105\r\n02.04.2025;0,5;7\r\n"
    table = read_delimited(data.encode("utf-8"), "x")
    assert table.sep == ";"
    spent, impressions = table.column("amount spent (eur)"), table.column("Impressions")
    mark = decimal_mark([spent, impressions])
    assert mark == ","
    assert numbers(spent, decimal=mark, thousands=".").to_pylist() == [1234.56, 0.5]
    assert counts(impressions, thousands=".").to_pylist() == [42105, 7]
    assert dates(table.column("Date"), styles=("iso", "dot")).to_pylist() == [date(2025, 4, 1), date(2025, 4, 2)]


def test_decimal_marks_that_disagree_are_refused():
    with raises("numbers mix decimal marks: column 'a', line 1: '12.5' has a decimal point, "
                "column 'b', line 2: '0,25' a decimal comma"):
        decimal_mark([col("12.5", name="a"), col("1", "0,25", name="b")])
    assert decimal_mark([col("1,234", "7")], default=",") == ","  # no evidence: the default
    assert decimal_mark([col("1,234,567")]) == "."  # a comma twice groups thousands


def test_cr_only_crlf_and_lf_line_endings():
    for newline in ("\r", "\r\n", "\n"):
        table = read_delimited(newline.join(["a\tb", "1\t2", "3\t4"]).encode(), "x", sep="\t")
        assert rows(table) == [["1", "2"], ["3", "4"]] and table.lines.tolist() == [2, 3]


def test_quoted_separators_quotes_and_line_breaks_keep_line_numbers():
    data = 'title,views\n"one, two",1\n"say ""hi""\nover two lines",2\n\n"last",3\n'
    table = read_delimited(data.encode(), "x")
    assert rows(table) == [["one, two", "1"], ['say "hi"\nover two lines', "2"], ["last", "3"]]
    assert table.lines.tolist() == [2, 3, 6]  # the quoted line break and the empty line count
    with raises("column 'views', line 6: 'x' is not a whole number"):
        counts(read_delimited(data.replace("3", "x").encode(), "x").column("views"), thousands=None)


@pytest.mark.parametrize("data, message", [
    ("a,b,c\n1,2,3\n4,5\n", "x: line 3 has 2 fields, the header has 3 (separator ','"),
    ('a,b\n"1\n2",3\n4,5,6\n', "x: line 4 has 3 fields, the header has 2"),
    ("a,b\n1,2,\n", "x: line 2 has 3 fields, the header has 2"),
])
def test_a_line_with_a_wrong_field_count_is_named(data, message):
    with raises(message):
        read_delimited(data.encode(), "x")


def test_preamble_lines_before_the_header():
    """SoundCloud: an account id and a UUID, then the header on line 3."""
    data = ("Account,1234\n0d6b3c2e-8f1a-4b7e-9c3d-2f5e6a7b8c9d\n"
            "Reporting Period,Partner,Track,Units,Revenue (USD)\n2025-05,SoundCloud,Tide,12,\"$0.11 \"\n")
    table = read_delimited(data.encode(), "revenue", header=("Reporting Period", "Revenue (USD)"))
    assert table.header_line == 3 and table.lines.tolist() == [4]
    assert numbers(table.column("Revenue (USD)"), currency=True).to_pylist() == [0.11]
    with raises("revenue: no header line with a 'Reporting starts' column in the first 10 lines"):
        read_delimited(data.encode(), "revenue", header=("Reporting starts",))


def test_blank_lines_separator_lines_empty_trailing_columns_and_totals():
    data = "date,views,,\n\n2025-01-01,5,,\n,,,\n2025-01-02,7,,\nTotal,12,,\n\n\n"
    table = read_delimited(data.encode(), "x")
    assert table.header == ("date", "views")
    assert rows(table.drop_totals("date")) == [["2025-01-01", "5"], ["2025-01-02", "7"]]
    with raises("x: line 2 has 3 fields, the header has 2"):
        read_delimited(b"date,views,\n2025-01-01,5,oops\n", "x")


def test_columns_by_name_any_case_spacing_or_accents():
    table = read_delimited("Date,Monthly_Active-Listeners,Catégorie\n1,2,3\n".encode(), "x")
    assert table.column("monthly active listeners").name == "Monthly_Active-Listeners"
    assert table.column("Nope", "categorie").values.to_pylist() == ["3"]
    with raises("x: line 1 (the header): missing column(s) 'streams'; the header has 'Date'"):
        table.require("date", ("streams", "plays"))
    with raises("x: line 1: the header names 'streams' twice"):
        read_delimited(b"date,streams,Streams\n1,2,3\n", "x").column("streams")


def test_header_names_for_recognising_files():
    assert header_names(b'\xef\xbb\xbf"date";"Streams"\r\n1;2') == ["date", "streams"]
    assert header_names(b"") == [] and header_names(b"\x00\x01binary") in ([], ["\x00\x01binary"])


# --- counts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("thousands, value, expected", [
    (None, "1234", 1234),
    (None, "1,234", None),
    (",", "1,234,567", 1234567),
    (",", "1.234", None),
    (",", "1,5", None),  # a decimal comma, not grouping
    (", '", "1 234", 1234),
    (", '", "1\u00a0234", 1234),
    (", '", "1'234", 1234),
    ("any", "1.234", 1234),  # TikTok's locales
    ("any", "1.234.567", 1234567),
    ("any", "1 234", 1234),
    ("any", "1’234", 1234),
    ("any", "1,234.567", None),  # one kind of separator per value
    ("any", "1,5", None),
])
def test_thousands_policies(thousands, value, expected):
    if expected is None:
        with raises(f"column 'c', line 1: {value!r} is not a whole number"):
            counts(col(value), thousands=thousands)
    else:
        assert counts(col(value), thousands=thousands).to_pylist() == [expected]


def test_count_errors_explain_a_refused_point():
    with raises("'1.234' is not a whole number (counts have no decimals; a '.' thousands separator is not accepted)"):
        counts(col("1.234"), thousands=",")


def test_negative_counts_point_zero_and_empty_tokens():
    values = col("-3", "\u22122", "+4", "312.0", "1.000", "", "-", "—", "n/a", "NaN", "undefined", "--", "null")
    assert counts(values, thousands="any", point_zero=True).to_pylist() == [-3, -2, 4, 312, 1000] + [None] * 8
    with raises("'312.0' is not a whole number"):
        counts(col("312.0"), thousands=None)
    with raises("'n/a' is not a whole number"):
        counts(col("n/a"), thousands=None, empty=("",))  # a platform whose empty cells are only empty
    assert {"", "-", "n/a", "undefined", "nan", "--"} <= EMPTY


def test_counts_too_large_or_not_digits():
    for value in ("12a", "0x10", "1e3", "١٢", "99999999999999999999"):
        with raises(f"{value!r} is not a whole number"):
            counts(col(value), thousands=",")


# --- decimals, money, percentages ---------------------------------------------------------------


def test_numbers_money_and_percent():
    assert numbers(col("0.5", ".25", "-1.5e-3", "", "1,234.5"), thousands=",").to_pylist() == [
        0.5, 0.25, -0.0015, None, 1234.5]
    assert numbers(col("$0.11 ", "US$5", "-$3", "USD 1,234.5"), thousands=",", currency=True).to_pylist() == [
        0.11, 5.0, -3.0, 1234.5]  # MailChimp's "$0.11 "
    assert numbers(col("1.234,56 €", "EUR 12,5"), decimal=",", thousands=".", currency=True).to_pylist() == [
        1234.56, 12.5]
    assert numbers(col("23.5%", "7 %", "0.1"), percent=True).to_pylist() == [23.5, 7.0, 0.1]
    with raises("column 'c', line 2: '12%' is not a number"):
        numbers(col("1", "12%"))
    with raises("'inf' is not a number"):
        numbers(col("inf"))
    with raises("'lots' is not a share"):
        numbers(col("lots"), noun="a share")


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("styles, values, expected", [
    (("iso",), ["2025-01-31", "2025-1-2", "2025/01/31", "20250131"], ["2025-01-31", "2025-01-02", "2025-01-31", "2025-01-31"]),
    (("iso",), ["2025-10-31T00:00:00", "2025-01-02T23:59:59.000Z", "2019-01-31 22:08 +0000"],
     ["2025-10-31", "2025-01-02", "2019-01-31"]),  # a time after the date: the day as written
    (("slash",), ["1/31/2025", "2/1/2025"], ["2025-01-31", "2025-02-01"]),  # Excel's US re-save
    (("slash",), ["31/1/2025", "1/2/2025"], ["2025-01-31", "2025-02-01"]),  # day-first: the file says so
    (("slash",), ["1/2/2025"], ["2025-01-02"]),  # nothing says: "/" is month-first
    (("slash",), ["1/3/26 10:12am", "1/2/26 9:01 PM"], ["2026-01-03", "2026-01-02"]),  # Bandcamp
    (("dash",), ["31-10-2025", "01-11-2025"], ["2025-10-31", "2025-11-01"]),  # DD-MM-YYYY (YouTube totals)
    (("dot",), ["01.04.2025"], ["2025-04-01"]),
    (("month",), ["2024-08", "08/2024"], ["2024-08-01", "2024-08-01"]),
    (("words",), ["Tue, Feb 18, 2025", "Mon Feb 17 2025", "Jun 01, 2023 09:46 pm", "May 28, 2025 at 10:12"],
     ["2025-02-18", "2025-02-17", "2023-06-01", "2025-05-28"]),  # X, MailChimp
    (("words",), ["28 de mayo de 2025", "1er janvier 2025", "28. Mai 2025", "5 de março 2025", "9 settembre 2025",
                  "4 mrt 2025", "Sept. 9, 2025"],
     ["2025-05-28", "2025-01-01", "2025-05-28", "2025-03-05", "2025-09-09", "2025-03-04", "2025-09-09"]),
    (("cjk",), ["2025年5月28日", "2025년 5월 28일"], ["2025-05-28", "2025-05-28"]),
    (("epoch",), ["1748345895", "1748345895000"], ["2025-05-27", "2025-05-27"]),
])
def test_every_date_style(styles, values, expected):
    assert [d.isoformat() for d in dates(col(*values), styles=styles).to_pylist()] == expected


def test_date_errors_name_column_line_value_and_styles():
    with raises("column 'day', line 2: '2025-02-30' is not a date (expected YYYY-MM-DD)"):
        dates(col("2025-02-28", "2025-02-30", name="day"))
    with raises("'Smarch 1, 2025' is not a date (expected e.g. 2025-01-31, Jan 31, 2025)"):
        dates(col("Smarch 1, 2025"), styles=("iso", "words"))
    with raises("line 2: '13/5/2025' mixes day-first and month-first dates (see line 1)"):
        dates(col("5/13/2025", "13/5/2025"), styles=("slash",))
    with raises("line 2: '1/2/2025' is not a date (expected like the file's other dates, e.g. 2025-01-31)"):
        dates(col("2025-01-01", "1/2/2025"), styles=("iso", "slash"), consistent=True)
    with raises("'May 28' is not a date (it has no year)"):
        dates(col("May 28"), styles=("words",))
    assert dates(col("", "-", "2025-01-01")).to_pylist() == [None, None, date(2025, 1, 1)]


def test_date_parts_keep_a_missing_year_missing():
    parts = date_parts(col("May 28", "28 de mayo", "5月28日", "2025-05-28", "-"))
    assert [None if p is None else (p["year"], p["month"], p["day"]) for p in parts.to_pylist()] == [
        (None, 5, 28), (None, 5, 28), (None, 5, 28), (2025, 5, 28), None]


def test_yearless_dates_cross_new_year_either_way():
    oldest_first = col("December 30", "Dec 31", "January 1", "Jan 2")
    expected = [date(2024, 12, 30), date(2024, 12, 31), date(2025, 1, 1), date(2025, 1, 2)]
    assert yearless_dates(oldest_first, date(2025, 1, 3)).to_pylist() == expected
    newest_first = col("2 de enero", "1 de enero", "31 de diciembre")
    assert yearless_dates(newest_first, date(2025, 1, 3)).to_pylist() == expected[:0:-1]
    # one day of slack (the export time is UTC, the rows in the account's zone); rows with a year stay
    assert yearless_dates(col("May 28"), date(2025, 5, 27)).to_pylist() == [date(2025, 5, 28)]
    assert yearless_dates(col("May 28"), date(2025, 5, 27), slack=0).to_pylist() == [date(2024, 5, 28)]
    assert yearless_dates(col("Dec 31", "2025-01-01", "Jan 2"), date(2025, 6, 1)).to_pylist() == expected[1:]


def test_yearless_dates_over_many_years_and_february_29():
    days = [date(2023, 2, 27), date(2023, 2, 28), date(2023, 3, 1)]  # 2023 has no Feb 29
    assert yearless_dates(col("Feb 27", "Feb 28", "Mar 1"), date(2023, 3, 1)).to_pylist() == days
    assert yearless_dates(col("Feb 28", "Feb 29", "Mar 1"), date(2024, 3, 1)).to_pylist() == [
        date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    # a lone Feb 29 is the latest one before the export: 2024, even when exported in 2027
    assert yearless_dates(col("Feb 29"), date(2027, 6, 1)).to_pylist() == [date(2024, 2, 29)]
    two_years = [f"{m} 1" for m in ("Jan", "Jul")] * 2
    assert yearless_dates(col(*two_years), date(2025, 8, 1)).to_pylist() == [
        date(2024, 1, 1), date(2024, 7, 1), date(2025, 1, 1), date(2025, 7, 1)]


def test_yearless_dates_refuse_a_day_twice_and_nonsense():
    with raises("column 'Date', line 3: 'May 1' is the same day (2025-05-01) as line 2"):
        yearless_dates(Column("Date", pa.array(["April 30", "May 1", "May 1"]), np.array([1, 2, 3])), date(2025, 5, 3))
    with raises("'Mayo 45' is not a date"):
        yearless_dates(col("Mayo 45"), date(2025, 5, 3))


def test_timestamps_zones_clock_and_missing_years():
    values = col("2025-05-23T06:57:56-0700", "2025-05-23T06:57:56.5+02:00", "Jun 01, 2023 09:46 pm",
                 "28 de mayo 09:30", "1748345895", "2025-05-23", "")
    out = timestamps(values, styles=("iso", "words", "epoch"), export_day=date(2025, 5, 27)).to_pylist()
    assert [t and t.isoformat() for t in out] == [
        "2025-05-23T13:57:56+00:00", "2025-05-23T04:57:56.500000+00:00", "2023-06-01T21:46:00+00:00",
        "2024-05-28T09:30:00+00:00", "2025-05-27T11:38:15+00:00", "2025-05-23T00:00:00+00:00", None]
    with raises("'yesterday' is not a time (expected YYYY-MM-DD)"):
        timestamps(col("yesterday"), noun="a time")
    with raises("'2025-05-23 25:10' is not a date"):
        timestamps(col("2025-05-23 25:10"))


# --- JSON values --------------------------------------------------------------------------------


def test_json_columns_name_their_path():
    values = [12, "1,204", 5.0, None, "n/a", 2.5]
    column = json_column("totalViews", values, lambda i: f"data.timeseries[{i}].totalViews", expected="a count")
    with raises("data.timeseries[5].totalViews: 2.5 is not a whole number"):
        counts(column, thousands=",")
    assert counts(json_column("v", values[:5]), thousands=",").to_pylist() == [12, 1204, 5, None, None]
    with raises("data[1].v: expected a count, found a list"):
        json_column("v", [1, [1]], lambda i: f"data[{i}].v", expected="a count")
    assert text(json_column("t", [" a ", "", None, 7])).to_pylist() == ["a", None, None, "7"]
