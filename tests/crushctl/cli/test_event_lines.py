"""``crushctl watch`` lines for message and run events: the change, not the message."""

from __future__ import annotations

from crushctl.cli import _event_lines
from crushctl.cli._event_lines import EventLines
from crushctl.cli._watch import event_line
from crushd.proto import Event
from tests.crushctl._agent_fakes import (
    finish,
    message,
    text,
    tool_call,
    tool_result,
)


def ev(seq: int, type_: str, change: str, payload: object) -> Event:
    return Event(type=type_, event_type=change, payload=payload, id=seq)


def test_watch_message_updates_show_only_the_added_text() -> None:
    """Each update of a growing answer prints ``+N chars`` and the text's end."""
    lines = EventLines()
    long = "word " * 20
    events = [
        ev(1, "message", "created", message("u1", "user", text("hi there"))),
        ev(2, "message", "created", message("a1", "assistant")),
        ev(3, "message", "updated", message("a1", "assistant", text("Hello"))),
        ev(4, "message", "updated", message("a1", "assistant", text("Hello" + long))),
        ev(5, "message", "updated", message("a1", "assistant", text("Hello" + long))),
    ]
    assert [lines.line(e) for e in events] == [
        '#1 message created u1 user: "hi there"',
        "#2 message created a1 assistant",
        '#3 message updated a1 assistant: +5 chars "Hello"',
        '#4 message updated a1 assistant: +100 chars "…' + long[-59:] + '"',
        "#5 message updated a1 assistant",
    ]


def test_watch_tool_calls_results_and_finish() -> None:
    """A call shows when it starts and with its argument when complete; a
    tool result its line count; the finish its reason (an error its text)."""
    lines = EventLines()
    started = message("a1", "assistant", tool_call("c1", "view", "", finished=False))
    complete = message(
        "a1",
        "assistant",
        tool_call("c1", "view", '{"file_path":"/p/main.go"}', finished=True),
        finish("tool_use"),
    )
    result = message("t1", "tool", tool_result("c1", "view", "1|a\n2|b"))
    failed = message(
        "a2",
        "assistant",
        {"type": "reasoning", "data": {"thinking": "hmm"}},
        text("x"),
        finish("error", message="Boom"),
    )
    assert lines.line(ev(1, "message", "updated", started)) == (
        "#1 message updated a1 assistant: → view …"
    )
    assert lines.line(ev(2, "message", "updated", complete)) == (
        "#2 message updated a1 assistant: → view /p/main.go, finish tool_use"
    )
    assert lines.line(ev(3, "message", "created", result)) == (
        "#3 message created t1 tool: ← view 2 lines"
    )
    assert lines.line(ev(4, "message", "updated", failed)) == (
        '#4 message updated a2 assistant: +1 char "x", +3 chars of reasoning,'
        ' finish error "Boom"'
    )


def test_watch_run_complete_and_agent_events() -> None:
    """run_complete says ok, error or cancelled; agent_event its type and session."""
    base = {"session_id": "s1", "message_id": "a1"}
    assert event_line(ev(1, "run_complete", "updated", {**base, "run_id": "r1"})) == (
        "#1 run_complete updated r1 ok session=s1"
    )
    failed = {**base, "error": "Provider error"}
    assert event_line(ev(2, "run_complete", "updated", failed)) == (
        '#2 run_complete updated - error "Provider error" session=s1'
    )
    stopped = {**base, "run_id": "r2", "cancelled": True}
    assert event_line(ev(3, "run_complete", "updated", stopped)) == (
        "#3 run_complete updated r2 cancelled session=s1"
    )
    done = {"type": "agent_finished", "session_id": "s1", "session_title": "Fix"}
    assert event_line(ev(4, "agent_event", "created", done)) == (
        '#4 agent_event created agent_finished s1 "Fix"'
    )
    error = {"type": "error", "session_id": "s1", "error": "session not found"}
    assert event_line(ev(5, "agent_event", "created", error)) == (
        '#5 agent_event created error s1: "session not found"'
    )


def test_watch_run_retry_says_which_retry_and_why() -> None:
    """run_retry: the run, the retry number, the wait and the error."""
    retry: dict[str, object] = {"session_id": "s1", "run_id": "r1", "retry": 1}
    retry |= {"retries": 3, "delay_seconds": 5.0, "error": "Service Unavailable: busy"}
    assert event_line(ev(6, "run_retry", "created", retry)) == (
        "#6 run_retry created r1 retry 1 of 3 in 5 s session=s1: "
        '"Service Unavailable: busy"'
    )


def test_watch_session_busy_and_deleted_message() -> None:
    """A busy session says so; a deleted message is forgotten."""
    lines = EventLines()
    busy = {"id": "s1", "title": "t", "is_busy": True}
    assert lines.line(ev(1, "session", "updated", busy)) == (
        '#1 session updated id=s1 title="t" busy'
    )
    lines.line(ev(2, "message", "updated", message("a1", "assistant", text("abc"))))
    gone = message("a1", "assistant", text("abc"))
    assert lines.line(ev(3, "message", "deleted", gone)) == (
        "#3 message deleted a1 assistant"
    )
    again = lines.line(ev(4, "message", "updated", gone))
    assert again == '#4 message updated a1 assistant: +3 chars "abc"'


def test_watch_remembers_a_bounded_number_of_messages() -> None:
    """Only the newest REMEMBERED_MESSAGES messages are kept."""
    lines = EventLines()
    bound = _event_lines.REMEMBERED_MESSAGES
    for n in range(bound + 5):
        lines.line(
            ev(n, "message", "updated", message(f"m{n}", "assistant", text("a")))
        )
    assert len(lines._seen) == bound
    assert "m0" not in lines._seen
