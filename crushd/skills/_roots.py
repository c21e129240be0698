"""Where skills are looked for: the skills folders of one workspace, by precedence.

Precedence (highest first; the first folder holding a valid skill of a given
name wins, later ones with that name are shadowed):

1. project folders under the workspace path: ``.agents/skills``,
   ``.crush/skills``, ``.claude/skills``, ``.cursor/skills``;
2. the same four under the git worktree root, when it is above the path;
3. the caller's extra folders (config ``options.skills_paths``), in order;
4. the global folders: ``$CRUSH_SKILLS_DIR`` alone when set, else
   ``<config home>/crush/skills``, ``<config home>/agents/skills``,
   ``~/.agents/skills``, ``~/.claude/skills`` (``<config home>`` is
   ``$XDG_CONFIG_HOME``, else ``~/.config``).

Nearer beats farther, as a user expects: a project can override a skill the
user installed globally. A folder reached twice (a symlink, or a worktree root
equal to the path) is scanned once, at its highest place.

A skills folder another uid controls (it, or a folder between the project
folder and it, fails ``crushd.trust``'s ownership rule) is left out with a
warning: a skill is instructions to the agent, so it must be the user's own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from crushd.trust import (
    PROJECT_SKILL_DIRS,
    check_trusted,
    find_worktree_root,
    untrusted_below,
)

__all__ = [
    "PROJECT_SKILL_DIRS",
    "SKILLS_DIR_ENV",
    "SOURCE_PROJECT",
    "SOURCE_SYSTEM",
    "SOURCE_USER",
    "SkillRoot",
    "SkillsEnvironment",
    "global_skill_dirs",
    "skill_roots",
]

log = logging.getLogger("crushd.skills")

#: ``source`` of a skill found in a global or an extra folder.
SOURCE_USER = "user"
#: ``source`` of a skill found in a project folder.
SOURCE_PROJECT = "project"
#: ``source`` of a built-in skill (crushd ships none; kept for the wire).
SOURCE_SYSTEM = "system"

#: Set to one folder, it replaces every global skills folder.
SKILLS_DIR_ENV = "CRUSH_SKILLS_DIR"


@attrs.frozen
class SkillsEnvironment:
    """The user's home and environment that global skill folders come from.

    Injected so tests (and a daemon serving another user's view) never depend
    on the real home directory.

    Attributes:
        home: the home directory (``~``).
        environ: environment variables (``CRUSH_SKILLS_DIR``,
            ``XDG_CONFIG_HOME``).
    """

    home: Path
    environ: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def from_process(cls) -> SkillsEnvironment:
        """Return this process's home (``$HOME``) and a copy of its environment."""
        return cls(home=Path.home(), environ=dict(os.environ))

    def expand(self, path: str) -> Path:
        """Return ``path`` with a leading ``~`` replaced by ``home``."""
        if path == "~" or path.startswith("~/"):
            return self.home / path[2:]
        return Path(path)


@attrs.frozen
class SkillRoot:
    """One folder whose ``<name>/SKILL.md`` children are skills.

    Attributes:
        path: the folder (absolute).
        source: ``user`` or ``project``, given to every skill found in it.
    """

    path: Path
    source: str


def global_skill_dirs(env: SkillsEnvironment) -> list[Path]:
    """Return the global skills folders, highest precedence first.

    ``$CRUSH_SKILLS_DIR`` (``~`` expanded), when set and not empty, is the only
    one. Otherwise ``<config home>/crush/skills``, ``<config home>/agents/skills``,
    ``~/.agents/skills``, ``~/.claude/skills``, where ``<config home>`` is an
    absolute ``$XDG_CONFIG_HOME``, else ``~/.config``.

    Source: Crush ``config.GlobalSkillsDirs``; docs/protocol.md 7.1, 8.5.
    """
    override = env.environ.get(SKILLS_DIR_ENV, "")
    if override:
        return [Path(os.path.abspath(env.expand(override)))]
    xdg = env.environ.get("XDG_CONFIG_HOME", "")
    config_home = Path(xdg) if os.path.isabs(xdg) else env.home / ".config"
    return [
        config_home / "crush" / "skills",
        config_home / "agents" / "skills",
        env.home / ".agents" / "skills",
        env.home / ".claude" / "skills",
    ]


def skill_roots(
    workspace_path: Path,
    *,
    extra_paths: Sequence[str] = (),
    env: SkillsEnvironment,
) -> list[SkillRoot]:
    """Return every skills folder of a workspace, highest precedence first.

    See the module docstring for the order. Relative ``extra_paths`` resolve
    against ``workspace_path``; an extra folder inside the workspace counts as
    ``project``. Folders that do not exist are kept (scanning skips them), so
    the list does not change when one is created; untrusted ones are left out
    with a warning (the project folders of an untrusted ``workspace_path``
    too). Blocking (looks for ``.git``, checks owners).

    Args:
        workspace_path: the workspace's canonical (absolute) path.
        extra_paths: config ``options.skills_paths``, ``~`` allowed.
        env: the home and environment for the global folders.

    Returns:
        The folders, each once.

    Source: Crush ``config`` skills paths and project skill dirs; issue 3.
    """
    roots = _project_roots(workspace_path) if _trusted(workspace_path) else []
    worktree = find_worktree_root(workspace_path)
    if worktree is not None and worktree != workspace_path:
        roots += _project_roots(worktree)
    for raw in extra_paths:
        folder = Path(os.path.normpath(workspace_path / env.expand(raw)))
        source = (
            SOURCE_PROJECT if folder.is_relative_to(workspace_path) else SOURCE_USER
        )
        roots.append(SkillRoot(folder, source))
    roots += [SkillRoot(p, SOURCE_USER) for p in global_skill_dirs(env)]
    return _unique(root for root in roots if _trusted(root.path))


def _project_roots(folder: Path) -> list[SkillRoot]:
    return [
        SkillRoot(folder / sub, SOURCE_PROJECT)
        for sub in PROJECT_SKILL_DIRS
        if _trusted_below(folder, sub)
    ]


def _trusted_below(folder: Path, sub: str) -> bool:
    # Another uid owning .agents could swap the skills folder inside it.
    bad = untrusted_below(folder, sub)
    if bad is not None:
        log.warning("skipping untrusted %s: %s", *bad)
    return bad is None


def _trusted(folder: Path) -> bool:
    reason = check_trusted(folder)
    if reason is not None:
        log.warning("skipping untrusted %s: %s", folder, reason)
    return reason is None


def _unique(roots: Iterable[SkillRoot]) -> list[SkillRoot]:
    seen: set[Path] = set()
    kept = []
    for root in roots:
        key = Path(os.path.realpath(root.path))
        if key not in seen:
            seen.add(key)
            kept.append(root)
    return kept
