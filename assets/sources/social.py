"""What the social and e-mail sources (YouTube, Instagram/Facebook, X, MailChimp) share: reading
the members of an export zip, whom a file is about, recognising a CSV by its header, and folding
several exports of one day into one curated row.

Not a source itself (it declares no ``SOURCE``)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import pandas as pd

from .base import ParseContext, ParseError
from .parsing import decode, fold, header_names


def zip_members(data: bytes, wanted: Iterable[str]) -> dict[str, str]:
    """The text of the members of an export zip whose base name (without case) is one of
    ``wanted`` (``Table data.csv``); folders and macOS' ``__MACOSX`` copies are ignored. A
    damaged zip, or one holding none of ``wanted``, is an error saying what it holds."""
    wanted = {w.lower() for w in wanted}
    out: dict[str, str] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
            for name in names:
                base = Path(name).name
                if base.lower() in wanted:
                    try:
                        out[base] = decode(zf.read(name))
                    except ParseError as exc:
                        raise ParseError(f"{name} in the zip: {exc}") from None
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - damaged, encrypted, unsupported compression: one answer
        raise ParseError(f"the zip cannot be read ({type(exc).__name__}: {exc})") from None
    if not out:
        raise ParseError(f"the zip holds none of {', '.join(sorted(wanted))} (it holds: {', '.join(names) or 'nothing'})")
    return out


def account(ctx: ParseContext, from_name: str | None, what: str, *, default: str | None = None) -> str:
    """Whom the file is about: ``--account`` (wins), else what the file name says, else
    ``default``; with none of them the file is refused, asking for ``--account``."""
    given = (ctx.options or {}).get("account")
    found = (given or from_name or default or "").strip().lstrip("@").strip()
    if not found:
        raise ParseError(f"which account is this {what} about? The file name {ctx.original_name!r} does not say: "
                         "name it with --account NAME when you ingest the file")
    return found


def export_day(ctx: ParseContext) -> date:
    """The day an export was taken when the file does not say: --as-of, else the day it landed."""
    if ctx.as_of is not None:
        return ctx.as_of
    landed = ctx.landed_at
    return landed.astimezone(timezone.utc).date() if landed.tzinfo else landed.date()


def header_sniffer(*needles: str, without: Sequence[str] = (), header: Sequence[str] = ()) -> Callable[[str, bytes], bool]:
    """A CSV whose header (found as :func:`.parsing.read_delimited` would, after a ``sep=`` or
    title line when ``header`` names a column of it) has every one of ``needles`` and none of
    ``without`` as columns (compared folded)."""
    want = {fold(n) for n in needles}
    avoid = {fold(n) for n in without}

    def sniff(name: str, head: bytes) -> bool:
        if head[:2] == b"PK" or head.lstrip()[:1] in (b"{", b"["):
            return False
        cols = set(header_names(head, header=header))
        return want <= cols and not (avoid & cols)

    return sniff


def json_sniffer(*needles: bytes) -> Callable[[str, bytes], bool]:
    """A JSON document whose first bytes hold every one of ``needles``."""

    def sniff(name: str, head: bytes) -> bool:
        h = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return h[:1] in (b"{", b"[") and all(n in h for n in needles)

    return sniff


def newest_values(df: pd.DataFrame, key: list[str], columns: Sequence[str]) -> pd.DataFrame:
    """One row per ``key``: for every column the newest observation's value that is not null (so
    one export's views and another's followers of the same day meet in one row); the lineage
    (``sha256``, ``observed_at``) is the newest row's."""
    if not len(df):
        return pd.DataFrame(columns=[*key, *columns, "sha256", "observed_at"])
    ordered = df.sort_values(["observed_at", "sha256"], kind="stable")
    present = [c for c in columns if c in ordered.columns]
    values = ordered.groupby(key, dropna=False, sort=True)[present].last().reset_index()
    lineage = ordered.drop_duplicates(key, keep="last")[[*key, "sha256", "observed_at"]]
    return values.merge(lineage, on=key, how="left")


def day_after(day: date) -> datetime:
    """Midnight UTC after ``day``: when an export whose last day is ``day`` was taken at the
    earliest, its ``observed_at`` when nothing better is known."""
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=1)


def name_account(pattern: re.Pattern, name: str) -> str | None:
    m = pattern.search(Path(name).name)
    return m["account"].strip() if m and m.groupdict().get("account") else None


def frames_of(frames: Mapping[str, pd.DataFrame], *names: str) -> pd.DataFrame | None:
    """The non-empty frames of ``names`` concatenated, or None."""
    parts = [frames[n] for n in names if frames.get(n) is not None and len(frames[n])]
    return pd.concat(parts, ignore_index=True) if parts else None
