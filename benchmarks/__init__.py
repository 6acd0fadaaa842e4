"""Speed and memory of the working tree against a baseline git revision, run side by side.

``python -m benchmarks`` (``make bench``) checks the baseline out into a temporary git worktree,
then runs every workload alternately on the baseline and on the working tree, each in a fresh
Python process of the same interpreter with ``PYTHONPATH`` (and the working directory) at the code
under test and ``SOUNDLAKE_HOME`` in a temporary folder. It reports ratios current/baseline,
never absolute thresholds: the numbers of one machine say little, the ratio on the same machine
in the same minutes says whether a change made things faster or slower.

Workloads:

* ``ingest_bank_details``: a synthetic DistroKid bank-details TSV of ``--rows`` lines through
  ``pipelines.app.ingest(Platform.from_env(), [path])`` (landing → raw → staging → curated →
  warehouse views);
* ``rebuild_curated``: ``platform.lake.build_curated()`` again on that lake (nothing changed);
* ``query_royalties_by_store``: ``SELECT store, sum(earnings_usd) FROM fct_royalties GROUP BY
  store`` ``--queries`` times on one warehouse connection; p50 and p95 in ms.

Times are measured in the worker around the workload's call only (not the interpreter start or
the imports); peak RSS is the worker process's ``ru_maxrss`` as the parent gets it from
``os.wait4``, so it includes the imports.

This file is also the worker: the harness runs it as a script (``python benchmarks/__init__.py
--worker ...``), so the worker imports only the code under test and the standard library at
start-up. Keep the module's top-level imports to the standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve()
RESULTS = ROOT / ".bench" / "last.json"

WORKLOADS = ("ingest_bank_details", "rebuild_curated", "query_royalties_by_store")
QUERY = "SELECT store, sum(earnings_usd) FROM fct_royalties GROUP BY store"

BANK_HEADER = (
    "Reporting Date", "Sale Month", "Store", "Artist", "Title", "ISRC", "UPC", "Quantity", "Team Percentage",
    "Song/Album", "Country of Sale", "Songwriter Royalties Withheld", "Earnings (USD)",
)

NA = "n/a"  # the baseline cannot run the workload (something it needs is missing, or it failed)
ERROR = "error"  # the working tree failed the workload


# --- the synthetic input --------------------------------------------------------------------------

_STORES = (
    ("Spotify", 0.0036, 60), ("Apple Music", 0.0068, 10), ("YouTube (Red)", 0.0069, 5), ("YouTube (Ads)", 0.0015, 6),
    ("YouTube Music", 0.0020, 3), ("Amazon Unlimited (Streaming)", 0.0081, 3), ("Amazon Prime (Streaming)", 0.0040, 2),
    ("Deezer", 0.0028, 2), ("Tidal", 0.0098, 1), ("TikTok", 0.0011, 4), ("Facebook", 0.0001, 1),
    ("Instagram", 0.0001, 1), ("iTunes Songs", 0.70, 1), ("Pandora", 0.0013, 1), ("SoundCloud", 0.0025, 1),
)
_COUNTRIES = ("US", "US", "US", "GB", "DE", "CA", "MX", "BR", "FR", "AU", "SE", "NL", "JP", "IN", "ES", "IT", "OU")


def write_bank_details(path: Path, rows: int, seed: int = 20240901) -> Path:
    """A DistroKid bank-details export of ``rows`` lines: tab separated, CR-only line endings, the
    13-column header. The same ``rows`` and ``seed`` always give the same bytes."""
    rng = random.Random(seed)
    artists = [f"Artist {i:03d}" for i in range(40)]
    tracks = [(rng.choice(artists), f"Track {i:05d}", f"QZBEN{24 + i % 2}{i:05d}", f"19800{i // 8:07d}")
              for i in range(max(1, min(4000, rows // 20 or 1)))]
    stores = [s for s in _STORES for _ in range(s[2])]
    months = [date(2023 + m // 12, m % 12 + 1, 1) for m in range(24)]
    lines = ["\t".join(BANK_HEADER)]
    for _ in range(rows):
        artist, title, isrc, upc = rng.choice(tracks)
        store, rate, _weight = rng.choice(stores)
        sale = rng.choice(months)
        reported = date(sale.year + (sale.month + 1) // 12, (sale.month + 1) % 12 + 1, rng.randint(1, 28))
        qty = max(1, int(rng.expovariate(1 / 40)))
        album = rng.random() < 0.03
        lines.append("\t".join((
            reported.isoformat(), sale.strftime("%Y-%m"), store, artist, title, "" if album else isrc, upc, str(qty),
            "100", "Album" if album else "Song", rng.choice(_COUNTRIES), "0", f"{qty * rate:.8f}",
        )))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\r".join(lines).encode("utf-8"))
    return path


# --- the worker (runs in the child, imports the code under test) ----------------------------------


class Unavailable(Exception):
    """The code under test lacks something the workload needs."""


def _need(module: str, *names: str):
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"cannot import {module} ({exc})") from None
    missing = [n for n in names if not hasattr(mod, n)]
    if missing:
        raise Unavailable(f"{module} has no {', '.join(missing)}")
    return [getattr(mod, n) for n in names]


def _check_code_root(code_root: Path) -> None:
    """The code under test really is the one at ``code_root`` (not the editable install's)."""
    for name in ("assets", "pipelines", "resources"):
        try:
            mod = __import__(name)
        except ImportError:
            continue
        where = Path(getattr(mod, "__file__", None) or next(iter(getattr(mod, "__path__", [""])))).resolve()
        if not where.is_relative_to(code_root):
            raise Unavailable(f"the code under test has no {name} package (it came from {where})")


def _work(workload: str, data: Path | None, queries: int) -> dict:
    Platform, ingest = _need("pipelines.app", "Platform", "ingest")
    if not hasattr(Platform, "from_env"):
        raise Unavailable("pipelines.app.Platform has no from_env")
    platform = Platform.from_env()
    if workload == "ingest_bank_details":
        t0 = time.perf_counter()
        results = ingest(platform, [data])
        seconds = time.perf_counter() - t0
        states = [(getattr(r, "status", None), getattr(r, "rows", None), getattr(r, "reason", None)) for r in results]
        if not any(s == "loaded" for s, _, _ in states):
            raise RuntimeError(f"the bank-details file was not loaded: {states}")
        return {"seconds": seconds, "rows": sum(int(n or 0) for s, n, _ in states if s == "loaded")}
    if workload == "rebuild_curated":
        if not hasattr(platform.lake, "build_curated"):
            raise Unavailable("the lake has no build_curated")
        t0 = time.perf_counter()
        results = platform.lake.build_curated()
        seconds = time.perf_counter() - t0
        written = sum(int(getattr(r, "partitions_written", 0) or 0) for r in (results or {}).values())
        return {"seconds": seconds, "partitions_written": written}
    if workload == "query_royalties_by_store":
        warehouse = getattr(platform, "warehouse", None)
        if warehouse is None or not hasattr(warehouse, "connect"):
            raise Unavailable("the platform has no warehouse.connect")
        con = warehouse.connect(read_only=True)
        try:
            laps, result = [], []
            for _ in range(queries):
                t0 = time.perf_counter()
                result = con.execute(QUERY).fetchall()
                laps.append((time.perf_counter() - t0) * 1000)
        finally:
            con.close()
        if not result:
            raise RuntimeError("the query returned no rows (fct_royalties is empty)")
        return {"seconds": sum(laps) / 1000, "p50_ms": _percentile(laps, 50), "p95_ms": _percentile(laps, 95),
                "groups": len(result)}
    raise ValueError(f"unknown workload {workload!r}")


def worker_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--worker", required=True, choices=WORKLOADS)
    p.add_argument("--code-root", required=True, type=Path)
    p.add_argument("--data", type=Path)
    p.add_argument("--queries", type=int, default=50)
    p.add_argument("--result", required=True, type=Path)
    args = p.parse_args(argv)
    try:
        _check_code_root(args.code_root.resolve())
        out = {"status": "ok", **_work(args.worker, args.data, args.queries)}
    except Unavailable as exc:
        out = {"status": NA, "reason": str(exc)}
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides
        out = {"status": ERROR, "reason": f"{type(exc).__name__}: {exc}"}
    args.result.write_text(json.dumps(out))
    return 0


# --- the parent ---------------------------------------------------------------------------------


def _percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _git(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=check)


def default_baseline() -> str:
    return "HEAD~1" if _git("rev-parse", "--verify", "--quiet", "HEAD~1^{commit}", check=False).returncode == 0 else "HEAD"


def resolve(rev: str) -> str:
    proc = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmarks: {rev!r} is not a commit of this repository")
    return proc.stdout.strip()


class Side:
    def __init__(self, label: str, code_root: Path, describe: str):
        self.label, self.code_root, self.describe = label, code_root, describe


def run_worker(side: Side, workload: str, home: Path, data: Path, queries: int, scratch: Path) -> dict:
    """One workload in a fresh process; its result plus the parent's wall time and peak RSS."""
    result = scratch / f"{side.label}-{workload}-{time.monotonic_ns()}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUNDLAKE_")}
    env.update(SOUNDLAKE_HOME=str(home), PYTHONPATH=str(side.code_root), GX_ANALYTICS_ENABLED="false",
               PYTHONHASHSEED="0")
    cmd = [sys.executable, str(WORKER), "--worker", workload, "--code-root", str(side.code_root),
           "--data", str(data), "--queries", str(queries), "--result", str(result)]
    log = scratch / f"{side.label}-{workload}.log"
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=side.code_root, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    peak_mib = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    if proc.returncode != 0 or not result.exists():
        tail = log.read_text(errors="replace")[-1500:]
        return {"status": ERROR, "reason": f"the worker exited with status {proc.returncode}: {tail}",
                "wall_s": wall, "peak_rss_mib": peak_mib}
    out = json.loads(result.read_text())
    out.update(wall_s=wall, peak_rss_mib=peak_mib)
    return out


