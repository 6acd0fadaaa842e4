"""Landing: where files arrive, and the one function that lands a file.

Files reach ``landing/`` two ways: ``soundlake ingest`` lands what it is given, and anything else
(a person, a sync tool, a browser extractor) drops objects into the zone. Both go through
:meth:`Landing.land`: a zip is opened unless a dataset reads the zip itself, each file is
recognised (name first, content to break ties), put at ``<source>/<dataset>/<name>`` — or
``<name> (2).<ext>`` when that key is taken, the one collision rule — and recorded in the manifest
as ``landed``, with what the person said about it (``--as-of``, ``--artist``, ...), so whichever
run takes it parses it the same way.

A ``landed`` row names its ``batch``: the run that takes it (the CLI lands a batch and then runs
it). Objects dropped by other means have no row until a run *adopts* them (:meth:`Landing.adopt`):
an object already at ``<source>/<dataset>/<name>`` is recorded where it is, one dropped anywhere
else is recognised and moved there. A claim whose run is no longer active (a crashed CLI, a
failed run) is taken over by the next run, options included.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import re
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Mapping

from resources.faults import checkpoint
from resources.storage import LakeStorage, ObjectInfo, UnsafeKeyError, check_key

from ..sources import Source
from ..sources.base import Dataset
from .manifest import Manifest, clean, is_missing, utcnow

UNIDENTIFIED = "_unidentified"
SNIFF_BYTES = 64 * 1024
MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """How big an input may be. A file over a limit is refused before landing, with the limit in
    the reason, and nothing of it is stored; a zip is checked before any member is expanded, and
    each member is read no further than the limits allow (a zip's header can lie).

    The defaults fit a label's real exports (a distributor's monthly statement for a large
    catalogue is tens of MB; the biggest zip we know holds three CSVs); each can be raised with
    its environment variable."""

    max_file_bytes: int = 512 * MIB  # SOUNDLAKE_MAX_FILE_MB: one file, or one member of a zip
    max_zip_members: int = 1000  # SOUNDLAKE_MAX_ZIP_MEMBERS
    max_zip_bytes: int = 2048 * MIB  # SOUNDLAKE_MAX_ZIP_MB: all members of a zip, expanded
    max_zip_ratio: float = 200.0  # SOUNDLAKE_MAX_ZIP_RATIO: expanded / compressed, for zips expanding past 10 MB

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Limits":
        import os

        env = os.environ if env is None else env

        def num(name: str, default: float, scale: int = 1) -> float:
            value = (env.get(name) or "").strip()
            try:
                return float(value) * scale if value else default
            except ValueError:
                raise ValueError(f"{name}={value!r} is not a number") from None

        return cls(int(num("SOUNDLAKE_MAX_FILE_MB", cls.max_file_bytes, MIB)),
                   int(num("SOUNDLAKE_MAX_ZIP_MEMBERS", cls.max_zip_members)),
                   int(num("SOUNDLAKE_MAX_ZIP_MB", cls.max_zip_bytes, MIB)),
                   num("SOUNDLAKE_MAX_ZIP_RATIO", cls.max_zip_ratio))


class TooBig(ValueError):
    """An input over a :class:`Limits` limit; the message says which."""


def _mb(n: float) -> str:
    return f"{n / MIB:,.1f} MB"


@dataclass
class FileResult:
    """What happened to one landed file; what ``soundlake ingest --json`` prints."""

    path: str
    source: str | None
    dataset: str | None
    sha256: str | None
    status: str
    rows: int | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, path: str, row: Mapping) -> "FileResult":
        """The result a manifest row (a dict, or a pandas row with its missing values) records."""
        r = clean(dict(row))
        return cls(path, r["source"], r["dataset"], r["sha256"], r["status"],
                   None if r["rows"] is None else int(r["rows"]), r["reason"])


@dataclass
class Landed:
    """A file in landing, claimed by a batch, with what the person told us about it."""

    landing_id: str
    path: str  # as the person gave it (``folder/x.zip!member.csv``), or the landing key of a drop
    key: str  # ``<source>/<dataset>/<name>`` in landing
    source: str  # UNIDENTIFIED when no source recognised it
    dataset: str
    batch: str | None = None
    as_of: date | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    sha256: str | None = None
    size: int | None = None

    @property
    def name(self) -> str:
        return PurePosixPath(self.key).name

    @classmethod
    def from_claim(cls, key: str, batch: str | None, claim: dict | None, sha256: str | None = None,
                   size: int | None = None) -> "Landed":
        """The landing at ``key`` as its ``landed`` manifest row says (a new landing without one)."""
        src, ds, _ = key.split("/")
        if claim is None:
            return cls(uuid.uuid4().hex, key, key, src, ds, batch, None, {}, sha256, size)
        return cls(claim["landing_id"], key, key, claim["source"] or src, claim["dataset"] or ds, batch,
                   _date(claim["as_of"]), json.loads(claim["options"]) if claim["options"] else {},
                   claim["sha256"] or sha256, claim["size"] if claim["size"] is not None else size)

    def row(self, landed_at: datetime | None = None) -> dict:
        """The manifest row that records this landing (status ``landed``)."""
        return clean({
            "landing_id": self.landing_id, "sha256": self.sha256, "original_name": self.name,
            "source": None if self.source == UNIDENTIFIED else self.source,
            "dataset": None if self.dataset == UNIDENTIFIED else self.dataset,
            "size": self.size, "landed_at": landed_at or utcnow(), "status": "landed", "as_of": self.as_of,
            "options": json.dumps(dict(self.options), sort_keys=True) if self.options else None,
            "landing_key": self.key, "batch": self.batch,
        })


def identify_by_name(sources: Mapping[str, Source], name: str, hint: str | None = None) -> tuple[str, str] | None:
    """(source, dataset) whose file-name pattern matches ``name``, if any."""
    for s, d in _candidates(sources, hint):
        if d.matches_name(name):
            return s.name, d.name
    return None


def identify(sources: Mapping[str, Source], name: str, head: bytes, hint: str | None = None) -> tuple[str, str] | None:
    """(source, dataset) of a file: its name first, its content to break ties or when the name
    says nothing."""
    pool = _candidates(sources, hint)
    by_name = [(s, d) for s, d in pool if d.matches_name(name)]
    if len(by_name) == 1:
        return by_name[0][0].name, by_name[0][1].name
    sniffed = [(s, d) for s, d in (by_name or pool) if d.sniff and d.sniff(name, head)]
    if sniffed:
        return sniffed[0][0].name, sniffed[0][1].name
    if by_name:
        return by_name[0][0].name, by_name[0][1].name
    if hint:
        # sources that share formats (Instagram's and Facebook's Business Suite exports) each claim
        # only the files that say they are theirs; --source names the owner of one that says nothing
        own = {d.name for d in sources[hint].datasets}
        for s, d in _candidates(sources, None):
            if s.name != hint and d.name in own and d.sniff and d.sniff(name, head):
                return hint, d.name
    return None


def _candidates(sources: Mapping[str, Source], hint: str | None) -> list[tuple[Source, Dataset]]:
    chosen = [sources[hint]] if hint else list(sources.values())
    return [(s, d) for s in chosen for d in s.datasets]


def safe_member(name: str) -> str | None:
    """The base name of a zip member, or None when its path would escape (zip slip)."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or ".." in norm.split("/"):
        return None
    base = posixpath.basename(norm)
    return base or None


