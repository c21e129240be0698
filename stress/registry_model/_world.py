"""The world one example runs in: paths, clients, timings and the fake workspaces.

The registry under test builds workspaces through ``FakeFactory``: a build
takes ``build_delay`` seconds and can be told to fail; a ``FakeWorkspace``
counts its cleanup (which takes ``aclose_delay`` seconds) and the registry's
calls on its event log. The factory's call log is the model's oracle for the
one choice trio makes at random (which waiting create builds).
"""

from __future__ import annotations

import uuid

import attrs
import trio
import trio.testing

from crushd.errors import InternalError
from crushd.proto import WorkspaceSpec
from crushd.registry import RegistrySettings

ROOT = "/crushd-stress-nonexistent"  # must not exist: keys are normpath()s
PATHS = (f"{ROOT}/p0", f"{ROOT}/p1", f"{ROOT}/x/../p1")
KEYS = (f"{ROOT}/p0", f"{ROOT}/p1", f"{ROOT}/p1")
CLIENT_SLOTS = 3  # client processes; each gets a fresh id after it retires
SESSIONS = ("", "S1", "S2")
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
CREATE_GRACE = 6.0
IDLE_TIMEOUT = 20.0
BUILD_FAILURE = "failed to create app workspace: injected"
# Every time in this test is a multiple of 0.5 s, so float sums stay exact
# and the model's deadlines equal the MockClock's.
SHORT_ADVANCES = (0.5, 1.0, 1.5, 2.0)
LONG_ADVANCES = (3.0, 5.0, 7.0, 10.0)
FINISH_BOUND = 60.0
CANCELLED = "cancelled"  # the outcome of a create whose task was cancelled


def client_id(slot: int, generation: int) -> str:
    """The id of client process ``slot`` after ``generation`` retires."""
    return str(uuid.UUID(int=(slot + 1) << 96 | generation))


async def settle() -> None:
    """Let every other task run until all of them are blocked; time stays put."""
    await trio.testing.wait_all_tasks_blocked()


@attrs.frozen
class Params:
    """Per-example timings in seconds (grace and idle are fixed)."""

    build_delay: float
    aclose_delay: float
    detach_grace: float

    def settings(self) -> RegistrySettings:
        return RegistrySettings(
            create_grace_seconds=CREATE_GRACE,
            detach_grace_seconds=self.detach_grace,
            idle_timeout_seconds=IDLE_TIMEOUT,
        )


@attrs.define(eq=False)
class FakeLog:
    """Counts the registry's calls on a workspace's event log."""

    closed: int = 0
    wakes: int = 0
    published: int = 0

    def close(self) -> None:
        self.closed += 1

    def publish(self, type: str, event_type: str, payload: object) -> int:  # noqa: A002
        self.published += 1
        return self.published

    def wake(self) -> None:
        self.wakes += 1


@attrs.define(eq=False)
class FakeWorkspace:
    """A workspace whose cleanup takes ``aclose_delay`` seconds and is counted."""

    spec: WorkspaceSpec
    aclose_delay: float
    log: FakeLog = attrs.field(factory=FakeLog)
    aclose_calls: int = 0
    aclose_done: bool = False

    @property
    def id(self) -> str:
        return self.spec.id

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        await trio.sleep_forever()

    async def aclose(self) -> None:
        self.aclose_calls += 1
        await trio.sleep(self.aclose_delay)
        self.aclose_done = True


@attrs.define(eq=False)
class FactoryCall:
    """One factory call: which create built (from ``spec.version``), when, result."""

    key: str
    create_id: int
    start: float
    fail: bool
    workspace: FakeWorkspace | None = None


class FakeFactory:
    """Builds fake workspaces after ``build_delay`` s; can fail a path's next build."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.calls: list[FactoryCall] = []
        self.fail_next: set[str] = set()

    async def __call__(self, spec: WorkspaceSpec) -> FakeWorkspace:
        fail = spec.key in self.fail_next
        self.fail_next.discard(spec.key)
        call = FactoryCall(spec.key, int(spec.version), trio.current_time(), fail)
        self.calls.append(call)
        await trio.sleep(self.params.build_delay)
        if fail:
            raise InternalError(BUILD_FAILURE)
        call.workspace = FakeWorkspace(spec, self.params.aclose_delay)
        return call.workspace

    def call(self, key: str, index: int) -> FactoryCall:
        """Return the ``index``-th build of ``key`` (the model's oracle)."""
        calls = [c for c in self.calls if c.key == key]
        assert index < len(calls), f"model expects build #{index} of {key}; none"
        return calls[index]
