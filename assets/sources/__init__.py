"""Every platform source soundlake knows, by name: each module of this package that declares a
``SOURCE``. Adding a platform is adding a module here; nothing lists them."""

from __future__ import annotations

import importlib
import pkgutil

from .base import CuratedMapping, Dataset, ParseContext, ParseError, Source, UnusedContent


def _discover() -> dict[str, Source]:
    """The ``SOURCE`` of every module of this package, by source name, in module-name order
    (the order files are matched in)."""
    found: dict[str, Source] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        source = getattr(importlib.import_module(f"{__name__}.{module.name}"), "SOURCE", None)
        if not isinstance(source, Source):
            continue
        if source.name in found:
            raise RuntimeError(f"two source modules declare the source {source.name!r}")
        found[source.name] = source
    return found


SOURCES: dict[str, Source] = _discover()

__all__ = ["SOURCES", "CuratedMapping", "Dataset", "ParseContext", "ParseError", "Source", "UnusedContent"]
