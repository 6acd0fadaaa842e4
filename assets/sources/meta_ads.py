"""Meta Ads (Facebook / Instagram ads): Graph API JSON and Ads Manager CSV exports.

What the platform hands out:

- **Insights** (Graph API ``/act_<id>/insights?level=adset``, saved as JSON): rows
  ``{campaign_id, campaign_name, adset_id, adset_name, spend, impressions, clicks, cpc, ctr, reach,
  frequency, date_start, date_stop}`` with every number as a *string*. ``time_increment=1`` gives
  one row per ad set and day (``date_start == date_stop``), otherwise one row per reporting window.
  Saved either as the bare list or as the API's envelope ``{"data": [...], "paging": {...}}`` (one
  page per file; further pages are further files). Rows may carry ``account_id`` and
  ``account_currency``. Fields the API could not compute (``cpc`` with no clicks) are left out.
- **Campaigns** (``/act_<id>/campaigns``): ``{id, name, status, objective, start_time,
  created_time, updated_time}``, times like ``2025-05-23T06:57:56-0700``.
- **Ads Manager CSV** (the "Export table data" button): columns follow the chosen report.

Traps handled:

- numbers as strings (JSON); a value that is not a number is an error naming its JSON path
  (``[3].spend`` or ``data[3].spend`` in an envelope);
- the API's JSON carries no currency unless ``account_currency`` was requested: then the
  ``--currency`` option is used, else USD (the API reports in the ad account's currency; the
  accounts seen so far are USD). A saved API *error* response is refused with its message;
- Ads Manager puts the currency in column names (``Amount spent (EUR)``); two different currencies
  in one file are refused;
- locales: ``;`` as separator (detected from the header line), decimal commas (``12,34``) and
  ``.`` as thousands separator, a byte-order mark, quoted values, a preamble before the header;
  the decimal mark is read from the values themselves (see :func:`.parsing.decimal_mark`);
- ``Reporting starts`` / ``Reporting ends`` as ISO dates, ``DD.MM.YYYY``, or slashed dates whose
  order (day or month first) the file itself must settle (see :func:`_dates`);
- the optional summary row (all names blank) is dropped;
- exports without ids: ``name:<campaign name>`` / ``name:<ad set name>`` stand in;
- rows that repeat campaign × ad set × window (ad-level or breakdown exports) are refused with a
  reason, since summing or picking among them would give wrong numbers.
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source, UnusedContent
from .parsing import (
    Column,
    counts,
    dates,
    decimal_mark,
    frame,
    head_text,
    json_column,
    json_document,
    numbers,
    read_delimited,
    require_values,
    text,
    timestamps,
)
from .samples import delimited_bytes, name_stamp, sample_end, spotify_breakout

NAME = "meta_ads"
PLATFORM = "meta"
DEFAULT_CURRENCY = "USD"

# --- schemas -------------------------------------------------------------------------------------

# Insights and Ads Manager rows share one shape: the same facts, two ways of getting them.
AD_SCHEMA = pa.schema([
    ("date_start", pa.date32()),
    ("date_stop", pa.date32()),
    ("account_id", pa.string()),
    ("campaign_id", pa.string()),
    ("campaign_name", pa.string()),
    ("adset_id", pa.string()),
    ("adset_name", pa.string()),
    ("currency", pa.string()),
    ("spend", pa.float64()),
    ("impressions", pa.int64()),
    ("clicks", pa.int64()),
    ("reach", pa.int64()),
    ("frequency", pa.float64()),
    ("cpc", pa.float64()),
    ("ctr", pa.float64()),
])
AD_KEY = ("date_start", "date_stop", "campaign_id", "adset_id")

CAMPAIGN_SCHEMA = pa.schema([
    ("account_id", pa.string()),
    ("campaign_id", pa.string()),
    ("campaign_name", pa.string()),
    ("status", pa.string()),
    ("effective_status", pa.string()),
    ("objective", pa.string()),
    ("start_time", pa.timestamp("us", tz="UTC")),
    ("stop_time", pa.timestamp("us", tz="UTC")),
    ("created_time", pa.timestamp("us", tz="UTC")),
    ("updated_time", pa.timestamp("us", tz="UTC")),
])
CAMPAIGN_KEY = ("campaign_id",)

AD_COLUMNS = [f.name for f in AD_SCHEMA]


def _unique_key(df: pd.DataFrame, key: tuple[str, ...], what: str) -> None:
    """Several rows for one campaign × ad set × window come from ad-level or breakdown exports
    (age, country, placement, ...). Their spend adds up but their reach does not, and one row per
    key would hide the rest: refuse with a reason a person can act on."""
    dupes = df.duplicated(list(key), keep=False)
    if dupes.any():
        first = df[dupes].iloc[0]
        raise ParseError(
            f"{what}: {int(dupes.sum())} rows share one campaign × ad set × window (e.g. "
            f"{first['campaign_name']!r} / {first['adset_name']!r}, {first['date_start']}..{first['date_stop']}): "
            "an ad-level or breakdown export? Export at ad set (or campaign) level without breakdowns"
        )


# --- Graph API JSON --------------------------------------------------------------------------------

def _graph_rows(data: bytes, ctx: ParseContext, what: str) -> tuple[list[dict], str]:
    """The rows of a saved Graph API response (bare list or ``{"data": [...]}`` envelope) and
    the JSON path prefix errors should use."""
    doc = json_document(data)
    if isinstance(doc, dict):
        err = doc.get("error")
        if isinstance(err, dict):  # a saved error response: say what the API said
            raise ParseError(f"the file holds a Graph API error, not {what}: {err.get('message')!r} "
                             f"(type {err.get('type')}, code {err.get('code')})")
        if not isinstance(doc.get("data"), list):
            raise ParseError(f"expected a JSON list of {what} or a Graph API envelope {{\"data\": [...]}}; "
                             f"the object has keys {sorted(doc)}")
        rows, prefix = doc["data"], "data"
    elif isinstance(doc, list):
        rows, prefix = doc, ""
    else:
        raise ParseError(f"expected a JSON list of {what} or a Graph API envelope, not a {type(doc).__name__}")
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise ParseError(f"{prefix}[{i}] is not an object")
    return rows, prefix


# The Graph API writes numbers as strings of plain digits with a decimal point; anything else
# there (even "n/a") is a damaged file, only an absent or empty field is no value.
_API_EMPTY = ("",)


class _Fields:
    """The fields of Graph API rows, one column at a time, errors naming the JSON path."""

    def __init__(self, rows: list[dict], prefix: str):
        self.rows, self.prefix = rows, prefix

    def column(self, field: str, *, required: bool = False, expected: str = "a number") -> Column:
        values = [r.get(field) for r in self.rows]
        if required:
            for i, v in enumerate(values):
                if v is None or (isinstance(v, str) and not v.strip()):
                    raise ParseError(f"{self.prefix}[{i}].{field}: missing (the row has {', '.join(sorted(self.rows[i]))})")
        return json_column(field, values, lambda i: f"{self.prefix}[{i}].{field}", expected=expected)

    def text(self, field: str, **kw) -> pa.Array:
        return text(self.column(field, expected="a text", **kw), empty=_API_EMPTY)

    def count(self, field: str, **kw) -> pa.Array:
        return counts(self.column(field, **kw), thousands=None, empty=_API_EMPTY)

    def number(self, field: str, **kw) -> pa.Array:
        return numbers(self.column(field, **kw), empty=_API_EMPTY)

    def date(self, field: str, **kw) -> pa.Array:
        return dates(self.column(field, expected="a date", **kw), empty=_API_EMPTY)

    def time(self, field: str) -> pa.Array:
        # the API always gives an offset (2025-05-23T06:57:56-0700); without one, UTC rather than a guess
        return timestamps(self.column(field, expected="a time"), noun="a time", empty=_API_EMPTY)


def parse_insights(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    rows, prefix = _graph_rows(data, ctx, "insights rows")
    if not rows:
        raise UnusedContent("the insights response holds no rows (nothing delivered in the window)")
    f = _Fields(rows, prefix)
    out = {"date_start": f.date("date_start", required=True), "date_stop": f.date("date_stop", required=True),
           "account_id": f.text("account_id"), "campaign_id": f.text("campaign_id", required=True),
           "campaign_name": f.text("campaign_name"),
           # null on campaign-level insights (level=campaign): the row is the whole campaign
           "adset_id": f.text("adset_id"), "adset_name": f.text("adset_name")}
    # The API reports money in the ad account's currency. Rows carry it only when
    # `account_currency` was requested; otherwise --currency, otherwise USD (see DEFAULT_CURRENCY).
    fallback = (ctx.options.get("currency") or DEFAULT_CURRENCY).upper()
    currency = pc.fill_null(f.text("account_currency"), fallback)
    bad = ~np.asarray(pc.match_substring_regex(currency, r"^[A-Za-z]{3}$").to_numpy(zero_copy_only=False), dtype=bool)
    if bad.any():
        i = int(bad.nonzero()[0][0])
        raise ParseError(f"{prefix}[{i}].account_currency: {currency[i].as_py()!r} is not an ISO 4217 code")
    out["currency"] = pc.utf8_upper(currency)
    out["spend"] = f.number("spend", required=True)
    out["impressions"] = f.count("impressions", required=True)
    for field in ("clicks", "reach"):
        out[field] = f.count(field)
    for field in ("frequency", "cpc", "ctr"):
        out[field] = f.number(field)
    backwards = np.asarray(pc.fill_null(pc.less(out["date_stop"], out["date_start"]), False)
                           .to_numpy(zero_copy_only=False), dtype=bool)
    if backwards.any():
        i = int(backwards.nonzero()[0][0])
        raise ParseError(f"{prefix}[{i}]: date_stop {out['date_stop'][i].as_py()} is before date_start "
                         f"{out['date_start'][i].as_py()}")
    df = frame({c: out[c] for c in AD_COLUMNS}, len(rows))
    _unique_key(df, AD_KEY, "insights")
    return df


def parse_campaigns(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    rows, prefix = _graph_rows(data, ctx, "campaigns")
    if not rows:
        raise UnusedContent("the campaigns response holds no campaigns")
    if not any("objective" in r or "status" in r for r in rows):
        raise ParseError("not a Meta Ads campaigns list: no row has 'objective' or 'status' "
                         "(another platform's file? ingest it with --source)")
    f = _Fields(rows, prefix)
    df = frame({
        "account_id": f.text("account_id"), "campaign_id": f.text("id", required=True),
        "campaign_name": f.text("name"), "status": f.text("status"), "effective_status": f.text("effective_status"),
        "objective": f.text("objective"),
        **{t: f.time(t) for t in ("start_time", "stop_time", "created_time", "updated_time")},
    }, len(rows))
    dupes = df["campaign_id"].duplicated()
    if dupes.any():
        i = int(dupes.to_numpy().nonzero()[0][0])
        raise ParseError(f"{prefix}[{i}].id: campaign {df['campaign_id'].iloc[i]!r} appears twice")
    return df


def _json_head(head: bytes) -> bytes | None:
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return head if head[:1] in (b"[", b"{") else None


def _sniff_insights(name: str, head: bytes) -> bool:
    h = _json_head(head)
    return h is not None and b'"date_start"' in h and (b'"adset_id"' in h or b'"campaign_id"' in h)


def _sniff_campaigns(name: str, head: bytes) -> bool:
    h = _json_head(head)
    return h is not None and b'"objective"' in h and b'"status"' in h and b'"id"' in h


# --- Ads Manager CSV -------------------------------------------------------------------------------

_CURRENCY_IN_NAME = re.compile(r"\(([A-Z]{3})\)\s*$")
_SPEND_COLUMN = re.compile(r"^amount spent \(([A-Za-z]{3})\)$", re.IGNORECASE)
# Ads Manager writes numbers in the account's locale: the decimal mark is read from the file's
# values (see parsing.decimal_mark; with no evidence, ";" files come from decimal-comma locales),
# the other mark, spaces or a Swiss "'" group thousands
_DATE_STYLES = ("iso", "dot", "slash")
_SLASHED = r"^\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b"


def _dates(cols: dict[str, Column], pairs: list[tuple[str, str]]) -> dict[str, pa.Array]:
    """Dates of the given columns: ISO ``YYYY-MM-DD``, ``DD.MM.YYYY`` (dots are day-first in every
    locale that uses them), or slashed ``a/b/YYYY``. Slashed dates are day-first (``DD/MM/YYYY``) or
    month-first (``M/D/YYYY``, an Excel re-save) depending on the locale, so the file decides: an
    order is ruled out when it makes any date impossible (a part above 12) or puts a window's end
    before its start (``pairs``). If both orders remain and they would give different dates, the
    file is refused: guessing would put spend on the wrong days."""

    def read(day_first: bool) -> tuple[dict[str, pa.Array] | None, str | None]:
        try:
            parsed = {name: dates(col, styles=_DATE_STYLES, day_first=day_first) for name, col in cols.items()}
            for name, col in cols.items():
                require_values(col, parsed[name], "no date")
        except ParseError as exc:
            return None, str(exc)
        for start, stop in pairs:
            backwards = np.asarray(pc.fill_null(pc.less(parsed[stop], parsed[start]), False)
                                   .to_numpy(zero_copy_only=False), dtype=bool)
            if backwards.any():
                i = int(backwards.nonzero()[0][0])
                return None, (f"line {cols[start].line(i)}: {cols[stop].name!r} {parsed[stop][i].as_py()} is before "
                              f"{cols[start].name!r} {parsed[start][i].as_py()}")
        return parsed, None

    slashed = {name: np.asarray(pc.fill_null(pc.match_substring_regex(col.values, _SLASHED), False)
                                .to_numpy(zero_copy_only=False), dtype=bool) for name, col in cols.items()}
    if not any(m.any() for m in slashed.values()):
        parsed, problem = read(True)
        if problem:
            raise ParseError(problem)
        return parsed
    results = {order: read(order) for order in (True, False)}
    fine = [order for order, (parsed, _) in results.items() if parsed is not None]
    if not fine:
        raise ParseError(results[True][1])
    if len(fine) == 2 and any(not results[True][0][c].equals(results[False][0][c]) for c in cols):
        for name, col in cols.items():
            same = pc.equal(results[True][0][name], results[False][0][name])
            differ = slashed[name] & ~np.asarray(pc.fill_null(same, True).to_numpy(zero_copy_only=False), dtype=bool)
            if differ.any():
                raise col.error(int(differ.nonzero()[0][0]),
                                "could be day-first or month-first and nothing in the file tells which (no day above "
                                "12, every window fits both ways); export the report with ISO dates (YYYY-MM-DD)")
    return results[fine[0]][0]


def parse_ads_manager(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    what = "Ads Manager CSV"
    table = read_delimited(data, what, header=("Reporting starts",))
    header = table.header
    # currency: every money column names it; one export must be in one currency
    currencies: dict[str, str] = {}
    for h in header:
        m = _CURRENCY_IN_NAME.search(h)
        if m:
            currencies.setdefault(m.group(1), h)
    if len(currencies) > 1:
        raise ParseError(f"{what}: columns name several currencies ("
                         + ", ".join(f"{c} in {h!r}" for c, h in currencies.items())
                         + "): one export must be in one currency")
    spend_name = next((h for h in header if _SPEND_COLUMN.match(h)), None)
    starts, ends = table.column("Reporting starts"), table.column("Reporting ends")
    missing = [n for n, c in (("Reporting starts", starts), ("Reporting ends", ends),
                              ("Amount spent (<currency>)", spend_name)) if c is None]
    if missing:
        raise table.missing(missing, known=3 - len(missing))
    currency = _SPEND_COLUMN.match(spend_name).group(1).upper()
    camp_name, camp_id = table.column("Campaign name"), table.column("Campaign ID")
    set_name, set_id = table.column("Ad set name"), table.column("Ad set ID")
    if not any((camp_name, camp_id, set_name, set_id)):
        raise ParseError(f"{what}: no 'Campaign name', 'Campaign ID', 'Ad set name' or 'Ad set ID' column; "
                         f"the header has {', '.join(repr(h) for h in header)}")

    # The summary row Ads Manager adds on request ("Include summary row") carries the report's
    # totals with blank names; counting it would double every figure, so it is dropped. A row is
    # the summary when its campaign (name and id) is blank, or, in exports without campaign
    # columns, its ad set is.
    naming = [c for c in (camp_name, camp_id) if c] or [c for c in (set_name, set_id) if c]
    named = np.zeros(len(table), bool)
    for c in naming:
        named |= np.asarray(pc.not_equal(c.values, "").to_numpy(zero_copy_only=False), dtype=bool)
    table = table.filter(named)
    if not len(table):
        raise UnusedContent("the export holds no campaign or ad set rows (only a summary, or nothing delivered)")
    starts, ends = table.column("Reporting starts"), table.column("Reporting ends")
    camp_name, camp_id = table.column("Campaign name"), table.column("Campaign ID")
    set_name, set_id = table.column("Ad set name"), table.column("Ad set ID")

    def col(*names: str) -> Column | None:
        return table.column(*names)

    # "Clicks (all)" / "CPC (all)" / "CTR (all)" are what the API calls clicks, cpc and ctr. The
    # link-click family is used only when the report has no "Clicks (all)" but "Link clicks"; the
    # three always come from one family, so cpc and ctr agree with clicks.
    all_family = (col("Clicks (all)"), col(f"CPC (all) ({currency})"), col("CTR (all)"))
    link_family = (col("Link clicks"), col(f"CPC (cost per link click) ({currency})"),
                   col("CTR (link click-through rate)"))
    use_all = all_family[0] is not None or (link_family[0] is None and any(all_family))
    clicks_col, cpc_col, ctr_col = all_family if use_all else link_family
    wholes = {"impressions": col("Impressions"), "reach": col("Reach"), "clicks": clicks_col}
    decimals = {"spend": col(spend_name), "frequency": col("Frequency"), "cpc": cpc_col, "ctr": ctr_col}
    decimal = decimal_mark([c for c in (*wholes.values(), *decimals.values()) if c],
                           default="," if table.sep == ";" else ".")
    thousands = ("," if decimal == "." else ".") + " '"

    day = col("Day")  # a "Day" breakdown: each row is one day inside the reporting window
    days = _dates({"Day": day} if day else {"starts": starts, "ends": ends}, [] if day else [("starts", "ends")])

    def ids(id_col: Column | None, name_col: Column | None) -> pa.Array:
        blank = pa.scalar(None, pa.string())
        names = text(name_col) if name_col else pa.nulls(len(table), pa.string())
        # no id column (or a blank id): the curated model keys such rows by name, `name:<name>`
        by_name = pc.binary_join_element_wise("name:", names, "")
        if id_col is None:
            return by_name
        rounded = np.asarray(pc.match_substring_regex(id_col.values, r"^\d(\.\d+)?[eE]\+?\d+$")
                             .to_numpy(zero_copy_only=False), dtype=bool)
        if rounded.any():
            raise id_col.error(int(rounded.nonzero()[0][0]), "is an id a spreadsheet turned into a rounded number; "
                                                              "use the export as downloaded")
        given = text(id_col)
        return pc.if_else(pc.is_valid(given), given, pc.if_else(pc.is_valid(by_name), by_name, blank))

    n = len(table)
    out = {
        "date_start": days["Day" if day else "starts"], "date_stop": days["Day" if day else "ends"],
        "account_id": text(col("Account ID")) if col("Account ID") else pa.nulls(n, pa.string()),
        "campaign_id": ids(camp_id, camp_name),
        "campaign_name": text(camp_name) if camp_name else pa.nulls(n, pa.string()),
        "adset_id": ids(set_id, set_name),
        "adset_name": text(set_name) if set_name else pa.nulls(n, pa.string()),
        "currency": currency,
    }
    for field, c in wholes.items():
        out[field] = counts(c, thousands=thousands) if c else pa.nulls(n, pa.int64())
    for field, c in decimals.items():
        out[field] = numbers(c, decimal=decimal, thousands=thousands, percent=True) if c else pa.nulls(n, pa.float64())
    df = frame({c: out[c] for c in AD_COLUMNS}, n)
    _unique_key(df, AD_KEY, what)
    return df


def _sniff_ads_manager(name: str, head: bytes) -> bool:
    lines = head_text(head[:65536]).replace("\r\n", "\n").replace("\r", "\n").lower().split("\n")[:10]
    return any("reporting starts" in line and "amount spent (" in line for line in lines)


# --- quality -------------------------------------------------------------------------------------

def _ad_suite(require_campaign: bool):
    return quality.suite(
        key=AD_KEY,
        not_null=("date_start", "date_stop", *(("campaign_id",) if require_campaign else ())),
        ordered=(("date_start", "date_stop"),),
        regex={"currency": r"^[A-Z]{3}$"},
        between={"spend": (0, 10_000_000), **{c: (0, 100_000_000_000) for c in ("impressions", "clicks", "reach")}},
    )


INSIGHTS = Dataset(
    name="insights",
    description="Graph API insights per ad set (or campaign) and reporting window or day: spend, impressions, "
                "clicks, reach (JSON list or {data, paging} envelope)",
    schema=AD_SCHEMA, key=AD_KEY, parse=parse_insights,
    patterns=(r"^(meta[_-]?ads[_-]?)?insights_.*\.json$",), sniff=_sniff_insights,
    expectations=_ad_suite(require_campaign=True),
)
CAMPAIGNS = Dataset(
    name="campaigns",
    description="Graph API campaigns: name, status, objective, start/created/updated times",
    schema=CAMPAIGN_SCHEMA, key=CAMPAIGN_KEY, parse=parse_campaigns,
    patterns=(r"^(meta[_-]?ads[_-]?)?campaigns_.*\.json$",), sniff=_sniff_campaigns,
    expectations=quality.suite(not_null=("campaign_id",), unique=("campaign_id",)),
)
ADS_MANAGER = Dataset(
    name="ads_manager",
    description="Ads Manager table export (CSV; currency in the column names, ',' or ';' separated) per "
                "campaign or ad set and reporting window",
    schema=AD_SCHEMA, key=AD_KEY, parse=parse_ads_manager,
    # names like `<Account>-Campaigns-May-1-2025-May-27-2025.csv`; the header sniff does the real work
    patterns=(r"-(campaigns|ad-?sets|ads)-.*([a-z]{3}-\d{1,2}-\d{4}|\d{4}-\d{2}-\d{2}).*\.csv$",
              r"^(meta[_-]?ads|ads[_-]?manager)[_-].*\.csv$"),
    sniff=_sniff_ads_manager,
    expectations=_ad_suite(require_campaign=False),
)


# --- curated -------------------------------------------------------------------------------------

PERFORMANCE_COLUMNS = ["date_start", "date_stop", "platform", "account_id", "campaign_id", "campaign_name",
                       "adset_id", "adset_name", "currency", "spend", "spend_usd", "impressions", "clicks",
                       "reach", "frequency", "cpc", "ctr", "sha256", "observed_at"]
CAMPAIGN_COLUMNS = ["platform", "campaign_id", "campaign_name", "status", "objective", "start_time",
                    "created_time", "updated_time", "sha256", "observed_at"]


def _ad_performance(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = [f for f in (frames.get("insights"), frames.get("ads_manager")) if f is not None and len(f)]
    if not parts:
        return pd.DataFrame(columns=PERFORMANCE_COLUMNS)
    df = pd.concat(parts, ignore_index=True)
    is_usd = (df["currency"].astype("string") == "USD").fillna(False).astype(bool)
    # no exchange rate is guessed: other currencies keep `spend` + `currency`, `spend_usd` is null
    df = df.assign(platform=PLATFORM, spend_usd=df["spend"].where(is_usd))
    return df[PERFORMANCE_COLUMNS]


def _ad_campaigns(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames.get("campaigns")
    if df is None or not len(df):
        return pd.DataFrame(columns=CAMPAIGN_COLUMNS)
    return df.assign(platform=PLATFORM)[CAMPAIGN_COLUMNS]


# --- samples -------------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _fmt(x: float) -> str:
    """A number the way the Graph API writes it: a string, no trailing zeros."""
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _eu(x: float, places: int = 2) -> str:
    """A number the way a decimal-comma locale writes it (``1.234,56``)."""
    return f"{x:,.{places}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    rng = random.Random(seed + 404)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = name_stamp(end + timedelta(days=1))
    account = "act_1029384756"
    days = 60
    first = end - timedelta(days=days - 1)
    # two campaigns × two ad sets; the second campaign starts later (the API omits days without delivery)
    campaigns = [
        ("120210000000000101", "Nova Lights - Midnight Arcade - Streams", "OUTCOME_TRAFFIC", first,
         [("120210000000000111", "Midnight Arcade - Broad 18-34"), ("120210000000000112", "Midnight Arcade - Lookalike 1%")]),
        ("120210000000000201", "Ivy Vale - Paper Satellites - Engagement", "OUTCOME_ENGAGEMENT", first + timedelta(days=24),
         [("120210000000000211", "Paper Satellites - Interests"), ("120210000000000212", "Paper Satellites - Retargeting")]),
    ]
    rows = []
    for n in range(days):
        day = first + timedelta(days=n)
        for cid, cname, _, start, adsets in campaigns:
            if day < start:
                continue
            for sid, sname in adsets:
                spend = round(rng.uniform(2.0, 14.0), 2)
                impressions = int(spend * rng.uniform(180, 420))
                reach = max(1, int(impressions / rng.uniform(1.02, 1.35)))
                clicks = int(impressions * rng.uniform(0.004, 0.02))
                row = {"account_id": account.removeprefix("act_"), "account_currency": "USD",
                       "campaign_id": cid, "campaign_name": cname, "adset_id": sid, "adset_name": sname,
                       "spend": f"{spend:.2f}", "impressions": str(impressions), "clicks": str(clicks),
                       "reach": str(reach), "frequency": _fmt(impressions / reach),
                       "date_start": day.isoformat(), "date_stop": day.isoformat()}
                if clicks:  # the API leaves cpc out when there were no clicks
                    row["cpc"] = _fmt(spend / clicks)
                row["ctr"] = _fmt(100 * clicks / impressions)
                rows.append(row)
    envelope = {"data": rows, "paging": {"cursors": {"before": "MAZDZD", "after": f"MjQZD{len(rows)}"}}}
    insights = out_dir / f"insights_{stamp}.json"
    insights.write_text(json.dumps(envelope, indent=2))

    def meta_time(d: date, h: int) -> str:
        return f"{d.isoformat()}T{h:02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}-0700"

    camp_rows = [{"id": cid, "name": cname, "status": "ACTIVE", "objective": objective,
                  "start_time": meta_time(start, 9), "created_time": meta_time(start - timedelta(days=1), 18),
                  "updated_time": meta_time(end - timedelta(days=3), 11)}
                 for cid, cname, objective, start, _ in campaigns]
    camp_rows.append({"id": "120210000000000051", "name": "Nova Lights - Glass Harbour - Pre-save", "status": "PAUSED",
                      "objective": "OUTCOME_AWARENESS", "start_time": meta_time(first - timedelta(days=90), 10),
                      "created_time": meta_time(first - timedelta(days=91), 16),
                      "updated_time": meta_time(first - timedelta(days=60), 8)})
    campaigns_file = out_dir / f"campaigns_{stamp}.json"
    campaigns_file.write_text(json.dumps(camp_rows, indent=2))

    # An Ads Manager export of a second ad account billed in EUR, for the ten days before the API
    # window: ';'-separated, decimal commas, BOM, the summary row first (as Ads Manager writes it).
    # Its window starts on the day the demo's Spotify streams break out, so ad attribution has a
    # launch push to find.
    w_end = first - timedelta(days=1)
    w_start = spotify_breakout(end)
    header = ["Reporting starts", "Reporting ends", "Campaign name", "Ad set name", "Ad set delivery", "Reach",
              "Impressions", "Frequency", "Amount spent (EUR)", "CPM (cost per 1,000 impressions) (EUR)",
              "Link clicks", "CPC (cost per link click) (EUR)", "CTR (all)", "Clicks (all)", "CPC (all) (EUR)"]
    body = []
    for cname, sname in (("Nova Lights - Static Bloom - EU", "Static Bloom - DE/AT/CH"),
                         ("Nova Lights - Static Bloom - EU", "Static Bloom - FR/BE"),
                         ("Ivy Vale - Low Tide Radio - EU", "Low Tide Radio - Broad EU")):
        spend = round(rng.uniform(60, 240), 2)
        impressions = int(spend * rng.uniform(200, 380))
        reach = int(impressions / rng.uniform(1.4, 2.2))
        link = int(impressions * rng.uniform(0.004, 0.012))
        clicks_all = link + int(impressions * rng.uniform(0.002, 0.006))
        body.append([w_start.isoformat(), w_end.isoformat(), cname, sname, "inactive", str(reach), str(impressions),
                     _eu(impressions / reach, 6), _eu(spend), _eu(1000 * spend / impressions), str(link),
                     _eu(spend / link), _eu(100 * clicks_all / impressions, 6), str(clicks_all),
                     _eu(spend / clicks_all, 6)])
    tot = [sum(int(r[i]) for r in body) for i in (5, 6, 10, 13)]
    spend_total = sum(float(r[8].replace(".", "").replace(",", ".")) for r in body)
    summary = [w_start.isoformat(), w_end.isoformat(), "", "", "", str(tot[0]), str(tot[1]), _eu(tot[1] / tot[0], 6),
               _eu(spend_total), _eu(1000 * spend_total / tot[1]), str(tot[2]), _eu(spend_total / tot[2]),
               _eu(100 * tot[3] / tot[1], 6), str(tot[3]), _eu(spend_total / tot[3], 6)]
    lines = [header, summary, *body]
    name = (f"Nova-Lights-EU-Ad-sets-{_MONTHS[w_start.month - 1]}-{w_start.day}-{w_start.year}-"
            f"{_MONTHS[w_end.month - 1]}-{w_end.day}-{w_end.year}.csv")
    ads_manager = out_dir / name
    ads_manager.write_bytes(delimited_bytes(lines, sep=";", newline="\r\n", bom=True))
    return [insights, campaigns_file, ads_manager]


SOURCE = Source(
    name=NAME,
    title="Meta Ads",
    datasets=(INSIGHTS, CAMPAIGNS, ADS_MANAGER),
    mappings=(
        CuratedMapping("fct_ad_performance", ("insights", "ads_manager"), _ad_performance),
        CuratedMapping("dim_ad_campaign", ("campaigns",), _ad_campaigns),
    ),
    samples=write_samples,
    acquisition="file drop (Graph API JSON, Ads Manager CSV); API (Marketing API insights and campaigns, landed by the puller: soundlake pull meta_ads)",
)
