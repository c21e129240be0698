"""A pure-Python walk of a folder tree, and glob patterns turned into regexes.

``ls`` always uses the walk; ``glob`` and ``grep`` use it when ``rg`` is
missing. The walk is breadth-first (a cut-off keeps the shallow entries),
sorted by name, never follows symlinks (they cannot lead out of the
workspace), and leaves out what ``IgnoreRules`` skips.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from ._ignore import IgnoreRules, translate_glob


@attrs.frozen
class Entry:
    """One walked path; ``depth`` is 1 for the start folder's own entries.

    ``is_dir`` and ``is_file`` describe the entry itself (links not followed):
    a symlink, pipe or device is neither a folder nor a regular file.
    """

    path: Path
    is_dir: bool
    depth: int
    is_file: bool = False


def _never() -> bool:
    return False


def walk(
    start: Path,
    rules: IgnoreRules,
    *,
    max_depth: int = 0,
    should_stop: Callable[[], bool] = _never,
) -> Iterator[Entry]:
    """Yield the entries below ``start``, level by level, sorted by name.

    Blocking: run it in a worker thread. Unreadable folders are skipped.

    Args:
        start: the folder to walk (inside the root ``rules`` was built for).
        rules: what to leave out.
        max_depth: levels to descend (1 = ``start``'s entries only); 0 = all.
        should_stop: polled before each entry; True ends the walk (a timeout).
    """
    queue = deque([(start, 1)])
    while queue:
        folder, depth = queue.popleft()
        for entry in _scan(folder):
            if should_stop():
                return
            is_dir = entry.is_dir(follow_symlinks=False)
            path = Path(entry.path)
            if rules.skipped(path, is_dir=is_dir):
                continue
            yield Entry(path, is_dir, depth, is_file=_is_file(entry))
            if is_dir and (max_depth <= 0 or depth < max_depth):
                queue.append((path, depth + 1))


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return []


def glob_regex(pattern: str, *, anchored: bool) -> re.Pattern[str]:
    """Compile a glob (``*``, ``?``, ``[...]``, ``**``, ``{a,b}``) to a regex.

    Args:
        pattern: the glob, with forward slashes.
        anchored: True to match whole paths relative to the search folder
            (the ``glob`` tool); False to let a pattern without ``/`` match
            a name at any depth (``grep``'s ``include``, as ``rg --glob``).

    Raises:
        re.error: the pattern cannot be compiled.
    """
    pattern = pattern.removeprefix("./")
    if not anchored and "/" not in pattern:
        pattern = "**/" + pattern
    alternatives = [translate_glob(p.lstrip("/")) for p in expand_braces(pattern)]
    return re.compile("^(?:" + "|".join(alternatives) + ")$", re.DOTALL)


def expand_braces(pattern: str) -> list[str]:
    """Expand the first ``{a,b}`` group of ``pattern``, recursively."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [
        expanded
        for choice in match.group(1).split(",")
        for expanded in expand_braces(head + choice + tail)
    ]
