"""The HTTP-level model: the shared claim model plus streams, events and sessions.

The claim rules (create and detach graces, release, retire, teardown, the idle
linger, time) are ``stress.model.ClaimModel``'s. This module adds what only
the daemon seen over HTTP has: its life (start, SIGTERM, ``shutdown_if_idle``,
the idle linger's exit), the event log of each workspace (docs/architecture.md section
4: ids, replay window, resync), each SSE or WebSocket stream and the events it
must receive (C.1: resume with ``Last-Event-ID``; B.8: retire ends streams),
and the sessions of each project (docs/protocol.md 5.6). A refused call raises
``Refused`` with the HTTP status the daemon must answer.

Workspace and session ids are minted by the daemon, so the harness passes the
real id in once the daemon answered; the model then predicts every later use
of it.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import attrs

from ..model import ClaimedWorkspace, ClaimModel, Refusal

#: The model's unit of time: every grace, step and deadline is a multiple of
#: it, so float sums stay exact and equal the MockClock's.
TICK = 1.0 / 64

#: The status the daemon answers for each refusal (docs/protocol.md 5.2-5.6).
STATUS = {Refusal.NO_WORKSPACE: 404, Refusal.RETIRED: 409, Refusal.NOT_STREAMING: 409}


class Refused(Exception):  # noqa: N818 - a predicted answer, not a failure
    """The daemon must refuse this call with ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@attrs.frozen
class Timings:
    """The daemon's timings in seconds (multiples of ``TICK``) and replay window."""

    create_grace: float = 16 * TICK
    detach_grace: float = 8 * TICK
    idle_timeout: float = 32 * TICK
    replay_window: int = 4


@attrs.frozen
class MEvent:
    """One SSE event as a stream sees it: id, outer and inner type, subject, title.

    For ``session`` events the subject is the session id and ``title`` its
    title; for ``resync`` the workspace id and the oldest id held.
    """

    id: int
    type: str
    event_type: str
    subject: str
    title: str


@attrs.define(eq=False)
class MWorkspace(ClaimedWorkspace):
    """A workspace as the daemon shows it: echoed path, minted id, event log."""

    path: str = attrs.field(kw_only=True)
    real_id: str = attrs.field(default="", kw_only=True)
    events: list[MEvent] = attrs.field(factory=list, kw_only=True)


@attrs.define(eq=False)
class MStream:
    """One SSE stream: what it must have received, and whether it ended."""

    ws: MWorkspace
    client: str
    expected: list[MEvent] = attrs.field(factory=list)
    ended: bool = False


