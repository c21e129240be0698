"""A workspace's shell jobs: commands that run on after the bash call returns.

Every bash command runs as a job of the workspace's ``JobTable``; the tool
waits for it and drops it from the table when it ends in time, or leaves it
there (``run_in_background``, or still running after ``auto_background_after``
seconds) for ``job_output`` and ``job_kill``. Job tasks live in the nursery
of ``JobTable.serve``, so they end with the workspace; each keeps the newest
1 MiB of stdout and of stderr. A turn cancelled inside ``turn_guard`` kills the
jobs it auto-backgrounded (upstream lets them run on, charmbracelet/crush#3878).

Source: Crush ``internal/shell/background.go`` (50 jobs, ``%03X`` ids,
``Kill`` waits for the end); docs/agent.md 2.3 and 1.10.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

import attrs
import trio

from ._procgroup import KILL_GRACE_SECONDS, open_group, run_group, shell_env

#: Most jobs running at once in one workspace.
MAX_JOBS = 50
#: Bytes kept per output stream of a job (the newest ones).
JOB_BUFFER_BYTES = 1024 * 1024

#: The turn a tool call runs in (set by ``JobTable.turn_guard``).
_TURN: contextvars.ContextVar[object | None] = contextvars.ContextVar(
    "crushd_job_turn", default=None
)


class JobError(Exception):
    """A job could not be started (limit reached, table not serving)."""


class RingBuffer:
    """The newest ``capacity`` bytes written; ``dropped`` counts the rest."""

    def __init__(self, capacity: int = JOB_BUFFER_BYTES) -> None:
        self.capacity = capacity
        self.dropped = 0
        self._data = bytearray()

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``, forgetting the oldest bytes past ``capacity``."""
        self._data += chunk
        excess = len(self._data) - self.capacity
        if excess > 0:
            del self._data[:excess]
            self.dropped += excess

    def text(self) -> str:
        """Return what is kept, decoded as UTF-8 (bad bytes replaced)."""
        return self._data.decode("utf-8", "replace")


@attrs.define(eq=False)
class Job:
    """One command of the table.

    Attributes:
        id: the job id (upper-case hex, at least 3 digits: ``00A``).
        command, description: as the bash call gave them.
        working_dir: the folder it runs in.
        started_at: Unix seconds.
        stdout, stderr: the kept output.
        done: set when the command has ended and its group is gone.
        exit_code: the shell's exit status once ended by itself (a signal
            ``N`` gives ``128 + N``), None while running or when stopped.
        interrupted: True when it was stopped (``kill``, cancellation).
        pid: the shell's pid, which is also its process group id.
        background: True once handed back to the model as a job.
        session_id: the session whose tool call started it (``""``: none).
    """

    id: str
    command: str
    description: str
    working_dir: Path
    started_at: float = attrs.field(factory=time.time)
    stdout: RingBuffer = attrs.field(factory=RingBuffer)
    stderr: RingBuffer = attrs.field(factory=RingBuffer)
    done: trio.Event = attrs.field(factory=trio.Event)
    scope: trio.CancelScope = attrs.field(factory=trio.CancelScope)
    exit_code: int | None = None
    interrupted: bool = False
    pid: int = 0
    background: bool = False
    session_id: str = ""
    turn: object | None = None


