"""Property-based tests of every parser of every source (hypothesis).

For each dataset of each source in the registry (``assets.sources.SOURCES``: a source added later is
covered without a change here), random bytes and mutated real files either parse into the dataset's
schema or raise the source machinery's ``ParseError`` / ``UnusedContent`` with a reason; any other
exception is a parser bug (staging would quarantine the file with a Python error for a reason).

The real files are each source's demo samples and, when present, the BEDROT exports in
``../shared/fixtures/bedrot`` (read in place, never copied). Zips are taken as the landing takes them:
whole when a dataset reads the zip itself, else member by member.

Runs are bounded and reproducible (``derandomize``); ``HYPOTHESIS_PROFILE=explore`` tries many
more, random examples.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import tempfile
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.lake.landing import SNIFF_BYTES, identify, identify_by_name
from assets.lake.staging import conform
from assets.sources import SOURCES, Dataset, ParseContext, ParseError, Source, UnusedContent
from tests.conftest import BEDROT

settings.register_profile("bounded", max_examples=25, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("explore", max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "300")), deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "bounded")
LANDED_AT = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
DATASETS = [pytest.param(src.name, ds.name, id=f"{src.name}/{ds.name}") for src in SOURCES.values() for ds in src.datasets]


# --- the real files ------------------------------------------------------------------------------


def _add(corpus: dict, name: str, data: bytes) -> None:
    """As the landing takes a file: a zip whole when a dataset's name pattern claims it, else its members."""
    is_zip = name.lower().endswith(".zip") and zipfile.is_zipfile(io.BytesIO(data))
    hit = identify_by_name(SOURCES, name) if is_zip else identify(SOURCES, name, data[:SNIFF_BYTES])
    if hit is None and is_zip:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    _add(corpus, Path(info.filename).name, zf.read(info))
        return
    if hit is not None:
        corpus.setdefault(hit, []).append((name, data))


@functools.lru_cache(maxsize=1)
def corpus() -> dict[tuple[str, str], list[tuple[str, bytes]]]:
    found: dict[tuple[str, str], list[tuple[str, bytes]]] = {}
    with tempfile.TemporaryDirectory(prefix="soundlake-samples-") as tmp:
        for src in SOURCES.values():
            folder = Path(tmp) / src.name
            folder.mkdir()
            for path in src.samples(folder, 7):
                _add(found, path.name, path.read_bytes())
    if BEDROT.is_dir():
        for path in sorted(BEDROT.rglob("*")):
            if path.is_file():
                _add(found, path.name, path.read_bytes())
    return found


def _dataset(source: str, dataset: str) -> tuple[Source, Dataset]:
    src = SOURCES[source]
    return src, src.dataset(dataset)


def _files(source: str, dataset: str) -> list[tuple[str, bytes]]:
    files = corpus().get((source, dataset), [])
    if not files:
        pytest.fail(f"{source}/{dataset}: its source's samples hold no file of it; the sample generator "
                    "must write one so the parser is tested on real-shaped input")
    return files


def parses_or_refuses(source: str, dataset: str, name: str, data: bytes, options: dict | None = None,
                      as_of: date | None = None) -> str:
    """Parse ``data`` as staging does; returns "parsed", "quarantined" or "unused". Any exception
    other than ParseError / UnusedContent propagates (and fails the property)."""
    src, ds = _dataset(source, dataset)
    ctx = ParseContext(src.name, ds.name, name, hashlib.sha256(data).hexdigest(), LANDED_AT, as_of, options or {})
    try:
        out = ds.parse(data, ctx)
        if out is not None and len(out):
            table = conform(out, ds.schema, f"{src.name}/{ds.name}")
            assert table.schema.equals(ds.schema)
        return "parsed"
    except UnusedContent as exc:
        assert str(exc).strip(), f"{source}/{dataset}: UnusedContent without a reason"
        return "unused"
    except ParseError as exc:
        assert str(exc).strip(), f"{source}/{dataset}: ParseError without a reason"
        return "quarantined"


