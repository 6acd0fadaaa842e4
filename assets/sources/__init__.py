"""Every platform source soundlake knows, by name. Adding a platform is adding a module here."""

from __future__ import annotations

from . import distrokid, linktree, meta_ads, spotify_for_artists, tiktok, toolost
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source, UnusedContent

# one entry per source module; keep the list sorted by module name
_MODULES = (
    distrokid,
    linktree,
    meta_ads,
    spotify_for_artists,
    tiktok,
    toolost,
)

SOURCES: dict[str, Source] = {m.SOURCE.name: m.SOURCE for m in _MODULES}

__all__ = ["SOURCES", "CuratedMapping", "Dataset", "ParseContext", "ParseError", "Source", "UnusedContent"]
