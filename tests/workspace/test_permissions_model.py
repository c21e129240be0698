"""Model-based test of crushd/workspace/_permissions.py.

Hypothesis drives random scripts (requests from two sessions, decisions from
several clients on the current, a stale or an unknown id, cancelled runs,
skip toggles) against the real service and against a pure model of the
flow of docs/agent.md 3.1/3.4. After every step the published events, the
callers' answers, the tools' outcomes and the recorded session grants must
equal the model's: exactly one resolution per request, ``resolved: true``
for exactly one caller, no grant left behind by a losing ``allow_session``.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import trio
import trio.testing
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crushd.agent.tools import PermissionAsk
from crushd.config import Config
from crushd.proto import PermissionNotification, PermissionRequest
from crushd.workspace._permissions import PermissionService

from ._permission_helpers import Sink

SESSIONS = ("a", "b")
TOOLS = ("bash", "edit")
PATHS = ("/nowhere/one", "/nowhere/two")
CLIENTS = ("client-1", "client-2", "")
ACTIONS = ("allow", "allow_session", "deny")

Key = tuple[str, str, str]
Seen = tuple[object, ...]


@attrs.define
class Req:
    session: str
    tool: str
    path: str
    call_id: str
    outcome: object = None  # True / False / "cancelled" once finished

    def key(self) -> Key:
        return (self.session, self.tool, self.path)


@attrs.define
class Model:
    """The flow, as a pure state machine: what must be published and returned."""

    reqs: list[Req] = attrs.field(factory=list)
    queue: list[int] = attrs.field(factory=list)
    screen: int | None = None
    granted: set[Key] = attrs.field(factory=set)
    skip_sessions: set[str] = attrs.field(factory=set)
    skip_all: bool = False
    events: list[Seen] = attrs.field(factory=list)

    def skipped(self, session: str) -> bool:
        return self.skip_all or session in self.skip_sessions

    def start(self, req: Req) -> None:
        self.reqs.append(req)
        index = len(self.reqs) - 1
        if self.skipped(req.session):
            req.outcome = True
            return
        self.queue.append(index)
        self.advance()

    def advance(self) -> None:
        while self.screen is None and self.queue:
            self.take(self.queue.pop(0))

    def take(self, index: int) -> None:
        req = self.reqs[index]
        if self.skipped(req.session):
            req.outcome = True
            return
        self.events.append(("n", req.call_id, False, False, "", False))
        if req.key() in self.granted:
            self.events.append(("n", req.call_id, True, False, "", False))
            req.outcome = True
            return
        self.events.append(("r", req.call_id, req.session, req.tool, req.path))
        self.screen = index

    def decide(self, action: str, client: str) -> None:
        assert self.screen is not None
        req = self.reqs[self.screen]
        granted = action != "deny"
        if action == "allow_session":
            self.granted.add(req.key())
        self.events.append(("n", req.call_id, granted, not granted, client, False))
        req.outcome = granted
        self.screen = None
        self.advance()

    def cancel(self, index: int) -> None:
        req = self.reqs[index]
        if req.outcome is not None:
            return
        req.outcome = "cancelled"
        if index in self.queue:
            self.queue.remove(index)
            return
        self.events.append(("n", req.call_id, False, True, "", True))
        self.screen = None
        self.advance()


def seen(payload: object) -> Seen:
    if isinstance(payload, PermissionRequest):
        p = payload
        return ("r", p.tool_call_id, p.session_id, p.tool_name, p.path)
    assert isinstance(payload, PermissionNotification)
    n = payload
    return ("n", n.tool_call_id, n.granted, n.denied, n.resolved_by, n.cancelled)


start_ops = st.tuples(
    st.just("start"),
    st.sampled_from(SESSIONS),
    st.sampled_from(TOOLS),
    st.sampled_from(PATHS),
)
decide_ops = st.tuples(
    st.just("decide"),
    st.sampled_from(("screen", "screen", "stale", "unknown")),
    st.sampled_from(ACTIONS),
    st.sampled_from(CLIENTS),
)
cancel_ops = st.tuples(st.just("cancel"), st.integers(0, 20))
skip_ops = st.tuples(st.just("skip"), st.sampled_from((None, *SESSIONS)), st.booleans())
scripts = st.lists(
    st.one_of(start_ops, start_ops, decide_ops, decide_ops, cancel_ops, skip_ops),
    max_size=40,
)


class Runner:
    """Plays a script against the service and the model, checking each step."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        self.sink = Sink()
        self.service = PermissionService(self.sink, Path("/ws"), Config)
        self.model = Model()
        self.scopes: dict[int, trio.CancelScope] = {}
        self.results: dict[int, object] = {}
        self.ids: dict[str, str] = {}  # call id -> request id
        self.wins: dict[str, int] = {}  # request id -> resolved:true count

    async def run_request(self, index: int, req: Req) -> None:
        with trio.CancelScope() as scope:
            self.scopes[index] = scope
            ask = PermissionAsk(req.tool, "act", req.path, "d", None)
            self.results[index] = await self.service.request(
                req.session, req.call_id, ask
            )
            return
        self.results[index] = "cancelled"

    async def step(self, op: tuple[object, ...]) -> None:
        kind = op[0]
        if kind == "start":
            _, session, tool, path = op
            index = len(self.model.reqs)
            req = Req(str(session), str(tool), str(path), f"call-{index}")
            self.model.start(req)
            await self.nursery.start(self._started, index, req)
        elif kind == "decide":
            self.decide(str(op[1]), str(op[2]), str(op[3]))
        elif kind == "cancel":
            self.cancel(int(str(op[1])))
        else:
            session, on = op[1], bool(op[2])
            self.service.set_skip(on, None if session is None else str(session))
            if session is None:
                self.model.skip_all = on
            elif on:
                self.model.skip_sessions.add(str(session))
            else:
                self.model.skip_sessions.discard(str(session))
        await trio.testing.wait_all_tasks_blocked()
        self.check()

    async def _started(
        self, index: int, req: Req, task_status: trio.TaskStatus[None]
    ) -> None:
        task_status.started()
        await self.run_request(index, req)

    def decide(self, target: str, action: str, client: str) -> None:
        request_id = self.target_id(target)
        expected = target == "screen" and self.model.screen is not None
        resolved = self.service.resolve(request_id, action, client)
        assert resolved is expected
        if resolved:
            self.wins[request_id] = self.wins.get(request_id, 0) + 1
            self.model.decide(action, client)

    def target_id(self, target: str) -> str:
        if target == "screen" and self.model.screen is not None:
            return self.ids[self.model.reqs[self.model.screen].call_id]
        done = [
            self.ids[r.call_id]
            for r in self.model.reqs
            if r.outcome is not None and r.call_id in self.ids
        ]
        return done[-1] if target == "stale" and done else "unknown-id"

    def cancel(self, number: int) -> None:
        if not self.scopes:
            return
        index = number % len(self.scopes)
        self.scopes[index].cancel()
        self.model.cancel(index)

    def check(self) -> None:
        for _kind, payload in self.sink.events:
            if isinstance(payload, PermissionRequest):
                self.ids.setdefault(payload.tool_call_id, payload.id)
        assert [seen(p) for _, p in self.sink.events] == self.model.events
        reqs = enumerate(self.model.reqs)
        finished = {i: r.outcome for i, r in reqs if r.outcome is not None}
        assert self.results == finished
        screen = self.model.screen
        on_screen = [] if screen is None else [self.model.reqs[screen].call_id]
        assert [p.tool_call_id for p in self.service.pending()] == on_screen
        assert {(k.session_id, k.tool_name, k.path) for k in self.service._granted} == (
            self.model.granted
        )
        assert all(count == 1 for count in self.wins.values())


