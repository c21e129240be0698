"""The harness: the real registry beside the model, and how operations name targets.

An operation names the (workspace, client) it acts on by path and client
process (``Slot``), or by index among open streams (``Stream``), live claims
(``Held``) or in-flight builders (``Building``); ``Harness.resolve`` turns that
into a ``Target`` against the model's current state (indices wrap around, and
an empty pool falls back to a ``Held``, then a ``Slot``). ``Harness.compare``
runs a registry call and its model twin and checks both raised the same error.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TypeVar

import attrs
import trio

from crushd.errors import CrushdError
from crushd.proto import Workspace
from crushd.registry import Hosted, Registry, StreamTicket

from ._model import Model
from ._state import MTicket, MWorkspace
from ._world import (
    CANCELLED,
    CLIENT_SLOTS,
    KEYS,
    PATHS,
    UNKNOWN_ID,
    FakeFactory,
    Params,
    client_id,
    settle,
)

T = TypeVar("T")


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
