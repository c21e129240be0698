"""Model-based test of crushd/workspace/_questions.py.

Hypothesis drives random scripts (batches asked by several tool calls,
answers and cancels from several clients naming the batch on screen, a stale
one, an unknown one or none, cancelled runs) against the real service and a
pure model: one batch on screen in arrival order, exactly one winner per
batch (decision B.10), exactly one notification per shown batch, the asker
gets what the winner sent.
"""

from __future__ import annotations

import attrs
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from crushd.proto import (
    QuestionBatchNotification,
    QuestionBatchRequest,
    QuestionItem,
    QuestionResponse,
)
from crushd.workspace._questions import QuestionService

CLIENTS = ("client-1", "client-2", "")
TARGETS = ("screen", "screen", "any", "stale", "unknown")
ITEM = QuestionItem(type="free_text", question="Why?", description="Say.")

Seen = tuple[object, ...]


class Sink:
    def __init__(self) -> None:
        self.events: list[object] = []

    def publish(self, type: str, event_type: str, payload: object) -> object:  # noqa: A002
        self.events.append(payload)
        return None


@attrs.define
class Model:
    """One slot on screen, a FIFO line, and what must be published."""

    outcomes: dict[int, object] = attrs.field(factory=dict)
    queue: list[int] = attrs.field(factory=list)
    screen: int | None = None
    started: int = 0
    events: list[Seen] = attrs.field(factory=list)

    def ask(self) -> int:
        index = self.started
        self.started += 1
        self.queue.append(index)
        self.advance()
        return index

    def advance(self) -> None:
        if self.screen is None and self.queue:
            self.screen = self.queue.pop(0)
            self.events.append(("r", self.screen))

    def resolve(self, outcome: object, client: str) -> None:
        assert self.screen is not None
        self.outcomes[self.screen] = outcome
        self.events.append(("n", self.screen, client, outcome is None))
        self.screen = None
        self.advance()

    def cancel_run(self, index: int) -> None:
        if index in self.outcomes:
            return
        self.outcomes[index] = "cancelled"
        if index in self.queue:
            self.queue.remove(index)
            return
        self.events.append(("n", index, "", True))
        self.screen = None
        self.advance()


ask_ops = st.tuples(st.just("ask"))
answer_ops = st.tuples(
    st.just("answer"), st.sampled_from(TARGETS), st.sampled_from(CLIENTS)
)
cancel_ops = st.tuples(
    st.just("cancel"), st.sampled_from(TARGETS), st.sampled_from(CLIENTS)
)
run_cancel_ops = st.tuples(st.just("run_cancel"), st.integers(0, 20))
scripts = st.lists(
    st.one_of(ask_ops, ask_ops, answer_ops, answer_ops, cancel_ops, run_cancel_ops),
    max_size=40,
)


class Runner:
    """Plays a script against the service and the model, checking each step."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        self.sink = Sink()
        self.service = QuestionService(self.sink)
        self.model = Model()
        self.scopes: dict[int, trio.CancelScope] = {}
        self.results: dict[int, object] = {}
        self.batch_ids: dict[int, str] = {}

    async def ask(self, index: int) -> None:
        with trio.CancelScope() as scope:
            self.scopes[index] = scope
            self.results[index] = await self.service.ask("s", f"call-{index}", [ITEM])
            return
        self.results[index] = "cancelled"

    async def step(self, op: tuple[object, ...]) -> None:
        if op[0] == "ask":
            self.nursery.start_soon(self.ask, self.model.ask())
        elif op[0] == "run_cancel":
            if self.scopes:
                index = int(str(op[1])) % len(self.scopes)
                self.scopes[index].cancel()
                self.model.cancel_run(index)
        else:
            self.decide(str(op[0]), str(op[1]), str(op[2]))
        await trio.testing.wait_all_tasks_blocked()
        self.check()

    def decide(self, kind: str, target: str, client: str) -> None:
        batch_id = self.batch_id(target)
        wins = self.model.screen is not None and target in {"screen", "any"}
        answer = [QuestionResponse(request_id=client or "none", fill_in_text=kind)]
        if kind == "answer":
            resolved = self.service.answer(batch_id, answer, client)
        else:
            resolved = self.service.cancel(batch_id, client)
        assert resolved is wins
        if wins:
            self.model.resolve(answer if kind == "answer" else None, client)

    def batch_id(self, target: str) -> str:
        if target == "any":
            return ""
        if target == "screen" and self.model.screen is not None:
            return self.batch_ids[self.model.screen]
        shown = [self.batch_ids[i] for i in self.batch_ids if i in self.model.outcomes]
        return shown[-1] if target == "stale" and shown else "unknown-batch"

    def check(self) -> None:
        for payload in self.sink.events:
            if isinstance(payload, QuestionBatchRequest):
                self.batch_ids[int(payload.tool_call_id[5:])] = payload.id
        by_batch = {batch: index for index, batch in self.batch_ids.items()}
        assert [self.seen(p, by_batch) for p in self.sink.events] == self.model.events
        assert self.results == self.model.outcomes
        shown = [] if self.model.screen is None else [f"call-{self.model.screen}"]
        assert [b.tool_call_id for b in self.service.pending()] == shown

    @staticmethod
    def seen(payload: object, by_batch: dict[str, int]) -> Seen:
        if isinstance(payload, QuestionBatchRequest):
            return ("r", int(payload.tool_call_id[5:]))
        assert isinstance(payload, QuestionBatchNotification)
        n = payload
        return ("n", by_batch[n.batch_id], n.resolved_by, n.cancelled)


async def play(script: list[tuple[object, ...]]) -> None:
    async with trio.open_nursery() as nursery:
        runner = Runner(nursery)
        for op in script:
            await runner.step(op)
        nursery.cancel_scope.cancel()
    shown = [p.id for p in runner.sink.events if isinstance(p, QuestionBatchRequest)]
    closed = [
        p.batch_id
        for p in runner.sink.events
        if isinstance(p, QuestionBatchNotification)
    ]
    assert sorted(shown) == sorted(closed)
    assert runner.service.pending() == []


@settings(max_examples=300, deadline=None)
@given(script=scripts)
def test_questions_model(script: list[tuple[object, ...]]) -> None:
    """Random scripts: events, answers and outcomes match the pure model."""
    trio.run(play, script, clock=trio.testing.MockClock(autojump_threshold=0))
