"""A hypothesis state-machine test of the registry against a tiny pure model.

Each example draws a few timings and up to 40 operations (create, cancel a
create in flight, stream attach and detach, a repeated detach, reconnect,
release, release-then-detach, retire, retire-then-reconnect, current-session,
time advance, idle-gated shutdown request, close, and "the next build of this
path fails") over three path spellings (two canonical keys) and three client processes
(each uses a fresh id once it retired; its old id lives on in its streams). An
operation names its (workspace, client) by path and client process, or by
index among open streams, live claims or in-flight builders. The operations run against
a real ``Registry`` inside one ``trio.run`` on ``MockClock(autojump_threshold=0)``
with ``wait_all_tasks_blocked()`` after each one, and drive a pure model of
DESIGN.md section 3 and PROTOCOL.md 5.2-5.4 in lockstep. After every step the
two must agree on create outcomes, live workspaces (by id and by key), claim
tables including hold deadlines, ``attached_clients``, ticket liveness,
teardown and cleanup counts, statistics, idleness and the idle callback.

Trio's run order is random (hypothesis seeds it). The one place where it picks
an outcome - which of several creates waiting for one path's cleanup becomes
the builder - is read from the fake factory's call log; the model checks that
the builder was one of those waiters.

Profiles (stress/conftest.py): ``CRUSHD_HYPOTHESIS_PROFILE=ci`` (default, 200
examples) or ``soak`` (5000 examples).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable
from typing import TypeVar

import attrs
import trio
import trio.testing
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crushd.errors import (
    ClientNotAttached,
    ClientRetired,
    Conflict,
    CrushdError,
    InternalError,
    ServerBusy,
    ShuttingDown,
    WorkspaceNotFound,
)
from crushd.proto import Workspace
from crushd.registry import (
    CHANNELS_MISMATCH,
    CLEANUP_SECONDS,
    RETIRED_TTL_SECONDS,
    Hosted,
    Registry,
    RegistrySettings,
    RegistryStatistics,
    StreamTicket,
)
from crushd.workspace import WorkspaceSpec

# ------------------------------------------------------------------ known bugs
# Each flag makes the model predict the registry's CURRENT behaviour where it
# deviates from DESIGN.md / PROTOCOL.md. After fixing the registry, set the
# flag to False: the model then predicts the documented behaviour.

#: BUG 1 (``Registry._join``, fixed in 1b021e8): a channels mismatch on a
#: duplicate create was a 500 ``InternalError``; PROTOCOL.md decision B.5 says
#: 409. False expects a ``Conflict`` (409) with the ``CHANNELS_MISMATCH`` text.
BUG_CHANNELS_MISMATCH_IS_500 = False

#: BUG 2 (``Registry._build``, fixed in 7c5416e): when the builder's own client
#: was retired while the build ran, ``_install`` refused it and the
#: ``ClientRetired`` was shared with every create waiting on that build. False
#: expects those waiters to retry: wait for the refused workspace's cleanup,
#: then build again.
BUG_WAITERS_GET_BUILDER_REFUSAL = False

# ------------------------------------------------------------------- constants

_ROOT = "/crushd-stress-nonexistent"  # must not exist: keys are normpath()s
PATHS = (f"{_ROOT}/p0", f"{_ROOT}/p1", f"{_ROOT}/x/../p1")
KEYS = (f"{_ROOT}/p0", f"{_ROOT}/p1", f"{_ROOT}/p1")
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

PROFILE = settings.get_profile(os.environ.get("CRUSHD_HYPOTHESIS_PROFILE", "ci"))

T = TypeVar("T")


def client_id(slot: int, generation: int) -> str:
    """The id of client process ``slot`` after ``generation`` retires."""
    return str(uuid.UUID(int=(slot + 1) << 96 | generation))


async def settle() -> None:
    """Let every other task run until all of them are blocked; time stays put."""
    await trio.testing.wait_all_tasks_blocked()


# ------------------------------------------------------------------ parameters


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


# ------------------------------------------------------------------- the fakes


@attrs.define(eq=False)
class FakeLog:
    """Counts the registry's calls on a workspace's event log."""

    closed: int = 0
    wakes: int = 0

    def close(self) -> None:
        self.closed += 1

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


# ------------------------------------------------------------------- the model


@attrs.frozen
class Expected:
    """A create's predicted error: its class and, when it matters, its message."""

    cls: type[CrushdError]
    message: str | None = None


CHANNELS_ERROR = Expected(
    InternalError if BUG_CHANNELS_MISMATCH_IS_500 else Conflict, CHANNELS_MISMATCH
)


