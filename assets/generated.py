"""The command line of a generated document: write it, or ``--check`` that it is current.

``docs/data-model.md`` (``python -m assets.docs``) and ``docs/kpis.md`` (``python -m assets.kpis``)
are both generated from the code; tests and CI run their ``--check``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]


def write_or_check(argv: list[str] | None, *, path: Path, render: Callable[[], str], prog: str,
                   description: str, made_from: str, command: str) -> int:
    """Write ``render()`` to ``path``; with ``--check`` only compare and exit 1 when it differs."""
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--check", action="store_true", help=f"exit 1 when {shown} differs from what {made_from} says")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            what = "is missing" if current is None else f"is out of date with {made_from}"
            print(f"{shown} {what}: run {command}", file=sys.stderr)
            return 1
        print(f"{shown} is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {shown}")
    return 0
