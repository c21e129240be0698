"""Tests for crushd/agent/tools/_question.py: the ``question`` tool.

The tool against a fake asker (input parsing, the ``options`` alias, a
JSON-string ``questions``, the answer text, cancel) and against the real
workspace service (limits reach the model as errors; an answer from a
client comes back as text).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import trio.testing

from crushd.agent.tools._question import (
    QUESTION_CANCELLED_TEXT,
    QuestionTool,
    format_answers,
)
from crushd.proto import QuestionChoice, QuestionItem, QuestionResponse
from crushd.workspace._questions import QuestionService
from tests.workspace._permission_helpers import bounded

from ._helpers import call
from .conftest import MakeContext

Reply = (
    list[QuestionResponse]
    | None
    | Callable[[list[QuestionItem]], list[QuestionResponse]]
)


class FakeAsker:
    """Records what was asked and answers with ``reply``."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.asked: list[tuple[str, str, list[QuestionItem], str, str]] = []

    async def ask(
        self,
        session_id: str,
        tool_call_id: str,
        questions: list[QuestionItem],
        confirm_title: str = "",
        confirm_description: str = "",
    ) -> list[QuestionResponse] | None:
        self.asked.append(
            (session_id, tool_call_id, questions, confirm_title, confirm_description)
        )
        return self.reply(questions) if callable(self.reply) else self.reply


class NullEvents:
    def publish(self, type: str, event_type: str, payload: object) -> object:  # noqa: A002
        return None


YES_NO: dict[str, Any] = {
    "type": "yes_no",
    "question": "Enable caching?",
    "description": "Faster, more invalidation.",
}
CHOICE: dict[str, Any] = {
    "type": "single_choice",
    "question": "Which database?",
    "description": "Picks the driver.",
    "label": "Database",
    "choices": [{"id": "sqlite", "label": "SQLite"}, {"id": "pg", "label": "PG"}],
}


async def test_question_asks_and_formats(
    autojump_clock: trio.testing.MockClock, make_ctx: MakeContext
) -> None:
    """The batch reaches the asker with ids; yes/no and selections come back as text."""

    def reply(items: list[QuestionItem]) -> list[QuestionResponse]:
        return [
            QuestionResponse(request_id=items[1].id, selected_ids=["pg"]),
            QuestionResponse(request_id=items[0].id, yes=True),
        ]

    asker = FakeAsker(reply)
    text = json.dumps({"questions": [YES_NO, CHOICE], "confirm_title": "Go?"})
    result = await call(QuestionTool(), make_ctx(questions=asker), text)
    ((session, call_id, items, title, description),) = asker.asked
    assert (session, call_id, title, description) == ("s1", "call_1", "Go?", "")
    assert [i.type for i in items] == ["yes_no", "single_choice"]
    assert all(len(i.id) == 36 for i in items)
    assert items[1].choices == [
        QuestionChoice("sqlite", "SQLite"),
        QuestionChoice("pg", "PG"),
    ]
    assert not result.is_error
    assert result.content == (
        'Q2: Which database?\nUser selected: ["pg"]\n\nQ1: Enable caching?\n'
        "User answered: yes"
    )


async def test_question_accepts_string_questions_and_options(
    autojump_clock: trio.testing.MockClock,
    make_ctx: MakeContext,
) -> None:
    """`questions` as a JSON string and `options` instead of `choices` are accepted."""
    asker = FakeAsker([QuestionResponse(fill_in_text="other")])
    item = {**CHOICE, "label": None, "choices": None, "options": CHOICE["choices"]}
    text = json.dumps({"questions": json.dumps([item])})
    result = await call(QuestionTool(), make_ctx(questions=asker), text)
    (asked,) = asker.asked[0][2]
    assert [c.id for c in asked.choices] == ["sqlite", "pg"]
    assert asked.label == ""
    assert result.content == "Q1: Which database?\nUser provided: other"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "questions is required"),
        ('{"questions": "not json"}', "questions must be an array"),
        ('{"questions": 5}', "questions must be an array"),
        ('{"questions": [5]}', "questions[0] must be an object"),
        ('{"questions": [{"type": "yes_no"}]}', "questions[0].question is required"),
        (
            '{"questions": [{"type": "yes_no", "question": "q", "description": 3}]}',
            "questions[0].description must be a string",
        ),
    ],
)
async def test_question_bad_input(
    autojump_clock: trio.testing.MockClock,
    make_ctx: MakeContext,
    text: str,
    message: str,
) -> None:
    """Malformed input is an error result naming the problem; nothing is asked."""
    asker = FakeAsker([])
    result = await call(QuestionTool(), make_ctx(questions=asker), text)
    assert result.is_error
    assert message in result.content
    assert asker.asked == []