@attrs.define(eq=False)
class MClaim:
    """Model claim; ``inc`` tells a re-created claim from the one a ticket holds."""

    inc: int
    streams: int = 0
    deadline: float | None = None
    released: bool = False
    current: str = ""


@attrs.define(eq=False)
class MWorkspace:
    """Model workspace: the ``index``-th build of ``key`` (``call`` is its build)."""

    key: str
    index: int
    call: FactoryCall
    channels: bool
    claims: dict[str, MClaim] = attrs.field(factory=dict)
    live: bool = False
    torn_at: float | None = None
    cleaned: bool = False
    wakes: int = 0  # retires that removed a claim here (streams re-check)

    @property
    def real_id(self) -> str:
        assert self.call.workspace is not None
        return self.call.workspace.id


@attrs.define(eq=False)
class MBuild:
    """Model in-flight build; ``waiters`` are the creates sharing it."""

    index: int
    call: FactoryCall
    builder: int
    done_at: float
    fail: bool
    waiters: list[int]


@attrs.define(eq=False)
class MCreate:
    """Model create: ``done`` with a workspace or an ``Expected`` error."""

    client: str
    key: str
    channels: bool
    done: bool = False
    result: MWorkspace | Expected | str | None = None


@attrs.frozen
class MTicket:
    """Model stream ticket."""

    ws: MWorkspace
    client: str
    inc: int

    def named(self) -> tuple[MWorkspace, str]:
        return self.ws, self.client


