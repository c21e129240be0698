"""How operations name their targets: client slots, live claims, streams, sessions.

An operation carries small integers only; they are resolved against the
current state when it runs (indices wrap around), which keeps shrunk scripts
short and readable.
"""

from __future__ import annotations

import attrs

from ._harness import UNKNOWN_ID, Harness, Stream
from ._model import MWorkspace
from ._world import KEYS

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


def pick_stream(h: Harness, index: int) -> Stream | None:
    streams = h.open_streams()
    return streams[index % len(streams)] if streams else None


def pick_session(h: Harness, ws: MWorkspace | None, index: int, clear: str = "") -> str:
    """The ``index``-th session of ``ws``'s project; ``clear`` when ``index < 0``.

    Sessions count in creation order: their ids are random, so an order by id
    would make one script pick different sessions on each replay.
    """
    sessions = list(h.model.sessions.get(ws.key, {})) if ws else []
    if index < 0:
        return clear
    return sessions[index % len(sessions)] if sessions else MISSING_SESSION