def test_every_dataset_has_real_files():
    missing = [f"{s}/{d}" for s, src in SOURCES.items() for d in (ds.name for ds in src.datasets)
               if not corpus().get((s, d))]
    assert not missing, f"no sample file of {missing}"


@pytest.mark.parametrize(("source", "dataset"), DATASETS)
def test_real_files_parse(source, dataset):
    """The unmutated files are the baseline: each parses (the properties below start from them)."""
    for name, data in _files(source, dataset):
        assert parses_or_refuses(source, dataset, name, data) in ("parsed", "unused"), name


# --- mutations -----------------------------------------------------------------------------------

TOKENS = [b"", b"-1", b"0", b"NaN", b"nan", b"null", b"None", b"undefined", b"1e309", b"-0", b"\x00", b'"', b"'",
          b",", b";", b"\t", b"\r", b"\n", b"{", b"}", b"[]", b"{}", b"9" * 30, b"2025-13-45", b"31/02/2025",
          b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3", "é".encode(), b"<", b"</script>", b"1,5", b"1.234,56", b"  "]
JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                        st.sampled_from(["", "2025-02-30", "NaN", "-1", "1e309", "null", "12,5"]))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=6)


def _position(draw, data: bytes) -> int:
    return draw(st.integers(min_value=0, max_value=len(data)))


def _slice(draw, data: bytes) -> tuple[int, int]:
    a = _position(draw, data)
    return a, min(len(data), a + draw(st.integers(min_value=0, max_value=64)))


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def m_flip(draw, data):
    if not data:
        return data
    i = draw(st.integers(min_value=0, max_value=len(data) - 1))
    return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]


def m_truncate(draw, data):
    return data[:_position(draw, data)]


def m_delete(draw, data):
    a, b = _slice(draw, data)
    return data[:a] + data[b:]


def m_repeat(draw, data):
    a, b = _slice(draw, data)
    return data[:b] + data[a:b] + data[b:]


def m_insert(draw, data):
    i = _position(draw, data)
    return data[:i] + draw(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=12))) + data[i:]


def m_token(draw, data):
    """A short run of digits or letters (a value) replaced by a hostile token."""
    a, _ = _slice(draw, data)
    b = a
    while b < len(data) and b - a < 24 and (chr(data[b]).isalnum() or data[b] in b".-"):
        b += 1
    return data[:a] + draw(st.sampled_from(TOKENS)) + data[b:]


def m_lines(draw, data):
    lines = _lines(data)
    if len(lines) < 2:
        return data
    i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    op = draw(st.sampled_from(["drop", "repeat", "swap", "blank"]))
    if op == "drop":
        del lines[i]
    elif op == "repeat":
        lines.insert(i, lines[i])
    elif op == "swap":
        j = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines[i] = b"\n"
    return b"".join(lines)


def m_json(draw, data):
    """A node of a JSON document replaced by any JSON value, or a key removed."""
    try:
        doc = json.loads(data)
    except ValueError:
        return m_token(draw, data)

    def walk(node, depth):
        if depth > 12 or not isinstance(node, (dict, list)) or not node or draw(st.integers(0, 3)) == 0:
            return draw(JSON_VALUES)
        if isinstance(node, list):
            i = draw(st.integers(0, len(node) - 1))
            return [*node[:i], walk(node[i], depth + 1), *node[i + 1:]]
        key = draw(st.sampled_from(sorted(node)))
        if draw(st.integers(0, 4)) == 0:
            return {k: v for k, v in node.items() if k != key}
        return {**node, key: walk(node[key], depth + 1)}

    return json.dumps(walk(doc, 0)).encode()


def m_zip(draw, data):
    """A zip whose member is mutated (or which loses its member)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    except Exception:  # not (or no longer) a readable zip: zipfile raises several kinds of error
        return m_flip(draw, data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members:
            if draw(st.integers(0, 5)) == 0:
                continue
            zf.writestr(name, draw(st.sampled_from(MUTATIONS[:-1]))(draw, payload))
    return buf.getvalue()


def _real_file(source: str, dataset: str):
    """One of the dataset's real files (drawn by index, so a failure report names the file, not its bytes)."""
    files = _files(source, dataset)
    return st.integers(min_value=0, max_value=len(files) - 1).map(lambda i: files[i])