class Model(ClaimModel[MWorkspace]):
    """The daemon as it should be; see the module docstring."""

    def __init__(self, timings: Timings) -> None:
        t = self.t = timings
        super().__init__(t.create_grace, t.detach_grace, t.idle_timeout)
        self.up = False
        self.starts = 0
        self.built: list[MWorkspace] = []
        self.sessions: dict[str, dict[str, str]] = {}  # key -> session id -> title
        self.streams: list[MStream] = []
        #: How often each interesting transition happened (coverage report).
        self.stats: collections.Counter[str] = collections.Counter()

    # ---------------------------------------------------- ClaimModel hooks

    def note(self, transition: str) -> None:
        self.stats[transition] += 1

    def refuse(self, refusal: Refusal) -> Refused:
        return Refused(STATUS[refusal])

    def may_linger(self) -> bool:
        return self.up and not self.live

    def idle_expired(self) -> None:
        self.note("idle linger exit")
        self._exit()

    def claim_removed(self, ws: MWorkspace, client: str) -> None:
        self._end_streams(lambda s: s.ws is ws and s.client == client, "claim removed")

    def torn_down(self, ws: MWorkspace) -> None:
        self._end_streams(lambda s: s.ws is ws, "teardown")

    # ------------------------------------------------------------ daemon

    def start(self) -> None:
        """The daemon starts: nothing is live, the idle linger is armed.

        The registry keeps retired client ids in memory only, so a new
        daemon process has forgotten them.
        """
        assert not self.up
        assert not self.live
        self.up, self.starts = True, self.starts + 1
        self.retired.clear()
        self.maybe_arm_idle()

    def stop(self) -> None:
        """SIGTERM: every workspace torn down, every stream ended, exit.

        Each live workspace first publishes the shutdown marker
        (``workspace_closed``/``deleted``, docs/protocol.md C.11), so its
        streams see it as their last event.
        """
        self.note("SIGTERM")
        for ws in list(self.live.values()):
            self._append(ws, "workspace_closed", "deleted", "None", "None")
        self.teardown_all()
        self._exit()

    def request_shutdown(self) -> None:
        """``POST /v1/control`` ``shutdown_if_idle``: 409 unless idle."""
        if self.live:
            raise Refused(409)
        self.note("shutdown_if_idle accepted")
        self._exit()

    def _exit(self) -> None:
        self.up = False
        self.idle_deadline = None

    # ----------------------------------------------------------- creates

    def create(self, key: str, path: str, client: str) -> MWorkspace:
        """``POST /v1/workspaces``: join the live workspace at ``key`` or build one."""
        if self.is_retired(client):
            raise self.refuse(Refusal.RETIRED)
        ws = self.live.get(key)
        self.note("create joined" if ws else "create built")
        if ws is None:
            ws = MWorkspace(key, len(self.built), live=True, path=path)
            self.built.append(ws)
            self.live[key] = ws
            self.sessions.setdefault(key, {})
        self.idle_deadline = None
        self.claim_for_create(ws, client)
        return ws

    # ----------------------------------------------------------- streams

    def attach(
        self, ws: MWorkspace | None, client: str, cursor: int | None = None
    ) -> MStream:
        """``GET .../events`` (with ``Last-Event-ID`` = ``cursor`` when resuming)."""
        live = self.require_live(ws)
        self.attach_claim(live, client)
        stream = MStream(live, client, self._replay(live, cursor))
        self.streams.append(stream)
        return stream

    def _replay(self, ws: MWorkspace, cursor: int | None) -> list[MEvent]:
        head = len(ws.events)
        if cursor is None:
            return []
        oldest = max(1, head - self.t.replay_window + 1)
        if oldest - 1 <= cursor <= head:
            self.note("resumed")
            return ws.events[cursor:]
        self.note("resync")
        resync = MEvent(oldest - 1, "resync", "updated", ws.real_id, str(oldest))
        return [resync, *ws.events[oldest - 1 :]]

    def detach(self, stream: MStream) -> None:
        """The client closed ``stream``; an ended stream's close is a no-op."""
        if stream.ended:
            return
        stream.ended = True
        self.detach_claim(stream.ws, stream.client)

    def _end_streams(self, which: Callable[[MStream], bool], why: str) -> None:
        for stream in self.streams:
            if not stream.ended and which(stream):
                self.note(f"stream ended by {why}")
                stream.ended = True

    # ---------------------------------------------------------- sessions

    def session_titles(self, ws: MWorkspace) -> dict[str, str]:
        """The sessions stored in ``ws``'s data directory (survive teardown)."""
        return self.sessions[ws.key]

    def create_session(self, ws: MWorkspace | None, session: str, title: str) -> None:
        """``POST .../sessions`` answered with id ``session``; publishes ``created``."""
        live = self.require_live(ws)
        self.sessions[live.key][session] = title
        self._publish(live, "created", session, title)

    def update_session(self, ws: MWorkspace | None, session: str, title: str) -> None:
        """``PUT .../sessions/{sid}`` with a new title; publishes ``updated``."""
        live = self.require_live(ws)
        titles = self.sessions[live.key]
        if session not in titles:
            raise Refused(404)
        titles[session] = title
        self._publish(live, "updated", session, title)

    def delete_session(self, ws: MWorkspace | None, session: str) -> None:
        """``DELETE .../sessions/{sid}``; publishes ``deleted`` (old title)."""
        live = self.require_live(ws)
        titles = self.sessions[live.key]
        if session not in titles:
            raise Refused(404)
        self._publish(live, "deleted", session, titles.pop(session))

    def _publish(self, ws: MWorkspace, kind: str, session: str, title: str) -> None:
        self._append(ws, "session", kind, session, title)

    def _append(
        self, ws: MWorkspace, type_: str, kind: str, subject: str, title: str
    ) -> None:
        """Log one event in ``ws`` and expect it on each of its open streams."""
        event = MEvent(len(ws.events) + 1, type_, kind, subject, title)
        ws.events.append(event)
        for stream in self.streams:
            if stream.ws is ws and not stream.ended:
                stream.expected.append(event)