def _metric(workload: str, run: dict) -> float:
    """The time a workload is compared on: ms around the call; for the query, its p50."""
    return run["p50_ms"] if workload == "query_royalties_by_store" else run["seconds"] * 1000


def summarise(runs: dict[str, dict[str, list[dict]]]) -> dict[str, dict]:
    out = {}
    for workload in WORKLOADS:
        entry: dict = {}
        for label in ("baseline", "current"):
            mine = runs[label][workload]
            ok = [r for r in mine if r.get("status") == "ok"]
            if not mine or len(ok) < len(mine):
                bad = next((r for r in mine if r.get("status") != "ok"), {"reason": "not run"})
                entry[label] = {"status": NA if label == "baseline" else ERROR, "reason": bad.get("reason")}
                continue
            entry[label] = {
                "status": "ok",
                "runs": len(ok),
                "time_ms": statistics.median(_metric(workload, r) for r in ok),
                "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in ok),
                "wall_s": statistics.median(r["wall_s"] for r in ok),
                "samples": ok,
            }
            if workload == "query_royalties_by_store":
                entry[label]["p95_ms"] = statistics.median(r["p95_ms"] for r in ok)
        b, c = entry["baseline"], entry["current"]
        both = b["status"] == "ok" and c["status"] == "ok"
        ratio = {
            "time": c["time_ms"] / b["time_ms"] if both and b["time_ms"] > 0 else None,
            "peak_rss": c["peak_rss_mib"] / b["peak_rss_mib"] if both and b["peak_rss_mib"] > 0 else None,
        }
        if workload == "query_royalties_by_store":
            ratio["p95"] = c["p95_ms"] / b["p95_ms"] if both and b["p95_ms"] > 0 else None
        entry["ratio"] = ratio
        out[workload] = entry
    return out


