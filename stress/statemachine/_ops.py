"""The operations of a generated script; each runs on the daemon and the model.

An operation names what it acts on by small integers resolved against the
current state (a path spelling and client slot, the n-th live claim, the
n-th open stream, the n-th session), so hypothesis can shrink a failing
script to a few short, readable lines. Every operation that talks to the
daemon first starts it if it is down (as crushctl's auto-spawn does).
"""

from __future__ import annotations

import attrs
import trio
import trio.testing

from crushctl import CrushctlError

from . import _model
from ._checks import check
from ._harness import UNKNOWN_ID, Harness, Stream
from ._model import TICK, MWorkspace
from ._world import KEYS, settle

TITLES = ("alpha", "beta", "gamma")
#: A session id no daemon minted.
MISSING_SESSION = "00000000-0000-4000-8000-00000000dead"


@attrs.frozen
class Slot:
    """Path spelling ``spelling`` (see ``_world.SPELLINGS``) and client ``client``."""

    spelling: int
    client: int


@attrs.frozen
class Held:
    """The ``index``-th live claim (workspace order, then client id)."""

    index: int


Who = Slot | Held


@attrs.frozen
class Target:
    """A resolved ``Who``: the model workspace (``None``: none live), client id."""

    ws: MWorkspace | None
    client: str
    spelling: int

    @property
    def id(self) -> str:
        return self.ws.real_id if self.ws is not None else UNKNOWN_ID


def resolve(h: Harness, who: Who) -> Target:
    """Name what ``who`` points at; a ``Held`` with no claim falls back to a slot."""
    if isinstance(who, Held):
        claims = [
            (ws, cid) for ws in h.model.live.values() for cid in sorted(ws.claims)
        ]
        if claims:
            ws, cid = claims[who.index % len(claims)]
            return Target(ws, cid, KEYS.index(ws.key.rsplit("/", 1)[-1]))
        who = Slot(who.index % 4, who.index % 3)
    live = h.model.live.get(h.world.key(who.spelling))
    return Target(live, h.client_id(who.client), who.spelling)


def _stream(h: Harness, index: int) -> Stream | None:
    streams = h.open_streams()
    return streams[index % len(streams)] if streams else None


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
        assert cid in h.model.retired, f"pair create refused: {answer!r}"
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
    """Open an SSE stream for ``who`` (several per client are fine)."""

    who: Who

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        t = resolve(h, self.who)
        await h.open_stream(t.ws, t.client)


@attrs.frozen
class Close:
    """The ``index``-th open stream's client goes away (else: attach ``Held``).

    Then ``wait`` ticks pass (enough to outlive the detach grace when 9).
    """

    index: int
    wait: int = 0

    async def apply(self, h: Harness) -> None:
        stream = _stream(h, self.index)
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
        stream = _stream(h, self.index)
        if stream is None:
            await Attach(Held(self.index)).apply(h)
            return
        assert stream.model is not None
        ws = stream.model.ws
        last = stream.received[-1].id if stream.received else 0
        await h.close_stream(stream)
        await h.open_stream(ws, stream.client, max(0, last - self.back))


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


def _session(h: Harness, ws: MWorkspace | None, index: int, clear: str = "") -> str:
    """The ``index``-th session of ``ws``'s project; ``clear`` when ``index < 0``."""
    sessions = sorted(h.model.sessions.get(ws.key, {})) if ws else []
    if index < 0:
        return clear
    return sessions[index % len(sessions)] if sessions else MISSING_SESSION


@attrs.frozen
class SetSession:
    """``POST .../current-session`` with the ``session``-th session (-1: clear)."""

    who: Who
    session: int

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        t = resolve(h, self.who)
        sid = _session(h, t.ws, self.session)
        await h.call(
            lambda: h.client(t.client).set_current_session(t.id, sid),
            lambda _: h.model.set_session(t.ws, t.client, sid),
            "current-session",
        )


@attrs.frozen
class NewSession:
    """``POST .../sessions`` ``count`` times: publishes ``session``/``created``."""

    who: Who
    title: int
    count: int = 1

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        t = resolve(h, self.who)
        title = TITLES[self.title % len(TITLES)]
        for _ in range(self.count):
            got, _ = await h.call(
                lambda: h.client(t.client).create_session(t.id, title),
                lambda got: h.model.create_session(t.ws, getattr(got, "id", ""), title),
                "new session",
            )
            _check_presence(h, t.ws, got)


