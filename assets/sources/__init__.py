"""Every platform source soundlake knows, by name. Adding a platform is adding a module here."""

from __future__ import annotations

from . import distrokid, toolost
from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source

SOURCES: dict[str, Source] = {s.name: s for s in (distrokid.SOURCE, toolost.SOURCE)}

__all__ = ["SOURCES", "CuratedMapping", "Dataset", "ParseContext", "ParseError", "Source"]
