"""How platforms write text, numbers and dates, read once for every source.

Platforms differ in what their files mean, not in how they write a number or a date, so that
lives here: decoding, a delimited-text reader, counts, decimals, dates and timestamps. Everything
works on whole columns (Arrow compute and numpy); Python runs per header line, per distinct date
or per error, never per data row, so every source is fast by construction. A problem is a
:class:`~.base.ParseError` naming the column and line (or JSON path) and the value.

Each source states its own policies where platforms disagree: how counts group thousands
(:func:`counts`), which decimal mark a file uses (:func:`numbers`, :func:`decimal_mark`), which
date styles it writes (:func:`dates`).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .base import ParseError

# what an empty cell looks like in some export (compared without case); never a value
EMPTY = frozenset({"", "-", "--", "—", "–", "n/a", "na", "nan", "null", "none", "undefined"})

# --- file names ---------------------------------------------------------------------------------

_STAMP = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})[_-]?(\d{2})(\d{2})(\d{2})(?!\d)")


def timestamp_from_name(name: str) -> datetime | None:
    """The ``YYYYMMDD_HHMMSS`` stamp export tools put in file names, if there is one."""
    m = _STAMP.search(name)
    if not m:
        return None
    try:
        return datetime(*map(int, m.groups()), tzinfo=timezone.utc)
    except ValueError:
        return None


# --- text ---------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The file's text. UTF-16 (LE or BE) needs its byte-order mark (Bandcamp and Meta Business
    Suite write one); otherwise UTF-8 with or without BOM, and ISO-8859-1 when the bytes are not
    UTF-8 (old DistroKid statements). Binary content is refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ParseError("the file starts like UTF-16 text but is not (a damaged or binary file?)") from None
    elif b"\x00" in data[:4096]:
        raise ParseError("the file is binary, not text (it holds NUL bytes)")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("iso-8859-1")
    if not text.strip():
        raise ParseError("the file is empty")
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t\f")
    if controls > 8:
        raise ParseError("the file is binary, not text (it holds control characters)")
    return text


def head_text(head: bytes) -> str:
    """The first bytes of a file as text, for recognising it; never raises."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            body = head[len(bom):]
            return body[: len(body) // 2 * 2].decode(codec, errors="replace")
    return head.decode("utf-8-sig", errors="replace")


def fold(text: str) -> str:
    """How names are compared: without case, accents, or the difference between spaces,
    ``_`` and ``-`` (``Monthly_Active-Listeners`` is ``monthly active listeners``)."""
    text = unicodedata.normalize("NFKD", text.replace("\ufeff", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\s_\-]+", " ", text.lower()).split())


# --- columns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a file: its values as strings (null where absent), the name errors use,
    and where each value sits: the line of a delimited file, or any location ``where(i)`` gives
    (a JSON path). Without either, row ``i`` is "line i + 1" (a JSON list's position)."""

    name: str
    values: pa.Array
    lines: np.ndarray | None = None
    where: Callable[[int], str] | None = None
    shown: Sequence[Any] | None = None  # the values as the file has them, when not strings (JSON)

    def __len__(self) -> int:
        return len(self.values)

    def at(self, i: int) -> str:
        if self.where is not None:
            return self.where(i)
        return f"column {self.name!r}, line {self.line(i)}"

    def line(self, i: int) -> int:
        return int(self.lines[i]) if self.lines is not None else i + 1

    def value(self, i: int) -> Any:
        return self.shown[i] if self.shown is not None else self.values[i].as_py()

    def error(self, i: int, why: str) -> ParseError:
        return ParseError(f"{self.at(i)}: {self.value(i)!r} {why}")


def json_column(name: str, values: Sequence[Any], where: Callable[[int], str] | None = None,
                *, expected: str = "a value") -> Column:
    """A column of JSON values (numbers often arrive as strings): strings stay, numbers become
    their text (``5.0`` is ``5``), null stays null. Objects and lists are refused, saying what
    was ``expected`` there."""
    out: list[str | None] = []
    for i, v in enumerate(values):
        if v is None or isinstance(v, str):
            out.append(v)
        elif isinstance(v, int):  # bool too: True, refused as a number by the converters
            out.append(str(v))
        elif isinstance(v, float):
            out.append(str(int(v)) if v.is_integer() else repr(v))
        else:
            kind = "an object" if isinstance(v, dict) else "a list"
            where_i = where(i) if where else f"column {name!r}, line {i + 1}"
            raise ParseError(f"{where_i}: expected {expected}, found {kind}")
    return Column(name, pa.array(out, pa.string()), where=where, shown=list(values))


def _trim(values: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(values.cast(pa.string()))


def _is_empty(values: pa.Array, empty: Iterable[str]) -> np.ndarray:
    """Where ``values`` (trimmed) are null or one of the empty tokens."""
    tokens = sorted({t.lower() for t in empty})
    if tokens == [""]:
        return _mask(pc.or_kleene(pc.is_null(values), pc.equal(values, "")))
    hit = pc.or_kleene(pc.is_null(values), pc.is_in(pc.utf8_lower(values), value_set=pa.array(tokens, pa.string())))
    return _mask(hit)


def _mask(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _matches(values: pa.Array, pattern: str) -> np.ndarray:
    return _mask(pc.match_substring_regex(values, pattern))


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def text(col: Column, *, empty: Iterable[str] = ("",)) -> pa.Array:
    """Strings, trimmed; the ``empty`` tokens (by default only the empty string) are null."""
    values = _trim(col.values)
    return pc.if_else(pa.array(_is_empty(values, empty)), pa.scalar(None, pa.string()), values)


def per_distinct(values: pa.Array, convert: Callable[[Any], Any], type: pa.DataType | None = None) -> pa.Array:
    """``convert`` applied once per distinct value (a lookup table, a name to a code), for what
    no Arrow function does; nulls stay null. The result has ``type`` (by default, strings)."""
    encoded = pc.dictionary_encode(values)
    mapped = pa.array([convert(v) for v in encoded.dictionary.to_pylist()], type or pa.string())
    return pc.take(mapped, encoded.indices)


def require_values(col: Column, converted: pa.Array, why: str) -> None:
    """Refuse the first row ``converted`` left null: ``why`` says what is missing."""
    i = _first(_mask(pc.is_null(converted)))
    if i is not None:
        raise ParseError(f"{col.at(i)}: {why}")


# --- counts and decimals ------------------------------------------------------------------------

ANY_THOUSANDS = ",. '’"  # ``thousands="any"``: one of these, the same within a value
_SPACE_CLASS = "[ \u00a0\u202f]"


def _separator_class(chars: str) -> list[str]:
    """One regex per thousands separator allowed; a space stands for every kind of space."""
    return [_SPACE_CLASS if c == " " else re.escape(c) for c in dict.fromkeys(chars)]


def _grouped(thousands: str | None) -> str:
    """An integer part as digits, or grouped in threes by one of the ``thousands`` characters."""
    chars = ANY_THOUSANDS if thousands == "any" else thousands or ""
    groups = [rf"\d{{1,3}}(?:{sep}\d{{3}})+" for sep in _separator_class(chars)]
    return "(?:" + "|".join([r"\d+", *groups]) + ")"


def _signed(values: pa.Array) -> pa.Array:
    return pc.replace_substring(_trim(values), "\u2212", "-")  # a typographic minus


def counts(col: Column, *, thousands: str | None, point_zero: bool = False,
           empty: Iterable[str] = EMPTY) -> pa.Array:
    """Whole numbers (int64) from text, under the platform's stated thousands policy:
    ``None`` (no grouping at all), the characters that may group digits in threes (``","``;
    a space stands for every kind of space), or ``"any"`` (``1,234``, ``1.234``, ``1 234``,
    ``1'234``: a locale's grouping, one kind per value). ``point_zero`` reads ``312.0`` as 312.
    Negative counts are kept (platform corrections); ``empty`` tokens are null; anything else is
    an error naming the column, the line and the value."""
    values = _signed(col.values)
    blank = _is_empty(values, empty)
    plain = _matches(values, r"^-?\d{1,18}$")
    if (plain | blank).all():  # plain digits, as most files have them
        return pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), values).cast(pa.int64())
    grouped = _matches(values, rf"^[+-]?{_grouped(thousands)}$")
    zero = _matches(values, r"^[+-]?\d+\.0+$") if point_zero else np.zeros(len(values), bool)
    digits = pc.if_else(pa.array(zero & ~grouped), pc.replace_substring_regex(values, r"\.0+$", ""), values)
    digits = pc.replace_substring_regex(digits, r"[^0-9-]", "")
    bad = ~blank & ~(grouped | zero)
    bad |= ~blank & _mask(pc.greater(pc.utf8_length(digits), 18))  # beyond int64
    i = _first(bad)
    if i is not None:
        raise col.error(i, "is not a whole number" + _count_hint(col.value(i), thousands))
    digits = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), digits)
    return digits.cast(pa.int64())


def _count_hint(value: Any, thousands: str | None) -> str:
    allowed = ANY_THOUSANDS if thousands == "any" else thousands or ""
    for mark in ".,":
        if isinstance(value, str) and mark in value and mark not in allowed:
            return f" (counts have no decimals; a {mark!r} thousands separator is not accepted)"
    return ""


_CURRENCY = r"^US\$|^[A-Z]{3}\s+|\s+[A-Z]{3}$|[$€£¥₹]"


def numbers(col: Column, *, decimal: str = ".", thousands: str | None = None, percent: bool = False,
            currency: bool = False, empty: Iterable[str] = EMPTY, noun: str = "a number") -> pa.Array:
    """Decimal numbers (float64) with the file's ``decimal`` mark (``"."`` or ``","``, see
    :func:`decimal_mark`) and thousands policy (as in :func:`counts`). ``percent`` allows a
    trailing ``%`` (the number stays as written: ``23.5%`` is 23.5); ``currency`` strips money
    signs and codes (``"$0.11 "``, ``1.234,56 €``, ``USD 12``). Errors say a value "is not
    ``noun``"."""
    if thousands is not None and decimal in (ANY_THOUSANDS if thousands == "any" else thousands):
        raise ValueError(f"the decimal mark {decimal!r} cannot also group thousands")
    values = _signed(col.values)
    if currency:
        values = _trim(pc.replace_substring_regex(values, _CURRENCY, ""))
    if percent:
        values = _trim(pc.replace_substring_regex(values, r"\s*%$", ""))
    blank = _is_empty(values, empty)
    if decimal == ".":
        try:  # plain decimals, as most files have them: Arrow reads them as they are
            out = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), values).cast(pa.float64())
            if pc.all(pc.is_finite(out)).as_py() is not False:
                return out
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    mark, exponent = re.escape(decimal), r"(?:[eE][+-]?\d+)?"
    ok = _matches(values, rf"^[+-]?(?:{_grouped(thousands)}(?:{mark}\d*)?|{mark}\d+){exponent}$")
    i = _first(~blank & ~ok)
    if i is not None:
        raise col.error(i, f"is not {noun}")
    plain = pc.replace_substring_regex(values, r"[^0-9eE+\-" + mark + "]", "")
    plain = pc.replace_substring(plain, decimal, ".") if decimal != "." else plain
    plain = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), plain)
    out = plain.cast(pa.float64())
    i = _first(~blank & ~_mask(pc.is_finite(out)))
    if i is not None:
        raise col.error(i, f"is not {noun}")
    return out


