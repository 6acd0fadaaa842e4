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
  the decimal mark is read from the values themselves (see :func:`_decimal_mark`);
- ``Reporting starts`` / ``Reporting ends`` as ISO dates, ``DD.MM.YYYY``, or slashed dates whose
  order (day or month first) the file itself must settle (see :func:`_parse_dates`);
- the optional summary row (all names blank) is dropped;
- exports without ids: ``name:<campaign name>`` / ``name:<ad set name>`` stand in;
- rows that repeat campaign × ad set × window (ad-level or breakdown exports) are refused with a
  reason, since summing or picking among them would give wrong numbers.
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

import pandas as pd
import pyarrow as pa

from .base import (
    CuratedMapping,
    Dataset,
    ParseContext,
    ParseError,
    Source,
    UnusedContent,
    decode_text,
    normalise_newlines,
)

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
    try:
        doc = json.loads(decode_text(data, ctx.original_name))
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
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


_INT = re.compile(r"-?\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _json_value(row: dict, path: str, field: str, kind: str, required: bool = False):
    """One field of a Graph API row as ``kind`` (str, int, float, date, time); the API sends
    numbers as strings. Errors name the JSON path, e.g. ``[3].spend``."""
    where = f"{path}.{field}"
    v = row.get(field)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise ParseError(f"{where}: missing (the row has {', '.join(sorted(row))})")
        return None
    if kind == "str":
        return str(v)
    if isinstance(v, bool) or isinstance(v, (dict, list)):
        raise ParseError(f"{where}: {v!r} is not a {'whole number' if kind == 'int' else kind}")
    if kind == "int":
        if isinstance(v, int):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
        s = str(v).strip()
        if _INT.fullmatch(s):
            return int(s)
        raise ParseError(f"{where}: {v!r} is not a whole number")
    if kind == "float":
        try:
            f = float(v)
        except ValueError:
            raise ParseError(f"{where}: {v!r} is not a number") from None
        if not math.isfinite(f):
            raise ParseError(f"{where}: {v!r} is not a number")
        return f
    if kind == "date":
        s = str(v).strip()
        try:
            if _ISO_DATE.fullmatch(s):
                return date.fromisoformat(s)
        except ValueError:
            pass
        raise ParseError(f"{where}: {v!r} is not a date (expected YYYY-MM-DD)")
    if kind == "time":
        try:
            t = datetime.fromisoformat(str(v).strip())
        except ValueError:
            raise ParseError(f"{where}: {v!r} is not a time (expected like 2025-05-23T06:57:56-0700)") from None
        if t.tzinfo is None:  # the API always gives an offset; without one, take UTC rather than guess
            t = t.replace(tzinfo=timezone.utc)
        return t.astimezone(timezone.utc)
    raise AssertionError(kind)


def parse_insights(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    rows, prefix = _graph_rows(data, ctx, "insights rows")
    if not rows:
        raise UnusedContent("the insights response holds no rows (nothing delivered in the window)")
    # The API reports money in the ad account's currency. Rows carry it only when
    # `account_currency` was requested; otherwise --currency, otherwise USD (see DEFAULT_CURRENCY).
    fallback = (ctx.options.get("currency") or DEFAULT_CURRENCY).upper()
    out = []
    for i, r in enumerate(rows):
        path = f"{prefix}[{i}]"
        currency = _json_value(r, path, "account_currency", "str") or fallback
        if not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise ParseError(f"{path}.account_currency: {currency!r} is not an ISO 4217 code")
        out.append({
            "date_start": _json_value(r, path, "date_start", "date", required=True),
            "date_stop": _json_value(r, path, "date_stop", "date", required=True),
            "account_id": _json_value(r, path, "account_id", "str"),
            "campaign_id": _json_value(r, path, "campaign_id", "str", required=True),
            "campaign_name": _json_value(r, path, "campaign_name", "str"),
            # null on campaign-level insights (level=campaign): the row is the whole campaign
            "adset_id": _json_value(r, path, "adset_id", "str"),
            "adset_name": _json_value(r, path, "adset_name", "str"),
            "currency": currency.upper(),
            "spend": _json_value(r, path, "spend", "float", required=True),
            "impressions": _json_value(r, path, "impressions", "int", required=True),
            "clicks": _json_value(r, path, "clicks", "int"),
            "reach": _json_value(r, path, "reach", "int"),
            "frequency": _json_value(r, path, "frequency", "float"),
            "cpc": _json_value(r, path, "cpc", "float"),
            "ctr": _json_value(r, path, "ctr", "float"),
        })
        if out[-1]["date_stop"] < out[-1]["date_start"]:
            raise ParseError(f"{path}: date_stop {out[-1]['date_stop']} is before date_start {out[-1]['date_start']}")
    df = _ad_frame(out)
    _unique_key(df, AD_KEY, "insights")
    return df


def _ad_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=AD_COLUMNS)
    for col in ("account_id", "campaign_id", "campaign_name", "adset_id", "adset_name", "currency"):
        df[col] = df[col].astype("string")
    for col in ("impressions", "clicks", "reach"):
        df[col] = df[col].astype("Int64")
    for col in ("spend", "frequency", "cpc", "ctr"):
        df[col] = df[col].astype("float64")
    return df


def parse_campaigns(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    rows, prefix = _graph_rows(data, ctx, "campaigns")
    if not rows:
        raise UnusedContent("the campaigns response holds no campaigns")
    if not any("objective" in r or "status" in r for r in rows):
        raise ParseError("not a Meta Ads campaigns list: no row has 'objective' or 'status' "
                         "(another platform's file? ingest it with --source)")
    out = []
    for i, r in enumerate(rows):
        path = f"{prefix}[{i}]"
        out.append({
            "account_id": _json_value(r, path, "account_id", "str"),
            "campaign_id": _json_value(r, path, "id", "str", required=True),
            "campaign_name": _json_value(r, path, "name", "str"),
            "status": _json_value(r, path, "status", "str"),
            "effective_status": _json_value(r, path, "effective_status", "str"),
            "objective": _json_value(r, path, "objective", "str"),
            **{t: _json_value(r, path, t, "time") for t in ("start_time", "stop_time", "created_time", "updated_time")},
        })
    df = pd.DataFrame(out, columns=[f.name for f in CAMPAIGN_SCHEMA])
    for col in ("start_time", "stop_time", "created_time", "updated_time"):
        df[col] = pd.to_datetime(df[col], utc=True)
    for col in ("account_id", "campaign_id", "campaign_name", "status", "effective_status", "objective"):
        df[col] = df[col].astype("string")
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
_BLANKS = {"", "-", "—", "–", "n/a", "N/A"}  # how a cell with no value can look
_THOUSANDS_JUNK = str.maketrans("", "", " \u00a0\u202f'")  # spaces, (narrow) no-break spaces, Swiss '


def _separator(header_line: str) -> str:
    """The separator that makes ``Reporting starts`` a column of its own. Column names contain
    commas (``CPM (cost per 1,000 impressions) (USD)``), so counting characters would mislead."""
    best, width = None, 0
    for sep in (",", ";", "\t"):
        fields = [f.strip().lower() for f in next(csv.reader([header_line], delimiter=sep))]
        if "reporting starts" in fields and len(fields) > width:
            best, width = sep, len(fields)
    if best is None:
        raise ParseError("the header line has no 'Reporting starts' column with ',', ';' or tab as separator")
    return best


def _read_table(text: str, what: str) -> tuple[list[str], list[list[str]], list[int], str]:
    """Header, rows, each row's line number in the file, and the separator. The header is the first of the
    first 10 lines naming ``Reporting starts`` (a preamble before it is skipped)."""
    lines = normalise_newlines(text).split("\n")
    start = next((i for i, line in enumerate(lines[:10]) if "reporting starts" in line.lower()), None)
    if start is None:
        raise ParseError(f"{what}: not an Ads Manager export: no header line with a 'Reporting starts' column "
                         "in the first 10 lines")
    sep = _separator(lines[start])
    reader = csv.reader(lines[start:], delimiter=sep)
    header = [h.strip().lstrip("\ufeff").strip() for h in next(reader)]
    rows, numbers = [], []
    for fields in reader:
        if not fields or all(not f.strip() for f in fields):
            continue
        line = start + reader.line_num
        if len(fields) != len(header):
            raise ParseError(f"{what}: line {line} has {len(fields)} fields, the header has {len(header)} "
                             f"(separator {sep!r}; a truncated or damaged file?)")
        rows.append([f.strip() for f in fields])
        numbers.append(line)
    return header, rows, numbers, sep


def _decimal_mark(values: list[tuple[str, int, str]], sep: str) -> str:
    """``.`` or ``,``: which one the numbers of this file use as decimal mark.

    Decided by the values: a separator followed by other than three digits (``12,34``, ``0.5``),
    after a leading zero (``0,123``), or the later of two different ones (``1.234,56``) is the
    decimal mark; one used twice (``1,234,567``) is the thousands separator. Conflicting evidence is
    an error. With no evidence (only whole numbers or ``1,234``-like values) the separator decides:
    ``;`` files come from decimal-comma locales, ``,`` files from decimal-point ones."""
    seen: dict[str, tuple[str, int, str]] = {}
    for column, line, raw in values:
        s = raw.translate(_THOUSANDS_JUNK).rstrip("%").lstrip("-+")
        mark = None
        if "." in s and "," in s:
            mark = "," if s.rfind(",") > s.rfind(".") else "."
        elif s.count(",") > 1:
            mark = "."
        elif s.count(".") > 1:
            mark = ","
        elif s.count(",") == 1 or s.count(".") == 1:
            sym = "," if "," in s else "."
            whole, frac = s.split(sym)
            if len(frac) != 3 or whole in ("0", ""):
                mark = sym
        if mark and mark not in seen:
            seen[mark] = (column, line, raw)
    if len(seen) == 2:
        (c1, l1, v1), (c2, l2, v2) = seen["."], seen[","]
        raise ParseError(f"numbers mix decimal marks: column {c1!r}, line {l1}: {v1!r} has a decimal point, "
                         f"column {c2!r}, line {l2}: {v2!r} a decimal comma")
    if seen:
        return next(iter(seen))
    return "," if sep == ";" else "."


def _number(raw: str, column: str, line: int, decimal: str, whole: bool):
    s = raw.translate(_THOUSANDS_JUNK)
    if s in _BLANKS:
        return None
    s = s.rstrip("%")
    thousands = "," if decimal == "." else "."
    grouped = re.escape(thousands)
    pattern = rf"[-+]?(\d{{1,3}}({grouped}\d{{3}})+|\d+)({re.escape(decimal)}\d+)?"
    if not re.fullmatch(pattern, s):
        kind = "a whole number" if whole else "a number"
        raise ParseError(f"column {column!r}, line {line}: {raw!r} is not {kind} "
                         f"(decimal mark {decimal!r} in this file)")
    s = s.replace(thousands, "").replace(decimal, ".")
    if whole:
        if "." in s:
            raise ParseError(f"column {column!r}, line {line}: {raw!r} is not a whole number")
        return int(s)
    return float(s)


_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_DOT_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def _mkdate(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _parse_dates(cells: dict[str, list[str]], lines: list[int], pairs: list[tuple[str, str]]) -> dict[str, list[date]]:
    """Dates of the given columns: ISO ``YYYY-MM-DD``, ``DD.MM.YYYY`` (dots are day-first in every
    locale that uses them), or slashed ``a/b/YYYY``. Slashed dates are day-first (``DD/MM/YYYY``) or
    month-first (``M/D/YYYY``, an Excel re-save) depending on the locale, so the file decides: an
    order is ruled out when it makes any date impossible (a part above 12) or puts a window's end
    before its start (``pairs``). If both orders remain and they would give different dates, the
    file is refused: guessing would put spend on the wrong days."""
    expected = "expected YYYY-MM-DD, DD.MM.YYYY, or D/M/YYYY or M/D/YYYY"
    slashed = {col: [_SLASH_DATE.fullmatch(v) for v in vals] for col, vals in cells.items()}

    def read(order: str | None) -> dict[str, list[date | None]]:
        out = {}
        for col, vals in cells.items():
            got = []
            for v, m in zip(vals, slashed[col]):
                if m:
                    a, b, y = map(int, m.groups())
                    got.append(_mkdate(y, b, a) if order == "dmy" else _mkdate(y, a, b) if order == "mdy" else None)
                elif _ISO_DATE.fullmatch(v):
                    got.append(_mkdate(*map(int, v.split("-"))))
                elif (d := _DOT_DATE.fullmatch(v)):
                    a, b, y = map(int, d.groups())
                    got.append(_mkdate(y, b, a))
                else:
                    got.append(None)
            out[col] = got
        return out

    def first_bad(parsed, order) -> str | None:
        for col, vals in parsed.items():
            for v, d, m, line in zip(cells[col], vals, slashed[col], lines):
                if d is None and (m is None or order is not None):
                    return f"column {col!r}, line {line}: {v!r} is not a date ({expected})"
        for start, stop in pairs:
            for a, b, line in zip(parsed[start], parsed[stop], lines):
                if a and b and b < a:
                    return f"line {line}: {stop!r} {b} is before {start!r} {a}"
        return None

    if not any(m for ms in slashed.values() for m in ms):
        parsed = read(None)
        problem = first_bad(parsed, None)
        if problem:
            raise ParseError(problem)
        return parsed
    results = {order: read(order) for order in ("dmy", "mdy")}
    problems = {order: first_bad(results[order], order) for order in results}
    fine = [o for o in results if problems[o] is None]
    if not fine:
        raise ParseError(problems["dmy"])
    if len(fine) == 2 and results["dmy"] != results["mdy"]:
        col, v, line = next((c, v, ln) for c, ms in slashed.items() for v, m, ln in zip(cells[c], ms, lines)
                            if m and m.group(1) != m.group(2))
        raise ParseError(f"column {col!r}, line {line}: {v!r} could be day-first or month-first and nothing in "
                         "the file tells which (no day above 12, every window fits both ways); "
                         "export the report with ISO dates (YYYY-MM-DD)")
    return results[fine[0]]


def parse_ads_manager(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    what = "Ads Manager CSV"
    header, rows, lines, sep = _read_table(decode_text(data, ctx.original_name), what)
    by_lower = {h.lower(): h for h in header}

    def col(*names: str) -> str | None:
        return next((by_lower[n.lower()] for n in names if n.lower() in by_lower), None)

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
    spend_col = next((h for h in header if _SPEND_COLUMN.match(h)), None)
    starts, ends = col("Reporting starts"), col("Reporting ends")
    missing = [n for n, c in (("Reporting starts", starts), ("Reporting ends", ends),
                              ("Amount spent (<currency>)", spend_col)) if c is None]
    if missing:
        raise ParseError(f"{what}: missing column(s) {', '.join(repr(m) for m in missing)}; "
                         f"the header has {', '.join(repr(h) for h in header)}")
    currency = _SPEND_COLUMN.match(spend_col).group(1).upper()
    camp_name, camp_id = col("Campaign name"), col("Campaign ID")
    set_name, set_id = col("Ad set name"), col("Ad set ID")
    if not any((camp_name, camp_id, set_name, set_id)):
        raise ParseError(f"{what}: no 'Campaign name', 'Campaign ID', 'Ad set name' or 'Ad set ID' column; "
                         f"the header has {', '.join(repr(h) for h in header)}")
    idx = {h: i for i, h in enumerate(header)}

    # The summary row Ads Manager adds on request ("Include summary row") carries the report's
    # totals with blank names; counting it would double every figure, so it is dropped. A row is
    # the summary when its campaign (name and id) is blank, or, in exports without campaign
    # columns, its ad set is.
    naming = [c for c in (camp_name, camp_id) if c] or [c for c in (set_name, set_id) if c]
    kept = [(r, ln) for r, ln in zip(rows, lines) if any(r[idx[c]] for c in naming)]
    if not kept:
        raise UnusedContent("the export holds no campaign or ad set rows (only a summary, or nothing delivered)")
    rows, lines = [r for r, _ in kept], [ln for _, ln in kept]

    def cells(c: str | None) -> list[str]:
        return [r[idx[c]] for r in rows] if c else [""] * len(rows)

    # "Clicks (all)" / "CPC (all)" / "CTR (all)" are what the API calls clicks, cpc and ctr. The
    # link-click family is used only when the report has no "Clicks (all)" but "Link clicks"; the
    # three always come from one family, so cpc and ctr agree with clicks.
    all_family = (col("Clicks (all)"), col(f"CPC (all) ({currency})"), col("CTR (all)"))
    link_family = (col("Link clicks"), col(f"CPC (cost per link click) ({currency})"),
                   col("CTR (link click-through rate)"))
    use_all = all_family[0] is not None or (link_family[0] is None and any(all_family))
    clicks_col, cpc_col, ctr_col = all_family if use_all else link_family
    metric_cols = {
        "spend": (spend_col, False),
        "impressions": (col("Impressions"), True),
        "reach": (col("Reach"), True),
        "clicks": (clicks_col, True),
        "frequency": (col("Frequency"), False),
        "cpc": (cpc_col, False),
        "ctr": (ctr_col, False),
    }
    numeric_cells = [(c, ln, v) for c, _ in metric_cols.values() if c for v, ln in zip(cells(c), lines)
                     if v.translate(_THOUSANDS_JUNK) not in _BLANKS]
    decimal = _decimal_mark(numeric_cells, sep)

    day = col("Day")  # a "Day" breakdown: each row is one day inside the reporting window
    date_cols = [day] if day else [starts, ends]
    dates = _parse_dates({c: cells(c) for c in date_cols}, lines, [] if day else [(starts, ends)])

    def ids(id_col: str | None, name_col: str | None) -> list[str | None]:
        out = []
        for i, ln in zip(cells(id_col), lines):
            if id_col and re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+", i):
                raise ParseError(f"column {id_col!r}, line {ln}: {i!r} is an id a spreadsheet turned into "
                                 "a rounded number; use the export as downloaded")
            out.append(i or None)
        names = cells(name_col)
        # no id column (or a blank id): the curated model keys such rows by name, `name:<name>`
        return [i if i else (f"name:{n}" if n else None) for i, n in zip(out, names)]

    out = pd.DataFrame({
        "date_start": dates[day or starts],
        "date_stop": dates[day or ends],
        "account_id": [v or None for v in cells(col("Account ID"))],
        "campaign_id": ids(camp_id, camp_name),
        "campaign_name": [v or None for v in cells(camp_name)],
        "adset_id": ids(set_id, set_name),
        "adset_name": [v or None for v in cells(set_name)],
        "currency": currency,
    })
    for field, (c, whole) in metric_cols.items():
        out[field] = [_number(v, c, ln, decimal, whole) if c else None for v, ln in zip(cells(c), lines)]
    df = _ad_frame(out.to_dict("records"))
    _unique_key(df, AD_KEY, what)
    return df


def _sniff_ads_manager(name: str, head: bytes) -> bool:
    text = normalise_newlines(head[:65536].decode("utf-8-sig", errors="replace")).lower()
    return any("reporting starts" in line and "amount spent (" in line for line in text.split("\n")[:10])


# --- quality -------------------------------------------------------------------------------------

def _ad_expectations(require_campaign: bool):
    def build():
        import great_expectations.expectations as gxe

        checks = [
            gxe.ExpectColumnValuesToNotBeNull(column="date_start"),
            gxe.ExpectColumnValuesToNotBeNull(column="date_stop"),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="date_stop", column_B="date_start", or_equal=True),
            gxe.ExpectColumnValuesToMatchRegex(column="currency", regex=r"^[A-Z]{3}$"),
            gxe.ExpectColumnValuesToBeBetween(column="spend", min_value=0, max_value=10_000_000),
            gxe.ExpectColumnValuesToBeBetween(column="impressions", min_value=0, max_value=100_000_000_000),
            gxe.ExpectColumnValuesToBeBetween(column="clicks", min_value=0, max_value=100_000_000_000),
            gxe.ExpectColumnValuesToBeBetween(column="reach", min_value=0, max_value=100_000_000_000),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=list(AD_KEY)),
        ]
        if require_campaign:
            checks.append(gxe.ExpectColumnValuesToNotBeNull(column="campaign_id"))
        return checks

    return build


def _campaign_expectations():
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="campaign_id"),
        gxe.ExpectColumnValuesToBeUnique(column="campaign_id"),
    ]


