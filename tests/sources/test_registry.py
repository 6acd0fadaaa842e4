"""Sources are found, not listed: every module of assets.sources that declares a SOURCE."""

import importlib
import pkgutil
from pathlib import Path

import assets.sources as sources
from assets.sources import SOURCES, Source

MODULES = {m.name: importlib.import_module(f"assets.sources.{m.name}") for m in pkgutil.iter_modules(sources.__path__)}


def test_every_module_declaring_a_source_is_registered_in_module_order():
    declaring = sorted(name for name, module in MODULES.items() if isinstance(getattr(module, "SOURCE", None), Source))
    assert declaring == ["distrokid", "facebook", "instagram", "linktree", "mailchimp", "meta_ads",
                         "spotify_for_artists", "tiktok", "toolost", "x", "youtube"]
    assert list(SOURCES.values()) == [MODULES[name].SOURCE for name in declaring]
    assert {"base", "parsing", "samples", "social", "meta_business_suite"} <= set(MODULES) - set(declaring)  # the machinery is no source


def test_no_source_module_imports_another():
    for name in SOURCES:
        code = Path(MODULES[name].__file__).read_text(encoding="utf-8")
        assert not [o for o in SOURCES if o != name and (f"from .{o} import" in code or f"from . import {o}" in code)]
