"""Tests for crushd/workspace/_questions.py and _question_rules.py.

One batch on screen per workspace, in arrival order; exactly one answer or
cancel wins (decision B.10); a stale batch id loses; cancellation of the run
closes the form everywhere; the limits and defaults of upstream's
``question.go``. Waits are ``wait_all_tasks_blocked``, never the clock.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from crushd.proto import (
    QuestionBatchNotification,
    QuestionBatchRequest,
    QuestionChoice,
    QuestionItem,
    QuestionResponse,
)
from crushd.workspace import EventLog
from crushd.workspace._question_rules import prepare_batch
from crushd.workspace._questions import QuestionService

from ._permission_helpers import bounded


class Sink:
    """An event sink that keeps what was published (type, payload)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def publish(self, type: str, event_type: str, payload: object) -> object:  # noqa: A002
        self.events.append((type, payload))
        return len(self.events)

    def batches(self) -> list[QuestionBatchRequest]:
        return [p for _, p in self.events if isinstance(p, QuestionBatchRequest)]

    def notifications(self) -> list[QuestionBatchNotification]:
        return [p for _, p in self.events if isinstance(p, QuestionBatchNotification)]


YES_NO = QuestionItem(type="yes_no", question="Proceed?", description="Deletes files.")
CHOICE = QuestionItem(
    type="single_choice",
    question="Which database?",
    description="Picks the driver.",
    label="Database",
    choices=[QuestionChoice("sqlite", "SQLite"), QuestionChoice("pg", "PostgreSQL")],
)

Outcomes = dict[str, Any]


def asker(service: QuestionService, outcomes: Outcomes) -> Any:
    async def run(call_id: str, questions: list[QuestionItem]) -> None:
        outcomes[call_id] = "cancelled"
        outcomes[call_id] = await service.ask("s1", call_id, questions)

    return run


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def service(sink: Sink) -> QuestionService:
    return QuestionService(sink)


async def test_questions_answer_resolves_once(
    autojump_clock: trio.testing.MockClock, sink: Sink, service: QuestionService
) -> None:
    """The first answer wins; a second answer and a cancel return False."""
    outcomes: Outcomes = {}
    answer = [QuestionResponse(request_id="q", yes=True)]
    async with bounded() as nursery:
        nursery.start_soon(asker(service, outcomes), "c1", [YES_NO])
        await trio.testing.wait_all_tasks_blocked()
        (batch,) = service.pending()
        assert sink.batches() == [batch]
        assert service.answer(batch.id, answer, "client-a")
        assert not service.answer(batch.id, [])
        assert not service.answer("", [])
        assert not service.cancel()
    assert outcomes["c1"] == answer
    assert sink.notifications() == [
        QuestionBatchNotification(batch.id, "s1", resolved_by="client-a")
    ]
    assert service.pending() == []


async def test_questions_cancel_then_answer(
    autojump_clock: trio.testing.MockClock, sink: Sink, service: QuestionService
) -> None:
    """A cancel wins over a later answer; the asker gets None; one notification."""
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(asker(service, outcomes), "c1", [YES_NO])
        await trio.testing.wait_all_tasks_blocked()
        (batch,) = service.pending()
        assert service.cancel(client_id="b")
        assert not service.cancel()
        assert not service.answer(batch.id, [QuestionResponse(yes=True)])
    assert outcomes["c1"] is None
    assert sink.notifications() == [
        QuestionBatchNotification(batch.id, "s1", resolved_by="b", cancelled=True)
    ]


async def test_questions_answer_cancel_race(
    autojump_clock: trio.testing.MockClock, sink: Sink, service: QuestionService
) -> None:
    """Answer and cancel started together: exactly one reports resolved."""
    outcomes: Outcomes = {}
    results: list[bool] = []
    async with bounded() as nursery:
        nursery.start_soon(asker(service, outcomes), "c1", [YES_NO])
        await trio.testing.wait_all_tasks_blocked()

        async def answer() -> None:
            await trio.lowlevel.checkpoint()
            results.append(service.answer("", [QuestionResponse(yes=False)]))

        async def cancel() -> None:
            await trio.lowlevel.checkpoint()
            results.append(service.cancel())

        nursery.start_soon(answer)
        nursery.start_soon(cancel)
    assert sorted(results) == [False, True]
    assert len(sink.notifications()) == 1


