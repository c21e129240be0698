"""Discovery over the skills folders, and the catalog it produces."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import attrs
import trio

from crushd.errors import InternalError, SkillNotFound
from crushd.proto import ReadSkillResponse, SkillInfo, SkillResult, SkillState

from ._parse import (
    SKILL_FILE,
    InvalidSkillError,
    Skill,
    read_skill_bytes,
    read_skill_file,
)
from ._roots import SkillRoot, SkillsEnvironment, skill_roots

log = logging.getLogger("crushd.skills")

T = TypeVar("T")

#: ``SkillState.state`` of a skill that loaded.
STATE_NORMAL = 0
#: ``SkillState.state`` of a skill that did not (``error`` says why).
STATE_ERROR = 1
#: Most skill scans or reads that may run in worker threads at once.
SKILL_IO_THREADS = 4
# One limiter per trio run (trio's own default limiter is a RunVar too).
_LIMITER: trio.lowlevel.RunVar[trio.CapacityLimiter] = trio.lowlevel.RunVar(
    "skill_io_limiter"
)


@attrs.frozen
class SkillCatalog:
    """One discovery's result: the visible skills and every file's outcome.

    Immutable; a rescan builds a new catalog.

    Attributes:
        skills: the valid, visible skills (shadowed duplicates left out),
            sorted by name.
        states: one entry per ``SKILL.md`` found, in precedence order: state 0
            for each visible skill, state 1 with ``error`` for each bad one
            (bad files never shadow a good skill of the same name), plus state
            1 entries for skills folders that could not be listed.
    """

    skills: tuple[Skill, ...] = ()
    states: tuple[SkillState, ...] = ()

    def infos(self) -> list[SkillInfo]:
        """Return the ``GET /skills`` entries (docs/protocol.md 2.11)."""
        return [
            SkillInfo(
                id=skill.id,
                name=skill.name,
                description=skill.description,
                label=skill.label,
                source=skill.source,
                user_invocable=skill.user_invocable,
            )
            for skill in self.skills
        ]

    def without(self, names: Collection[str]) -> SkillCatalog:
        """Return this catalog minus the skills named in ``names``.

        For ``options.disabled_skills``: a disabled skill is neither listed
        nor readable, but its file's discovery state stays in ``states``
        (diagnostics still show it). Names compare exactly.

        Source: Crush ``skills.Filter`` over the deduplicated set (the
        "effective" skills; states are computed before the filter).
        """
        if not names:
            return self
        skills = tuple(skill for skill in self.skills if skill.name not in names)
        return SkillCatalog(skills, self.states)

    def find(self, skill_id: str) -> Skill:
        """Return the visible skill whose id (``SKILL.md`` path) is ``skill_id``.

        Only catalogued files are reachable: an id is never read as an
        arbitrary path.

        Raises:
            SkillNotFound: no visible skill has that id (404, decision B.4).
        """
        for skill in self.skills:
            if skill.id == skill_id:
                return skill
        raise SkillNotFound(f"skill not found: {skill_id}")

    def read(self, skill_id: str) -> ReadSkillResponse:
        """Read a visible skill's ``SKILL.md`` for ``POST /skills/read`` (blocking).

        Returns:
            ``content`` = standard base64 of the file's bytes as they are now;
            ``result`` = the catalogued name, description and source
            (``builtin`` is always false).

        Raises:
            SkillNotFound: unknown id (404).
            InternalError: the file went away or became unreadable or too
                large since the scan (500, ``failed to read skill <id>: ...``).

        Source: Crush ``skills.ReadContent``; docs/protocol.md 2.11.
        """
        skill = self.find(skill_id)
        data = _read_bytes(skill)
        return ReadSkillResponse(
            content=base64.b64encode(data).decode("ascii"),
            result=SkillResult(
                name=skill.name, description=skill.description, source=skill.source
            ),
        )


def discover_skills(roots: Sequence[SkillRoot]) -> SkillCatalog:
    """Scan ``roots`` (highest precedence first) for ``<name>/SKILL.md`` skills.

    Blocking file I/O; call it in a worker thread from async code (or use
    ``scan_skills``). Never raises for a bad skill or folder: each becomes a
    state-1 entry. Missing folders, and folders without a ``SKILL.md``, are
    skipped silently (they are not skills). When two roots hold a valid skill
    of the same name, the first (nearer) one wins.

    Args:
        roots: the folders, as ``skill_roots`` orders them.

    Returns:
        The catalog.

    Source: Crush ``skills.DiscoverWithStates`` and ``Deduplicate`` (there the
    last occurrence wins, with project paths last; same outcome).
    """
    visible: dict[str, Skill] = {}
    states: list[SkillState] = []
    for found in (item for root in roots for item in _scan_root(root)):
        if isinstance(found, SkillState):
            states.append(found)
        elif found.name in visible:
            log.debug(
                "skill %s shadowed by %s",
                found.skill_file,
                visible[found.name].skill_file,
            )
        else:
            visible[found.name] = found
            states.append(SkillState(name=found.name, path=found.id))
    ordered = sorted(visible.values(), key=lambda s: (s.name.lower(), s.name))
    return SkillCatalog(tuple(ordered), tuple(states))


def scan_workspace(
    workspace_path: Path, *, extra_paths: Sequence[str] = (), env: SkillsEnvironment
) -> SkillCatalog:
    """Find a workspace's skills folders and discover their skills (blocking).

    Args:
        workspace_path: the workspace's canonical (absolute) path.
        extra_paths: config ``options.skills_paths``.
        env: the home and environment for the global folders.
    """
    roots = skill_roots(workspace_path, extra_paths=extra_paths, env=env)
    return discover_skills(roots)


async def scan_skills(
    workspace_path: Path, *, extra_paths: Sequence[str] = (), env: SkillsEnvironment
) -> SkillCatalog:
    """Run ``scan_workspace`` in a worker thread.

    Skill reads never wait on a FIFO or a device, but a file system that
    stops answering (a hung network or FUSE mount) can still stall a read,
    so the wait is cancellable and the caller bounds it with a timeout.
    At most ``SKILL_IO_THREADS`` skill reads or scans run at once, so stalled
    threads never take the worker threads the rest of the daemon uses.

    Cancellation:
        Returns at once; the thread is abandoned and its result dropped
        (it only reads files, so nothing is left half done).
    """
    return await _in_thread(
        lambda: scan_workspace(workspace_path, extra_paths=extra_paths, env=env)
    )


async def read_skill(catalog: SkillCatalog, skill_id: str) -> ReadSkillResponse:
    """Run ``catalog.read(skill_id)`` in a worker thread (see ``scan_skills``).

    Raises:
        SkillNotFound, InternalError: as ``SkillCatalog.read`` (404, 500).

    Cancellation:
        Returns at once; the thread is abandoned and its result dropped.
    """
    return await _in_thread(lambda: catalog.read(skill_id))


async def _in_thread(work: Callable[[], T]) -> T:
    try:
        limiter = _LIMITER.get()
    except LookupError:
        limiter = trio.CapacityLimiter(SKILL_IO_THREADS)
        _LIMITER.set(limiter)
    return await trio.to_thread.run_sync(work, abandon_on_cancel=True, limiter=limiter)


def _scan_root(root: SkillRoot) -> Iterator[Skill | SkillState]:
    try:
        entries = sorted(os.scandir(root.path), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        yield _error_state("", root.path, f"cannot list skills folder: {_why(exc)}")
        return
    for entry in entries:
        skill_file = Path(entry.path) / SKILL_FILE
        if entry.is_dir() and skill_file.exists():
            yield _load(skill_file, root.source)


def _load(skill_file: Path, source: str) -> Skill | SkillState:
    try:
        return read_skill_file(skill_file, source)
    except InvalidSkillError as exc:
        # Debug only: rescans are frequent; the workspace warns once per new error.
        log.debug("skill %s is invalid: %s", skill_file, exc.message)
        return _error_state(exc.name, skill_file, exc.message)


def _error_state(name: str, path: Path, error: str) -> SkillState:
    return SkillState(name=name, path=str(path), state=STATE_ERROR, error=error)


def _read_bytes(skill: Skill) -> bytes:
    try:
        return read_skill_bytes(skill.skill_file)
    except InvalidSkillError as exc:
        raise InternalError(f"failed to read skill {skill.id}: {exc.message}") from None


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