class Model:
    """Pure model of the registry (no trio); ``now`` moves only in ``advance``."""

    def __init__(self, params: Params, oracle: Callable[[str, int], FactoryCall]):
        self.p = params
        self.oracle = oracle
        self.now = 0.0
        self.live: dict[str, MWorkspace] = {}
        self.built: dict[str, MWorkspace] = {}  # real workspace id -> model
        self.build_count: dict[str, int] = {}
        self.builds: dict[str, MBuild] = {}
        self.cleanups: dict[str, MWorkspace] = {}
        self.cleanup_waiters: dict[str, list[int]] = {}
        self.creates: dict[int, MCreate] = {}
        self.retired: dict[str, float] = {}
        self.fail_next: set[str] = set()
        self.pending = 0
        self.closing = False
        self.idle_deadline: float | None = None
        self.on_idle = 0
        self._incs = itertools.count()
        self._maybe_arm_idle()

    # ------------------------------------------------------------- queries

    def is_idle(self) -> bool:
        return not self.live and self.pending == 0

    def target(self, key: str, stale: bool) -> MWorkspace | None:
        """The live workspace at ``key``, or (stale) the newest dead one."""
        if not stale:
            return self.live.get(key)
        dead = [w for w in self.built.values() if w.key == key and not w.live]
        return dead[-1] if dead else None

    def ticket_alive(self, ticket: MTicket) -> bool:
        claim = ticket.ws.claims.get(ticket.client)
        return ticket.ws.live and claim is not None and claim.inc == ticket.inc

    # ------------------------------------------------------------ creates

    def create(self, cid: int, client: str, key: str, channels: bool) -> None:
        create = self.creates[cid] = MCreate(client, key, channels)
        refusal = self._refusal(client)
        if refusal is not None:
            create.done, create.result = True, Expected(refusal)
            return
        self.pending += 1
        self.idle_deadline = None
        self._run_creates(key, [cid])

    def _refusal(self, client: str) -> type[CrushdError] | None:
        if self.closing:
            return ShuttingDown
        return ClientRetired if client in self.retired_now() else None

    def retired_now(self) -> set[str]:
        """Retired ids younger than ``RETIRED_TTL_SECONDS`` (older are forgotten)."""
        horizon = self.now - RETIRED_TTL_SECONDS
        return {client for client, at in self.retired.items() if at > horizon}

    def _run_creates(self, key: str, cids: list[int]) -> None:
        """One pass of ``_create_or_join`` for creates that all run at ``now``."""
        admitted = [cid for cid in cids if not self._refused(cid)]
        if not admitted:
            return
        if key in self.live:
            for cid in admitted:
                self._join(self.live[key], cid)
        elif key in self.cleanups:
            event("create waits for a cleanup")
            self.cleanup_waiters.setdefault(key, []).extend(admitted)
        elif key in self.builds:
            event("create shares a build")
            self.builds[key].waiters.extend(admitted)
        else:
            self._start_build(key, admitted)

    def _refused(self, cid: int) -> bool:
        refusal = self._refusal(self.creates[cid].client)
        if refusal is not None:
            self._finish(cid, Expected(refusal))
        return refusal is not None

    def _join(self, ws: MWorkspace, cid: int) -> None:
        create = self.creates[cid]
        if create.channels != ws.channels:
            self._finish(cid, CHANNELS_ERROR)
            return
        self._register(ws, create.client)
        self._finish(cid, ws)

    def _start_build(self, key: str, candidates: list[int]) -> None:
        index = self.build_count.get(key, 0)
        self.build_count[key] = index + 1
        call = self.oracle(key, index)
        assert call.start == self.now, f"build of {key} started at {call.start}"
        assert call.create_id in candidates, f"builder {call.create_id} not waiting"
        if len(candidates) > 1:
            event("several creates raced to build after a cleanup")
        fail = key in self.fail_next
        self.fail_next.discard(key)
        waiters = [c for c in candidates if c != call.create_id]
        done_at = self.now + self.p.build_delay
        self.builds[key] = MBuild(index, call, call.create_id, done_at, fail, waiters)

    def _finish_build(self, key: str) -> None:
        build = self.builds.pop(key)
        if build.fail:
            for cid in (build.builder, *build.waiters):
                self._finish(cid, Expected(InternalError, BUILD_FAILURE))
            return
        builder = self.creates[build.builder]
        ws = MWorkspace(key, build.index, build.call, builder.channels)
        self.built[ws.real_id] = ws
        refusal = self._refusal(builder.client)
        if refusal is not None:
            self._refuse_build(ws, build, refusal)
            return
        ws.live = True
        self.live[key] = ws
        self._register(ws, builder.client)
        self._finish(build.builder, ws)
        self._run_creates(key, build.waiters)

    def _refuse_build(
        self, ws: MWorkspace, build: MBuild, refusal: type[CrushdError]
    ) -> None:
        event(f"builder refused after its build: {refusal.__name__}")
        if build.waiters:
            event(f"builder refused with others waiting: {refusal.__name__}")
        self._teardown(ws)
        self._finish(build.builder, Expected(refusal))
        if BUG_WAITERS_GET_BUILDER_REFUSAL:
            for cid in build.waiters:
                self._finish(cid, Expected(refusal))
        else:
            self._run_creates(ws.key, build.waiters)

    def cancel_create(self, cid: int) -> None:
        """The create's task was cancelled while it waited or built."""
        key = self.creates[cid].key
        waiting = self.cleanup_waiters.get(key, [])
        build = self.builds.get(key)
        if cid in waiting:
            waiting.remove(cid)
        elif build is not None and cid in build.waiters:
            build.waiters.remove(cid)
        else:
            assert build is not None, f"create {cid} is not in flight"
            assert build.builder == cid, f"create {cid} is not the builder"
            event("a builder was cancelled")
            del self.builds[key]
            self._finish(cid, CANCELLED)
            self._run_creates(key, build.waiters)
            return
        self._finish(cid, CANCELLED)

    def _finish(self, cid: int, result: MWorkspace | Expected | str) -> None:
        create = self.creates[cid]
        create.done, create.result = True, result
        self.pending -= 1
        self._maybe_arm_idle()

    # ------------------------------------------------------------- claims

    def _register(self, ws: MWorkspace, client: str) -> None:
        claim = ws.claims.setdefault(client, MClaim(next(self._incs)))
        if claim.released:
            event("a create cleared a claim's released flag")
        claim.released = False
        if claim.streams == 0:
            claim.deadline = self.now + CREATE_GRACE

    def attach(self, ws: MWorkspace | None, client: str) -> MTicket:
        if ws is None or not ws.live:
            raise WorkspaceNotFound
        if client in self.retired_now():
            event("a retired client's attach was refused")
            raise ClientRetired
        claim = ws.claims.setdefault(client, MClaim(next(self._incs)))
        claim.deadline = None
        claim.streams += 1
        return MTicket(ws, client, claim.inc)

    def detach(self, ticket: MTicket) -> None:
        if not self.ticket_alive(ticket):
            return
        claim = ticket.ws.claims[ticket.client]
        claim.streams -= 1
        if claim.streams > 0:
            return
        if claim.released:
            event("a released claim's last stream ended")
        if claim.released or self.p.detach_grace <= 0:
            self._remove_claim(ticket.ws, ticket.client)
        else:
            claim.deadline = self.now + self.p.detach_grace

    def release(self, ws: MWorkspace | None, client: str) -> None:
        claim = ws.claims.get(client) if ws is not None and ws.live else None
        if ws is None or claim is None:
            return
        claim.deadline = None
        if claim.streams == 0:
            self._remove_claim(ws, client)
        else:
            event("a streaming claim was released")
            claim.released = True

    def set_session(self, ws: MWorkspace | None, client: str, session: str) -> None:
        if ws is None or not ws.live:
            raise WorkspaceNotFound
        claim = ws.claims.get(client)
        if claim is None or claim.streams == 0:
            raise ClientNotAttached
        claim.current = session

    def retire(self, client: str) -> None:
        if self.retired.keys() - self.retired_now():
            event("a retired client was forgotten")
        self.retired[client] = self.now
        for ws in list(self.live.values()):
            if client in ws.claims:
                ws.wakes += 1
                self._remove_claim(ws, client)

    def _remove_claim(self, ws: MWorkspace, client: str) -> None:
        del ws.claims[client]
        if not ws.claims and ws.live:
            self._teardown(ws)

    # ----------------------------------------------------- teardown, close

    def _teardown(self, ws: MWorkspace) -> None:
        if self.live.get(ws.key) is ws:
            del self.live[ws.key]
        ws.live = False
        ws.torn_at = self.now
        self.cleanups[ws.key] = ws
        self._maybe_arm_idle()

    def cleanup_done_at(self, ws: MWorkspace) -> float:
        assert ws.torn_at is not None
        return ws.torn_at + min(self.p.aclose_delay, CLEANUP_SECONDS)

    def _finish_cleanup(self, key: str) -> None:
        ws = self.cleanups.pop(key)
        ws.cleaned = True
        if self.p.aclose_delay > CLEANUP_SECONDS:
            event("cleanup cut off at CLEANUP_SECONDS")
        self._run_creates(key, self.cleanup_waiters.pop(key, []))

    def close(self) -> None:
        self.closing = True
        self.idle_deadline = None
        for ws in list(self.live.values()):
            ws.claims.clear()
            self._teardown(ws)

    def request_shutdown(self) -> None:
        if not self.is_idle():
            raise ServerBusy
        self.closing = True
        self.idle_deadline = None
        self.on_idle += 1

    # ---------------------------------------------------------------- idle

    def _maybe_arm_idle(self) -> None:
        if not self.closing and self.idle_deadline is None and self.is_idle():
            self.idle_deadline = self.now + IDLE_TIMEOUT

    def _idle_expired(self) -> None:
        self.idle_deadline = None
        if self.is_idle() and not self.closing:
            event("idle linger fired")
            self.closing = True
            self.on_idle += 1

    # ---------------------------------------------------------------- time

    def advance(self, seconds: float) -> None:
        """Move to ``now + seconds``, firing every due event in time order."""
        target = self.now + seconds
        while (due := self._next_event()) is not None and due[0] <= target:
            self.now = due[0]
            due[1]()
        self.now = target

    def _next_event(self) -> tuple[float, Callable[[], None]] | None:
        builds = self.builds.items()
        events = [
            *((b.done_at, _bind(self._finish_build, k)) for k, b in builds),
            *(
                (self.cleanup_done_at(w), _bind(self._finish_cleanup, k))
                for k, w in self.cleanups.items()
            ),
            *self._hold_events(),
        ]
        if self.idle_deadline is not None:
            events.append((self.idle_deadline, self._idle_expired))
        return min(events, key=lambda e: e[0], default=None)

    def _hold_events(self) -> list[tuple[float, Callable[[], None]]]:
        return [
            (claim.deadline, _bind(self._hold_expired, ws, client))
            for ws in self.live.values()
            for client, claim in ws.claims.items()
            if claim.deadline is not None
        ]

    def _hold_expired(self, ws: MWorkspace, client: str) -> None:
        event("a hold expired")
        ws.claims[client].deadline = None
        self._remove_claim(ws, client)


