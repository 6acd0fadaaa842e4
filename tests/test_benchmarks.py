"""The benchmark harness runs end to end on tiny sizes. No timing assertions: only its shape."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package; `pytest` alone does not see it
    sys.path.insert(0, str(ROOT))

import benchmarks  # noqa: E402
from benchmarks import CLI_WORKLOADS, NA, WORKLOADS, Side, run_cli, run_worker, write_bank_details  # noqa: E402

IN_PROCESS = tuple(w for w in WORKLOADS if w not in CLI_WORKLOADS)


def _git_ok() -> bool:
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", "HEAD"],
                          capture_output=True, check=False)
    return proc.returncode == 0


def _bench(tmp_path, *args: str) -> dict:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--repeat", "1", "--baseline", "HEAD", "--json", "--output", str(out),
         *args],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    printed = json.loads(proc.stdout)
    assert printed == json.loads(out.read_text())
    return printed


@pytest.mark.skipif(not _git_ok(), reason="the benchmarks compare git revisions; this is not a git checkout")
def test_harness_reports_ratios_for_every_workload(tmp_path):
    printed = _bench(tmp_path, "--rows", "500", "--kpi-rows", "20000", "--queries", "5", "--label-series", "10",
                     "--workloads", ",".join(IN_PROCESS))
    assert set(printed["workloads"]) == set(IN_PROCESS)
    for name, entry in printed["workloads"].items():
        if name in ("kpi_queries", "analytics_label") and entry["baseline"]["status"] == NA:  # a baseline before them
            assert entry["current"]["status"] == "ok", entry["current"].get("reason")
            assert entry["ratio"]["time"] is None
            continue
        for label in ("baseline", "current"):
            assert entry[label]["status"] == "ok", (name, label, entry[label].get("reason"))
        for metric in ("time", "peak_rss"):
            ratio = entry["ratio"][metric]
            assert isinstance(ratio, float) and math.isfinite(ratio) and ratio > 0, (name, metric, ratio)
    assert isinstance(printed["workloads"]["query_royalties_by_store"]["ratio"]["p95"], float)
    kpi = printed["workloads"]["kpi_queries"]["current"]
    assert len(kpi["kpis"]) >= 24 and all(v["p95_ms"] > 0 for v in kpi["kpis"].values())
    label = printed["workloads"]["analytics_label"]["current"]
    assert label["series"] == 10 and set(label["models"]) == {"naive", "seasonal_naive", "ses"}
    assert label["per_series_s"] > 0 and label["forecast_per_series_per_model_s"] > 0
    assert label["viral_s"] > 0 and label["anomalies_s"] > 0
    ingest = printed["workloads"]["ingest_bank_details"]["current"]["samples"][0]
    assert ingest["rows"] == 500
    # git worktree add/remove left nothing behind
    worktrees = subprocess.run(["git", "-C", str(ROOT), "worktree", "list", "--porcelain"],
                               capture_output=True, text=True, check=True).stdout
    assert "soundlake-bench-" not in worktrees


@pytest.mark.skipif(not _git_ok(), reason="the benchmarks compare git revisions; this is not a git checkout")
def test_cli_workloads_time_the_whole_process_and_a_missing_fixtures_folder_is_not_applicable(tmp_path):
    printed = _bench(tmp_path, "--workloads", "cli_help,cli_ingest_fixtures", "--fixtures", str(tmp_path / "absent"))
    assert list(printed["workloads"]) == ["cli_help", "cli_ingest_fixtures"]
    help_ = printed["workloads"]["cli_help"]
    for label in ("baseline", "current"):
        assert help_[label]["status"] == "ok", help_[label].get("reason")
        assert help_[label]["exit_codes"] == [0]
        assert help_[label]["time_ms"] == help_[label]["wall_s"] * 1000
    assert all(isinstance(r, float) and r > 0 for r in help_["ratio"].values())
    fixtures = printed["workloads"]["cli_ingest_fixtures"]
    assert fixtures["baseline"]["status"] == fixtures["current"]["status"] == NA
    assert fixtures["ratio"]["time"] is None


def test_synthetic_bank_details_has_the_export_format(tmp_path):
    path = write_bank_details(tmp_path / "dk_bank_details.tsv", 50)
    data = path.read_bytes()
    assert b"\n" not in data and data.count(b"\r") == 50
    lines = data.decode().split("\r")
    assert lines[0].split("\t") == list(benchmarks.BANK_HEADER)
    assert all(len(line.split("\t")) == 13 for line in lines)
    assert write_bank_details(tmp_path / "again.tsv", 50).read_bytes() == data


def test_a_baseline_without_the_code_is_not_applicable(tmp_path):
    empty = tmp_path / "empty-revision"
    empty.mkdir()
    data = write_bank_details(tmp_path / "dk_bank_details.tsv", 10)
    result = run_worker(Side("baseline", empty, "empty"), "ingest_bank_details", tmp_path / "home", data, 1, tmp_path)
    assert result["status"] == NA, result
    cli = run_cli(Side("baseline", empty, "empty"), "cli_help", tmp_path / "home", ["--help"], tmp_path)
    assert cli["status"] == NA and "pipelines/cli.py" in cli["reason"], cli
    runs = {"baseline": {w: [result] for w in WORKLOADS},
            "current": {w: [{"status": "ok", "seconds": 1.0, "p50_ms": 1.0, "p95_ms": 2.0, "wall_s": 2.0,
                             "cpu_s": 1.5, "peak_rss_mib": 100.0, "exit_code": 0}] for w in WORKLOADS}}
    summary = benchmarks.summarise(runs)
    assert all(e["ratio"]["time"] is None and e["baseline"]["status"] == NA for e in summary.values())
    table = benchmarks.render_table({"meta": {"baseline": {"rev": "X", "commit": "0" * 40},
                                              "current": {"describe": "working tree"}, "rows": 10, "repeat": 1},
                                     "workloads": summary})
    assert "n/a" in table
