"""Sources are found, not listed: every module of assets.sources that declares a SOURCE."""

import importlib
import json
import pkgutil
from pathlib import Path

import assets.sources as sources
from assets.sources import SOURCES, Source

MODULES = {m.name: importlib.import_module(f"assets.sources.{m.name}") for m in pkgutil.iter_modules(sources.__path__)}


def test_every_module_declaring_a_source_is_registered_in_module_order():
    declaring = sorted(name for name, module in MODULES.items() if isinstance(getattr(module, "SOURCE", None), Source))
    assert declaring == ["amazon_music", "apple_music", "bandcamp", "deezer", "distrokid", "facebook", "instagram",
                         "linktree", "mailchimp", "meta_ads", "soundcloud", "spotify_for_artists", "tiktok",
                         "toolost", "x", "youtube"]
    assert list(SOURCES.values()) == [MODULES[name].SOURCE for name in declaring]
    # the machinery is no source
    assert {"base", "dashboards", "parsing", "samples", "social", "meta_business_suite"} <= set(MODULES) - set(declaring)


def test_no_source_module_imports_another():
    for name in SOURCES:
        code = Path(MODULES[name].__file__).read_text(encoding="utf-8")
        assert not [o for o in SOURCES if o != name and (f"from .{o} import" in code or f"from . import {o}" in code)]


def test_samples_are_recognised_as_their_own_source_and_no_fixture_is_taken(tmp_path):
    """Every sample is recognised by its name as its own source (and by content alone where the
    format tells), and the sources that recognise by content take no other platform's file."""
    from assets.lake import SNIFF_BYTES, Lake
    from tests.conftest import BEDROT

    lake = Lake(None)
    for name, src in SOURCES.items():
        for path in src.samples(tmp_path / name, 7):
            assert lake.identify(path.name, path.read_bytes()[:SNIFF_BYTES])[0] == name, path
    by_content = {"bandcamp", "soundcloud", "apple_music", "amazon_music", "deezer"}
    fixtures = [p for p in BEDROT.rglob("*") if p.is_file()] if BEDROT.is_dir() else []
    for path in fixtures + [p for p in tmp_path.rglob("*") if p.is_file()]:
        found = lake.identify("export.dat", path.read_bytes()[:SNIFF_BYTES])
        owner = path.parent.name if path.is_relative_to(tmp_path) else None
        assert found is None or found[0] not in by_content or found[0] == owner, (path, found)


def test_platforms_default_to_the_source_name():
    assert SOURCES["youtube"].platforms == ("youtube",)
    assert Source("demo", "Demo", (), (), lambda folder, seed: [], platforms=("a", "b")).platforms == ("a", "b")


def test_sources_command_lists_every_platform_its_datasets_and_acquisition():
    from tests.cli_helpers import run

    result = run("sources", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["platform"]: r for r in json.loads(result.stdout)}
    assert {"youtube", "instagram", "facebook", "x", "mailchimp", "tiktok"} <= set(rows)
    assert rows["instagram"]["datasets"] == ["business_suite", "content", "graph_insights"]
    assert "API" in rows["youtube"]["acquisition"] and "file drop" in rows["x"]["acquisition"]
    text = run("sources").stdout
    assert "mailchimp" in text and "datasets: campaign_list, campaign_report, reports_api" in text