def _bind(fn: Callable[..., None], *args: object) -> Callable[[], None]:
    return lambda: fn(*args)


# ----------------------------------------------------------------- the harness


def outcome(fn: Callable[[], T]) -> T | type[CrushdError]:
    """Run ``fn``; return its value, or the class of the ``CrushdError`` raised."""
    try:
        return fn()
    except CrushdError as exc:
        return type(exc)


def error_of(value: object) -> object:
    return value if isinstance(value, type) else None


class Harness:
    """Runs each operation on the real registry, then on the model, and compares."""

    def __init__(self, params: Params, nursery: trio.Nursery) -> None:
        self.params = params
        self.nursery = nursery
        self.factory = FakeFactory(params)
        self.idle_calls = 0
        self.registry = Registry(self.factory, params.settings(), self._on_idle)
        self.model = Model(params, self.factory.call)
        self.results: dict[int, Hosted | CrushdError | str] = {}
        self.scopes: dict[int, trio.CancelScope] = {}
        self.generations = [0] * CLIENT_SLOTS
        self.tickets: list[tuple[StreamTicket, MTicket]] = []
        self.detached: list[StreamTicket] = []
        self.served = trio.Event()
        self._cids = itertools.count()

    def _on_idle(self) -> None:
        self.idle_calls += 1

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        await self.registry.serve(task_status=task_status)
        self.served.set()

    async def step(self, op: Op) -> None:
        await op.apply(self)
        self.model.advance(0.0)
        check(self)

    async def compare(
        self, real: Callable[[], object], model: Callable[[], object]
    ) -> tuple[object, object]:
        """Run ``real``, let tasks settle, run ``model``; their errors must match."""
        got = outcome(real)
        await settle()
        want = outcome(model)
        assert error_of(got) is error_of(want), f"registry {got!r}, model {want!r}"
        return got, want

    def resolve(self, who: Who) -> Target:
        """Name what ``who`` points at (falling back to a ``Held``, then a ``Slot``)."""
        if isinstance(who, Slot):
            ws = self.model.target(KEYS[who.path], who.stale)
            client = client_id(who.client, self.generations[who.client])
            return Target(ws, client, who.path)
        named = self._named(who)
        if not named and isinstance(who, Stream):
            return self.resolve(Held(who.index))
        if not named:
            slot = Slot(who.index % len(PATHS), who.index % CLIENT_SLOTS)
            return self.resolve(slot)
        ws, key, client = named[who.index % len(named)]
        return Target(ws, client, KEYS.index(key))

    def _named(self, who: Stream | Held | Building) -> list[Named]:
        model = self.model
        if isinstance(who, Stream):
            return [(m.ws, m.ws.key, m.client) for _, m in self.tickets]
        if isinstance(who, Held):
            live = model.live.values()
            return [(w, w.key, c) for w in live for c in sorted(w.claims)]
        builds = sorted(model.builds.items())
        return [(None, k, model.creates[b.builder].client) for k, b in builds]

    async def attach(self, t: Target) -> None:
        got, want = await self.compare(
            lambda: self.registry.attach(t.id, t.client),
            lambda: self.model.attach(t.ws, t.client),
        )
        if isinstance(got, StreamTicket):
            assert isinstance(want, MTicket)
            self.tickets.append((got, want))

    def next_generation(self, client: str) -> None:
        for slot, generation in enumerate(self.generations):
            if client == client_id(slot, generation):
                self.generations[slot] += 1

    async def create(self, path: int, client: str, channels: bool) -> None:
        cid = next(self._cids)
        request = Workspace(
            path=PATHS[path],
            client_id=client,
            channels=["c"] if channels else [],
            version=str(cid),
        )
        scope = self.scopes[cid] = trio.CancelScope()
        self.nursery.start_soon(self._create_task, cid, request, scope)
        await settle()
        self.model.create(cid, client, KEYS[path], channels)

    async def _create_task(
        self, cid: int, request: Workspace, scope: trio.CancelScope
    ) -> None:
        with scope:
            try:
                self.results[cid] = await self.registry.create(request)
            except CrushdError as exc:
                self.results[cid] = exc
        if scope.cancelled_caught:
            self.results[cid] = CANCELLED

    async def finish(self) -> None:
        """Close, wait for ``serve`` to return, and check that nothing is left."""
        self.registry.close()
        await settle()
        self.model.close()
        with trio.move_on_after(FINISH_BOUND):
            await self.served.wait()
        assert self.served.is_set(), "Registry.serve did not return after close()"
        await settle()
        self.model.advance(trio.current_time() - self.model.now)
        check(self)
        check_final(self)