async def test_questions_stale_batch_id(
    autojump_clock: trio.testing.MockClock, sink: Sink, service: QuestionService
) -> None:
    """An answer naming another batch returns False and leaves the batch open."""
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(asker(service, outcomes), "c1", [YES_NO])
        await trio.testing.wait_all_tasks_blocked()
        assert not service.answer("old-batch", [QuestionResponse(yes=True)])
        assert not service.cancel("old-batch")
        assert sink.notifications() == []
        assert service.answer(service.pending()[0].id, [])
    assert outcomes["c1"] == []


async def test_questions_nothing_pending(
    autojump_clock: trio.testing.MockClock, sink: Sink, service: QuestionService
) -> None:
    """Answer and cancel with nothing on screen return False and publish nothing."""
    assert not service.answer("", [])
    assert not service.cancel()
    assert sink.events == []
    assert service.pending() == []


async def test_questions_fifo(
    autojump_clock: trio.testing.MockClock, sink: Sink, service: QuestionService
) -> None:
    """A second batch waits until the first is resolved, then is shown."""
    outcomes: Outcomes = {}
    run = asker(service, outcomes)
    async with bounded() as nursery:
        nursery.start_soon(run, "c1", [YES_NO])
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(run, "c2", [CHOICE])
        await trio.testing.wait_all_tasks_blocked()
        assert [b.tool_call_id for b in sink.batches()] == ["c1"]
        assert service.answer("", [QuestionResponse(yes=True)])
        await trio.testing.wait_all_tasks_blocked()
        assert [b.tool_call_id for b in service.pending()] == ["c2"]
        assert service.cancel()
    assert outcomes == {"c1": [QuestionResponse(yes=True)], "c2": None}


async def test_questions_run_cancel_closes_the_form(
    autojump_clock: trio.testing.MockClock, sink: Sink, service: QuestionService
) -> None:
    """Cancelling the asking run publishes cancelled:true once; later calls lose."""
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(asker(service, outcomes), "c1", [YES_NO])
        await trio.testing.wait_all_tasks_blocked()
        (batch,) = service.pending()
        nursery.cancel_scope.cancel()
    assert outcomes["c1"] == "cancelled"
    assert sink.notifications() == [
        QuestionBatchNotification(batch.id, "s1", cancelled=True)
    ]
    assert not service.answer(batch.id, [])
    assert not service.cancel()
    assert service.pending() == []


async def test_questions_run_cancel_after_answer(
    autojump_clock: trio.testing.MockClock, sink: Sink, service: QuestionService
) -> None:
    """An answer, then a run cancel before the tool wakes: only the answer counts."""
    outcomes: Outcomes = {}
    async with bounded() as nursery:
        nursery.start_soon(asker(service, outcomes), "c1", [YES_NO])
        await trio.testing.wait_all_tasks_blocked()
        assert service.answer("", [])
        nursery.cancel_scope.cancel()
    assert [n.cancelled for n in sink.notifications()] == [False]


async def test_questions_invalid_batch_is_not_queued(
    autojump_clock: trio.testing.MockClock, sink: Sink, service: QuestionService
) -> None:
    """A batch breaking a limit raises ValueError at once, even behind another."""
    async with bounded() as nursery:
        nursery.start_soon(service.ask, "s", "c1", [YES_NO])
        await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(ValueError, match="at least one question"):
            await service.ask("s", "c2", [])
        assert len(sink.batches()) == 1
        nursery.cancel_scope.cancel()


