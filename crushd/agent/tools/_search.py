"""What ``glob`` and ``grep`` share: timeouts, the search folder, ``rg`` flags.

Both tools use ``rg`` when it is there and a pure-Python walk when it is not,
and both stop after a configured time (``tools.glob.timeout`` and
``tools.grep.timeout``, nanoseconds as upstream writes them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ._ignore import IGNORE_FILES, IgnoreRules
from ._input import InputError
from ._paths import resolve_path, tree_root

NANOSECONDS_PER_SECOND = 1_000_000_000
#: The most results ``glob`` lists and matches ``grep`` shows.
MAX_SEARCH_RESULTS = 100
#: The note closing a cut list of results (upstream's text).
TRUNCATED_NOTE = (
    "\n\n(Results are truncated. Consider using a more specific path or pattern.)"
)


def timeout_seconds(configured_ns: int, default_seconds: float) -> float:
    """Return a tool's time limit in seconds: the configured one, else the default.

    Args:
        configured_ns: the configured value in nanoseconds; 0 or less = unset.
        default_seconds: the limit when unset, seconds.
    """
    if configured_ns > 0:
        return configured_ns / NANOSECONDS_PER_SECOND
    return default_seconds


def search_folder(
    root: Path, given: object, *, allow_file: bool = False
) -> tuple[Path, Path]:
    """Resolve a ``path`` parameter to an existing folder (permission asked before).

    Blocking: call it from a worker thread.

    Args:
        root: the workspace folder.
        given: the parameter (``None`` or ``""`` for ``root``).
        allow_file: accept a file too (``grep`` searches one file).

    Returns:
        ``(rules_root, folder)``, both with symlinks resolved; ``rules_root``
        is ``root``, or ``folder`` itself when outside it (``tree_root``).

    Raises:
        InputError: the folder is missing or not a folder.
    """
    folder, _ = resolve_path(root, str(given or ""), key="path")
    if not (folder.is_dir() or (allow_file and folder.is_file())):
        what = "is not a directory" if folder.exists() else "does not exist"
        raise InputError(f"path {what}: {folder}")
    return tree_root(root, folder), folder


def rg_ignore_args(root: Path) -> list[str]:
    """Return the ``rg`` flags that make it skip what the Python walk skips.

    ``.gitignore`` files count even outside a git repository, and the
    workspace's ``.crushignore`` is read too.
    """
    args = ["--no-require-git"]
    for name in IGNORE_FILES[1:]:
        if (root / name).is_file():
            args += ["--ignore-file", str(root / name)]
    return args


def kept(root: Path, paths: Iterable[Path]) -> list[Path]:
    """Return ``paths`` without those the ignore rules of ``root`` exclude.

    Blocking (reads ignore files): call it from a worker thread. Applied to
    what ``rg`` found, since its ``--glob`` overrides ignore files.
    """
    rules = IgnoreRules(root)
    return [path for path in paths if not rules.excluded(path)]


def newest_first(paths: Iterable[Path]) -> list[tuple[Path, float]]:
    """Return ``(path, mtime)`` pairs, most recently modified first.

    Blocking (stats each path): call it from a worker thread. Paths that
    cannot be stat'ed are dropped; ties keep their given order.
    """
    stamped = []
    for path in paths:
        try:
            stamped.append((path, os.stat(path).st_mtime))
        except OSError:
            continue
    stamped.sort(key=lambda pair: -pair[1])
    return stamped
