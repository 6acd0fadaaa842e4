"""The read commands (`query`, `kpis`, `status`): on a home without a lake they say so and exit 2,
making nothing; `query` stays readable for wide and long results; `--help` answers at once."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import run

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("args", [("query", "SELECT 1"), ("kpis",), ("status",), ("analytics",)])
def test_read_commands_on_a_home_without_a_lake(local_env, args):
    result = run(*args)
    assert result.exit_code == 2
    assert "no lake" in result.output and str(local_env) in result.output
    assert not local_env.exists(), "a reader makes no lake where there is none"


def test_query_on_a_lake_whose_warehouse_was_never_built(local_env, tmp_path):
    from assets.lakehouse import Lakehouse
    from tests.lake.test_landing import statement

    f = tmp_path / "dk_bank_details_x.tsv"
    f.write_bytes(statement())
    Lakehouse.from_env().lake.land_paths([f], batch="a-run-that-never-ran")
    result = run("query", "SELECT 1")
    assert result.exit_code == 2 and "no warehouse yet" in result.output and "soundlake repair" in result.output
    assert not (local_env / "warehouse.duckdb").exists()
    status = run("status")
    assert status.exit_code == 0 and "waiting" in status.output


def test_query_output_is_readable(at_bedrot):
    table = run("query", "SELECT store, earnings_usd, earnings_usd * 1e-6 AS tiny, repeat('x', 200) AS long_text "
                         "FROM fct_royalties ORDER BY earnings_usd DESC")
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert len(lines) < 120, "at most --limit rows in table format"
    assert "8,535 more rows not shown (8,635 in all)" in table.stderr
    assert "rounded" in table.stderr
    assert "x" * 200 not in table.stdout and "…" in table.stdout
    assert not any(len(cell.strip()) > 12 and cell.strip().replace(".", "").isdigit()
                   for line in lines for cell in line.split("│")), "floats are rounded"
    limited = run("query", "SELECT store FROM fct_royalties", "--limit", "5")
    assert "8,630 more rows" in limited.stderr
    full = run("query", "SELECT store, earnings_usd FROM fct_royalties", "--format", "csv")
    assert len(full.stdout.splitlines()) == 8636 and full.stderr == ""


def test_help_answers_without_loading_the_graph():
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "pipelines.cli", "--help"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "ingest" in out.stdout
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time")}
    assert not {"dagster", "pandas", "great_expectations"} & imported
