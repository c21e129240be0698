"""The skills service: one workspace's skill catalog, rescanned, with its events."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import trio

from crushd.errors import InternalError
from crushd.proto import (
    UPDATED,
    ReadSkillResponse,
    SkillInfo,
    SkillsEvent,
    SkillState,
)
from crushd.skills import (
    STATE_ERROR,
    STATE_NORMAL,
    SkillCatalog,
    SkillsEnvironment,
    read_skill,
    scan_skills,
)

from ._eventlog import EventLog

logger = logging.getLogger("crushd.workspace.skills")

#: The outer event type of skill-discovery events.
SKILLS_EVENT = "skills_event"
#: Longest a skills scan or a skill read may take before it is given up, seconds.
SKILL_IO_TIMEOUT_SECONDS = 10.0


class SkillsService:
    """The skills one workspace sees; each change of their states is an event.

    Every workspace has its own service, catalog and event log, so two
    workspaces in one daemon never see each other's skills or events. The
    catalog is immutable and swapped whole, so readers never see half a scan.

    Args:
        workspace_path: the workspace's canonical path (project skill folders
            and the git worktree root are found from it).
        log: the workspace's event log.
        catalog: the first scan's result (``open_skills`` makes it).
        env: home and environment for the global folders; ``None`` reads the
            daemon's own at each scan.
        extra_paths: config ``options.skills_paths``.
        disabled: config ``options.disabled_skills``: names left out of
            ``list`` and ``read`` (their states stay in ``states``).

    Source: Crush ``skills.Manager`` per workspace (seed 000,
    TestBackend_WorkspaceSkillsIsolation); docs/protocol.md 2.11, 3.3.
    """

    def __init__(
        self,
        workspace_path: Path,
        log: EventLog,
        catalog: SkillCatalog,
        *,
        env: SkillsEnvironment | None = None,
        extra_paths: Sequence[str] = (),
        disabled: Sequence[str] = (),
    ) -> None:
        self._path = workspace_path
        self._log = log
        self._catalog = catalog
        self._env = env
        self._extra_paths = tuple(extra_paths)
        self._disabled = tuple(disabled)
        self._visible = catalog.without(self._disabled)
        self._scanning = trio.Lock()

    @property
    def catalog(self) -> SkillCatalog:
        """The current catalog (the last scan's)."""
        return self._catalog

    @property
    def extra_paths(self) -> tuple[str, ...]:
        """The ``options.skills_paths`` the next rescan uses."""
        return self._extra_paths

    @property
    def disabled(self) -> tuple[str, ...]:
        """The ``options.disabled_skills`` names in force."""
        return self._disabled

    def states(self) -> list[SkillState]:
        """Return the discovery states (``Workspace.skills``); ``[]`` when none."""
        return list(self._catalog.states)

    def list(self) -> list[SkillInfo]:
        """Return the visible, enabled skills as ``GET /skills`` entries."""
        return self._visible.infos()

    async def read(self, skill_id: str) -> ReadSkillResponse:
        """Read a visible, enabled skill's file (in a worker thread).

        Raises:
            SkillNotFound: no visible skill has that id, or it is disabled
                (404, decision B.4).
            InternalError: the file can no longer be read, or the read took
                over ``SKILL_IO_TIMEOUT_SECONDS`` (500).

        Cancellation:
            Returns at once (the read's thread is abandoned); nothing changes.
        """
        catalog = self._visible
        with trio.move_on_after(SKILL_IO_TIMEOUT_SECONDS):
            return await read_skill(catalog, skill_id)
        raise InternalError(
            f"failed to read skill {skill_id}: timed out after "
            f"{SKILL_IO_TIMEOUT_SECONDS:g} s"
        )

    async def rescan(
        self,
        extra_paths: Sequence[str] | None = None,
        disabled: Sequence[str] | None = None,
    ) -> bool:
        """Discover again; publish ``skills_event`` if the states changed.

        Scans run one at a time (a lock), so a slow older scan never replaces
        a newer result. The swap and the publish are one synchronous step. A
        scan over ``SKILL_IO_TIMEOUT_SECONDS`` counts as a catalog with one
        error state (as in ``open_skills``).

        Args:
            extra_paths: new ``options.skills_paths`` (kept for later
                rescans); ``None`` keeps the current ones.
            disabled: new ``options.disabled_skills``, likewise. Disabling
                changes no state, so on its own it publishes nothing.

        Returns:
            Whether the states changed (and an event was published).

        Cancellation:
            If cancelled, the catalog and ``extra_paths`` are unchanged and
            nothing is published.

        Source: docs/protocol.md 3.3 ``skills_event`` (inner type ``updated``,
        ``"states": null`` when empty); issue 3 (rescan on ``config_changed``
        and on demand).
        """
        paths = self._extra_paths if extra_paths is None else tuple(extra_paths)
        names = self._disabled if disabled is None else tuple(disabled)
        async with self._scanning:
            catalog = await self._scan(paths)
            return self._swap(catalog, paths, names)

    async def _scan(self, paths: tuple[str, ...]) -> SkillCatalog:
        env = self._env or SkillsEnvironment.from_process()
        return await _bounded_scan(self._path, paths, env)

    def _swap(
        self, catalog: SkillCatalog, paths: tuple[str, ...], disabled: tuple[str, ...]
    ) -> bool:
        changed = catalog.states != self._catalog.states
        _warn_new_errors(self._catalog.states, catalog.states)
        self._catalog, self._extra_paths = catalog, paths
        self._disabled, self._visible = disabled, catalog.without(disabled)
        if changed:
            states = list(catalog.states) or None
            self._log.publish(SKILLS_EVENT, UPDATED, SkillsEvent(states=states))
        return changed


async def open_skills(
    workspace_path: Path,
    log: EventLog,
    *,
    env: SkillsEnvironment | None = None,
    extra_paths: Sequence[str] = (),
    disabled: Sequence[str] = (),
) -> SkillsService:
    """Scan a workspace's skills (worker thread) and return its service.

    The first scan publishes nothing: it is the snapshot sent with the
    workspace (``Workspace.skills``).

    Args:
        workspace_path: the workspace's canonical path.
        log: the workspace's event log.
        env: as for ``SkillsService``.
        extra_paths: config ``options.skills_paths``.
        disabled: config ``options.disabled_skills``.

    A scan that takes over ``SKILL_IO_TIMEOUT_SECONDS`` (a stalled file
    system) gives a catalog with no skills and one error state for the
    workspace path, so the workspace still opens.

    Cancellation:
        Returns at once (the scan's thread is abandoned); nothing is left open.
    """
    scan_env = env or SkillsEnvironment.from_process()
    catalog = await _bounded_scan(workspace_path, tuple(extra_paths), scan_env)
    _warn_new_errors((), catalog.states)
    return SkillsService(
        workspace_path,
        log,
        catalog,
        env=env,
        extra_paths=extra_paths,
        disabled=disabled,
    )


async def _bounded_scan(
    path: Path, extra_paths: tuple[str, ...], env: SkillsEnvironment
) -> SkillCatalog:
    # A scan stalled by a file system that stopped answering must not hold up
    # a workspace create (or, through it, shutdown): give up and say so.
    with trio.move_on_after(SKILL_IO_TIMEOUT_SECONDS):
        return await scan_skills(path, extra_paths=extra_paths, env=env)
    error = f"skills scan timed out after {SKILL_IO_TIMEOUT_SECONDS:g} s"
    state = SkillState(name="", path=str(path), state=STATE_ERROR, error=error)
    return SkillCatalog(states=(state,))


def _warn_new_errors(before: Sequence[SkillState], after: Sequence[SkillState]) -> None:
    # Once per new error, not once per rescan (GET /skills rescans each time).
    known = set(before)
    for state in after:
        if state.state != STATE_NORMAL and state not in known:
            logger.warning("skill %s is invalid: %s", state.path, state.error)
