"""Named points where the fault tests kill a run (tests/faults/).

``SOUNDLAKE_KILL_AT=<point>[:<n>]`` makes the process SIGKILL itself the ``n``-th time (default
the first) it passes ``<point>``: ``landing``, ``raw``, ``staging``, ``curated``, ``warehouse``,
``analytics``. Unset (always, outside the tests) a checkpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_passed: dict[str, int] = {}


def checkpoint(point: str) -> None:
    wanted = os.environ.get("SOUNDLAKE_KILL_AT")
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != point:
        return
    _passed[point] = _passed.get(point, 0) + 1
    if _passed[point] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