# ------------------------------------------------------------------ operations


@attrs.frozen
class Slot:
    """Names a (workspace, client) by path and client process.

    The workspace is the live one at the path or, when ``stale``, the newest
    dead one there; with neither, an unknown id.
    """

    path: int
    client: int
    stale: bool = False


@attrs.frozen
class Stream:
    """Names the (workspace, client) of a stream's ticket, by pool index.

    With no tickets it names ``Held(index)`` instead.
    """

    index: int


@attrs.frozen
class Held:
    """Names a live claim of the model (any kind), by index in key order.

    With no live claim it names ``Slot(index % 3, index % 3)`` instead.
    """

    index: int


@attrs.frozen
class Building:
    """Names the client and path of an in-flight build's builder, by index.

    With no build in flight it names ``Slot(index % 3, index % 3)`` instead.
    """

    index: int


Who = Slot | Stream | Held | Building
Named = tuple[MWorkspace | None, str, str]  # workspace, key, client id


@attrs.frozen
class Target:
    """A resolved ``Who``: model workspace (or none), client, a path spelling."""

    ws: MWorkspace | None
    client: str
    path: int

    @property
    def id(self) -> str:
        return self.ws.real_id if self.ws is not None else UNKNOWN_ID


@attrs.frozen
class Create:
    """``POST /workspaces`` in its own task (it may wait for a build/cleanup)."""

    who: Who
    channels: bool = False

    async def apply(self, h: Harness) -> None:
        t = h.resolve(self.who)
        await h.create(t.path, t.client, self.channels)