def decimal_mark(cols: Sequence[Column], *, default: str = ".", empty: Iterable[str] = EMPTY) -> str:
    """``"."`` or ``","``: the decimal mark the numbers of a file use, read from the values.

    A mark followed by other than three digits (``12,34``, ``0.5``), after a lone zero
    (``0,123``), or the later of two different marks (``1.234,56``) is the decimal mark; one
    used twice (``1,234,567``) groups thousands. Conflicting evidence in one file is an error;
    without evidence (whole numbers, ``1,234``) ``default`` holds."""
    evidence: dict[str, tuple[Column, int]] = {}
    for col in cols:
        values = pc.replace_substring_regex(_signed(col.values), "[ \u00a0\u202f'%+-]", "")
        blank = _is_empty(values, empty)
        for mark, other in ((",", "."), (".", ",")):
            m, o = re.escape(mark), re.escape(other)
            later = _matches(values, rf"{o}.*{m}[^{m}{o}]*$")  # "1.234,56": the later one
            twice_other = _matches(values, rf"^[^{m}]*{o}[^{m}]*{o}[^{m}]*$")  # "1.234.567"
            once = _matches(values, rf"^[^{m}{o}]*{m}[^{m}{o}]*$")
            grouping = _matches(values, rf"^(?:[1-9]\d*|0\d+){m}\d{{3}}$")
            found = ~blank & (later | twice_other | (once & ~grouping))
            i = _first(found)
            if i is not None and mark not in evidence:
                evidence[mark] = (col, i)
    if len(evidence) == 2:
        (c1, i1), (c2, i2) = evidence["."], evidence[","]
        raise ParseError(f"numbers mix decimal marks: {c1.at(i1)}: {c1.value(i1)!r} has a decimal point, "
                         f"{c2.at(i2)}: {c2.value(i2)!r} a decimal comma")
    return next(iter(evidence), default)