_COPY = re.compile(r"^(?P<stem>.*?) \((?P<n>\d+)\)$")


def free_key(folder: str, name: str, taken: set[str]) -> str:
    """``<folder>/<name>``, or ``<folder>/<stem> (2).<ext>`` (3, 4, ...) when that is taken: two
    different files of one name never overwrite each other in landing."""
    key = f"{folder}/{name}"
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    n = 1
    while key in taken:
        n += 1
        key = f"{folder}/{stem} ({n}){dot}{ext}"
    return key


class Landing:
    def __init__(self, storage: LakeStorage, manifest: Manifest, sources: Mapping[str, Source],
                 limits: Limits | None = None):
        self.storage = storage
        self.manifest = manifest
        self.sources = sources
        self.limits = limits or Limits.from_env()

    # --- files given to the CLI ------------------------------------------------------------

    def land_paths(self, paths: Iterable[Path], *, source: str | None = None, as_of: date | None = None,
                   options: Mapping[str, str] | None = None, batch: str | None = None,
                   skip: Iterable[Path] = (),
                   ) -> tuple[list[Landed], list[FileResult]]:
        """Land files (folders walked, zips opened unless a dataset reads the zip itself) for
        ``batch``; a folder's files under ``skip`` (what soundlake keeps in its home) are left out. Returns
        what landed and what was refused before landing."""
        if source is not None and source not in self.sources:
            raise ValueError(f"unknown source {source!r}; known: {', '.join(sorted(self.sources))}")
        landed: list[Landed] = []
        refused: list[FileResult] = []
        taken = self._taken()
        for path in paths:
            path = Path(path)
            if path.is_dir():
                root = path.resolve()
                skipped = [Path(x).resolve() for x in skip]
                files = sorted(p for p in path.rglob("*") if not p.name.startswith(".") and (p.is_file() or p.is_symlink())
                               and not any(p.absolute().is_relative_to(x) for x in skipped))
            else:
                root, files = None, [path]
            for f in files:
                problem = self._unreadable(f, root)
                if problem:
                    refused.append(FileResult(str(f), None, None, None, "quarantined", None,
                                              f"{f}: refused before landing: {problem}"))
                    continue
                self.land(str(f), f.name, f.read_bytes(), source=source, as_of=as_of, options=options or {},
                          batch=batch, landed=landed, refused=refused, taken=taken)
        checkpoint("landing")
        self.manifest.append(_rows(landed))
        return landed, refused

    def _unreadable(self, f: Path, root: Path | None) -> str | None:
        """Why a file found in a folder (``root``) or given by name must not be read, if so."""
        if root is not None and f.is_symlink():
            target = f.resolve()
            if not target.is_relative_to(root):
                return f"a symbolic link to {target}, outside the folder given (links are not followed out of it)"
        if not f.is_file():
            return "not a regular file (a broken link, a device or a pipe)"
        size = f.stat().st_size
        if size > self.limits.max_file_bytes:
            return (f"{_mb(size)}, more than the limit of {_mb(self.limits.max_file_bytes)} per file "
                    "(SOUNDLAKE_MAX_FILE_MB)")
        return None

    # --- the one landing function ----------------------------------------------------------

    def land(self, shown: str, name: str, data: bytes, *, source: str | None, as_of: date | None,
             options: Mapping[str, str], batch: str | None, landed: list[Landed], refused: list[FileResult],
             taken: set[str], dry_run: bool = False) -> None:
        """Put one file (or each member of a zip) into landing; appends to ``landed`` or
        ``refused``. The caller records ``landed`` in the manifest. ``dry_run`` only says where
        the file would go."""
        is_zip = name.lower().endswith(".zip") and zipfile.is_zipfile(io.BytesIO(data))
        # a zip is kept whole only when a dataset reads the zip itself (its name says so)
        ident = identify_by_name(self.sources, name, source) if is_zip else \
            identify(self.sources, name, data[:SNIFF_BYTES], source)
        if ident is None and is_zip:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                members = [info for info in zf.infolist() if not info.is_dir()]
                too_big = self._zip_too_big(members, len(data))
                if too_big:
                    refused.append(FileResult(shown, None, None, None, "quarantined", None,
                                              f"{shown}: refused before landing: {too_big}"))
                    return
                budget = self.limits.max_zip_bytes
                for info in members:
                    member = f"{shown}!{info.filename}"
                    safe = safe_member(info.filename)
                    if safe is None:
                        refused.append(FileResult(member, None, None, None, "quarantined", None,
                                                  f"{member}: refused before landing: the path {info.filename!r} "
                                                  "would leave its folder ('..' or an absolute path)"))
                        continue
                    try:
                        body = self._read_member(zf, info, budget)
                    except TooBig as exc:
                        refused.append(FileResult(member, None, None, None, "quarantined", None,
                                                  f"{member}: refused before landing: {exc}"))
                        continue
                    budget -= len(body)
                    self.land(member, safe, body, source=source, as_of=as_of, options=options, batch=batch,
                              landed=landed, refused=refused, taken=taken, dry_run=dry_run)
            return
        if len(data) > self.limits.max_file_bytes:
            refused.append(FileResult(shown, None, None, None, "quarantined", None,
                                      f"{shown}: refused before landing: {_mb(len(data))}, more than the limit of "
                                      f"{_mb(self.limits.max_file_bytes)} per file (SOUNDLAKE_MAX_FILE_MB)"))
            return
        try:
            check_key(name)
            if "/" in name or name in (".", ".."):
                raise UnsafeKeyError(name)
        except UnsafeKeyError:
            refused.append(FileResult(shown, None, None, None, "quarantined", None,
                                      f"{shown}: refused before landing: unsafe file name {name!r}"))
            return
        src, ds = ident if ident else (UNIDENTIFIED, UNIDENTIFIED)
        key = free_key(f"{src}/{ds}", name, taken)
        taken.add(key)
        if not dry_run:
            self.storage.put("landing", key, data)
        landed.append(Landed(uuid.uuid4().hex, shown, key, src, ds, batch, as_of, dict(options),
                             hashlib.sha256(data).hexdigest(), len(data)))

    def _zip_too_big(self, members: list[zipfile.ZipInfo], size: int) -> str | None:
        """Why a zip is refused as a whole before anything is expanded, if it is (its directory's
        word: members are also read with a bound, see :meth:`_read_member`)."""
        lim = self.limits
        if len(members) > lim.max_zip_members:
            return f"a zip of {len(members):,} files, more than the limit of {lim.max_zip_members:,} (SOUNDLAKE_MAX_ZIP_MEMBERS)"
        expanded = sum(i.file_size for i in members)
        if expanded > lim.max_zip_bytes:
            return (f"a zip expanding to {_mb(expanded)}, more than the limit of {_mb(lim.max_zip_bytes)} "
                    "(SOUNDLAKE_MAX_ZIP_MB)")
        if expanded > 10 * MIB and expanded > lim.max_zip_ratio * max(size, 1):
            return (f"a zip of {_mb(size)} expanding to {_mb(expanded)} ({expanded / max(size, 1):,.0f} times its size, "
                    f"more than {lim.max_zip_ratio:g}: SOUNDLAKE_MAX_ZIP_RATIO); a zip bomb?")
        return None

    def _read_member(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
        """A member's bytes, read no further than the per-file limit and what is left of the zip's."""
        cap = min(self.limits.max_file_bytes, budget)
        with zf.open(info) as fh:
            body = fh.read(cap + 1)
        if len(body) > cap:
            which = "per file (SOUNDLAKE_MAX_FILE_MB)" if cap == self.limits.max_file_bytes else \
                "for the whole zip (SOUNDLAKE_MAX_ZIP_MB)"
            raise TooBig(f"expands past {_mb(cap)}, the limit {which}")
        return body

    def _taken(self) -> set[str]:
        return {o.key for o in self.storage.list("landing")}

    # --- objects dropped by other means ----------------------------------------------------

    def is_sorted(self, key: str) -> bool:
        """Whether ``key`` is at ``<source>/<dataset>/<name>`` of a known dataset (or unidentified)."""
        parts = key.split("/")
        if len(parts) != 3:
            return False
        if parts[0] == UNIDENTIFIED:
            return parts[1] == UNIDENTIFIED
        src = self.sources.get(parts[0])
        return src is not None and parts[1] in {d.name for d in src.datasets}

    def claims(self) -> dict[str, dict]:
        """The newest ``landed`` row per landing key whose object is still waiting in landing."""
        current = self.manifest.current()
        if current.empty:
            return {}
        rows = current[(current["status"] == "landed") & current["landing_key"].notna()]
        rows = rows.sort_values("recorded_at", kind="stable")
        return {r["landing_key"]: clean(r) for r in rows.to_dict("records")}

    def waiting(self, is_active: Callable[[dict], bool]) -> list[ObjectInfo]:
        """Objects in landing that no active run has claimed (what a sensor should announce)."""
        claims = self.claims()
        out = []
        for o in self.storage.list("landing"):
            claim = claims.get(o.key)
            if claim is not None and is_active(claim):
                continue
            out.append(o)
        return out

    def plan(self, obj: ObjectInfo, claim: dict | None = None) -> list[Landed]:
        """What an object in landing will land as (a zip: its members), without landing it: its
        (source, dataset), content hash and the options of an earlier claim."""
        data = self.storage.get("landing", obj.key)
        if self.is_sorted(obj.key):
            return [Landed.from_claim(obj.key, None, claim, hashlib.sha256(data).hexdigest(), len(data))]
        return self._dry_run(obj.key, data)

    def _dry_run(self, key: str, data: bytes) -> list[Landed]:
        landed: list[Landed] = []
        self.land(key, PurePosixPath(key).name, data, source=None, as_of=None, options={}, batch=None,
                  landed=landed, refused=[], taken=set(), dry_run=True)
        return landed

    def adopt(self, batch: str, is_active: Callable[[dict], bool], keys: Iterable[str] | None = None,
              allowed: set[str] | None = None) -> tuple[list[Landed], list[FileResult]]:
        """Claim for ``batch`` the objects waiting in landing (only ``keys`` when given; only
        those that land as sources in ``allowed`` when given) that no active run has claimed: a
        sorted object where it is, anything else recognised and moved to
        ``<source>/<dataset>/<name>``. A claim taken over keeps its landing and options."""
        claims = self.claims()
        wanted = None if keys is None else set(keys)
        taken = self._taken()
        landed: list[Landed] = []
        refused: list[FileResult] = []
        for o in list(self.storage.list("landing")):
            if wanted is not None and o.key not in wanted:
                continue
            claim = claims.get(o.key)
            if claim is not None and claim["batch"] == batch:
                continue  # ours already (the CLI landed it for this run)
            if claim is not None and is_active(claim):
                continue  # another run is taking it
            if self.is_sorted(o.key):
                if allowed is None or o.key.split("/")[0] in allowed:  # else: for a run of other sources
                    landed.append(Landed.from_claim(o.key, batch, claim, size=o.size))
                continue
            data = self.storage.get("landing", o.key)
            if allowed is not None and not {i.source for i in self._dry_run(o.key, data)} <= allowed:
                continue  # for a run of other sources
            taken.discard(o.key)
            before = len(landed)
            self.land(o.key, PurePosixPath(o.key).name, data, source=None, as_of=None, options={}, batch=batch,
                      landed=landed, refused=refused, taken=taken)
            if len(landed) > before or refused:
                self.storage.delete("landing", o.key)
        self.manifest.append(_rows(landed))
        return landed, refused

    def claimed(self, batch: str, sources: Iterable[str] | None = None) -> list[Landed]:
        """The landings of ``batch`` still waiting in landing (of ``sources`` when given)."""
        wanted = None if sources is None else set(sources)
        present = {o.key for o in self.storage.list("landing")}
        out = []
        claims = sorted(self.claims().items(), key=lambda kv: (str(kv[1]["landed_at"]), kv[0]))  # landing order
        for key, r in claims:
            if r["batch"] != batch or key not in present:
                continue
            item = Landed.from_claim(key, batch, r)
            if wanted is None or item.source in wanted:
                out.append(item)
        return out


def _rows(landed: list[Landed]) -> list[dict]:
    """Manifest rows of a batch's landings, ``landed_at`` a microsecond apart so the run takes
    them in the order they landed."""
    now = utcnow()
    return [item.row(now + timedelta(microseconds=i)) for i, item in enumerate(landed)]


def _date(value) -> date | None:
    if is_missing(value):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