async def test_questions_wire_frames(autojump_clock: trio.testing.MockClock) -> None:
    """The request and notification encode upstream's keys plus the optional ones."""
    log = EventLog("ws", 64)
    service = QuestionService(log)
    async with bounded() as nursery:
        nursery.start_soon(service.ask, "s1", "c1", [YES_NO])
        await trio.testing.wait_all_tasks_blocked()
        service.answer("", [])
    request, notification = (json.loads(f) for f in log.read_ws(0).frames)
    payload = request["payload"]["payload"]
    assert request["type"] == "question_batch_request"
    assert set(payload) == {"id", "session_id", "tool_call_id", "questions"}
    assert payload["questions"] == [
        {
            "id": payload["questions"][0]["id"],
            "type": "yes_no",
            "question": "Proceed?",
            "description": "Deletes files.",
        }
    ]
    assert notification["type"] == "question_batch_notification"
    assert notification["payload"] == {
        "type": "created",
        "payload": {"batch_id": payload["id"], "session_id": "s1"},
    }


def test_prepare_batch_ids_and_defaults() -> None:
    """Ids are filled (kept when given); two questions get the default confirm texts."""
    given = attrs.evolve(YES_NO, id="mine")
    batch = prepare_batch("s", "c", [given, CHOICE])
    assert batch.questions[0].id == "mine"
    assert len(batch.questions[1].id) == 36
    assert len(batch.id) == 36
    assert (batch.confirm_title, batch.confirm_description) == (
        "Ready to go?",
        "Review your answers above and confirm.",
    )
    single = prepare_batch("s", "c", [YES_NO])
    assert (single.confirm_title, single.confirm_description) == ("", "")
    custom = prepare_batch("s", "c", [YES_NO, YES_NO], "Go?", "Now.")
    assert (custom.confirm_title, custom.confirm_description) == ("Go?", "Now.")


def choices(
    count: int, label: str = "x", description: str = ""
) -> list[QuestionChoice]:
    return [QuestionChoice(f"c{n}", label, description) for n in range(count)]


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ([], "at least one question is required"),
        ([YES_NO] * 6, "exceeds maximum of 5 questions per batch (got 6)"),
        ([attrs.evolve(YES_NO, type="rating")], "invalid type 'rating'"),
        ([attrs.evolve(YES_NO, question="")], "question text is required"),
        ([attrs.evolve(YES_NO, question="q" * 241)], "exceeds 240 characters"),
        ([attrs.evolve(YES_NO, description="")], "description is required"),
        ([attrs.evolve(YES_NO, description="d" * 601)], "exceeds 600 characters"),
        ([attrs.evolve(CHOICE, choices=choices(1))], "at least 2 choices"),
        ([attrs.evolve(CHOICE, type="multi_choice", choices=[])], "at least 2"),
        ([attrs.evolve(CHOICE, choices=choices(6))], "maximum of 5 (got 6)"),
        ([attrs.evolve(CHOICE, choices=choices(2, "l" * 201))], "exceeds 200"),
        ([attrs.evolve(CHOICE, choices=choices(2, "x", "d" * 201))], "exceeds 200"),
        ([attrs.evolve(CHOICE, choices=choices(2, ""))], "label is required"),
        (
            [attrs.evolve(CHOICE, choices=[QuestionChoice("", "a")] * 2)],
            'must have an "id" field',
        ),
        (
            [attrs.evolve(CHOICE, choices=[QuestionChoice("a", "a")] * 2)],
            "duplicate id 'a'",
        ),
    ],
)
def test_prepare_batch_limits(questions: list[QuestionItem], message: str) -> None:
    """Each limit gives a clear error naming the question; nothing is built."""
    with pytest.raises(ValueError, match=re.escape(message)):
        prepare_batch("s", "c", questions)


def test_prepare_batch_limits_are_inclusive() -> None:
    """Exactly at every limit is accepted; the error names the question by label."""
    item = attrs.evolve(
        CHOICE,
        question="q" * 240,
        description="d" * 600,
        choices=[QuestionChoice(f"c{n}", "l" * 200, "d" * 200) for n in range(5)],
    )
    assert len(prepare_batch("s", "c", [item] * 5).questions) == 5
    bad = attrs.evolve(item, choices=choices(1))
    with pytest.raises(ValueError, match=r"^question 2 \[Database\]: "):
        prepare_batch("s", "c", [item, bad])
    unnamed = attrs.evolve(YES_NO, question="w" * 50, type="x")
    with pytest.raises(ValueError, match=r"question 1 \[w{40}…\]"):
        prepare_batch("s", "c", [unnamed])