# --- dates --------------------------------------------------------------------------------------

# Month names and abbreviations as exports write them, compared folded (no case, no accents):
# English, Spanish, Portuguese, French, German, Italian, Dutch.
_MONTH_WORDS = (
    (1, "january jan enero ene janeiro janvier janv januar jänner jän gennaio gen januari"),
    (2, "february feb febrero febr fevereiro fev février févr februar febbraio februari"),
    (3, "march mar marzo março mars märz mär mrz maart mrt"),
    (4, "april apr abril abr avril avr aprile"),
    (5, "may mayo maio mai maggio mag mei"),
    (6, "june jun junio junho juin juni giugno giu"),
    (7, "july jul julio julho juillet juil juli luglio lug"),
    (8, "august aug agosto ago août augustus"),
    (9, "september sep sept septiembre setiembre set setembro septembre settembre"),
    (10, "october oct octubre outubro out octobre oktober okt ottobre ott"),
    (11, "november nov noviembre novembro novembre"),
    (12, "december dec diciembre dic dezembro dez décembre déc dezember dicembre"),
)
MONTHS: dict[str, int] = {fold(w): month for month, words in _MONTH_WORDS for w in words.split()}
_MONTH_KEYS = pa.array(list(MONTHS), pa.string())
_MONTH_NUMBERS = np.array([0, *MONTHS.values()], dtype=np.int64)  # index 0: not a month

_TIME = (r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
         r"(?:\s*(?P<ap>[ap])\.?\s?m\.?)?(?:\s*(?P<tz>z|utc|gmt|[+-]\d{2}(?::?\d{2})?))?")
_AT_TIME = rf"(?:,?\s+(?:at |um |a las |as |a )?{_TIME})?"
_WORDS_YEAR = r"(?:\s(?P<y>\d{4}))?"


@dataclass(frozen=True)
class _Style:
    label: str  # how an error names the style
    example: str
    patterns: tuple[str, ...]  # RE2, named groups: y m d (a b: day/month in either order) mon H M S f ap tz e
    form: str = "folded"  # what the patterns see: "folded" (lower case, no accents), "words" or "raw"


