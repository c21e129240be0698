"""Session operations: current session, create, rename, delete.

Source: docs/protocol.md 2.3.
"""

from __future__ import annotations

import attrs

from ._harness import Harness
from ._model import MWorkspace
from ._targets import MISSING_SESSION, TITLES, Who, pick_session, resolve


@attrs.frozen
class SetSession:
    """``POST .../current-session`` with the ``session``-th session (-1: clear)."""

    who: Who
    session: int

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        t = resolve(h, self.who)
        sid = pick_session(h, t.ws, self.session)
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
        sid = pick_session(h, t.ws, self.session, MISSING_SESSION)
        title = TITLES[self.title % len(TITLES)]
        got, _ = await h.call(
            lambda: h.client(t.client).update_session(t.id, sid, title=title),
            lambda _: h.model.update_session(t.ws, sid, title),
            "rename session",
        )
        _check_presence(h, t.ws, got)


def _check_presence(h: Harness, ws: MWorkspace | None, session: object) -> None:
    """A session in a response carries ``attached_clients`` (docs/protocol.md 5.6)."""
    if ws is None or session is None:
        return
    sid, attached = getattr(session, "id", ""), getattr(session, "attached_clients", -1)
    want = ws.attached(sid)
    assert attached == want, f"session {sid[:8]}: attached_clients {attached} != {want}"


@attrs.frozen
class Drop:
    """``DELETE .../sessions/{sid}``: publishes ``deleted``."""

    who: Who
    session: int

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        t = resolve(h, self.who)
        sid = pick_session(h, t.ws, self.session, MISSING_SESSION)
        await h.call(
            lambda: h.client(t.client).delete_session(t.id, sid),
            lambda _: h.model.delete_session(t.ws, sid),
            "delete session",
        )
