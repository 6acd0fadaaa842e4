"""Browser extractors: dashboards without an API, read by a headless Chromium with a saved,
encrypted session (``soundlake login SOURCE`` once, then ``soundlake extract SOURCE`` or the
daily schedule). One module per platform with its URLs and selectors; the shared parts are in
:mod:`.base`, the session vault in ``resources/``."""

from __future__ import annotations

from . import distrokid, linktree, spotify_for_artists, tiktok, toolost
from .base import Capture, Extractor, NotConfigured, SessionExpired

EXTRACTORS: dict[str, Extractor] = {m.EXTRACTOR.source: m.EXTRACTOR
                                    for m in (distrokid, linktree, spotify_for_artists, tiktok, toolost)}

__all__ = ["EXTRACTORS", "Capture", "Extractor", "NotConfigured", "SessionExpired"]
