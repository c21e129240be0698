"""The project boundary, walked only through folders the user controls.

A workspace's project runs from its git worktree root (the nearest folder
holding a ``.git`` entry) down to the workspace folder. The walk up stops at
the first folder that is not trusted (``_ownership``): a ``.git`` another user
planted in ``/tmp`` above ``/tmp/myproj`` never makes ``/tmp`` the root, and
none of the files in such a folder are read as the project's.

Source: Crush's project boundary for config files and project skills
(upstream walks to the root unconditionally; crushd departs on purpose).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ._ownership import check_trusted, first_untrusted_ancestor, trusted_ancestors

__all__ = [
    "DATA_DIR_NAME",
    "PROJECT_CONFIG_NAMES",
    "PROJECT_SKILL_DIRS",
    "find_worktree_root",
    "project_boundary",
    "project_dirs",
]

log = logging.getLogger("crushd.trust")

#: Config layer files in each project folder, lowest priority first.
PROJECT_CONFIG_NAMES = ("crush.json", ".crush.json", "crushrc", ".crushrc")
#: Skills folders inside a project folder, highest precedence first.
PROJECT_SKILL_DIRS = (
    ".agents/skills",
    ".crush/skills",
    ".claude/skills",
    ".cursor/skills",
)
#: The data directory a project folder may hold.
DATA_DIR_NAME = ".crush"


def find_worktree_root(path: Path) -> Path | None:
    """Return the nearest trusted folder at or above ``path`` with a trusted ``.git``.

    A ``.git`` directory (a repository) and a ``.git`` file (a linked worktree
    or submodule) both count. The walk stops at the first untrusted folder; a
    ``.git`` that is itself untrusted is skipped with a warning. Blocking.

    Returns:
        The worktree root, or ``None`` when ``path`` is not inside one (or
        ``path`` itself is untrusted).
    """
    for folder in trusted_ancestors(path):
        if _is_trusted_git(folder / ".git"):
            return folder
    _warn_stopped_walk(path)
    return None


def project_boundary(path: Path) -> Path:
    """Return the trusted git worktree root above ``path``, else ``path`` itself."""
    return find_worktree_root(path) or path


def project_dirs(path: Path) -> list[Path]:
    """Return the trusted folders from the project boundary down to ``path``.

    Returns:
        Root first, ``path`` last; ``[path]`` outside a worktree; ``[]`` when
        ``path`` itself is not trusted.
    """
    trusted = list(trusted_ancestors(path))
    root = find_worktree_root(path)
    if root is None:
        return trusted[:1]
    return trusted[: trusted.index(root) + 1][::-1]


def _is_trusted_git(git: Path) -> bool:
    if not git.exists():
        return False
    reason = check_trusted(git)
    if reason is not None:
        log.warning("skipping untrusted %s: %s", git, reason)
    return reason is None


def _warn_stopped_walk(path: Path) -> None:
    # Only worth a line when the folder that ended the walk would have been
    # the worktree root (the /tmp/.git above /tmp/myproj case).
    stop = first_untrusted_ancestor(path)
    if stop is not None and os.path.lexists(stop[0] / ".git"):
        git, reason = stop[0] / ".git", stop[1]
        log.warning("skipping untrusted %s: its folder is %s", git, reason)
