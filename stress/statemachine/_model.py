"""The pure model the daemon is checked against: claims, streams, sessions, idle.

No trio and no I/O: every method is a synchronous state change mirroring
DESIGN.md section 3 (claims), section 4 (the event log: ids, replay window,
resync) and PROTOCOL.md 5.2-5.6 (holds, teardown, idle linger, presence),
B.8 (retire ends streams) and C.1 (resume with ``Last-Event-ID``). Time moves
only in ``advance``. A refused call raises ``Refused`` with the HTTP status
the daemon must answer.

Workspace and session ids are minted by the daemon, so the harness passes the
real id in once the daemon answered (``adopt``); the model then predicts every
later use of it.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import attrs

#: The model's unit of time: every grace, step and deadline is a multiple of
#: it, so float sums stay exact and equal the MockClock's.
TICK = 1.0 / 64


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
class MClaim:
    """One client's claim: live streams, hold deadline, released, presence."""

    streams: int = 0
    deadline: float | None = None
    released: bool = False
    current: str = ""
    hold: str = ""  # which grace the deadline is: "create" or "detach"


@attrs.define(eq=False)
class MWorkspace:
    """One workspace instance: the ``index``-th built, at ``key``."""

    key: str
    path: str
    index: int
    real_id: str = ""
    claims: dict[str, MClaim] = attrs.field(factory=dict)
    events: list[MEvent] = attrs.field(factory=list)
    live: bool = True
    torn_down: bool = False


@attrs.define(eq=False)
class MStream:
    """One SSE stream: what it must have received, and whether it ended."""

    ws: MWorkspace
    client: str
    expected: list[MEvent] = attrs.field(factory=list)
    ended: bool = False


