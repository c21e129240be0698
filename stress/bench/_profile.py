"""Summaries of the py-spy profiles ``--profile DIR`` records: time by package.

py-spy's raw format is one line per distinct stack, ``frame;frame;... count``,
root first, each frame ``function (path:line)``. Each sample is charged to the
package of its innermost frame ("self time"), with two kinds of samples told
apart because they are not work: trio's epoll wait (the daemon idle) and
trio's idle worker threads waiting for a job.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable
from pathlib import Path

_FILE = re.compile(r"\((?P<path>[^:()]+):\d+\)$")
#: Packages reported by name; anything else under site-packages is "other".
_PACKAGES = (
    "crushd",
    "hypercorn",
    "h11",
    "trio",
    "quart",
    "quart_trio",
    "werkzeug",
    "flask",
    "cattrs",
    "attr",
    "attrs",
    "outcome",
)
IDLE = "(idle: epoll wait)"
THREAD_IDLE = "(idle: worker thread waiting)"


def package_of(frame: str) -> str:
    """The package a py-spy frame's file belongs to (``stdlib`` for the rest)."""
    found = _FILE.search(frame)
    path = found.group("path") if found else frame
    parts = Path(path).parts
    for name in _PACKAGES:
        if name in parts[:-1] or parts[0] == name:
            return name
    if "site-packages" in parts:
        return "other"
    return "stdlib"


def _category(frames: list[str]) -> str:
    leaf = frames[-1]
    if "_epoll_wait" in leaf or "EpollIOManager.get_events" in leaf:
        return IDLE
    if "WorkerThread._work" in leaf:
        return THREAD_IDLE
    return package_of(leaf)


def self_time(lines: Iterable[str]) -> dict[str, int]:
    """Samples per package of the innermost frame, idle samples apart."""
    totals: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if stack and count.isdigit():
            totals[_category(stack.split(";"))] += int(count)
    return dict(totals)


def summary(path: Path) -> str:
    """A table of self time by package for one profile file, busiest first."""
    totals = self_time(path.read_text().splitlines())
    busy = sum(n for name, n in totals.items() if not name.startswith("(idle"))
    rows = [f"profile {path.name}: {busy} busy samples"]
    for name, count in sorted(totals.items(), key=lambda item: -item[1]):
        share = "" if name.startswith("(idle") else f"{count / max(busy, 1):6.1%}"
        rows.append(f"  {name:<32} {count:>8}  {share}")
    return "\n".join(rows)