def _fmt(value: float | None, unit: str = "") -> str:
    return NA if value is None else f"{value:,.1f}{unit}" if unit else f"{value:.2f}x"


def render_table(report: dict) -> str:
    header = ("workload", "baseline time", "current time", "time ratio", "baseline RSS", "current RSS", "RSS ratio")
    rows = []
    for workload, e in report["workloads"].items():
        b, c, r = e["baseline"], e["current"], e["ratio"]
        bt = b.get("time_ms") if b["status"] == "ok" else None
        ct = c.get("time_ms") if c["status"] == "ok" else None
        name = workload + (" (p50)" if workload == "query_royalties_by_store" else "")
        rows.append((name, _fmt(bt, " ms") if bt is not None else b["status"], _fmt(ct, " ms") if ct is not None
                     else c["status"], _fmt(r["time"]), _fmt(b.get("peak_rss_mib"), " MiB") if bt is not None
                     else b["status"], _fmt(c.get("peak_rss_mib"), " MiB") if ct is not None else c["status"],
                     _fmt(r["peak_rss"])))
        if workload == "query_royalties_by_store":
            rows.append(("  (p95)", _fmt(b.get("p95_ms"), " ms") if bt is not None else b["status"],
                         _fmt(c.get("p95_ms"), " ms") if ct is not None else c["status"], _fmt(r.get("p95")),
                         "", "", ""))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths)))
             for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    meta = report["meta"]
    head = [
        f"baseline: {meta['baseline']['rev']} ({meta['baseline']['commit'][:12]})",
        f"current:  {meta['current']['describe']}",
        (f"{meta['rows']:,} rows, {meta['repeat']} interleaved repeat(s), medians; "
         "ratio = current / baseline (below 1.00x: the working tree is faster / smaller)"),
        "",
    ]
    notes = []
    for workload, e in report["workloads"].items():
        for label in ("baseline", "current"):
            if e[label]["status"] != "ok":
                notes.append(f"{workload}: {label} {e[label]['status']}: {e[label].get('reason')}")
    return "\n".join(head + lines + ([""] + notes if notes else [])) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--baseline", metavar="REV", help="git revision to compare with (default: HEAD~1, else HEAD)")
    p.add_argument("--rows", type=int, default=200_000, help="lines of the synthetic bank-details TSV (200000)")
    p.add_argument("--repeat", type=int, default=3, help="runs of each side, interleaved (3)")
    p.add_argument("--queries", type=int, default=50, help="repeats of the query workload (50)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    p.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON report (.bench/last.json)")
    args = p.parse_args(argv)
    if args.rows < 1 or args.repeat < 1 or args.queries < 1:
        p.error("--rows, --repeat and --queries must be at least 1")

    rev = args.baseline or default_baseline()
    commit = resolve(rev)
    head = resolve("HEAD")
    dirty = bool(_git("status", "--porcelain", check=False).stdout.strip())
    current = Side("current", ROOT, f"working tree at {head[:12]}{' + uncommitted changes' if dirty else ''}")

    scratch = Path(tempfile.mkdtemp(prefix="soundlake-bench-"))
    tree = scratch / "baseline"
    try:
        _git("worktree", "add", "--detach", "--quiet", str(tree), commit)
        baseline = Side("baseline", tree, f"{rev} ({commit[:12]})")
        data = write_bank_details(scratch / "input" / "dk_bank_details_20250115_060000.tsv", args.rows)
        runs: dict[str, dict[str, list[dict]]] = {s: {w: [] for w in WORKLOADS} for s in ("baseline", "current")}
        for rep in range(args.repeat):
            order = (baseline, current) if rep % 2 == 0 else (current, baseline)
            for side in order:
                home = scratch / f"home-{side.label}-{rep}"
                prior_ok = True
                for workload in WORKLOADS:
                    if not prior_ok:
                        runs[side.label][workload].append(
                            {"status": NA, "reason": "needs the ingest_bank_details lake, which failed"})
                        continue
                    print(f"[{rep + 1}/{args.repeat}] {side.label:8} {workload}", file=sys.stderr, flush=True)
                    r = run_worker(side, workload, home, data, args.queries, scratch)
                    runs[side.label][workload].append(r)
                    prior_ok = r.get("status") == "ok"
                shutil.rmtree(home, ignore_errors=True)
    finally:
        _git("worktree", "remove", "--force", str(tree), check=False)
        _git("worktree", "prune", check=False)
        shutil.rmtree(scratch, ignore_errors=True)

    report = {
        "meta": {
            "baseline": {"rev": rev, "commit": commit},
            "current": {"commit": head, "dirty": dirty, "describe": current.describe},
            "rows": args.rows, "repeat": args.repeat, "queries": args.queries,
            "python": sys.version.split()[0], "platform": sys.platform,
            "time_metric": "ms around the call in the worker (query: p50 of the repeats); median over repeats",
            "rss_metric": "peak RSS of the worker process in MiB (os.wait4 ru_maxrss); median over repeats",
        },
        "workloads": summarise(runs),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2) if args.json else render_table(report), end="" if not args.json else "\n")
    failed = [w for w, e in report["workloads"].items() if e["current"]["status"] != "ok"]
    if failed:
        print(f"benchmarks: the working tree failed {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # the worker: ``python benchmarks/__init__.py --worker ...``
    sys.exit(worker_main(sys.argv[1:]))
