"""Filesystem facts shared by the config and skills leaves (git worktree root)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["find_worktree_root"]


def find_worktree_root(path: Path) -> Path | None:
    """Return the nearest folder at or above ``path`` holding a ``.git`` entry.

    A ``.git`` directory (a repository) and a ``.git`` file (a linked worktree
    or submodule) both count. Blocking (stats each level).

    Args:
        path: an absolute folder, usually a workspace's canonical path.

    Returns:
        The worktree root, or ``None`` when ``path`` is not inside one.

    Source: Crush's project boundary for config files and project skills
    (PROTOCOL.md 7.1).
    """
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None