@attrs.frozen
class Attach:
    """Open a stream; a ticket joins the pool."""

    who: Who

    async def apply(self, h: Harness) -> None:
        await h.attach(h.resolve(self.who))


@attrs.frozen
class Detach:
    """End a stream (pool index); with no open stream, attach ``Held(index)``.

    The stream operations fall back to an attach so that an example whose
    pool is empty still does something.
    """

    index: int

    async def apply(self, h: Harness) -> None:
        if not h.tickets:
            await h.attach(h.resolve(Held(self.index)))
            return
        ticket, mticket = h.tickets.pop(self.index % len(h.tickets))
        h.detached.append(ticket)
        await h.compare(
            lambda: h.registry.detach(ticket), lambda: h.model.detach(mticket)
        )


@attrs.frozen
class Reconnect:
    """A stream drops and its client attaches again to the same workspace."""

    index: int

    async def apply(self, h: Harness) -> None:
        if not h.tickets:
            await Detach(self.index).apply(h)
            return
        ws, client = h.tickets[self.index % len(h.tickets)][1].named()
        await h.step(Detach(self.index))
        await h.attach(Target(ws, client, KEYS.index(ws.key)))


@attrs.frozen
class Leave:
    """A client releases a workspace it streams from, then that stream ends."""

    index: int

    async def apply(self, h: Harness) -> None:
        if h.tickets:
            await h.step(Release(Stream(self.index)))
        await Detach(self.index).apply(h)


@attrs.frozen
class Quit:
    """A streaming client retires and its stream still tries to re-attach."""

    index: int

    async def apply(self, h: Harness) -> None:
        if not h.tickets:
            await Detach(self.index).apply(h)
            return
        ws, client = h.tickets[self.index % len(h.tickets)][1].named()
        await h.step(Retire(Stream(self.index)))
        await h.attach(Target(ws, client, KEYS.index(ws.key)))


@attrs.frozen
class DetachAgain:
    """A second ``detach`` of one ticket: a no-op (else a plain ``Detach``)."""

    index: int

    async def apply(self, h: Harness) -> None:
        if not h.detached:
            await Detach(self.index).apply(h)
            return
        ticket = h.detached[self.index % len(h.detached)]
        await h.compare(lambda: h.registry.detach(ticket), lambda: None)


@attrs.frozen
class Release:
    """``DELETE /workspaces/{id}?client_id=``."""

    who: Who

    async def apply(self, h: Harness) -> None:
        t = h.resolve(self.who)
        await h.compare(
            lambda: h.registry.release(t.id, t.client),
            lambda: h.model.release(t.ws, t.client),
        )


@attrs.frozen
class SetSession:
    """``POST /workspaces/{id}/current-session``."""

    who: Who
    session: str

    async def apply(self, h: Harness) -> None:
        t = h.resolve(self.who)
        await h.compare(
            lambda: h.registry.set_current_session(t.id, t.client, self.session),
            lambda: h.model.set_session(t.ws, t.client, self.session),
        )


@attrs.frozen
class Retire:
    """Retire a client; its slot's next process uses a fresh id."""

    who: Who

    async def apply(self, h: Harness) -> None:
        client = h.resolve(self.who).client
        h.next_generation(client)
        await h.compare(
            lambda: h.registry.retire(client), lambda: h.model.retire(client)
        )


@attrs.frozen
class Advance:
    """Let virtual time pass; every timer due on the way fires in order."""

    seconds: float

    async def apply(self, h: Harness) -> None:
        await trio.sleep(self.seconds)
        await settle()
        h.model.advance(self.seconds)


@attrs.frozen
class FailNextBuild:
    """The next build of this path's key raises ``InternalError``."""

    path: int

    async def apply(self, h: Harness) -> None:
        h.factory.fail_next.add(KEYS[self.path])
        h.model.fail_next.add(KEYS[self.path])


@attrs.frozen
class CancelCreate:
    """Cancel the task of an unfinished create (its client went away)."""

    index: int

    async def apply(self, h: Harness) -> None:
        pending = [cid for cid, c in h.model.creates.items() if not c.done]
        if pending:
            cid = pending[self.index % len(pending)]
            await h.compare(h.scopes[cid].cancel, lambda: h.model.cancel_create(cid))


