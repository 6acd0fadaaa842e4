"""MailChimp: the campaign exports (file drop) and Marketing API ``/3.0/reports`` responses
(landed by the API puller).

- **Campaign list** (Campaigns → export): ``Title, Subject, Audience, Send Date, Send Weekday,
  Total Recipients, Unique Id``, dates like ``Jun 01, 2023 09:46 pm`` (the account's time zone;
  taken as UTC, the file does not say which), emoji in subjects. Seen elsewhere.
- **Campaign report** (Analytics → Reports → export): the list's columns plus ``Successful
  Deliveries, Soft Bounces, Hard Bounces, Total Bounces, Unique Opens, Open Rate, Total Opens,
  Unique Clicks, Click Rate, Total Clicks, Unsubscribes, Abuse Complaints, ..., Total Revenue``;
  rates as ``45.23%``, ``n/a`` where MailChimp has no figure, money like ``"$0.11 "``.
- **Marketing API** ``GET /3.0/reports``: ``{"reports": [{id, campaign_title, type, list_id,
  list_name, subject_line, emails_sent, abuse_reports, unsubscribed, send_time, bounces:
  {hard_bounces, soft_bounces, syntax_errors}, opens: {opens_total, unique_opens, open_rate},
  clicks: {clicks_total, unique_clicks, click_rate}, ...}], "total_items": n}``, one page per
  file (offset pagination). ``opens.open_rate`` is a fraction (``list_stats.open_rate`` a
  percent: not used). An empty page is ``unused``.

Every rate is stored as a fraction 0..1. The three share one staging shape, so a campaign seen
in the list, a report and the API meets in one curated row (each column's newest figure).
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source, UnusedContent
from .parsing import (
    counts,
    frame,
    json_column,
    json_document,
    numbers,
    read_delimited,
    require_values,
    text,
    timestamps,
)
from .samples import delimited_bytes, name_stamp, sample_end, spotify_breakout
from .social import frames_of, header_sniffer, json_sniffer, newest_values

NAME = "mailchimp"
PLATFORM = "mailchimp"

SCHEMA = pa.schema([
    ("campaign_id", pa.string()),
    ("title", pa.string()),
    ("subject", pa.string()),
    ("audience", pa.string()),
    ("list_id", pa.string()),
    ("campaign_type", pa.string()),
    ("sent_at", pa.timestamp("us", tz="UTC")),
    ("emails_sent", pa.int64()),
    ("delivered", pa.int64()),
    ("bounces", pa.int64()),
    ("opens", pa.int64()),
    ("unique_opens", pa.int64()),
    ("open_rate", pa.float64()),
    ("clicks", pa.int64()),
    ("unique_clicks", pa.int64()),
    ("click_rate", pa.float64()),
    ("unsubscribes", pa.int64()),
    ("abuse_reports", pa.int64()),
    ("revenue", pa.float64()),
])
KEY = ("campaign_id",)

# MailChimp writes counts with "," grouping in its US-English exports
THOUSANDS = ","
DATE_STYLES = ("words", "iso", "slash")

# {field: (header aliases, required)}
_LIST_COLUMNS = {
    "title": (("Title", "Campaign Title", "Campaign Name"), True),
    "subject": (("Subject", "Subject Line"), False),
    "audience": (("Audience", "List", "List Name"), False),
    "sent_at": (("Send Date", "Sent Date", "Send Time"), True),
    "emails_sent": (("Total Recipients", "Recipients", "Emails Sent"), True),
    "campaign_id": (("Unique Id", "Unique ID", "Campaign ID", "Campaign Id"), True),
}
_REPORT_COUNTS = {
    "delivered": ("Successful Deliveries",),
    "bounces": ("Total Bounces",),
    "opens": ("Total Opens",),
    "unique_opens": ("Unique Opens",),
    "clicks": ("Total Clicks",),
    "unique_clicks": ("Unique Clicks",),
    "unsubscribes": ("Unsubscribes",),
    "abuse_reports": ("Abuse Complaints",),
}
_REPORT_RATES = {"open_rate": ("Open Rate",), "click_rate": ("Click Rate",)}


def _rate(col) -> pa.Array:
    """``45.23%`` as 0.4523. Bare numbers are percentages too (a re-save that dropped the sign)."""
    pct = numbers(col, percent=True, noun="a rate (like 45.23%)")
    out = pc.divide(pct, 100.0)
    bad = pc.fill_null(pc.or_(pc.less(out, 0), pc.greater(out, 1.000001)), False)
    if pc.any(bad).as_py():
        raise col.error(pc.index(bad, True).as_py(), "is not a rate between 0% and 100%")
    return out


def _parse_csv(data: bytes, ctx: ParseContext, what: str, report: bool) -> pd.DataFrame:
    table = read_delimited(data, what, header=("Unique Id",) if not report else ())
    found = {fld: table.column(*aliases) for fld, (aliases, _) in _LIST_COLUMNS.items()}
    missing = [aliases[0] for fld, (aliases, required) in _LIST_COLUMNS.items() if required and found[fld] is None]
    if report:
        missing += [a[0] for fld, a in {**_REPORT_COUNTS, **_REPORT_RATES}.items()
                    if fld in ("unique_opens", "open_rate") and table.column(*a) is None]
    if missing:
        raise table.missing(missing)
    # drafts and scheduled campaigns have no send date yet: not campaigns that were sent
    table = table.filter(np.asarray(pc.fill_null(pc.not_equal(found["sent_at"].values, ""), False)
                                    .to_numpy(zero_copy_only=False), dtype=bool))
    found = {fld: table.column(*aliases) for fld, (aliases, _) in _LIST_COLUMNS.items()}
    if not len(table):
        raise UnusedContent(f"{what}: the file holds no sent campaign")
    ids = text(found["campaign_id"])
    require_values(found["campaign_id"], ids, "the campaign's Unique Id is empty")
    sent = timestamps(found["sent_at"], styles=DATE_STYLES, noun="a send date")
    n = len(table)
    out: dict[str, Any] = {
        "campaign_id": ids, "sent_at": sent,
        "emails_sent": counts(found["emails_sent"], thousands=THOUSANDS),
        **{fld: text(found[fld]) if found[fld] is not None else pa.nulls(n, pa.string())
           for fld in ("title", "subject", "audience")},
    }
    if report:
        for fld, aliases in _REPORT_COUNTS.items():
            col = table.column(*aliases)
            if col is not None:
                out[fld] = counts(col, thousands=THOUSANDS)
        for fld, aliases in _REPORT_RATES.items():
            col = table.column(*aliases)
            if col is not None:
                out[fld] = _rate(col)
        revenue = table.column("Total Revenue")
        if revenue is not None:
            out["revenue"] = numbers(revenue, thousands=THOUSANDS, currency=True, noun="an amount of money")
    return frame(out, n)


def parse_campaign_list(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """The campaign list export: one row per sent campaign (title, subject, audience, when, how many)."""
    return _parse_csv(data, ctx, "MailChimp campaign list", report=False)


def parse_campaign_report(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """The campaign report export: the list's columns plus deliveries, bounces, opens, clicks and rates."""
    return _parse_csv(data, ctx, "MailChimp campaign report", report=True)


