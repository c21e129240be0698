"""A survey of what crushd skips for a workspace because another uid controls it.

The daemon logs each skipped file when it loads a workspace; this module
answers the same question on demand, without logging, so ``crushctl doctor``
can show the user why a ``.git``, a config file, a ``.crush`` folder or a
project skills folder in or above their project is ignored (or refused).
It follows the same walk as ``_project``: the trusted folders from the
workspace up to its git worktree root, stopping at the first untrusted one.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from ._ownership import check_trusted, first_untrusted_ancestor, untrusted_below
from ._project import DATA_DIR_NAME, PROJECT_CONFIG_NAMES, PROJECT_SKILL_DIRS

__all__ = ["Skipped", "skipped_entries"]

# Entries that make a folder part of a project when the walk reaches it.
_PROJECT_ENTRIES = (
    ".git",
    *PROJECT_CONFIG_NAMES,
    DATA_DIR_NAME,
    *(sub.split("/")[0] for sub in PROJECT_SKILL_DIRS),
)


@attrs.frozen
class Skipped:
    """One file or folder crushd does not use because it is not trusted.

    Attributes:
        path: the absolute path skipped (a file, or a folder with all it holds).
        reason: why, e.g. ``"owned by uid 1001"`` or ``"writable by group or
            others"``.
    """

    path: Path
    reason: str


def skipped_entries(path: Path) -> list[Skipped]:
    """Return everything in or above ``path`` crushd skips or refuses for it.

    Covered, nearest the root first: the untrusted folder that ended the
    project walk when it holds a ``.git``, config files, a ``.crush`` or
    skills folders (none of them are used); an untrusted ``.git`` met on the
    walk; then per project folder its untrusted config layer files
    (``crush.json``, ``.crush.json``, ``crushrc``, ``.crushrc``) and
    ``.crush``, and the untrusted project skills folders of the workspace and
    its worktree root. Nothing is logged. Blocking (a few ``stat`` calls per
    folder).

    Args:
        path: the workspace folder (absolute).

    Returns:
        The skipped entries; ``[]`` when everything crushd would read is
        trusted.

    Source: crushd's ownership rule (see docs/operations.md, Security model).
    """
    gits, root, walked = _walk(path)
    found = _stopped_walk(path) if root is None else []
    found += gits
    folders = walked[: walked.index(root) + 1] if root is not None else walked[:1]
    for folder in reversed(folders):
        found += _config_entries(folder)
    for skills_folder in [*([root] if root is not None else []), *walked[:1]]:
        found += _skills_entries(skills_folder)
    return list(dict.fromkeys(found))


def _walk(path: Path) -> tuple[list[Skipped], Path | None, list[Path]]:
    # The trusted folders from path up, the root found, the .git skipped.
    gits: list[Skipped] = []
    walked: list[Path] = []
    for folder in (path, *path.parents):
        if check_trusted(folder) is not None:
            break
        walked.append(folder)
        git = folder / ".git"
        if not git.exists():
            continue
        reason = check_trusted(git)
        if reason is None:
            return gits, folder, walked
        gits.insert(0, Skipped(git, reason))
    return gits, None, walked


def _stopped_walk(path: Path) -> list[Skipped]:
    stop = first_untrusted_ancestor(path)
    if stop is None:
        return []
    folder, reason = stop
    if not any(os.path.lexists(folder / name) for name in _PROJECT_ENTRIES):
        return []
    return [Skipped(folder, f"{reason}, so the project walk stops there")]


def _config_entries(folder: Path) -> list[Skipped]:
    found = []
    for name in (*PROJECT_CONFIG_NAMES, DATA_DIR_NAME):
        reason = check_trusted(folder / name)
        if reason is not None:
            found.append(Skipped(folder / name, reason))
    return found


def _skills_entries(folder: Path) -> list[Skipped]:
    found = (untrusted_below(folder, sub) for sub in PROJECT_SKILL_DIRS)
    return [Skipped(*bad) for bad in found if bad is not None]
