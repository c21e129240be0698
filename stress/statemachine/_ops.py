"""The operations of a generated script; each runs on the daemon and the model.

An operation names what it acts on by small integers resolved against the
current state (``_targets``), so hypothesis can shrink a failing script to a
few short, readable lines. Every operation that talks to the daemon first
starts it if it is down (as crushctl's auto-spawn does). This module holds the
workspace and stream operations and the ``Op`` union; the session ones live
in ``_ops_sessions``, time and the daemon's life in ``_ops_daemon``.
"""

from __future__ import annotations

import attrs
import trio

from ._checks import check
from ._harness import Harness
from ._model import MWorkspace
from ._ops_daemon import Advance, Restart, RestartMidCreate, ShutdownIfIdle
from ._ops_sessions import Drop, NewSession, Rename, SetSession
from ._targets import Held, Slot, Who, pick_stream, resolve
from ._world import KEYS, settle

__all__ = [
    "Advance",
    "Attach",
    "Close",
    "Create",
    "CreatePair",
    "Drop",
    "Held",
    "NewSession",
    "Op",
    "Rejoin",
    "Release",
    "Rename",
    "Restart",
    "RestartMidCreate",
    "Resume",
    "Retire",
    "SetSession",
    "ShutdownIfIdle",
    "Slot",
]


async def _create(h: Harness, spelling: int, cid: str) -> None:
    path, key = h.world.path(spelling), h.world.key(spelling)

    def model(got: object) -> MWorkspace:
        ws = h.model.create(key, path, cid)
        real_id = getattr(got, "id", "")
        ws.real_id = ws.real_id or real_id
        assert ws.real_id == real_id, f"create joined {real_id}, model {ws.real_id}"
        return ws

    await h.call(lambda: h.client(cid).create_workspace(path), model, "create")


@attrs.frozen
class Create:
    """``POST /v1/workspaces`` (create or join) from a client slot."""

    who: Slot

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        await _create(h, self.who.spelling, h.client_id(self.who.client))


@attrs.frozen
class CreatePair:
    """Two clients create at once (one build shared, or a join).

    Who built first decides the echoed ``path``, so the model takes it from
    the daemon when it is one of the two spellings of a new workspace.
    """

    first: Slot
    second: Slot

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        slots = [self.first, self.second]
        cids = [h.client_id(s.client) for s in slots]
        keys = {h.world.key(s.spelling) for s in slots}
        fresh = {k for k in keys if k not in h.model.live}
        answers: list[object] = [None, None]

        async def one(i: int) -> None:
            client = h.client(cids[i])
            try:
                answers[i] = await client.create_workspace(
                    h.world.path(slots[i].spelling)
                )
            except Exception as exc:  # noqa: BLE001 - compared below
                answers[i] = exc

        async with trio.open_nursery() as nursery:
            nursery.start_soon(one, 0)
            nursery.start_soon(one, 1)
        await settle()
        for i, slot in enumerate(slots):
            same_key = [s for s in slots if KEYS[s.spelling] == KEYS[slot.spelling]]
            spellings = {h.world.path(s.spelling) for s in same_key}
            await _adopt(h, slot.spelling, cids[i], answers[i], fresh, spellings)


async def _adopt(
    h: Harness,
    spelling: int,
    cid: str,
    answer: object,
    fresh: set[str],
    spellings: set[str],
) -> None:
    key = h.world.key(spelling)
    ws = h.model.live.get(key)
    if isinstance(answer, Exception):
        status = getattr(answer, "status", None)
        assert status == 409, f"pair create: {answer!r}"
        assert h.model.is_retired(cid), f"pair create refused: {answer!r}"
        return
    real_id, real_path = getattr(answer, "id", ""), getattr(answer, "path", "")
    assert key not in fresh or real_path in spellings, f"echoed path {real_path}"
    ws = h.model.create(key, real_path if key in fresh else h.world.path(spelling), cid)
    ws.real_id = ws.real_id or real_id
    assert ws.real_id == real_id, f"pair create joined {real_id}, model {ws.real_id}"


@attrs.frozen
class Rejoin:
    """Release a workspace and create it again at once (may wait for its cleanup)."""

    who: Slot

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        t = resolve(h, self.who)
        client = h.client(t.client)
        await client.delete_workspace(t.id)
        h.model.release(t.ws, t.client)
        await _create(h, t.spelling, t.client)


@attrs.frozen
class Attach:
    """Open an event stream for ``who``: SSE, or WebSocket when ``websocket``.

    Several per client are fine.
    """

    who: Who
    websocket: bool = False

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        t = resolve(h, self.who)
        await h.open_stream(t.ws, t.client, websocket=self.websocket)


@attrs.frozen
class Close:
    """The ``index``-th open stream's client goes away (else: attach ``Held``).

    Then ``wait`` ticks pass (enough to outlive the detach grace when 9).
    """

    index: int
    wait: int = 0

    async def apply(self, h: Harness) -> None:
        stream = pick_stream(h, self.index)
        if stream is None:
            await Attach(Held(self.index)).apply(h)
            return
        await h.close_stream(stream)
        if self.wait:
            await check(h)
            await Advance(self.wait).apply(h)


@attrs.frozen
class Resume:
    """A stream drops and reconnects with ``Last-Event-ID`` ``back`` ids earlier.

    A negative ``back`` resumes from an id the daemon never sent (``resync``).
    """

    index: int
    back: int

    async def apply(self, h: Harness) -> None:
        stream = pick_stream(h, self.index)
        if stream is None:
            await Attach(Held(self.index)).apply(h)
            return
        assert stream.model is not None
        ws = stream.model.ws
        last = stream.received[-1].id if stream.received else 0
        await h.close_stream(stream)
        cursor = max(0, last - self.back)
        await h.open_stream(ws, stream.client, cursor, websocket=stream.ws)


@attrs.frozen
class Release:
    """``DELETE /v1/workspaces/{id}?client_id=`` (release the hold)."""

    who: Who

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        t = resolve(h, self.who)
        await h.call(
            lambda: h.client(t.client).delete_workspace(t.id),
            lambda _: h.model.release(t.ws, t.client),
            "release",
        )


@attrs.frozen
class Retire:
    """``DELETE /v1/clients/{id}``; the slot's next process has a fresh id."""

    who: Who

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        cid = resolve(h, self.who).client
        for slot in range(len(h.generations)):
            if h.client_id(slot) == cid:
                h.next_generation(slot)
        await h.call(
            lambda: h.client(cid).retire(), lambda _: h.model.retire(cid), "retire"
        )


Op = (
    Create
    | CreatePair
    | Rejoin
    | Attach
    | Close
    | Resume
    | Release
    | Retire
    | SetSession
    | NewSession
    | Rename
    | Drop
    | Advance
    | Restart
    | RestartMidCreate
    | ShutdownIfIdle
)