async def test_question_cancelled_ends_the_turn(
    autojump_clock: trio.testing.MockClock, make_ctx: MakeContext
) -> None:
    """A cancelled batch is upstream's text with stop_turn."""
    result = await call(
        QuestionTool(),
        make_ctx(questions=FakeAsker(None)),
        json.dumps({"questions": [YES_NO]}),
    )
    assert (result.content, result.is_error, result.stop_turn) == (
        QUESTION_CANCELLED_TEXT,
        True,
        True,
    )


async def test_question_without_asker(
    autojump_clock: trio.testing.MockClock, make_ctx: MakeContext
) -> None:
    """A context without a question service answers an error, never raises."""
    result = await call(QuestionTool(), make_ctx(), json.dumps({"questions": [YES_NO]}))
    assert result.is_error
    assert not result.stop_turn


async def test_question_limit_error_from_the_service(
    autojump_clock: trio.testing.MockClock, make_ctx: MakeContext
) -> None:
    """The service's limit errors reach the model as error results."""
    ctx = make_ctx(questions=QuestionService(NullEvents()))
    result = await call(QuestionTool(), ctx, json.dumps({"questions": [YES_NO] * 6}))
    assert result.is_error
    assert "exceeds maximum of 5 questions per batch (got 6)" in result.content
    result = await call(
        QuestionTool(), ctx, json.dumps({"questions": [{**CHOICE, "choices": []}]})
    )
    assert "requires at least 2 choices" in result.content


async def test_question_with_the_real_service(
    autojump_clock: trio.testing.MockClock, make_ctx: MakeContext
) -> None:
    """A client's answer through the workspace service comes back to the model."""
    service = QuestionService(NullEvents())
    ctx = make_ctx(questions=service)
    results = []

    async def run() -> None:
        results.append(
            await call(QuestionTool(), ctx, json.dumps({"questions": [YES_NO]}))
        )

    async with bounded() as nursery:
        nursery.start_soon(run)
        await trio.testing.wait_all_tasks_blocked()
        (batch,) = service.pending()
        assert batch.tool_call_id == "call_1"
        question_id = batch.questions[0].id
        assert service.answer(batch.id, [QuestionResponse(question_id, yes=False)])
    assert results[0].content == "Q1: Enable caching?\nUser answered: no"


def test_format_answers_cases() -> None:
    """Skipped, both selection and text, notes, unmatched ids fall back to position."""
    questions = [
        QuestionItem(id="a", type="yes_no", question="First?"),
        QuestionItem(id="b", type="multi_choice", question="Second?"),
    ]
    responses = [
        QuestionResponse(request_id="zzz"),
        QuestionResponse(
            request_id="b",
            selected_ids=["x", "y"],
            fill_in_text="more",
            notes={"_question": "general", "x": "about x"},
        ),
        QuestionResponse(request_id="", yes=True),
    ]
    assert format_answers(responses, questions) == (
        "Q1: First?\nUser skipped this question\n\n"
        'Q2: Second?\nUser selected: ["x","y"]\nUser provided: more\n\n'
        "Notes:\n- general\n- [x]: about x\n\n"
        "User answered: yes"
    )
    assert format_answers([], questions) == (
        "Q1: First?\nUser skipped this question\n\n"
        "Q2: Second?\nUser skipped this question"
    )
