"""The one Great Expectations suite builder (assets.quality.suite): what it declares, a suite
that passes, and one that fails naming the column."""

import pandas as pd
import pytest

from assets import quality

ROWS = pd.DataFrame({
    "date": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03"]).date,
    "account": ["a", "a", "b"],
    "views": pd.array([10, 0, 7], dtype="Int64"),
    "share": [0.5, 0.2, 1.0],
    "currency": ["USD", "USD", "EUR"],
    "start": pd.to_datetime(["2025-01-01"] * 3).date,
})

SUITE = quality.suite(
    key=("date", "account"),
    not_null=("date", "views"),
    unique=("date",),
    between={"share": (0, 1)},
    non_negative=("views",),
    regex={"currency": r"^[A-Z]{3}$"},
    in_set={"account": ["a", "b"]},
    ordered=(("start", "date"),),
)


def test_suite_declares_its_expectations_lazily():
    checks = SUITE()
    assert [c.expectation_type for c in checks] == [
        "expect_column_values_to_not_be_null", "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_unique", "expect_column_values_to_match_regex",
        "expect_column_values_to_be_in_set", "expect_column_values_to_be_between",
        "expect_column_values_to_be_between", "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_compound_columns_to_be_unique"]
    pair = checks[-2]
    assert (pair.column_A, pair.column_B, pair.or_equal) == ("date", "start", True)
    assert quality.suite()() == []


def test_a_suite_that_passes():
    assert quality.validate("tests/passing", ROWS, SUITE()) == []


def test_a_suite_that_fails_names_the_column():
    bad = ROWS.assign(share=[0.5, 1.4, 0.1], currency=["USD", "usd", "EUR"])
    failures = quality.validate("tests/failing", bad, SUITE())
    assert {(f.expectation, f.column) for f in failures} == {
        ("expect_column_values_to_be_between", "share"), ("expect_column_values_to_match_regex", "currency")}
    text = "; ".join(map(str, failures))
    assert "on column 'share': 1 of 3 rows unexpected" in text and "'usd'" in text


@pytest.mark.parametrize("mostly, failing", [(None, True), (0.6, False)])
def test_mostly_relaxes_a_column(mostly, failing):
    suite = quality.suite(regex={"currency": r"^USD$"}, mostly={"currency": mostly} if mostly else None)
    assert bool(quality.validate("tests/mostly", ROWS, suite())) is failing


def test_a_repeated_key_fails():
    failures = quality.validate("tests/key", pd.concat([ROWS, ROWS.iloc[:1]]), quality.suite(key=("date", "account"))())
    assert [f.expectation for f in failures] == ["expect_compound_columns_to_be_unique"]