def resolutions_per_request(sink: Sink) -> dict[str, int]:
    counts = {r.tool_call_id: 0 for r in sink.requests()}
    for note in sink.resolutions():
        if note.tool_call_id in counts:
            counts[note.tool_call_id] += 1
    return counts


async def play(script: list[tuple[object, ...]]) -> None:
    async with trio.open_nursery() as nursery:
        runner = Runner(nursery)
        for op in script:
            await runner.step(op)
        nursery.cancel_scope.cancel()
    counts = resolutions_per_request(runner.sink)
    assert all(count == 1 for count in counts.values()), counts
    assert runner.service.pending() == []


@settings(max_examples=300, deadline=None)
@given(script=scripts)
@example(  # skip turned on for a session whose request waits in line
    script=[
        ("start", "a", "bash", PATHS[0]),
        ("start", "b", "bash", PATHS[0]),
        ("skip", "b", True),
        ("decide", "screen", "allow", "client-1"),
    ]
)
@example(  # an allow_session decided while an identical request waits
    script=[
        ("start", "a", "edit", PATHS[1]),
        ("start", "a", "edit", PATHS[1]),
        ("decide", "stale", "deny", ""),
        ("decide", "screen", "allow_session", "client-2"),
        ("decide", "stale", "allow_session", "client-1"),
        ("start", "b", "edit", PATHS[1]),
        ("cancel", 2),
    ]
)
def test_permissions_model(script: list[tuple[object, ...]]) -> None:
    """Random scripts: events, answers, outcomes and grants match the pure model."""
    trio.run(play, script, clock=trio.testing.MockClock(autojump_threshold=0))