STYLES: dict[str, _Style] = {
    "iso": _Style("YYYY-MM-DD", "2025-01-31", (
        rf"^(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}})(?:(?:t|\s+){_TIME})?$",
        r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")),  # ISO 8601's basic format
    "slash": _Style("M/D/YYYY", "1/31/2025", (
        rf"^(?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})/(?P<y>\d{{4}}|\d{{2}}){_AT_TIME}$",)),
    "dash": _Style("DD-MM-YYYY", "31-01-2025", (
        rf"^(?P<a>\d{{1,2}})-(?P<b>\d{{1,2}})-(?P<y>\d{{4}}|\d{{2}}){_AT_TIME}$",)),
    "dot": _Style("DD.MM.YYYY", "31.01.2025", (
        rf"^(?P<a>\d{{1,2}})\.(?P<b>\d{{1,2}})\.(?P<y>\d{{4}}|\d{{2}}){_AT_TIME}$",)),
    "month": _Style("YYYY-MM", "2025-01", (r"^(?P<y>\d{4})-(?P<m>\d{1,2})$", r"^(?P<m>\d{1,2})/(?P<y>\d{4})$")),
    "words": _Style("Jan 31, 2025", "Jan 31, 2025", (
        rf"^(?P<mon>[a-z]+) (?P<d>\d{{1,2}}){_WORDS_YEAR}{_AT_TIME}$",
        rf"^(?P<d>\d{{1,2}}) (?P<mon>[a-z]+){_WORDS_YEAR}{_AT_TIME}$",
        rf"^(?P<y>\d{{4}}) (?P<mon>[a-z]+) (?P<d>\d{{1,2}}){_AT_TIME}$",
    ), form="words"),
    "cjk": _Style("1月31日", "1月31日", (
        rf"^(?:(?P<y>\d{{4}})\s*[年년]\s*)?(?P<m>\d{{1,2}})\s*[月월]\s*(?P<d>\d{{1,2}})\s*[日일]?{_AT_TIME}$",),
        form="raw"),
    "epoch": _Style("Unix seconds", "1748345895", (r"^(?P<e>\d{9,10}|\d{12,13})$",)),
}
# the styles whose day and month order a file decides (see _day_first), by separator
_ORDERED = {"slash": "/", "dash": "-", "dot": "."}
ALL_DATE_STYLES = ("iso", "slash", "dash", "dot", "words", "cjk")

# an English weekday before the date ("Tue, Feb 18, 2025", "Mon Feb 17 2025")
_WEEKDAY = (r"^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri"
            r"|sat|sun),?\s+")
_FILLERS = r"\b(?:de|del|do|da|of|the|le|el)\b"  # "28 de mayo de 2025", "1st of May", "le 1er mai"


def _folded(values: pa.Array) -> pa.Array:
    """Lower case, accents dropped, spaces collapsed."""
    values = pc.replace_substring_regex(pc.utf8_normalize(values, "NFKD"), r"\p{Mn}", "")
    return _trim(pc.replace_substring_regex(pc.utf8_lower(values), r"\s+", " "))


def _words_form(folded: pa.Array) -> pa.Array:
    """Dates written with words, reduced to ``<month> <day> [<year>] [<time>]`` or ``<day>
    <month> ...``: no weekday, fillers, ordinals or punctuation (``28. Mai``, ``1er janvier``,
    ``Sept. 9``, ``Tue, Feb 18, 2025``)."""
    out = pc.replace_substring_regex(folded, _WEEKDAY, "")
    out = pc.replace_substring_regex(out, _FILLERS, " ")
    out = pc.replace_substring_regex(out, r"(\d)(?:er|st|nd|rd|th)\b", r"\1")
    out = pc.replace_substring_regex(out, r"([a-z])\.|(\d)\.(\s)|,", r"\1\2\3 ")
    return _trim(pc.replace_substring_regex(out, r"\s+", " "))


@dataclass
class _Parts:
    """What date strings say, one entry per value: -1 where a part is not given."""

    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    hour: np.ndarray
    minute: np.ndarray
    second: np.ndarray
    micro: np.ndarray
    offset: np.ndarray  # minutes east of UTC; _NO_ZONE when the value names no zone
    epoch: np.ndarray  # seconds (or milliseconds) since 1970, for the epoch style
    style: np.ndarray  # index into the styles asked for; -1: not a date
    a: np.ndarray  # the first two numbers of a/b/y styles, before the file decides their order
    b: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Parts:
        parts = cls(*(np.full(n, -1, np.int64) for _ in range(12)))
        parts.offset[:] = _NO_ZONE
        return parts

    def take(self, idx: np.ndarray) -> _Parts:
        return _Parts(**{k: v[idx] for k, v in vars(self).items()})


_NO_ZONE = -(10**6)


def _groups(struct: pa.StructArray) -> set[str]:
    return {struct.type.field(i).name for i in range(struct.type.num_fields)}


def _ints(struct: pa.StructArray, name: str) -> np.ndarray:
    if name not in _groups(struct):
        return np.full(len(struct), -1, np.int64)
    field = struct.field(name)
    field = pc.if_else(pc.equal(field, ""), pa.scalar(None, pa.string()), field)
    return np.asarray(pc.fill_null(field.cast(pa.int64()), -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _strings(struct: pa.StructArray, name: str) -> np.ndarray | None:
    if name not in _groups(struct):
        return None
    return np.asarray(struct.field(name).to_numpy(zero_copy_only=False), dtype=object)


def _read_styles(values: pa.Array, styles: Sequence[str]) -> _Parts:
    """Parts of every value by the first of ``styles`` (and pattern) it matches."""
    parts = _Parts.empty(len(values))
    forms = {"raw": values, "folded": _folded(values)}
    if any(STYLES[s].form == "words" for s in styles):
        forms["words"] = _words_form(forms["folded"])
    for si, name in enumerate(styles):
        style = STYLES[name]
        for pattern in style.patterns:
            todo = np.flatnonzero(parts.style == -1)
            if not len(todo):
                break
            found = pc.extract_regex(pc.take(forms[style.form], pa.array(todo)), pattern)
            hit = _mask(found.is_valid())
            month = _ints(found, "m")
            if (mon := _strings(found, "mon")) is not None:
                known = np.asarray(pc.fill_null(pc.index_in(pa.array(mon, pa.string()), value_set=_MONTH_KEYS), -1)
                                   .to_numpy(zero_copy_only=False), dtype=np.int64)
                month = _MONTH_NUMBERS[known + 1]
                hit &= month > 0  # "Smarch 1" is no date in any style
            if not hit.any():
                continue
            rows = todo[hit]
            year = _ints(found, "y")
            parts.year[rows] = np.where((year >= 0) & (year < 100), year + 2000, year)[hit]  # M/D/YY: no data before 2000
            parts.month[rows] = month[hit]
            parts.day[rows] = (_ints(found, "d") if "d" in _groups(found) else np.ones(len(todo), np.int64))[hit]
            parts.a[rows], parts.b[rows] = _ints(found, "a")[hit], _ints(found, "b")[hit]
            hour = _ints(found, "H")
            if (ap := _strings(found, "ap")) is not None:
                pm, am = ap == "p", ap == "a"
                hour = np.where(pm | am, np.where(hour > 12, 99, hour % 12 + np.where(pm, 12, 0)), hour)
            parts.hour[rows], parts.minute[rows], parts.second[rows] = hour[hit], _ints(found, "M")[hit], _ints(found, "S")[hit]
            if (frac := _strings(found, "f")) is not None:
                parts.micro[rows] = [int((f or "0")[:6].ljust(6, "0")) for f in frac[hit]]
            if (tz := _strings(found, "tz")) is not None:
                parts.offset[rows] = _offsets(tz[hit])
            parts.epoch[rows] = _ints(found, "e")[hit]
            parts.style[rows] = si
    return parts


def _offsets(zones: np.ndarray) -> np.ndarray:
    """Minutes east of UTC of ``z``, ``utc``, ``+0700``, ``-07:00``, ``+07`` (per distinct zone)."""
    out = np.full(len(zones), _NO_ZONE, np.int64)
    for zone in set(zones.tolist()):
        if not zone:
            continue
        if zone in ("z", "utc", "gmt"):
            minutes = 0
        else:
            digits = zone[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
            minutes = -minutes if zone[0] == "-" else minutes
        out[zones == zone] = minutes
    return out


def _epoch_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(days since 1970-01-01, valid) for each year/month/day; invalid where no such date."""
    ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31) & (year >= 1) & (year <= 9999)
    y, m, d = np.where(ok, year, 1970), np.where(ok, month, 1), np.where(ok, day, 1)
    months = (y - 1970) * 12 + (m - 1)
    start = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    end = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    ok &= d <= end - start
    return start + d - 1, ok


def _valid_clock(p: _Parts) -> np.ndarray:
    given = p.hour >= 0
    return ~given | ((p.hour <= 23) & (p.minute >= 0) & (p.minute <= 59) & (p.second <= 59))


def _day_first(col: Column, parts: _Parts, first_rows: np.ndarray, ordered: np.ndarray,
               styles: Sequence[str]) -> bool:
    """Whether the file writes ``a/b/y`` day first. Only a value that is a date one way and
    not the other tells (``13/5`` is day-first, ``5/13`` month-first); a file that says both
    is refused. With no such value, ``/`` is month-first (Excel's US re-save) and ``-``/``.``
    day-first. The whole column decides, never a row. (Per distinct value: ``first_rows`` is
    where each first occurs, ``ordered`` which are a/b/y values.)"""
    year = np.where(parts.year >= 0, parts.year, 2000)
    _, month_first = _epoch_days(year, parts.a, parts.b)
    _, day_first = _epoch_days(year, parts.b, parts.a)
    said = {}
    for order, mask in (("day", ordered & day_first & ~month_first), ("month", ordered & month_first & ~day_first)):
        if mask.any():
            said[order] = int(first_rows[mask].min())
    if len(said) == 2:
        i, j = max(said.values()), min(said.values())
        raise ParseError(f"{col.at(i)}: {col.value(i)!r} mixes day-first and month-first dates "
                         f"(see line {col.line(j)})")
    if said:
        return "day" in said
    first = styles[parts.style[ordered][np.argmin(first_rows[ordered])]]
    return _ORDERED[first] != "/"


def _parse(col: Column, styles: Sequence[str], *, day_first: bool | None, consistent: bool,
           noun: str, empty: Iterable[str]) -> tuple[_Parts, np.ndarray]:
    """What each value of ``col`` says (``_Parts`` per row) and where it is empty. Every
    distinct value is read once (a year of days is 365 values, whatever the file's length)."""
    unknown = [s for s in styles if s not in STYLES]
    if unknown:
        raise ValueError(f"unknown date style(s) {unknown}; known: {', '.join(STYLES)}")
    encoded = pc.dictionary_encode(_trim(col.values))
    # every distinct value, then null (its parts all unknown): a row's index into them
    distinct = pa.concat_arrays([encoded.dictionary, pa.nulls(1, pa.string())])
    idx = np.asarray(pc.fill_null(encoded.indices, len(distinct) - 1).to_numpy(zero_copy_only=False), dtype=np.int64)
    blank = _is_empty(distinct, empty)[idx]
    parts = _read_styles(distinct, styles)
    first_rows = np.full(len(distinct), len(idx), np.int64)  # where each distinct value first occurs
    np.minimum.at(first_rows, idx[~blank], np.flatnonzero(~blank))
    ordered = np.isin(parts.style, [i for i, s in enumerate(styles) if s in _ORDERED])
    if ordered.any():
        if day_first is None:
            day_first = _day_first(col, parts, first_rows, ordered, styles)
        parts.month = np.where(ordered, parts.b if day_first else parts.a, parts.month)
        parts.day = np.where(ordered, parts.a if day_first else parts.b, parts.day)
    _, ok = _epoch_days(np.where(parts.year >= 0, parts.year, 2000), parts.month, parts.day)
    ok = (ok | (parts.epoch >= 0)) & _valid_clock(parts) & (parts.style >= 0)
    per_row = parts.take(idx)
    bad = ~blank & ~ok[idx]
    if consistent and (~blank).any():
        j = _first(~blank)
        if not bad[j]:
            i = _first(bad | (~blank & (per_row.style != per_row.style[j])))
            if i is not None:
                example = STYLES[styles[per_row.style[j]]].example
                raise col.error(i, f"is not {noun} (expected like the file's other dates, e.g. {example})")
    i = _first(bad)
    if i is not None:
        expected = (STYLES[styles[0]].label if len(styles) == 1
                    else "e.g. " + ", ".join(STYLES[s].example for s in styles))
        raise col.error(i, f"is not {noun} (expected {expected})")
    return per_row, blank


def date_parts(col: Column, *, styles: Sequence[str] = ALL_DATE_STYLES, day_first: bool | None = None,
               empty: Iterable[str] = EMPTY) -> pa.StructArray:
    """What each value says: ``{year, month, day}``, year null where the value has none
    (``May 28``); an unreadable value is an error naming its line."""
    parts, blank = _parse(col, styles, day_first=day_first, consistent=False, noun="a date", empty=empty)
    fields = {k: pa.array(np.where(blank | (v < 0), 0, v), pa.int64(), mask=blank | (v < 0))
              for k, v in (("year", parts.year), ("month", parts.month), ("day", parts.day))}
    return pa.StructArray.from_arrays(list(fields.values()), names=list(fields), mask=pa.array(blank))


def dates(col: Column, *, styles: Sequence[str] = ("iso",), day_first: bool | None = None,
          consistent: bool = False, empty: Iterable[str] = EMPTY) -> pa.Array:
    """Dates (date32) in any of ``styles`` (see :data:`STYLES`); a time of day after the date is
    ignored (the day as written). For ``a/b/y`` styles the file decides the order
    (:func:`_day_first`) unless ``day_first`` says it. ``consistent``: every value in the style
    of the first (a file mixing ISO and Excel dates is damaged). Empty tokens are null."""
    parts, blank = _parse(col, styles, day_first=day_first, consistent=consistent, noun="a date", empty=empty)
    i = _first(~blank & (parts.year < 0) & (parts.epoch < 0))
    if i is not None:
        raise col.error(i, "is not a date (it has no year)")
    days, _ = _epoch_days(parts.year, parts.month, parts.day)
    days = np.where(parts.epoch >= 0, _epoch_seconds(parts.epoch) // 86400, days)
    return pa.array(days.astype("int32"), pa.int32(), mask=blank).cast(pa.date32())


def _epoch_seconds(epoch: np.ndarray) -> np.ndarray:
    return np.where(epoch > 10**11, epoch // 1000, epoch)  # milliseconds


def timestamps(col: Column, *, styles: Sequence[str] = ("iso",), day_first: bool | None = None,
               export_day: date | None = None, noun: str = "a date", empty: Iterable[str] = EMPTY) -> pa.Array:
    """Points in time (timestamp[us, UTC]). A value without a zone is taken as UTC, one without
    a time as midnight; one without a year (``28 de mayo 09:30``) is the latest such day on or
    before ``export_day`` (refused when there is none)."""
    parts, blank = _parse(col, styles, day_first=day_first, consistent=False, noun=noun, empty=empty)
    yearless = ~blank & (parts.year < 0) & (parts.epoch < 0)
    if yearless.any():
        if export_day is None:
            raise col.error(_first(yearless), f"is not {noun} (it has no year)")
        parts.year = np.where(yearless, _latest_years(parts.month, parts.day, export_day), parts.year)
    days, _ = _epoch_days(parts.year, parts.month, parts.day)
    clock = np.maximum(parts.hour, 0) * 3600 + np.maximum(parts.minute, 0) * 60 + np.maximum(parts.second, 0)
    zone = np.where(parts.offset == _NO_ZONE, 0, parts.offset) * 60
    seconds = np.where(parts.epoch >= 0, _epoch_seconds(parts.epoch), days * 86400 + clock - zone)
    micros = seconds * 1_000_000 + np.maximum(parts.micro, 0)
    return pa.array(micros, pa.int64(), mask=blank).cast(pa.timestamp("us", tz="UTC"))


def _latest_years(month: np.ndarray, day: np.ndarray, limit: date) -> np.ndarray:
    """The year of the latest date with this month and day on or before ``limit``."""
    key = month * 100 + day
    year = limit.year - (key > limit.month * 100 + limit.day)
    for _ in range(8):  # Feb 29 may be up to 8 years back
        _, ok = _epoch_days(year, month, day)
        if ok.all():
            break
        year = np.where(ok, year, year - 1)
    return year


def yearless_dates(col: Column, export_day: date, *, styles: Sequence[str] = ALL_DATE_STYLES,
                   slack: int = 1, empty: Iterable[str] = EMPTY) -> pa.Array:
    """Dates of a daily series whose rows may lack the year (TikTok's ``"May 28"``), sorted
    either way. The newest row is on or before the export day (+ ``slack`` days: the export
    time is UTC, the rows are in the account's time zone); walking towards the oldest row, each
    row is the latest date on or before the row after it, so the series crosses New Year where
    the months wrap. Rows with a year are taken as they are. A day twice is an error."""
    parts, blank = _parse(col, styles, day_first=None, consistent=False, noun="a date", empty=empty)
    i = _first(blank)
    if i is not None:
        raise col.error(i, "is not a date")
    days = _resolve_series(parts, export_day + timedelta(days=slack))
    order = np.argsort(days, kind="stable")
    repeat = np.zeros(len(days), bool)
    repeat[order[1:]] = days[order[1:]] == days[order[:-1]]
    i = _first(repeat)
    if i is not None:
        j = int(np.flatnonzero(days == days[i])[0])
        day = date(1970, 1, 1) + timedelta(days=int(days[i]))
        raise col.error(i, f"is the same day ({day}) as line {col.line(j)}")
    return pa.array(days.astype("int32"), pa.int32()).cast(pa.date32())


def _resolve_series(parts: _Parts, limit: date) -> np.ndarray:
    """Days since 1970 for :func:`yearless_dates`, without a loop over rows: walking from the
    newest row, the year drops by one at every step where the month and day go up."""
    n = len(parts.year)
    yearless = parts.year < 0
    leap_year = 2000  # every month/day occurs in it
    yday, _ = _epoch_days(np.full(n, leap_year), parts.month, parts.day)
    steps = np.diff(yday[yearless]) % 366
    steps = steps[steps != 0]
    descending = (steps > 183).sum() > len(steps) / 2  # a step forwards is less than half a year
    walk = np.arange(n) if descending else np.arange(n)[::-1]  # newest row first
    year = parts.year[walk].copy()
    fixed = ~yearless[walk]
    key = (parts.month * 100 + parts.day)[walk]
    while True:
        before = np.concatenate([[limit.month * 100 + limit.day], key[:-1]])
        wraps = np.cumsum(~fixed & (key > before))
        segment = np.cumsum(fixed)  # rows with a year start a new run
        anchors = np.concatenate([[limit.year], year[fixed]])
        anchor_wraps = np.concatenate([[0], wraps[fixed]])
        resolved = np.where(fixed, year, anchors[segment] - (wraps - anchor_wraps[segment]))
        _, ok = _epoch_days(resolved, parts.month[walk], parts.day[walk])
        if ok.all():
            break
        # Feb 29 in a year without one: the latest leap year before, and the walk goes on from there
        i = _first(~ok)
        year[i], fixed[i] = _latest_years(parts.month[walk][i:i + 1], parts.day[walk][i:i + 1],
                                          date(int(resolved[i]), 12, 31))[0], True
    days, _ = _epoch_days(resolved, parts.month[walk], parts.day[walk])
    out = np.empty(n, np.int64)
    out[walk] = days
    return out


# --- delimited text -----------------------------------------------------------------------------

SEPARATORS = (",", ";", "\t", "|")
TOTAL_LABELS = frozenset({"total", "totals", "grand total", "sum", "summe", "gesamt"})
_SEP_HINT = re.compile(r'^\s*"?sep=(.)"?\s*$', re.IGNORECASE)  # Excel's first line, Meta Business Suite's


def _fields(line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=sep), [])
    except csv.Error:
        return []


def _locate(lines: Sequence[str], sep: str | None, names: Sequence[str], search: int) -> tuple[int, str] | None:
    """(index of the header line, separator): the first non-blank line, or the first of
    ``search`` lines holding every one of ``names`` as a column; the separator is the one asked
    for, else the candidate giving the header most columns (and ``names``)."""
    wanted = {fold(n) for n in names}
    for i, line in enumerate(lines[:search]):
        if not line.strip():
            continue
        best, width = None, 0
        for candidate in (sep,) if sep else SEPARATORS:
            fields = {fold(f) for f in _fields(line, candidate)}
            if wanted <= fields and len(fields) > width:
                best, width = candidate, len(fields)
        if best is not None:
            return i, best
        if not names:
            return None
    return None


def header_names(head: bytes, *, sep: str | None = None, header: Sequence[str] = ()) -> list[str]:
    """The header's column names, folded (see :func:`fold`), as :func:`read_delimited` would
    find them in the first bytes of a file: for recognising files. Never raises."""
    lines = head_text(head).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and (hint := _SEP_HINT.match(lines[0])):
        sep, lines = sep or hint.group(1), lines[1:]
    found = _locate(lines, sep, header, 10)
    if found is None:
        return []
    i, sep = found
    return [h for h in (fold(f) for f in _fields(lines[i], sep)) if h]


@dataclass(frozen=True)
class Delimited:
    """A delimited text file as :func:`read_delimited` reads it: every value a trimmed string
    (``""`` where empty), and the line each row starts on."""

    what: str  # how errors name the file ("bank details TSV")
    header: tuple[str, ...]  # column names as written
    values: pa.Table  # one string column per header name, in the file's order
    lines: np.ndarray  # the line (1-based) each row starts on
    header_line: int
    sep: str

    def __len__(self) -> int:
        return self.values.num_rows

    def _position(self, aliases: Sequence[str]) -> int | None:
        folded = [fold(h) for h in self.header]
        for alias in aliases:
            hits = [i for i, h in enumerate(folded) if h == fold(alias)]
            if len(hits) > 1:
                raise ParseError(f"{self.what}: line {self.header_line}: the header names "
                                 f"{self.header[hits[0]]!r} twice")
            if hits:
                return hits[0]
        return None

    def column(self, *aliases: str) -> Column | None:
        """The column named like the first of ``aliases`` the header has (see :func:`fold`)."""
        i = self._position(aliases)
        return None if i is None else self.column_at(i)

    def column_at(self, i: int) -> Column:
        return Column(self.header[i], self.values.column(i).combine_chunks(), self.lines)

    def require(self, *specs: str | Sequence[str]) -> list[Column]:
        """The columns of ``specs`` (a name, or a tuple of aliases); missing ones are an error
        naming them."""
        found = [self.column(*((s,) if isinstance(s, str) else s)) for s in specs]
        missing = [(s if isinstance(s, str) else s[0]) for s, c in zip(specs, found) if c is None]
        if missing:
            raise self.missing(missing, known=sum(c is not None for c in found))
        return found  # type: ignore[return-value]

    def missing(self, names: Sequence[str], *, known: int | None = None) -> ParseError:
        """The error of a header without ``names``. ``known`` counts the format's columns it does
        have: with none, the line is no header of this format (a file of something else), and it is
        not quoted: it may be anything, a password file's first line included."""
        wanted = f"missing column(s) {', '.join(repr(n) for n in names)}"
        if known == 0:
            fields = sum(1 for h in self.header if h)
            return ParseError(f"{self.what}: line {self.header_line} is not a header of this format ({wanted}; "
                              f"none of its {fields} field(s) is a column of it): is it the right file?")
        return ParseError(f"{self.what}: line {self.header_line} (the header): {wanted}; "
                          f"the header has {', '.join(repr(h) for h in self.header if h)}")

    def filter(self, keep: np.ndarray) -> Delimited:
        return replace(self, values=self.values.filter(pa.array(keep)), lines=self.lines[keep])

    def drop_totals(self, column: str | int = 0, *, unless: str | None = None) -> Delimited:
        """Without the "Total" rows a spreadsheet adds (summed again they would double the
        figures); ``unless`` names a column a real row always fills."""
        col = self.column_at(column) if isinstance(column, int) else self.column(column)
        if col is None or not len(self):
            return self
        labels = pa.array(sorted(TOTAL_LABELS))
        total = _mask(pc.is_in(_folded(col.values), value_set=labels))
        if unless is not None and (other := self.column(unless)) is not None:
            total &= _mask(pc.equal(other.values, ""))
        return self.filter(~total) if total.any() else self


def read_delimited(data: bytes | str, what: str, *, sep: str | None = None, header: Sequence[str] = (),
                   search: int = 10) -> Delimited:
    """A delimited text file (CSV, TSV, ``;`` Excel re-saves), every value a string.

    Handles what exports do: a BOM or UTF-16 (see :func:`decode`), CR-only, CRLF or LF line
    endings, every value quoted, values over several lines, Excel's ``sep=,`` first line,
    title or preamble lines before the header (``header`` names columns the header line has;
    the first of ``search`` lines holding them is the header), a separator sniffed among
    :data:`SEPARATORS` unless ``sep`` says it, empty lines and lines of only separators, and
    Excel's empty trailing columns. A line with a wrong number of fields is an error naming it.
    """
    text = decode(data) if isinstance(data, bytes) else data
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = text.split("\n", search + 2)
    skip = 0
    if _SEP_HINT.match(first[0]):
        sep, skip = sep or _SEP_HINT.match(first[0]).group(1), 1
    found = _locate(first[skip:], sep, header, search)
    if found is None:
        if header:
            columns = ", ".join(repr(n) for n in header)
            raise ParseError(f"{what}: no header line with a {columns} column in the first {search} lines")
        raise ParseError(f"{what}: the file has no header line")
    at, sep = found
    at += skip
    offset = sum(len(line) + 1 for line in first[:at])
    width = len(_fields(first[at], sep))
    return _read_body(text[offset:], what, sep, width, at + 1)


def _read_body(body: str, what: str, sep: str, width: int, header_line: int) -> Delimited:
    """The header line and the rows after it, read by Arrow's CSV reader."""
    invalid: list[tuple[int, int, str]] = []

    def invalid_row(row) -> str:  # called for the rare wrong lines only, never for good ones
        invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    try:
        table = pcsv.read_csv(
            io.BytesIO((body if body.endswith("\n") else body + "\n").encode("utf-8")),
            read_options=pcsv.ReadOptions(autogenerate_column_names=True, use_threads=False, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=True, ignore_empty_lines=False,
                                            invalid_row_handler=invalid_row),
            convert_options=pcsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(width)},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        raise ParseError(f"{what}: cannot be read as delimited text ({exc})") from None
    if any(not pa.types.is_string(t) for t in table.schema.types):
        # more columns than the header line seemed to have (a quoted line break in the header):
        # Arrow typed the extra ones; they are text like the rest
        table = pa.table([c.cast(pa.string()) for c in table.columns], names=table.column_names)
    # The line each record starts on. Arrow numbers records from the header (1), every line
    # break outside quotes included (ignore_empty_lines=False); a record spans one line more per
    # line break inside its values.
    records = table.num_rows + len(invalid)
    breaks = np.zeros(records + 1, np.int64)
    is_good = np.ones(records + 1, bool)
    is_good[[0, *(n for n, _, _ in invalid)]] = False
    good = np.flatnonzero(is_good)
    for col in table.columns if '"' in body else ():  # only a quoted value holds a line break
        breaks[good] += np.asarray(pc.fill_null(pc.count_substring(col, "\n"), 0).to_numpy(zero_copy_only=False),
                                   dtype=np.int64)
    for n, _, raw in invalid:
        breaks[n] = raw.count("\n")
    starts = header_line - 1 + np.arange(records + 1) + np.concatenate([[0], np.cumsum(breaks[:-1])])
    problems = sorted((n, actual) for n, actual, raw in invalid if raw.strip())
    if problems:
        n, actual = problems[0]
        raise ParseError(f"{what}: line {int(starts[n])} has {actual} fields, the header has {width} "
                         f"(separator {sep!r}; a truncated or damaged file?)")
    names = [str(v).replace("\ufeff", "").strip() for v in table.slice(0, 1).to_pylist()[0].values()]
    lines = starts[good[1:]]
    columns = [pc.utf8_trim_whitespace(c).combine_chunks() for c in table.slice(1).columns]
    # Excel's empty trailing columns: no name, no values
    named = len(names)
    while named and not names[named - 1]:
        named -= 1
    if not named:
        raise ParseError(f"{what}: line {header_line} (the header) names no column")
    for col in columns[named:]:
        row = _first(_mask(pc.not_equal(col, "")))
        if row is not None:
            raise ParseError(f"{what}: line {int(lines[row])} has {width} fields, the header has {named} "
                             f"(separator {sep!r}; a truncated or damaged file?)")
    names, columns = names[:named], columns[:named]
    filled = np.zeros(len(lines), bool)  # empty lines and lines of only separators go
    for col in columns:
        filled |= _mask(pc.not_equal(col, ""))
    out = Delimited(what, tuple(names), pa.Table.from_arrays(columns, names=names), lines, header_line, sep)
    return out if filled.all() else out.filter(filled)


# --- the frame a parser returns -----------------------------------------------------------------

_PANDAS_TYPES = {pa.int64(): pd.Int64Dtype(), pa.string(): pd.StringDtype()}


def frame(columns: Mapping[str, pa.Array | Any], rows: int | None = None) -> pd.DataFrame:
    """A parser's result from Arrow columns (and constants, repeated): counts as nullable
    ``Int64``, text as ``string``, dates as ``datetime.date``."""
    n = rows if rows is not None else next(len(v) for v in columns.values() if isinstance(v, (pa.Array, pa.ChunkedArray)))
    arrays = {}
    for name, value in columns.items():
        if isinstance(value, (pa.Array, pa.ChunkedArray)):
            arrays[name] = value
        elif value is None:
            arrays[name] = pa.nulls(n, pa.string())
        else:
            arrays[name] = pa.repeat(pa.scalar(value), n)
    return pa.table(arrays).to_pandas(types_mapper=_PANDAS_TYPES.get)


def max_json_depth() -> int:
    """How deeply a JSON file may nest (``SOUNDLAKE_MAX_JSON_DEPTH``, default 64: the deepest API
    response we read nests about 8 levels)."""
    import os

    try:
        return max(1, int(os.environ.get("SOUNDLAKE_MAX_JSON_DEPTH") or 64))
    except ValueError:
        return 64


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(data: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` in a JSON text (strings left out), without parsing it."""
    brackets = _JSON_STRING.sub(b"", data).translate(None, delete=bytes(b for b in range(256) if b not in b"[]{}"))
    if not brackets:
        return 0
    steps = np.frombuffer(brackets, dtype=np.uint8)
    depth = np.cumsum(np.where((steps == ord("[")) | (steps == ord("{")), 1, -1))
    return int(depth.max())


def json_document(data: bytes, hint: str = "") -> Any:
    """A JSON file's document; invalid JSON is an error saying where (and ``hint``, what it may be),
    and so is JSON nested deeper than :func:`max_json_depth`."""
    limit = max_json_depth()
    depth = json_depth(data)
    if depth > limit:
        raise ParseError(f"JSON nested {depth} levels deep, more than the limit of {limit} "
                         "(SOUNDLAKE_MAX_JSON_DEPTH): not an export soundlake reads")
    try:
        return json.loads(decode(data))
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}){hint}") from None
