"""Running the `soundlake` CLI in tests as a user would, in-process with click's runner."""

import json

from click.testing import CliRunner

from pipelines.cli import main


def run(*args):
    """`soundlake ARGS...` (paths may be Path objects); exceptions other than click's propagate."""
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def query(sql: str) -> list[dict]:
    """`soundlake query SQL --format json`, which must succeed, as a list of rows."""
    result = run("query", sql, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