class Model:
    """The daemon as it should be; see the module docstring."""

    def __init__(self, timings: Timings) -> None:
        self.t = timings
        self.now = 0.0
        self.up = False
        self.starts = 0
        self.live: dict[str, MWorkspace] = {}
        self.built: list[MWorkspace] = []
        self.sessions: dict[str, dict[str, str]] = {}  # key -> session id -> title
        self.retired: set[str] = set()
        self.streams: list[MStream] = []
        self.idle_deadline: float | None = None
        #: How often each interesting transition happened (coverage report).
        self.stats: collections.Counter[str] = collections.Counter()

    # ------------------------------------------------------------ daemon

    def start(self) -> None:
        """The daemon starts: nothing is live, the idle linger is armed."""
        assert not self.up
        assert not self.live
        self.up, self.starts = True, self.starts + 1
        self._maybe_arm_idle()

    def stop(self) -> None:
        """SIGTERM: every workspace torn down, every stream ended, exit."""
        self.stats["SIGTERM"] += 1
        for ws in list(self.live.values()):
            ws.claims.clear()
            self._teardown(ws)
        self._exit()

    def request_shutdown(self) -> None:
        """``POST /v1/control`` ``shutdown_if_idle``: 409 unless idle."""
        if self.live:
            raise Refused(409)
        self.stats["shutdown_if_idle accepted"] += 1
        self._exit()

    def _exit(self) -> None:
        self.up = False
        self.idle_deadline = None

    # ----------------------------------------------------------- creates

    def create(self, key: str, path: str, client: str) -> MWorkspace:
        """``POST /v1/workspaces``: join the live workspace at ``key`` or build one."""
        if client in self.retired:
            raise Refused(409)
        ws = self.live.get(key)
        self.stats["create joined" if ws else "create built"] += 1
        if ws is None:
            ws = MWorkspace(key, path, len(self.built))
            self.built.append(ws)
            self.live[key] = ws
            self.sessions.setdefault(key, {})
        self.idle_deadline = None
        claim = ws.claims.setdefault(client, MClaim())
        claim.released = False
        if claim.streams == 0:
            claim.deadline, claim.hold = self.now + self.t.create_grace, "create"
        return ws

    # ----------------------------------------------------------- streams

    def attach(
        self, ws: MWorkspace | None, client: str, cursor: int | None = None
    ) -> MStream:
        """``GET .../events`` (with ``Last-Event-ID`` = ``cursor`` when resuming)."""
        if ws is None or not ws.live:
            raise Refused(404)
        if client in self.retired:
            raise Refused(409)
        claim = ws.claims.setdefault(client, MClaim())
        claim.deadline = None
        claim.streams += 1
        stream = MStream(ws, client, self._replay(ws, cursor))
        self.streams.append(stream)
        return stream

    def _replay(self, ws: MWorkspace, cursor: int | None) -> list[MEvent]:
        head = len(ws.events)
        if cursor is None:
            return []
        oldest = max(1, head - self.t.replay_window + 1)
        if oldest - 1 <= cursor <= head:
            self.stats["resumed"] += 1
            return ws.events[cursor:]
        self.stats["resync"] += 1
        resync = MEvent(oldest - 1, "resync", "updated", ws.real_id, str(oldest))
        return [resync, *ws.events[oldest - 1 :]]

    def detach(self, stream: MStream) -> None:
        """The client closed ``stream``; an ended stream's close is a no-op."""
        if stream.ended:
            return
        stream.ended = True
        claim = stream.ws.claims[stream.client]
        claim.streams -= 1
        if claim.streams > 0:
            return
        if claim.released or self.t.detach_grace <= 0:
            self.stats["last detach removed claim"] += 1
            self._remove_claim(stream.ws, stream.client)
        else:
            claim.deadline, claim.hold = self.now + self.t.detach_grace, "detach"

    # ------------------------------------------------------------ claims

    def release(self, ws: MWorkspace | None, client: str) -> None:
        """``DELETE /v1/workspaces/{id}?client_id=``: always 200."""
        claim = ws.claims.get(client) if ws is not None and ws.live else None
        if ws is None or claim is None:
            return
        claim.deadline = None
        if claim.streams == 0:
            self._remove_claim(ws, client)
        else:
            self.stats["released while streaming"] += 1
            claim.released = True

    def retire(self, client: str) -> None:
        """``DELETE /v1/clients/{id}``: every claim goes, its streams end."""
        self.retired.add(client)
        for ws in list(self.live.values()):
            if client in ws.claims:
                self._remove_claim(ws, client)

    def set_session(self, ws: MWorkspace | None, client: str, session: str) -> None:
        """``POST .../current-session``: 404 unknown ws, 409 without a stream."""
        if ws is None or not ws.live:
            raise Refused(404)
        claim = ws.claims.get(client)
        if claim is None or claim.streams == 0:
            raise Refused(409)
        claim.current = session

    def attached(self, ws: MWorkspace, session: str) -> int:
        """``attached_clients`` of ``session`` in ``ws`` (PROTOCOL.md 5.6)."""
        claims = ws.claims.values()
        return sum(1 for c in claims if c.streams > 0 and c.current == session)

    def _remove_claim(self, ws: MWorkspace, client: str) -> None:
        del ws.claims[client]
        self._end_streams(lambda s: s.ws is ws and s.client == client, "retire")
        if not ws.claims:
            self._teardown(ws)

    def _teardown(self, ws: MWorkspace) -> None:
        del self.live[ws.key]
        ws.live, ws.torn_down = False, True
        self.stats["teardown"] += 1
        self._end_streams(lambda s: s.ws is ws, "teardown")
        self._maybe_arm_idle()

    def _end_streams(self, which: Callable[[MStream], bool], why: str) -> None:
        for stream in self.streams:
            if not stream.ended and which(stream):
                self.stats[f"stream ended by {why}"] += 1
                stream.ended = True

    # ---------------------------------------------------------- sessions

    def session_titles(self, ws: MWorkspace) -> dict[str, str]:
        """The sessions stored in ``ws``'s data directory (survive teardown)."""
        return self.sessions[ws.key]

    def create_session(self, ws: MWorkspace | None, session: str, title: str) -> None:
        """``POST .../sessions`` answered with id ``session``; publishes ``created``."""
        live = self._live(ws)
        self.sessions[live.key][session] = title
        self._publish(live, "created", session, title)

    def update_session(self, ws: MWorkspace | None, session: str, title: str) -> None:
        """``PUT .../sessions/{sid}`` with a new title; publishes ``updated``."""
        live = self._live(ws)
        titles = self.sessions[live.key]
        if session not in titles:
            raise Refused(404)
        titles[session] = title
        self._publish(live, "updated", session, title)

    def delete_session(self, ws: MWorkspace | None, session: str) -> None:
        """``DELETE .../sessions/{sid}``; publishes ``deleted`` (old title)."""
        live = self._live(ws)
        titles = self.sessions[live.key]
        if session not in titles:
            raise Refused(404)
        self._publish(live, "deleted", session, titles.pop(session))

    def _live(self, ws: MWorkspace | None) -> MWorkspace:
        if ws is None or not ws.live:
            raise Refused(404)
        return ws

    def _publish(self, ws: MWorkspace, kind: str, session: str, title: str) -> None:
        event = MEvent(len(ws.events) + 1, "session", kind, session, title)
        ws.events.append(event)
        for stream in self.streams:
            if stream.ws is ws and not stream.ended:
                stream.expected.append(event)

    # -------------------------------------------------------------- time

    def advance(self, seconds: float) -> None:
        """Move to ``now + seconds``, firing every due timer in time order."""
        target = self.now + seconds
        while (due := self._next_timer()) is not None and due[0] <= target:
            self.now = due[0]
            due[1]()
        self.now = target

    def next_deadline(self) -> float | None:
        """When the next timer (hold or idle linger) is due, if any."""
        due = self._next_timer()
        return None if due is None else due[0]

    def _next_timer(self) -> tuple[float, Callable[[], None]] | None:
        timers: list[tuple[float, Callable[[], None]]] = [
            (claim.deadline, _bind(self._hold_expired, ws, client))
            for ws in self.live.values()
            for client, claim in ws.claims.items()
            if claim.deadline is not None
        ]
        if self.idle_deadline is not None:
            timers.append((self.idle_deadline, self._idle_expired))
        return min(timers, key=lambda timer: timer[0], default=None)

    def _idle_expired(self) -> None:
        self.stats["idle linger exit"] += 1
        self._exit()

    def _hold_expired(self, ws: MWorkspace, client: str) -> None:
        claim = ws.claims[client]
        self.stats[f"{claim.hold} grace expired"] += 1
        claim.deadline = None
        self._remove_claim(ws, client)

    def _maybe_arm_idle(self) -> None:
        if self.up and not self.live and self.idle_deadline is None:
            self.idle_deadline = self.now + self.t.idle_timeout


def _bind(
    fn: Callable[[MWorkspace, str], None], ws: MWorkspace, client: str
) -> Callable[[], None]:
    return lambda: fn(ws, client)