class JobTable:
    """The shell jobs of one workspace.

    Args:
        env: the workspace's ``K=V`` list, appended to the daemon's
            environment for every command (see ``shell_env``).
        max_jobs: most jobs running at once.
        buffer_bytes: bytes kept per output stream.
        grace: seconds between SIGINT and SIGKILL when a job is stopped.
    """

    def __init__(
        self,
        env: Sequence[str] = (),
        *,
        max_jobs: int = MAX_JOBS,
        buffer_bytes: int = JOB_BUFFER_BYTES,
        grace: float = KILL_GRACE_SECONDS,
    ) -> None:
        self.env = shell_env(env)
        self.max_jobs = max_jobs
        self.buffer_bytes = buffer_bytes
        self.grace = grace
        self._jobs: dict[str, Job] = {}
        self._counter = 0
        self._nursery: trio.Nursery | None = None

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> NoReturn:
        """Own the job tasks until cancelled; then stop every job.

        Run it with ``nursery.start`` in the workspace's nursery: jobs can be
        started once it has started. Cancelling it stops every job's group
        (SIGINT, SIGKILL after ``grace`` s) before it returns.
        """
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                task_status.started()
                await trio.sleep_forever()
        finally:
            self._nursery = None

    async def start(
        self, command: str, cwd: Path, description: str = "", session_id: str = ""
    ) -> Job:
        """Start ``bash -c command`` in ``cwd`` as a new job of ``session_id``.

        Raises:
            JobError: the table is not serving or ``max_jobs`` are running.
            OSError: the shell could not be started.
        """
        if self._nursery is None:
            raise JobError("background jobs are not available")
        if sum(not job.done.is_set() for job in self._jobs.values()) >= self.max_jobs:
            raise JobError(
                f"maximum number of background jobs ({self.max_jobs}) reached. "
                "Please terminate or wait for some jobs to complete"
            )
        self._forget_finished()
        self._counter += 1
        job = Job(f"{self._counter:03X}", command, description, cwd)
        job.session_id = session_id
        job.stdout, job.stderr = (
            RingBuffer(self.buffer_bytes),
            RingBuffer(self.buffer_bytes),
        )
        await self._nursery.start(self._run, job)
        self._jobs[job.id] = job
        return job

    async def _run(self, job: Job, *, task_status: trio.TaskStatus[None]) -> None:
        try:
            with job.scope:
                process = await open_group(job.command, job.working_dir, self.env)
                job.pid = process.pid
                task_status.started()
                status = await run_group(
                    process, job.stdout.write, job.stderr.write, self.grace
                )
                job.exit_code = status if status >= 0 else 128 - status
        finally:
            job.interrupted = job.exit_code is None
            job.done.set()

    def _forget_finished(self) -> None:
        """Keep at most ``2 * max_jobs`` jobs: drop the oldest finished ones."""
        finished = [job.id for job in self._jobs.values() if job.done.is_set()]
        for job_id in finished[: max(0, len(self._jobs) + 1 - 2 * self.max_jobs)]:
            del self._jobs[job_id]

    def get(self, job_id: str) -> Job | None:
        """Return the job ``job_id``, or None when there is none."""
        return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Return every job, oldest first."""
        return list(self._jobs.values())

    def remove(self, job_id: str) -> Job | None:
        """Forget ``job_id`` without stopping it; return it (None if unknown)."""
        return self._jobs.pop(job_id, None)

    def cancel(self, job_id: str) -> Job | None:
        """Start stopping ``job_id`` (synchronous); return it, None if unknown."""
        job = self._jobs.get(job_id)
        if job is not None:
            job.scope.cancel()
        return job

    async def kill(self, job_id: str) -> Job | None:
        """Stop ``job_id``, wait until its group is gone, forget it.

        Returns:
            The job, or None when there is none.
        """
        job = self.cancel(job_id)
        if job is not None:
            with trio.CancelScope(shield=True):
                await job.done.wait()
            self._jobs.pop(job_id, None)
        return job

    def cancel_all(self) -> None:
        """Start stopping every job (session deletion, teardown)."""
        for job in self._jobs.values():
            job.scope.cancel()

    def cancel_session(self, session_id: str) -> None:
        """Start stopping the jobs of ``session_id`` (the session is deleted)."""
        for job in self._jobs.values():
            if job.session_id == session_id:
                job.scope.cancel()

    def mark_background(self, job: Job, *, auto: bool) -> None:
        """Record that ``job`` was handed to the model as a background job.

        Args:
            job: the job.
            auto: True when it was moved there by ``auto_background_after``;
                it then belongs to the current ``turn_guard``, if any.
        """
        job.background = True
        job.turn = _TURN.get() if auto else None

    @contextlib.contextmanager
    def turn_guard(self) -> Iterator[None]:
        """Scope one turn: if it ends cancelled, its auto-backgrounded jobs stop.

        Wrap the turn's body (inside its cancel scope); tool calls made in it
        see the guard through a context variable.
        """
        mark = object()
        token = _TURN.set(mark)
        try:
            yield
        except BaseException as exc:
            if _is_cancelled(exc):
                self._cancel_turn(mark)
            raise
        finally:
            _TURN.reset(token)

    def _cancel_turn(self, mark: object) -> None:
        for job in self._jobs.values():
            if job.turn is mark:
                job.scope.cancel()


def _is_cancelled(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return exc.subgroup(trio.Cancelled) is not None
    return isinstance(exc, trio.Cancelled)