@attrs.frozen
class RequestShutdown:
    """``POST /v1/control`` shutdown (idle-gated)."""

    async def apply(self, h: Harness) -> None:
        await h.compare(h.registry.request_shutdown, h.model.request_shutdown)


@attrs.frozen
class Close:
    """The daemon's shutdown: ``Registry.close()``."""

    async def apply(self, h: Harness) -> None:
        await h.compare(h.registry.close, h.model.close)


Op = (
    Create
    | Attach
    | Detach
    | DetachAgain
    | Reconnect
    | Leave
    | Quit
    | Release
    | SetSession
    | Retire
    | Advance
    | CancelCreate
    | FailNextBuild
    | RequestShutdown
    | Close
)

# ------------------------------------------------------------------ the checks


def check(h: Harness) -> None:
    """Compare the whole observable state of registry and model."""
    check_creates(h)
    check_workspaces(h)
    check_teardowns(h)
    check_hosted(h)
    check_tickets(h)
    check_global(h)


def check_creates(h: Harness) -> None:
    for cid, want in h.model.creates.items():
        got = h.results.get(cid)
        assert (got is not None) == want.done, f"create {cid}: {got!r} vs {want!r}"
        if isinstance(want.result, MWorkspace):
            assert isinstance(got, Hosted), f"create {cid}: {got!r} vs {want!r}"
            assert got.workspace is want.result.call.workspace, f"create {cid}"
        elif isinstance(want.result, Expected):
            assert isinstance(got, want.result.cls), f"create {cid}: {got!r}"
            assert want.result.message in {None, str(got)}, f"create {cid}: {got!r}"
        else:
            assert got == want.result, f"create {cid}: {got!r} vs {want!r}"


def check_workspaces(h: Harness) -> None:
    """Live workspaces by id and by key, and each one's claim table."""
    live = {hosted.key: hosted for hosted in h.registry.workspaces()}
    assert live.keys() == h.model.live.keys()
    # Private on purpose: the path index must agree with the id map.
    assert h.registry._by_key == live
    for key, hosted in live.items():
        ws = h.model.live[key]
        assert hosted.workspace is ws.call.workspace
        assert h.registry.get(hosted.id) is hosted
        assert not hosted.torn_down
        check_claims(h, hosted, ws)


def check_claims(h: Harness, hosted: Hosted, ws: MWorkspace) -> None:
    got = {
        row.client_id: (row.streams, row.released, row.current_session_id)
        for row in h.registry.roster(hosted.id)
    }
    want = {c: (m.streams, m.released, m.current) for c, m in ws.claims.items()}
    assert got == want, f"claims of {ws.key}#{ws.index}"
    holds = {c: (m.hold.deadline if m.hold else None) for c, m in hosted.claims.items()}
    assert holds == {c: m.deadline for c, m in ws.claims.items()}, "hold deadlines"
    for session in SESSIONS:
        n = sum(1 for m in ws.claims.values() if m.streams and m.current == session)
        assert h.registry.attached_clients(hosted.id, session) == n, session


def check_teardowns(h: Harness) -> None:
    """Every built workspace is torn down and cleaned exactly once, when due."""
    real = {c.workspace.id for c in h.factory.calls if c.workspace is not None}
    assert real == h.model.built.keys()
    cut_off = h.params.aclose_delay > CLEANUP_SECONDS
    for ws in h.model.built.values():
        fake = ws.call.workspace
        assert fake is not None
        torn = ws.torn_at is not None
        assert (fake.aclose_calls, fake.log.closed) == (torn, torn), ws.real_id
        assert fake.log.wakes == ws.wakes, ws.real_id
        assert fake.aclose_done == (ws.cleaned and not cut_off), ws.real_id


def check_hosted(h: Harness) -> None:
    """No claim survives on a torn-down workspace; cleanup events match."""
    seen = [r for r in h.results.values() if isinstance(r, Hosted)]
    seen += [ticket.hosted for ticket, _ in h.tickets]
    for hosted in seen:
        ws = h.model.built[hosted.id]
        assert hosted.torn_down == (ws.torn_at is not None), hosted.id
        assert not (hosted.torn_down and hosted.claims), hosted.id
        assert hosted.cleaned.is_set() == ws.cleaned, hosted.id


def check_tickets(h: Harness) -> None:
    for ticket, mticket in h.tickets:
        assert ticket.alive == h.model.ticket_alive(mticket), mticket
    assert not any(ticket.alive and not ticket.detached for ticket in h.detached)


