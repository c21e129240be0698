"""Fakes and invariant checks shared by the registry tests.

The fakes stand in for ``crushd.workspace``: a ``FakeWorkspace`` counts its
``aclose`` calls and its log's ``close``/``wake`` calls, and a ``FakeFactory``
records every spec it was asked to build and can park (``gate``) or fail
(``error``) a build. ``assert_invariants`` is the registry's consistency check
used after every step of the cancellation tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import attrs
import trio
import trio.testing

from crushd.errors import CrushdError
from crushd.proto import Workspace, WorkspaceSpec
from crushd.registry import Claim, Hosted, Registry, RegistrySettings

#: The daemon's default timings (decision B.21), for registries built directly.
TIMINGS = RegistrySettings(
    create_grace_seconds=30.0, detach_grace_seconds=10.0, idle_timeout_seconds=60.0
)


def new_client_id() -> str:
    """Return a fresh client id (a random UUID)."""
    return str(uuid.uuid4())


def request(
    path: str,
    client_id: str,
    *,
    yolo: bool = False,
    debug: bool = False,
    data_dir: str = "",
    env: tuple[str, ...] = (),
    channels: tuple[str, ...] = (),
) -> Workspace:
    """Return a create request for ``path`` from ``client_id`` with these flags."""
    return Workspace(
        path=path,
        client_id=client_id,
        yolo=yolo,
        debug=debug,
        data_dir=data_dir,
        env=list(env),
        channels=list(channels),
    )


async def settle() -> None:
    """Let every runnable task run until all are blocked (no clock advance)."""
    await trio.testing.wait_all_tasks_blocked()


@attrs.define(eq=False)
class FakeLog:
    """An event log that counts ``close`` and ``wake`` calls."""

    closed: int = 0
    woken: int = 0
    published: list[tuple[str, str, object]] = attrs.field(factory=list)

    def publish(self, type: str, event_type: str, payload: object) -> int:  # noqa: A002
        self.published.append((type, event_type, payload))
        return len(self.published)

    def close(self) -> None:
        self.closed += 1

    def wake(self) -> None:
        self.woken += 1


@attrs.define(eq=False)
class FakeWorkspace:
    """A workspace that counts ``aclose`` calls; ``aclose_gate`` parks its cleanup."""

    spec: WorkspaceSpec
    log: FakeLog = attrs.field(factory=FakeLog)
    acloses: int = 0
    aclose_gate: trio.Event | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        await trio.sleep_forever()

    async def aclose(self) -> None:
        self.acloses += 1
        if self.aclose_gate is not None:
            await self.aclose_gate.wait()


@attrs.define(eq=False)
class FakeFactory:
    """A workspace factory that records specs and can park, fail or slow cleanup.

    Attributes:
        specs: every spec it was called with (one per build attempt).
        built: every workspace it returned.
        gate: when set, each build waits for this event first.
        error: when set, each build raises it (after the gate).
        on_built: called synchronously with each workspace just before it is
            returned (the cancellation tests cancel a create from here, so the
            cancel lands on the create's next await: ``nursery.start``).
        cleanup_gate: when set, each new workspace's ``aclose`` waits for it.
    """

    specs: list[WorkspaceSpec] = attrs.field(factory=list)
    built: list[FakeWorkspace] = attrs.field(factory=list)
    gate: trio.Event | None = None
    error: CrushdError | None = None
    on_built: Callable[[FakeWorkspace], None] | None = None
    cleanup_gate: trio.Event | None = None

    async def __call__(self, spec: WorkspaceSpec) -> FakeWorkspace:
        self.specs.append(spec)
        if self.gate is not None:
            await self.gate.wait()
        else:
            await trio.lowlevel.checkpoint()
        if self.error is not None:
            raise self.error
        workspace = FakeWorkspace(spec, aclose_gate=self.cleanup_gate)
        self.built.append(workspace)
        if self.on_built is not None:
            self.on_built(workspace)
        return workspace


@attrs.define(eq=False)
class Harness:
    """Starts one registry in the test's nursery and records what it reported."""

    nursery: trio.Nursery
    factory: FakeFactory
    idle_calls: int = 0
    _served: bool = False
    registry: Registry | None = None

    async def start(
        self,
        *,
        create_grace_seconds: float = 30.0,
        detach_grace_seconds: float = 10.0,
        idle_timeout_seconds: float = 60.0,
    ) -> Registry:
        """Start a registry with these timings and return it once it serves."""
        assert self.registry is None, "one registry per test"
        settings = RegistrySettings(
            create_grace_seconds=create_grace_seconds,
            detach_grace_seconds=detach_grace_seconds,
            idle_timeout_seconds=idle_timeout_seconds,
        )
        self.registry = Registry(self.factory, settings, on_idle=self._on_idle)
        await self.nursery.start(self._serve, self.registry)
        return self.registry

    async def close_and_check(self) -> None:
        """Close the registry, let cleanup finish, and check the end state."""
        if self.registry is None:
            return
        self.registry.close()
        await settle()
        assert self.served(), "serve() did not return after close()"
        assert_invariants(self.registry, self.factory)
        assert all(ws.acloses == 1 for ws in self.factory.built)

    def served(self) -> bool:
        """True once the registry's ``serve()`` returned."""
        return self._served

    def _on_idle(self) -> None:
        self.idle_calls += 1

    async def _serve(
        self, registry: Registry, *, task_status: trio.TaskStatus[None]
    ) -> None:
        await registry.serve(task_status=task_status)
        self._served = True


async def claimless_workspace(registry: Registry, path: str) -> Hosted:
    """Return a live workspace with no claim at all (Go's ``insertTestWorkspace``).

    The registry never leaves a live workspace unclaimed; the ported upstream
    tests start from one, so this builds a workspace and drops the founder's
    claim without tearing it down.
    """
    founder = new_client_id()
    hosted = await registry.create(request(path, founder))
    hosted.claims.pop(founder).disarm()
    return hosted


def claim_of(hosted: Hosted, client_id: str) -> Claim:
    """Return ``client_id``'s claim on ``hosted`` (fails the test when absent)."""
    claim = hosted.claims.get(client_id)
    assert claim is not None, f"no claim for {client_id}"
    return claim


def fake(hosted: Hosted) -> FakeWorkspace:
    """Return the fake workspace behind ``hosted``."""
    workspace = hosted.workspace
    assert isinstance(workspace, FakeWorkspace)
    return workspace


def assert_invariants(
    registry: Registry,
    factory: FakeFactory | None = None,
    *,
    quiescent: bool = True,
) -> None:
    """Check the registry's consistency (and, with ``factory``, its cleanups).

    Always: the id map and the path index hold the same workspaces; every live
    workspace is not torn down and has at least one claim; no claim has
    negative streams; a streaming claim has no hold and a stream-less claim
    has one (otherwise it could never go). With ``quiescent`` (all tasks
    blocked, nothing parked): no build, pending create or cleanup is left.
    With ``factory``: every fake workspace was closed at most once, a live one
    not at all, and (when quiescent) every other one exactly once.
    """
    _assert_indexes_agree(registry)
    for hosted in registry.workspaces():
        _assert_live(hosted)
    if quiescent:
        assert not registry._builds, f"builds left: {registry._builds}"
        assert registry._pending_creates == 0
        assert not registry._cleanups, f"cleanups left: {registry._cleanups}"
    if factory is not None:
        _assert_closed_once(registry, factory, quiescent=quiescent)


def _assert_indexes_agree(registry: Registry) -> None:
    by_id, by_key = registry._by_id, registry._by_key
    assert len(by_id) == len(by_key)
    for workspace_id, hosted in by_id.items():
        assert hosted.id == workspace_id
        assert by_key.get(hosted.key) is hosted


def _assert_live(hosted: Hosted) -> None:
    assert not hosted.torn_down, f"torn-down workspace {hosted.id} is indexed"
    assert hosted.claims, f"live workspace {hosted.id} has no claim"
    for client_id, claim in hosted.claims.items():
        assert claim.client_id == client_id
        assert claim.streams >= 0
        if claim.streams > 0:
            assert claim.hold is None, "a streaming claim must not be held"
        else:
            assert claim.hold is not None, "a claim without streams must be held"


def _assert_closed_once(
    registry: Registry, factory: FakeFactory, *, quiescent: bool
) -> None:
    live = {id(hosted.workspace) for hosted in registry.workspaces()}
    for workspace in factory.built:
        assert workspace.acloses <= 1, f"{workspace.id} closed twice"
        assert workspace.log.closed <= 1, f"{workspace.id} log closed twice"
        if id(workspace) in live:
            assert workspace.acloses == 0
            assert workspace.log.closed == 0
        elif quiescent:
            assert workspace.acloses == 1, f"{workspace.id} was never closed"


@attrs.define(eq=False)
class Attempt:
    """One ``create`` running in its own task and cancel scope."""

    scope: trio.CancelScope = attrs.field(factory=trio.CancelScope)
    hosted: Hosted | None = None
    error: CrushdError | None = None
    done: bool = False

    @property
    def cancelled(self) -> bool:
        """True when the create ended because its scope was cancelled."""
        return self.scope.cancelled_caught


def spawn_create(nursery: trio.Nursery, registry: Registry, req: Workspace) -> Attempt:
    """Start ``registry.create(req)`` in ``nursery``; see the Attempt for its end."""
    attempt = Attempt()

    async def run() -> None:
        with attempt.scope:
            try:
                attempt.hosted = await registry.create(req)
            except CrushdError as exc:
                attempt.error = exc
        attempt.done = True

    nursery.start_soon(run)
    return attempt
