"""A folder of mutated exports (one per dataset of every source, made by the mutations of
tests/sources/test_properties.py) through `soundlake ingest`: nothing raises out of the run, each
file that cannot be read is quarantined with a reason naming it. One example by default (an ingest
takes tens of seconds); ``HYPOTHESIS_PROFILE=explore`` runs more."""

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.sources import SOURCES
from tests.cli_helpers import run
from tests.sources.test_properties import PROFILE, mutated_file


def _batch(data, folder: Path) -> dict[str, str]:
    """One mutated file of every dataset, plus one that is certainly broken (a truncated Graph API
    response), written to ``folder``: {file name: how it was made}."""
    made = {}
    for i, (source, dataset) in enumerate((s.name, d.name) for s in SOURCES.values() for d in s.datasets):
        name, payload = data.draw(mutated_file(source, dataset), label=f"{source}/{dataset}")
        target = f"{i:02d}-{name}" if not name.lower().endswith(".zip") else name  # keep zip names as platforms write them
        (folder / target).write_bytes(payload)
        made[target] = f"{source}/{dataset}"
    broken = "insights_20260101_000000.json"
    (folder / broken).write_bytes(b'{"data": [{"campaign_id": "1", "spend": "12.5", "date_start": "2026-0')
    made[broken] = "meta_ads/insights (truncated)"
    return made


@settings(max_examples=1 if PROFILE == "bounded" else 10, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_files_in_an_ingest_are_quarantined_with_a_reason(data, tmp_path_factory):
    """`soundlake ingest` of a folder of mutated files (one per dataset): the run does not fail
    (exit 0 or 3, never 1), every file gets a status, each quarantined one a reason naming it, the
    certainly broken one is quarantined, and the lake still answers `status` and `query`."""
    home = tmp_path_factory.mktemp("home")
    folder = tmp_path_factory.mktemp("exports")
    made = _batch(data, folder)
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("SOUNDLAKE_")]:
            mp.delenv(name)
        mp.setenv("SOUNDLAKE_HOME", str(home))
        result = run("ingest", folder, "--json")
        assert result.exit_code in (0, 3), result.output
        results = json.loads(result.stdout)
        assert {Path(r["path"].split("!")[0]).name for r in results} == set(made), results
        for r in results:
            assert r["status"] in ("loaded", "duplicate", "unused", "quarantined"), r
            if r["status"] in ("quarantined", "unused"):
                shown = Path(r["path"].split("!")[0]).name
                assert r["reason"] and (shown in r["reason"] or Path(r["path"]).name in r["reason"]), r
        [broken] = [r for r in results if r["path"].endswith("insights_20260101_000000.json")]
        assert broken["status"] == "quarantined" and "insights_20260101_000000.json" in broken["reason"]
        status = run("status", "--json")
        assert status.exit_code == 0, status.output
        assert sum(s["quarantined"] for s in json.loads(status.stdout)) == \
            sum(r["status"] == "quarantined" for r in results)
        assert run("query", "SELECT count(*) FROM lake_files").exit_code == 0