def check_global(h: Harness) -> None:
    m = h.model
    claims = [c for ws in m.live.values() for c in ws.claims.values()]
    assert h.registry.statistics() == RegistryStatistics(
        workspaces=len(m.live),
        claims=len(claims),
        streams=sum(c.streams for c in claims),
        builds_in_flight=len(m.builds),
        cleanups_in_flight=len(m.cleanups),
        retired_clients=len(m.retired_now()),
        closing=m.closing,
    )
    assert h.registry.is_idle() == m.is_idle()
    assert h.registry.closing == m.closing
    assert h.idle_calls == m.on_idle, "idle callback"
    scope = h.registry._idle_scope  # private: the idle linger's deadline
    assert (scope.deadline if scope else None) == m.idle_deadline, "idle deadline"


def check_final(h: Harness) -> None:
    """After close() and serve's return: nothing pending, everything cleaned."""
    assert all(c.done for c in h.model.creates.values())
    assert all(ws.cleaned for ws in h.model.built.values())
    assert not any(ticket.alive for ticket, _ in h.tickets)
    assert h.registry.statistics().workspaces == 0
    assert h.model.idle_deadline is None


# -------------------------------------------------------------- the strategies


def weighted(*table: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """Pick a strategy with the given relative weight (shrinks to the first)."""
    choices = [strategy for weight, strategy in table for _ in range(weight)]
    return st.sampled_from(choices).flatmap(lambda strategy: strategy)


paths = st.integers(0, len(PATHS) - 1)
clients = st.integers(0, CLIENT_SLOTS - 1)
rare = st.sampled_from([False] * 7 + [True])
# Stream and Held name existing claims and Building a builder, so releases,
# session changes, joins, second attaches and retires of live claims (and of
# builders mid-build) are common enough.
slots = st.builds(Slot, paths, clients, rare)
builders = st.builds(Building, st.integers(0, 3))
streams = st.builds(Stream, st.integers(0, 7))
held = st.builds(Held, st.integers(0, 7))
who = weighted((4, slots), (1, builders), (1, streams), (2, held))
claim = weighted((2, slots), (1, builders), (3, streams), (4, held))

# Creates, attaches, detaches and small advances are common; the destructive
# and latch-setting operations are rare, or most examples would end early.
# The rare ones sit in the middle: hypothesis favours a choice's two ends.
operations: st.SearchStrategy[Op] = weighted(
    (40, st.builds(Create, who, rare)),
    (32, st.builds(Attach, claim)),
    (12, st.builds(Release, claim)),
    (8, st.builds(Retire, claim)),
    (1, st.builds(RequestShutdown)),
    (1, st.builds(Close)),
    (6, st.builds(Advance, st.sampled_from(LONG_ADVANCES))),
    (1, st.builds(Advance, st.just(RETIRED_TTL_SECONDS))),
    (4, st.builds(FailNextBuild, paths)),
    (4, st.builds(CancelCreate, st.integers(0, 3))),
    (12, st.builds(SetSession, claim, st.sampled_from(SESSIONS))),
    (6, st.builds(DetachAgain, st.integers(0, 7))),
    (6, st.builds(Leave, st.integers(0, 7))),
    (8, st.builds(Reconnect, st.integers(0, 7))),
    (3, st.builds(Quit, st.integers(0, 7))),
    (24, st.builds(Detach, st.integers(0, 7))),
    (26, st.builds(Advance, st.sampled_from(SHORT_ADVANCES))),
)

timings = st.builds(
    Params,
    build_delay=st.sampled_from([0.0, 0.5, 1.5]),
    aclose_delay=st.sampled_from([0.0, 2.0, 4.0, CLEANUP_SECONDS + 2.0]),
    detach_grace=st.sampled_from([3.0, 0.0]),
)

# Draw the length first, uniformly: plain ``st.lists`` averages about five
# operations, and ``st.integers`` favours small values too.
op_lists = st.sampled_from(range(41)).flatmap(
    lambda n: st.lists(operations, min_size=n, max_size=n)
)


async def replay(params: Params, ops: list[Op]) -> None:
    async with trio.open_nursery() as nursery:
        h = Harness(params, nursery)
        await nursery.start(h.serve)
        check(h)
        for op in ops:
            await h.step(op)
        await h.finish()


@settings(PROFILE, suppress_health_check=[HealthCheck.too_slow])
@given(params=timings, ops=op_lists)
def test_registry_matches_model(params: Params, ops: list[Op]) -> None:
    """Random operation sequences leave the registry in the model's state."""
    assert not os.path.exists(_ROOT)
    clock = trio.testing.MockClock(autojump_threshold=0)
    event(f"{len(ops) // 10 * 10}+ operations")
    trio.run(replay, params, ops, clock=clock)