MUTATIONS = [m_flip, m_truncate, m_delete, m_repeat, m_insert, m_token, m_lines, m_json, m_zip]


@st.composite
def mutated_file(draw, source: str, dataset: str):
    name, data = draw(_real_file(source, dataset))
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=4)):
        data = mutation(draw, data)
    return name, data


@st.composite
def header_and_random_rows(draw, source: str, dataset: str):
    """A real file's first lines, then rows of random cells with its separator."""
    name, data = draw(_real_file(source, dataset))
    lines = _lines(data)
    keep = b"".join(lines[:draw(st.integers(min_value=1, max_value=min(3, max(1, len(lines)))))])
    sep = max((b",", b";", b"\t"), key=lambda s: keep.count(s))
    cell = st.one_of(st.sampled_from(TOKENS), st.text(max_size=10).map(lambda t: t.encode("utf-8", "replace")),
                     st.integers(-10**12, 10**12).map(lambda n: str(n).encode()))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=16).map(sep.join), max_size=8))
    return name, keep + b"\n".join(rows)


OPTIONS = st.fixed_dictionaries({}, optional={
    "artist": st.sampled_from(["Nova Lights", "", " ", "ZONE A0"]),
    "account": st.sampled_from(["zone.a0", "", "x" * 3]),
    "track": st.sampled_from(["Glass Harbour", ""]),
    "currency": st.sampled_from(["USD", "EUR", "", "usd", "XXX"]),
})


# inputs that broke parsers once, or break them typically: each is tried on every dataset
EDGE_INPUTS = [b"", b" ", b"\n", b"\r\n\r\n", b",", b",,\n,,", b";", b"\t", b'"', b'"a', b"\xef\xbb\xbf",
               b"\xef\xbb\xbf,", b"\xff\xfe", b"\xff\xfe\x00", b"\x00" * 8, b"sep=,", b"sep=,\n", b"a\n1",
               b"{}", b"[]", b"[{}]", b"null", b"0", b'""', b'{"data": []}', b'{"data": null}', b'{"data": [null]}',
               b"<html></html>", b"<script>var x = {</script>", b"PK\x03\x04", b"PK\x05\x06" + b"\x00" * 18,
               b'"\n",', b'\x01\t"\n"\t',  # a quoted line break in the header line
               b'{"streams": [], "discovery": true}', b'{"streams": {}, "data": 1}']
SOUP = st.text(alphabet=',;\t\n\r"\' {}[]:0-9.a', max_size=24).map(str.encode)


@pytest.mark.parametrize(("source", "dataset"), DATASETS)
def test_edge_inputs(source, dataset):
    name = _files(source, dataset)[0][0]
    for payload in EDGE_INPUTS:
        try:
            parses_or_refuses(source, dataset, name, payload)
        except AssertionError:
            raise
        except Exception as exc:
            raise AssertionError(f"{source}/{dataset} on {payload!r}: {type(exc).__name__}: {exc}") from exc


@pytest.mark.parametrize(("source", "dataset"), DATASETS)
@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_random_bytes(source, dataset, data):
    """Bytes from nowhere, under a real file's name (so name-based choices are exercised)."""
    name = data.draw(st.sampled_from([n for n, _ in _files(source, dataset)] + ["export.bin"]))
    payload = data.draw(st.one_of(st.binary(max_size=2048), st.text(max_size=512).map(str.encode), SOUP))
    parses_or_refuses(source, dataset, name, payload)


@pytest.mark.parametrize(("source", "dataset"), DATASETS)
@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_mutated_real_files(source, dataset, data):
    name, payload = data.draw(mutated_file(source, dataset))
    options = data.draw(OPTIONS)
    as_of = data.draw(st.one_of(st.none(), st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))))
    parses_or_refuses(source, dataset, name, payload, options, as_of)


@pytest.mark.parametrize(("source", "dataset"), DATASETS)
@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_real_header_random_rows(source, dataset, data):
    name, payload = data.draw(header_and_random_rows(source, dataset))
    parses_or_refuses(source, dataset, name, payload)

