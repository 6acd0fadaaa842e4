"""Bandcamp: the sales report (Tools → sales report, CSV) → ``fct_sales``.

What is known of the format (FORMATS.md; Bandcamp's help page "Reading your sales report"; the
Sales Report API's field names): about 52 columns, **UTF-16LE with a byte-order mark** in real
exports (an Excel re-save may be UTF-8, ``;``-separated with decimal commas, or start with a
``sep=,`` line), one line per sale of an item, payout, refund or reversal, not sorted, dates like
``1/3/26 10:12am`` (month first, UTC; the API's ``04 Jan 2021 23:22:11 GMT`` and ISO read too).
``item type`` is ``album``, ``track``, ``package`` (merch), ``payout``, ``refund`` or
``reversal``. Columns are matched by name (case, spaces and ``_`` do not matter), so the API's
``item_type`` spelling reads as well; unknown columns are ignored.

Decisions:

* **Personal data never leaves raw.** The parser reads only the columns of
  :data:`SALES_SCHEMA`: buyer name, e-mail, phone and note, every ``ship to ...`` column (name,
  street, city, state, zip), ``paid to`` (the seller's PayPal e-mail) and the referrer URL are
  never read, so staging, curated and the warehouse cannot hold them. The buyer's country code is
  kept (it is what a sale's country means); nothing identifies a buyer.
* **Payouts are not sales.** They stay in staging (item type ``payout``) and are left out of
  ``fct_sales``.
* **Refunds and reversals are negative** in quantity and money, whatever sign the file gives
  them (real exports write them negative); a partial refund may have no quantity (null).
* **Money**: ``gross`` is ``item total`` (``sub total`` in exports without it), ``net`` is
  ``net amount`` (what reached the seller), ``fees`` is gross − net. A ``*`` in ``transaction
  fee`` marks a payment still pending (``pending``). ``net_usd`` is only filled for USD sales.
* **Lines**: the transaction id is ``bandcamp transaction id`` (``paypal transaction id`` in
  older exports); without either, ``at:<sale time>``. Identical lines of one transaction are
  told apart by ``line_seq`` in file order, so a newer report that repeats older lines replaces
  them rather than doubling them.
* When the report was made: the time of its newest line (the file name has no stamp).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import quality
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source
from .dashboards import country_code
from .parsing import (
    EMPTY,
    counts,
    decimal_mark,
    frame,
    header_names,
    numbers,
    per_distinct,
    read_delimited,
    require_values,
    text,
    timestamps,
)
from .samples import CATALOGUE, delimited_bytes, sample_end

NAME = "bandcamp"
PLATFORM = "bandcamp"
WHAT = "Bandcamp sales report"

# staging column -> the names Bandcamp's CSV (and its API) use for it
_COLUMNS = {
    "sold_at": ("date",),
    "item_type": ("item type",),
    "item_name": ("item name",),
    "artist": ("artist",),
    "currency": ("currency",),
    "item_price": ("item price",),
    "quantity": ("quantity",),
    "discount_code": ("discount code",),
    "sub_total": ("sub total", "subtotal"),
    "additional_fan_contribution": ("additional fan contribution",),
    "seller_tax": ("seller tax", "tax"),
    "marketplace_tax": ("marketplace tax",),
    "shipping": ("shipping",),
    "transaction_fee": ("transaction fee",),
    "fee_type": ("fee type",),
    "item_total": ("item total",),
    "amount_you_received": ("amount you received",),
    "net_amount": ("net amount",),
    "package": ("package",),
    "option": ("option",),
    "item_url": ("item url",),
    "sku": ("sku",),
    "catalog_number": ("catalog number",),
    "upc": ("upc",),
    "isrc": ("isrc",),
    "country": ("country code", "ship to country code"),
    "referrer": ("referrer",),
    "transaction_id": ("bandcamp transaction id", "transaction id", "paypal transaction id"),
    "related_transaction_id": ("bandcamp related transaction id", "related transaction id"),
}
_REQUIRED = ("sold_at", "item_type", "currency", "net_amount")
_MONEY = ("item_price", "sub_total", "additional_fan_contribution", "seller_tax", "marketplace_tax", "shipping",
          "transaction_fee", "item_total", "amount_you_received", "net_amount")
# money that changes sign with the line: a refund's totals are what left the seller's account
_SIGNED = ("sub_total", "additional_fan_contribution", "seller_tax", "marketplace_tax", "shipping", "item_total",
           "amount_you_received", "net_amount", "gross", "fees", "net")
NEGATIVE_TYPES = ("refund", "reversal")
# M/D/YY as the report writes it; the API's "04 Jan 2021 23:22:11 GMT"; ISO from a re-save
DATE_STYLES = ("slash", "iso", "words")

SALES_SCHEMA = pa.schema(
    [
        ("sold_at", pa.timestamp("us", tz="UTC")),
        ("date", pa.date32()),
        ("item_type", pa.string()),
        ("item_name", pa.string()),
        ("artist", pa.string()),
        ("currency", pa.string()),
        ("quantity", pa.int64()),
        *((m, pa.float64()) for m in _MONEY),
        ("gross", pa.float64()),
        ("fees", pa.float64()),
        ("net", pa.float64()),
        ("pending", pa.bool_()),
        ("discount_code", pa.string()),
        ("fee_type", pa.string()),
        ("package", pa.string()),
        ("option", pa.string()),
        ("item_url", pa.string()),
        ("sku", pa.string()),
        ("catalog_number", pa.string()),
        ("upc", pa.string()),
        ("isrc", pa.string()),
        ("country", pa.string()),
        ("referrer", pa.string()),
        ("transaction_id", pa.string()),
        ("related_transaction_id", pa.string()),
        ("line_seq", pa.int64()),
    ]
)
SALES_KEY = ("transaction_id", "item_type", "item_name", "line_seq")


def parse_sales_report(data: bytes, ctx: ParseContext) -> pd.DataFrame:
    table = read_delimited(data, WHAT, header=("item type",))
    table = table.drop_totals("date", unless="item type")
    table.require(*(_COLUMNS[c] for c in _REQUIRED))
    cols = {field: table.column(*aliases) for field, aliases in _COLUMNS.items()}
    n = len(table)
    if not n:
        raise ParseError(f"{WHAT}: a header but no lines")
    present = [cols[m] for m in _MONEY if cols[m] is not None]
    mark = decimal_mark(present)
    out: dict[str, pa.Array] = {}
    sold_at = timestamps(cols["sold_at"], styles=DATE_STYLES, day_first=False)
    require_values(cols["sold_at"], sold_at, "no date (expected like 1/3/26 10:12am)")
    out["sold_at"] = sold_at
    out["date"] = sold_at.cast(pa.date32())
    kind = pc.utf8_lower(text(cols["item_type"]))
    require_values(cols["item_type"], kind, "the item type is empty (album, track, package, payout, refund, reversal)")
    out["item_type"] = kind
    for field in ("item_name", "artist", "discount_code", "fee_type", "package", "option", "item_url", "sku",
                  "catalog_number", "upc", "isrc", "referrer", "transaction_id", "related_transaction_id"):
        out[field] = text(cols[field]) if cols[field] is not None else pa.nulls(n, pa.string())
    currency = pc.utf8_upper(text(cols["currency"]))
    out["currency"] = currency
    out["country"] = (per_distinct(text(cols["country"]), country_code) if cols["country"] is not None
                      else pa.nulls(n, pa.string()))
    pending = np.zeros(n, bool)
    if cols["transaction_fee"] is not None:  # "*": the payment is still pending
        pending = np.asarray(pc.fill_null(pc.equal(text(cols["transaction_fee"]), "*"), False).to_numpy(
            zero_copy_only=False), dtype=bool)
    out["pending"] = pa.array(pending)
    for field in _MONEY:
        col = cols[field]
        out[field] = (numbers(col, decimal=mark, currency=True, empty=EMPTY | {"*"}, noun="an amount")
                      if col is not None else pa.nulls(n, pa.float64()))
    out["quantity"] = (counts(cols["quantity"], thousands=None, point_zero=True) if cols["quantity"] is not None
                       else pa.nulls(n, pa.int64()))
    df = frame(out, n)
    sales = df["item_type"] != "payout"
    missing = sales & df["currency"].isna()
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise ParseError(f"{WHAT}: {cols['currency'].at(i)}: a sale line without a currency")
    df["gross"] = df["item_total"].fillna(df["sub_total"])
    df["net"] = df["net_amount"]
    df["fees"] = df["gross"] - df["net"]
    negative = df["item_type"].isin(NEGATIVE_TYPES)
    for field in _SIGNED:
        df.loc[negative, field] = -df.loc[negative, field].abs()
    df.loc[negative, "quantity"] = -df.loc[negative, "quantity"].abs()
    stamp = pd.Series(pd.to_datetime(df["sold_at"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S"), index=df.index)
    df["transaction_id"] = df["transaction_id"].fillna("at:" + stamp)
    # identical lines of one transaction stay apart, numbered in file order
    df["line_seq"] = df.fillna({"item_name": ""}).groupby(
        ["transaction_id", "item_type", "item_name"], dropna=False, sort=False).cumcount() + 1
    return df[SALES_SCHEMA.names]


def _newest_line(name: str, data: bytes) -> datetime | None:
    """When the report was made, as near as it tells: its newest line. Never raises."""
    try:
        times = parse_sales_report(data, None)["sold_at"]  # type: ignore[arg-type]
        newest = pd.to_datetime(times, utc=True).max()
        return None if pd.isna(newest) else newest.to_pydatetime()
    except Exception:  # noqa: BLE001 - a best guess; the lake falls back to --as-of or the landing time
        return None


def _sniff(name: str, head: bytes) -> bool:
    header = set(header_names(head, header=("item type",)))
    return {"item type", "item name", "net amount"} <= header and bool({"paid to", "amount you received"} & header)


SALES_REPORT = Dataset(
    name="sales_report",
    description="Sales, refunds, reversals and payouts (Tools → sales report, CSV, UTF-16)",
    schema=SALES_SCHEMA,
    key=SALES_KEY,
    parse=parse_sales_report,
    patterns=(r"bandcamp[^/]*\.(csv|txt)$", r"(^|/)[^/]*sales[-_ ]?report[^/]*\.(csv|txt)$"),
    sniff=_sniff,
    expectations=quality.suite(
        key=SALES_KEY,
        not_null=("sold_at", "date", "item_type", "transaction_id", "line_seq"),
        regex={"currency": r"^[A-Z]{3}$", "country": r"^[A-Z]{2}$"},
        between={"net": (-100_000, 1_000_000), "quantity": (-10_000, 100_000)},
    ),
    observed_at=_newest_line,
)


# --- into the conformed model --------------------------------------------------------------------

SALES_COLUMNS = ["date", "sold_at", "platform", "artist", "item_type", "item_name", "isrc", "upc", "quantity",
                 "currency", "gross", "fees", "net", "net_usd", "country", "transaction_id", "line_seq", "sha256",
                 "observed_at"]


def _sales(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    df = frames["sales_report"]
    df = df[df["item_type"] != "payout"]
    usd = df["currency"] == "USD"
    return df.assign(platform=PLATFORM, net_usd=df["net"].where(usd.fillna(False)))[SALES_COLUMNS]


# --- sample files for the demo and tests ---------------------------------------------------------

# the report's columns, in Bandcamp's order (personal ones filled with made-up values)
SAMPLE_HEADER = [
    "date", "paid to", "item type", "item name", "artist", "currency", "item price", "quantity", "discount code",
    "sub total", "additional fan contribution", "seller tax", "marketplace tax", "tax rate",
    "collection society share", "shipping", "ship from country name", "transaction fee", "fee type", "item total",
    "amount you received", "paypal transaction id", "net amount", "package", "option", "item url", "catalog number",
    "upc", "isrc", "buyer name", "buyer email", "buyer phone", "buyer note", "ship to name", "ship to street",
    "ship to street 2", "ship to city", "ship to state", "ship to zip", "ship to country", "ship to country code",
    "ship date", "ship notes", "country", "country code", "region/state", "city", "referrer", "referrer url", "sku",
    "bandcamp transaction id", "bandcamp related transaction id",
]
SAMPLE_BUYER = ("Sample Buyer", "sample.buyer@example.invalid", "+1 555 0100", "12 Sample Street", "seller@example.invalid")
_COUNTRIES = (("United States", "US"), ("United Kingdom", "GB"), ("Germany", "DE"), ("Japan", "JP"), ("France", "FR"))


def bandcamp_time(when: datetime) -> str:
    """``1/3/26 10:12am``: how the report writes a time."""
    hour = when.hour % 12 or 12
    return f"{when.month}/{when.day}/{when.year % 100:02d} {hour}:{when.minute:02d}{'am' if when.hour < 12 else 'pm'}"


def sample_rows(rng: random.Random, start: date, days: int) -> list[list[str]]:
    """Sales of the demo catalogue over ``days`` days from ``start``, a payout a month, a refund,
    a partial refund without a quantity, a reversal and a sale in EUR; rows not sorted."""
    rows: list[dict] = []
    tid = 1_000_000 + rng.randint(0, 99_999)
    albums = sorted({(a, upc) for a, _, _, upc in CATALOGUE})
    # a release is named after its first track (the catalogue's UPCs are an EP and two singles)
    release = {upc: next(t for _, t, _, u in CATALOGUE if u == upc) for _, upc in albums}

    def line(when: datetime, kind: str, **values) -> dict:
        nonlocal tid
        tid += 1
        country, code = rng.choice(_COUNTRIES)
        name, email, phone, street, paid_to = SAMPLE_BUYER
        return {"date": bandcamp_time(when), "paid to": paid_to, "item type": kind, "buyer name": name,
                "buyer email": email, "buyer phone": phone, "ship to name": name, "ship to street": street,
                "ship to city": "Sampletown", "ship to zip": "00000", "country": country, "country code": code,
                "city": "Sampletown", "referrer": "bandcamp", "referrer url": "https://bandcamp.com/?from=x",
                "bandcamp transaction id": str(tid), "fee type": "paypal", **values}

    def sale(when: datetime, kind: str, name: str, artist: str, price: float, qty: int, currency: str = "USD",
             isrc: str = "", upc: str = "", package: str = "") -> dict:
        extra = round(rng.choice([0, 0, 0, 1, 2.5]), 2)
        shipping = 6.0 if kind == "package" else 0.0
        total = round(price * qty + extra + shipping, 2)
        fee = round(total * 0.029 + 0.3, 2)
        share = round((price * qty + extra) * (0.10 if kind == "package" else 0.15), 2)
        return line(when, kind, **{
            "item name": name, "artist": artist, "currency": currency, "item price": f"{price:.2f}",
            "quantity": str(qty), "sub total": f"{price * qty:.2f}", "additional fan contribution": f"{extra:.2f}",
            "shipping": f"{shipping:.2f}" if shipping else "", "transaction fee": f"{fee:.2f}",
            "item total": f"{total:.2f}", "amount you received": f"{total - fee:.2f}",
            "net amount": f"{total - fee - share:.2f}", "package": package or "digital download",
            "item url": f"https://sample.bandcamp.com/{kind}/{name.lower().replace(' ', '-')}", "upc": upc,
            "isrc": isrc})

    for day in range(days):
        when = datetime.combine(start + timedelta(days=day), datetime.min.time())
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            at = when + timedelta(minutes=rng.randint(0, 1439))
            pick = rng.random()
            if pick < 0.45:
                artist, title, isrc, _ = rng.choice(CATALOGUE)
                rows.append(sale(at, "track", title, artist, 1.0, 1, isrc=isrc))
            elif pick < 0.85:
                artist, upc = rng.choice(albums)
                rows.append(sale(at, "album", release[upc], artist, 8.0, rng.choice([1, 1, 2]), upc=upc))
            else:
                artist, upc = rng.choice(albums)
                rows.append(sale(at, "package", f"{release[upc]} (vinyl)", artist, 25.0, 1, upc=upc,
                                 package="Vinyl LP"))
        if (start + timedelta(days=day)).day == 15:  # a payout a month: not a sale
            rows.append(line(when + timedelta(hours=9), "payout", **{"currency": "USD", "net amount": "-120.00",
                                                                      "amount you received": "-120.00"}))
    sold = [r for r in rows if r["item type"] in ("album", "track")]
    for kind, source in (("refund", sold[3]), ("reversal", sold[-5])):
        back = dict(source)
        back.update({"item type": kind, "date": bandcamp_time(datetime.combine(start + timedelta(days=days - 2),
                                                                               datetime.min.time())
                                                              + timedelta(hours=15)),
                     "bandcamp related transaction id": source["bandcamp transaction id"]})
        for field in ("quantity", "sub total", "item total", "amount you received", "net amount"):
            back[field] = f"-{back[field]}" if back[field] else ""
        back["bandcamp transaction id"] = str(tid + len(rows))
        rows.append(back)
    partial = dict(sold[7])
    partial.update({"item type": "refund", "quantity": "", "item total": "-0.50", "net amount": "-0.50",
                    "amount you received": "-0.50", "sub total": "",
                    "bandcamp transaction id": str(tid + len(rows) + 1),
                    "bandcamp related transaction id": sold[7]["bandcamp transaction id"]})
    rows.append(partial)
    artist, title, isrc, _ = CATALOGUE[0]
    rows.append(sale(datetime.combine(start + timedelta(days=days - 3), datetime.min.time()) + timedelta(hours=20),
                     "track", title, artist, 1.0, 1, currency="EUR", isrc=isrc))
    rng.shuffle(rows)  # the report is not sorted
    return [SAMPLE_HEADER] + [[r.get(h, "") for h in SAMPLE_HEADER] for r in rows]


def write_samples(out_dir: Path, seed: int = 7, end: date | None = None) -> list[Path]:
    """A year of the demo catalogue's Bandcamp sales, as Bandcamp writes the report: UTF-16LE with
    a byte-order mark, every column, unsorted lines."""
    rng = random.Random(seed + 307)
    end = sample_end(end)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = end - timedelta(days=364)
    path = out_dir / f"{start:%Y%m%d}-{end:%Y%m%d}_bandcamp_sales_report.csv"
    path.write_bytes(delimited_bytes(sample_rows(rng, start, 365), encoding="utf-16"))
    return [path]


SOURCE = Source(
    name=NAME,
    title="Bandcamp",
    datasets=(SALES_REPORT,),
    mappings=(CuratedMapping("fct_sales", ("sales_report",), _sales),),
    samples=write_samples,
    acquisition="file drop (Tools → sales report, CSV)",
)

