"""``crushctl watch`` lines for prompts, and the answers typed for questions."""

from __future__ import annotations

import pytest

from crushctl import (
    CrushctlError,
)
from crushctl.cli._answers import parse_line, responses_from_flags
from crushctl.cli._event_lines import EventLines
from crushd.proto import (
    Event,
    QuestionBatchRequest,
    QuestionItem,
    QuestionResponse,
    from_json,
)

SECRET = "sk-abcdefghijklmnop1234"


def ev(seq: int, type_: str, payload: object) -> Event:
    return Event(type=type_, event_type="created", payload=payload, id=seq)


def test_watch_prints_requests_resolutions_and_questions_readably() -> None:
    """A request with how to answer it (secrets masked), who resolved it,
    cancellations, question batches and their endings."""
    request = {
        "id": "p1",
        "session_id": "s1",
        "tool_call_id": "c1",
        "tool_name": "fetch",
        "action": "fetch",
        "params": {"url": f"https://x/?token={SECRET}", "format": "text"},
        "path": "/proj",
    }
    batch = {
        "id": "b1",
        "session_id": "s1",
        "tool_call_id": "c2",
        "questions": [{"id": "q1", "type": "yes_no", "question": "Go on?"}],
    }
    lines = EventLines()
    events = [
        ev(1, "permission_notification", {"tool_call_id": "c1"}),
        ev(2, "permission_request", request),
        ev(
            3,
            "permission_notification",
            {"tool_call_id": "c1", "granted": True, "resolved_by": "cb"},
        ),
        ev(
            4,
            "permission_notification",
            {"tool_call_id": "c1", "denied": True, "cancelled": True},
        ),
        ev(5, "permission_notification", {"tool_call_id": "c1", "denied": True}),
        ev(6, "question_batch_request", batch),
        ev(7, "question_batch_notification", {"batch_id": "b1", "resolved_by": "cb"}),
        ev(8, "question_batch_notification", {"batch_id": "b1", "cancelled": True}),
    ]
    assert [lines.line(e) for e in events] == [
        "#1 permission_notification created call=c1 asking",
        "#2 permission_request created p1 fetch https://x/?token=••••1234"
        " (fetch in /proj) session=s1 (crushctl grant|deny p1)",
        "#3 permission_notification created call=c1 approved by cb",
        "#4 permission_notification created call=c1 cancelled (the run ended)",
        "#5 permission_notification created call=c1 denied elsewhere",
        '#6 question_batch_request created b1 1 question: "Go on?" session=s1'
        " (crushctl answer)",
        "#7 question_batch_notification created b1 answered by cb",
        "#8 question_batch_notification created b1 cancelled",
    ]


def test_watch_prompt_payloads_of_the_wrong_shape_print_as_json() -> None:
    """A malformed prompt payload is shown as its JSON, never a crash."""
    line = EventLines().line(ev(1, "permission_request", {"tool_name": 5}))
    assert line == '#1 permission_request created {"tool_name":5}'


def item(type_: str, *choices: str) -> QuestionItem:
    listed = [{"id": c, "label": c.upper() + "x"} for c in choices]
    data: dict[str, object] = {"id": "q", "type": type_, "question": "?"}
    if listed:
        data["choices"] = listed
    return from_json(data, QuestionItem)


@pytest.mark.parametrize(
    ("question", "line", "expected"),
    [
        (item("yes_no"), " Yes ", QuestionResponse("q", yes=True)),
        (item("yes_no"), "n", QuestionResponse("q", yes=False)),
        (item("yes_no"), "sure", None),
        (item("single_choice", "a", "b"), "2", QuestionResponse("q", ["b"])),
        (item("single_choice", "a", "b"), "AX", QuestionResponse("q", ["a"])),
        (item("single_choice", "a", "b"), "3", None),
        (item("single_choice", "a", "b"), "", None),
        (item("multi_choice", "a", "b"), "b, 1", QuestionResponse("q", ["b", "a"])),
        (item("multi_choice", "a", "b"), "a c", None),
        (item("free_text"), " blue \n", QuestionResponse("q", fill_in_text="blue")),
        (item("free_text"), "", QuestionResponse("q")),
    ],
)
def test_typed_lines_become_answers(
    question: QuestionItem, line: str, expected: QuestionResponse | None
) -> None:
    """Numbers, ids or labels name choices; a line that answers nothing is None."""
    assert parse_line(question, line) == expected


def test_flags_with_two_choices_for_a_single_choice_are_refused() -> None:
    """A single choice takes one --choice; two leave it unanswered."""
    batch = QuestionBatchRequest(
        "b", "s1", "c1", questions=[item("single_choice", "a", "b")]
    )
    with pytest.raises(CrushctlError, match="give one --choice"):
        responses_from_flags(batch, ["a", "b"], None, [])
    assert responses_from_flags(batch, ["b"], None, []) == [
        QuestionResponse("q", ["b"])
    ]