@attrs.frozen
class Rename:
    """``PUT .../sessions/{sid}`` with a new title: publishes ``updated``."""

    who: Who
    session: int
    title: int

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        t = resolve(h, self.who)
        sid = _session(h, t.ws, self.session, MISSING_SESSION)
        title = TITLES[self.title % len(TITLES)]
        got, _ = await h.call(
            lambda: h.client(t.client).update_session(t.id, sid, title=title),
            lambda _: h.model.update_session(t.ws, sid, title),
            "rename session",
        )
        _check_presence(h, t.ws, got)


def _check_presence(h: Harness, ws: MWorkspace | None, session: object) -> None:
    """A session in a response carries its ``attached_clients`` (PROTOCOL.md 5.6)."""
    if ws is None or session is None:
        return
    sid, attached = getattr(session, "id", ""), getattr(session, "attached_clients", -1)
    want = h.model.attached(ws, sid)
    assert attached == want, f"session {sid[:8]}: attached_clients {attached} != {want}"


@attrs.frozen
class Drop:
    """``DELETE .../sessions/{sid}``: publishes ``deleted``."""

    who: Who
    session: int

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        t = resolve(h, self.who)
        sid = _session(h, t.ws, self.session, MISSING_SESSION)
        await h.call(
            lambda: h.client(t.client).delete_session(t.id, sid),
            lambda _: h.model.delete_session(t.ws, sid),
            "delete session",
        )


@attrs.frozen
class Advance:
    """Let ``ticks`` ticks of virtual time pass, one tick at a time."""

    ticks: int

    async def apply(self, h: Harness) -> None:
        for _ in range(self.ticks):
            due = h.model.next_deadline()
            h.model.advance(TICK)
            await h.world.tick()
            now = h.model.now
            if not h.model.up and h.world.up:
                await h.world.wait_stopped()
            assert h.world.up == h.model.up, (
                f"t={now}: daemon {'runs' if h.world.up else 'exited'}, "
                f"model says it {'runs' if h.model.up else 'exited'}"
            )
            # Around every timer (the tick before it is due and the tick it
            # fired) the whole state is compared, so off-by-one timers show.
            after = h.model.next_deadline()
            if (due is not None and due <= now) or (after and after <= now + TICK):
                await check(h)


@attrs.frozen
class Restart:
    """SIGTERM the daemon, wait for its exit; the next operation starts it again."""

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        h.world.terminate()
        assert await h.world.wait_stopped(), "daemon did not stop on SIGTERM"
        h.model.stop()


@attrs.frozen
class RestartMidCreate:
    """SIGTERM while a create is in flight (its build is waiting for a thread).

    The create may succeed, be refused (503) or lose its connection; whatever
    it built must be torn down and cleaned up exactly once, like the rest.
    """

    who: Slot

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        before = set(h.lifecycle.created)
        path, key = h.world.path(self.who.spelling), h.world.key(self.who.spelling)
        client = h.client(h.client_id(self.who.client))
        answers: list[object] = []

        async def create() -> None:
            try:
                answers.append(await client.create_workspace(path))
            except CrushctlError as exc:
                answers.append(exc)

        h.world.nursery.start_soon(create)
        await trio.testing.wait_all_tasks_blocked()
        h.world.terminate()
        assert await h.world.wait_stopped(), "daemon did not stop on SIGTERM"
        await settle()
        assert answers, "the create never returned"
        h.note(f"   (create answered {answers[0]!r})")
        status = getattr(answers[0], "status", None)
        assert status in {None, 409, 503}, f"create during shutdown: {answers[0]!r}"
        h.model.stop()
        known = {ws.real_id for ws in h.model.built}
        for wid in sorted(set(h.lifecycle.created) - before - known):
            ws = _model.MWorkspace(key, path, len(h.model.built), real_id=wid)
            ws.live, ws.torn_down = False, True
            h.model.built.append(ws)


@attrs.frozen
class ShutdownIfIdle:
    """``POST /v1/control`` ``shutdown_if_idle``: 409 unless idle, else exit."""

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        client = h.client(h.client_id(0))
        await h.call(
            lambda: client.shutdown(if_idle=True),
            lambda _: h.model.request_shutdown(),
            "shutdown_if_idle",
        )
        if not h.model.up:
            assert await h.world.wait_stopped(), "daemon did not stop when idle"


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
