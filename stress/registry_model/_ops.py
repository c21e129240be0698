"""The operations on workspaces, streams and clients, and the ``Op`` union.

Each operation runs on the registry and on the model (``Harness.compare``);
``step`` runs one, fires the model's timers due at the same instant and
compares the whole state. The stream operations fall back to an attach when
no stream is open, so an example whose pool is empty still does something.
Time, build failures, cancelled creates and shutdown live in ``_ops_life``.
"""

from __future__ import annotations

import attrs

from ._checks import check
from ._harness import Harness, Held, Stream, Target, Who
from ._ops_life import Advance, CancelCreate, Close, FailNextBuild, RequestShutdown
from ._world import KEYS

__all__ = [
    "Advance",
    "Attach",
    "CancelCreate",
    "Close",
    "Create",
    "Detach",
    "DetachAgain",
    "FailNextBuild",
    "Leave",
    "Op",
    "Quit",
    "Reconnect",
    "Release",
    "RequestShutdown",
    "Retire",
    "SetSession",
    "step",
]


async def step(h: Harness, op: Op) -> None:
    """Run ``op``, fire what is due now, and compare registry and model."""
    await op.apply(h)
    h.model.advance(0.0)
    check(h)


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
    """End a stream (pool index); with no open stream, attach ``Held(index)``."""

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


async def _then_reattach(h: Harness, index: int, first: Op) -> None:
    """Run ``first`` on the ``index``-th stream's claim, then attach it again.

    With no open stream, a plain ``Detach`` (which attaches a held claim).
    """
    if not h.tickets:
        await Detach(index).apply(h)
        return
    ws, client = h.tickets[index % len(h.tickets)][1].named()
    await step(h, first)
    await h.attach(Target(ws, client, KEYS.index(ws.key)))


@attrs.frozen
class Reconnect:
    """A stream drops and its client attaches again to the same workspace."""

    index: int

    async def apply(self, h: Harness) -> None:
        await _then_reattach(h, self.index, Detach(self.index))


@attrs.frozen
class Leave:
    """A client releases a workspace it streams from, then that stream ends."""

    index: int

    async def apply(self, h: Harness) -> None:
        if h.tickets:
            await step(h, Release(Stream(self.index)))
        await Detach(self.index).apply(h)


@attrs.frozen
class Quit:
    """A streaming client retires and its stream still tries to re-attach."""

    index: int

    async def apply(self, h: Harness) -> None:
        await _then_reattach(h, self.index, Retire(Stream(self.index)))


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