INSIGHTS = Dataset(
    name="insights",
    description="Graph API insights per ad set (or campaign) and reporting window or day: spend, impressions, "
                "clicks, reach (JSON list or {data, paging} envelope)",
    schema=AD_SCHEMA, key=AD_KEY, parse=parse_insights,
    patterns=(r"^(meta[_-]?ads[_-]?)?insights_.*\.json$",), sniff=_sniff_insights,
    expectations=_ad_expectations(require_campaign=True),
)
CAMPAIGNS = Dataset(
    name="campaigns",
    description="Graph API campaigns: name, status, objective, start/created/updated times",
    schema=CAMPAIGN_SCHEMA, key=CAMPAIGN_KEY, parse=parse_campaigns,
    patterns=(r"^(meta[_-]?ads[_-]?)?campaigns_.*\.json$",), sniff=_sniff_campaigns,
    expectations=_campaign_expectations,
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
    expectations=_ad_expectations(require_campaign=False),
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
    end = end or date.today() - timedelta(days=2)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.combine(end + timedelta(days=1), datetime.min.time()).strftime("%Y%m%d_%H%M%S")
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
    # Its window starts on the day the demo's Spotify streams break out (distrokid's
    # sample_spotify_daily: 70 days before the end), so ad attribution has a launch push to find.
    w_end = first - timedelta(days=1)
    w_start = end - timedelta(days=69)
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
    lines = [";".join(header), ";".join(summary), *(";".join(r) for r in body)]
    name = (f"Nova-Lights-EU-Ad-sets-{_MONTHS[w_start.month - 1]}-{w_start.day}-{w_start.year}-"
            f"{_MONTHS[w_end.month - 1]}-{w_end.day}-{w_end.year}.csv")
    ads_manager = out_dir / name
    ads_manager.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
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
    acquisition="file drop (Graph API JSON, Ads Manager CSV)",
)