def parse_reports_api(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    """One page of ``GET /3.0/reports``."""
    doc = json_document(data)
    if not isinstance(doc, dict):
        raise ParseError(f"expected a MailChimp /reports response (a JSON object), not a {type(doc).__name__}")
    if "reports" not in doc:
        if "status" in doc and "detail" in doc:  # a saved API problem document
            raise ParseError(f"the file holds a MailChimp API error, not reports: {doc.get('title')!r}: {doc.get('detail')!r} "
                             f"(status {doc.get('status')})")
        raise ParseError(f"not a MailChimp /reports response: the object has keys {sorted(doc)} and no 'reports'")
    reports = doc["reports"]
    if not isinstance(reports, list):
        raise ParseError("'reports' must be a list of campaign reports")
    if not reports:
        raise UnusedContent("the page holds no campaign reports")
    for i, r in enumerate(reports):
        if not isinstance(r, dict):
            raise ParseError(f"reports[{i}] is not an object")

    def field(path: str, expected: str = "a number"):
        parts = path.split(".")

        def get(r: dict):
            for p in parts:
                if not isinstance(r, dict):
                    return None
                r = r.get(p)
            return r

        return json_column(path, [get(r) for r in reports], lambda i: f"reports[{i}].{path}", expected=expected)

    def count(path: str) -> pa.Array:
        return counts(field(path), thousands=None, empty=("",))

    def fraction(path: str) -> pa.Array:
        col = field(path)
        out = numbers(col, empty=("",))
        bad = pc.fill_null(pc.or_(pc.less(out, 0), pc.greater(out, 1.000001)), False)
        if pc.any(bad).as_py():
            raise col.error(pc.index(bad, True).as_py(), "is not a fraction 0..1 (MailChimp's opens/clicks rates are)")
        return out

    ids_col = field("id", "an id")
    ids = text(ids_col)
    require_values(ids_col, ids, "the report has no campaign id")
    hard, soft = count("bounces.hard_bounces"), count("bounces.soft_bounces")
    # a report without a bounces object says nothing of them: unknown (and so are deliveries), not 0
    bounces = pc.if_else(pc.and_(pc.is_null(hard), pc.is_null(soft)), pa.scalar(None, pa.int64()),
                         pc.add(pc.fill_null(hard, 0), pc.fill_null(soft, 0)))
    sent = count("emails_sent")
    return frame({
        "campaign_id": ids, "title": text(field("campaign_title", "a text")), "subject": text(field("subject_line", "a text")),
        "audience": text(field("list_name", "a text")), "list_id": text(field("list_id", "a text")),
        "campaign_type": text(field("type", "a text")),
        "sent_at": timestamps(field("send_time", "a time"), noun="a time", empty=("",)),
        "emails_sent": sent, "bounces": bounces, "delivered": pc.subtract(sent, bounces),
        "opens": count("opens.opens_total"), "unique_opens": count("opens.unique_opens"),
        "open_rate": fraction("opens.open_rate"), "clicks": count("clicks.clicks_total"),
        "unique_clicks": count("clicks.unique_clicks"), "click_rate": fraction("clicks.click_rate"),
        "unsubscribes": count("unsubscribed"), "abuse_reports": count("abuse_reports"),
        "revenue": numbers(field("ecommerce.total_revenue"), empty=("",)),
    }, len(reports))


# --- datasets -------------------------------------------------------------------------------------

_COUNT = (0, 1_000_000_000)
_SUITE = quality.suite(
    unique=KEY, not_null=("campaign_id", "sent_at", "emails_sent"),
    between={**{c: _COUNT for c in ("emails_sent", "delivered", "bounces", "opens", "unique_opens", "clicks",
                                    "unique_clicks", "unsubscribes", "abuse_reports")},
             "open_rate": (0, 1), "click_rate": (0, 1)},
)
CAMPAIGN_LIST = Dataset(
    name="campaign_list",
    description="Campaign list export (CSV): title, subject, audience, send date, recipients, unique id",
    schema=SCHEMA, key=KEY, parse=parse_campaign_list,
    patterns=(r"^mailchimp[_-].*campaigns?(?!.*report).*\.csv$",),
    sniff=header_sniffer("Unique Id", "Send Date", "Total Recipients", without=("Unique Opens", "Open Rate")),
    expectations=_SUITE,
)
CAMPAIGN_REPORT = Dataset(
    name="campaign_report",
    description="Campaign report export (CSV): per campaign deliveries, bounces, opens, clicks and their rates",
    schema=SCHEMA, key=KEY, parse=parse_campaign_report,
    patterns=(r"^mailchimp[_-].*reports?.*\.csv$",),
    sniff=header_sniffer("Send Date", "Unique Opens", "Open Rate"),
    expectations=_SUITE,
)
REPORTS_API = Dataset(
    name="reports_api",
    description="Marketing API GET /3.0/reports pages: per campaign sends, bounces, opens, clicks, rates",
    schema=SCHEMA, key=KEY, parse=parse_reports_api,
    patterns=(r"^mailchimp[_-]?reports?.*\.json$",),
    sniff=json_sniffer(b'"reports"', b'"emails_sent"'),
    expectations=_SUITE,
)


# --- curated --------------------------------------------------------------------------------------

_CURATED = ["title", "subject", "audience", "campaign_type", "sent_at", "emails_sent", "delivered", "bounces",
            "opens", "unique_opens", "open_rate", "clicks", "unique_clicks", "click_rate", "unsubscribes",
            "abuse_reports"]


def _email_campaigns(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames_of(frames, "campaign_list", "campaign_report", "reports_api")
    if df is None:
        return pd.DataFrame(columns=["platform", "campaign_id", *_CURATED, "sha256", "observed_at"])
    return newest_values(df, ["campaign_id"], _CURATED).assign(platform=PLATFORM)


# --- samples --------------------------------------------------------------------------------------

_SUBJECTS = ("New single out now 🎧", "Tour dates + a secret show 🎟️", "Behind the song: Glass Harbour",
             "Static Bloom is here ✨", "Thank you for 1,000 listeners 💜", "Merch drop this Friday",
             "Your early access link 🔑", "Studio diary #3")


def _mc_date(t: datetime) -> str:
    return t.strftime("%b %d, %Y %I:%M %p").replace("AM", "am").replace("PM", "pm")


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """Eight newsletters over the last months (one right after the demo's Spotify breakout): the
    campaign list and the report export (all but the newest campaign, with an ``n/a`` click
    rate), and an API page with the newest five (fractions, as the API writes them)."""
    rng = random.Random(seed * 17 + 5)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    breakout = spotify_breakout(end)
    campaigns = []
    for k, subject in enumerate(_SUBJECTS):
        day = breakout + timedelta(days=1) if k == 5 else end - timedelta(days=(len(_SUBJECTS) - k) * 21)
        sent_at = datetime.combine(day, time(18 + k % 4, 5 * k), tzinfo=timezone.utc)
        recipients = 800 + 45 * k + rng.randint(0, 30)
        bounces = rng.randint(2, 12)
        unique_opens = int((recipients - bounces) * rng.uniform(0.32, 0.52))
        unique_clicks = 0 if k == 2 else int(unique_opens * rng.uniform(0.05, 0.2))
        campaigns.append(dict(id=f"{rng.randrange(16**10):010x}", title=f"Newsletter {k + 1:02d}", subject=subject,
                              sent=sent_at, recipients=recipients, bounces=bounces, unique_opens=unique_opens,
                              opens=int(unique_opens * rng.uniform(1.3, 1.9)), unique_clicks=unique_clicks,
                              clicks=int(unique_clicks * rng.uniform(1.1, 1.6)), unsub=rng.randint(0, 6)))
    campaigns.sort(key=lambda c: c["sent"])
    audience = "Nova Lights Fans"
    list_rows = [["Title", "Subject", "Audience", "Send Date", "Send Weekday", "Total Recipients", "Unique Id"]]
    for c in reversed(campaigns):  # newest first, as MailChimp lists them
        list_rows.append([c["title"], c["subject"], audience, _mc_date(c["sent"]), c["sent"].strftime("%A"),
                          f"{c['recipients']:,}", c["id"]])
    report_rows = [["Title", "Subject", "List", "Send Date", "Send Weekday", "Total Recipients", "Successful Deliveries",
                    "Soft Bounces", "Hard Bounces", "Total Bounces", "Times Forwarded", "Forwarded Opens", "Unique Opens",
                    "Open Rate", "Total Opens", "Unique Clicks", "Click Rate", "Total Clicks", "Unsubscribes",
                    "Abuse Complaints", "Times Liked on Facebook", "Folder Id", "Unique Id", "Total Orders",
                    "Total Gross Sales", "Total Revenue"]]
    for c in campaigns[:-1]:
        delivered = c["recipients"] - c["bounces"]
        click_rate = "n/a" if not c["unique_clicks"] else f"{100 * c['unique_clicks'] / delivered:.2f}%"
        report_rows.append([c["title"], c["subject"], audience, _mc_date(c["sent"]), c["sent"].strftime("%A"),
                            str(c["recipients"]), str(delivered), str(c["bounces"] // 2), str(c["bounces"] - c["bounces"] // 2),
                            str(c["bounces"]), "0", "0", str(c["unique_opens"]), f"{100 * c['unique_opens'] / delivered:.2f}%",
                            str(c["opens"]), str(c["unique_clicks"]), click_rate, str(c["clicks"]), str(c["unsub"]), "0",
                            "0", "", c["id"], "0", "$0.00 ", f"${rng.uniform(0, 3):.2f} "])
    stamp = name_stamp(end + timedelta(days=1), hours=7)
    list_file = out_dir / f"mailchimp_campaigns_{stamp}.csv"
    list_file.write_bytes(delimited_bytes(list_rows, newline="\r\n"))
    report_file = out_dir / f"mailchimp_campaign_reports_{stamp}.csv"
    report_file.write_bytes(delimited_bytes(report_rows, newline="\r\n"))
    api = []
    for c in campaigns[-5:]:
        delivered = c["recipients"] - c["bounces"]
        api.append({"id": c["id"], "campaign_title": c["title"], "type": "regular", "list_id": "4ca5becb8d",
                    "list_name": audience, "subject_line": c["subject"], "emails_sent": c["recipients"],
                    "abuse_reports": 0, "unsubscribed": c["unsub"],
                    "send_time": c["sent"].isoformat(),
                    "bounces": {"hard_bounces": c["bounces"] - c["bounces"] // 2, "soft_bounces": c["bounces"] // 2,
                                "syntax_errors": 0},
                    "opens": {"opens_total": c["opens"] + 3, "unique_opens": c["unique_opens"] + 1,
                              "open_rate": round((c["unique_opens"] + 1) / delivered, 6)},
                    "clicks": {"clicks_total": c["clicks"], "unique_clicks": c["unique_clicks"],
                               "click_rate": round(c["unique_clicks"] / delivered, 6)},
                    "list_stats": {"sub_rate": 0, "unsub_rate": 0, "open_rate": 41.2, "click_rate": 5.1}})
    api_file = out_dir / f"mailchimp_reports_{name_stamp(end + timedelta(days=1), hours=9)}.json"
    api_file.write_text(json.dumps({"reports": api, "total_items": len(api)}, indent=1, ensure_ascii=False))
    return [list_file, report_file, api_file]


SOURCE = Source(
    name=NAME,
    title="MailChimp",
    datasets=(CAMPAIGN_LIST, CAMPAIGN_REPORT, REPORTS_API),
    mappings=(CuratedMapping("fct_email_campaigns", ("campaign_list", "campaign_report", "reports_api"), _email_campaigns),),
    samples=write_samples,
    acquisition="file drop (campaign list and campaign report CSV exports); API (Marketing API /3.0/reports, "
                "landed by the puller)",
)
