"""RunFollower: one run's new text, tool calls and end, out of a workspace's events."""

from __future__ import annotations

from crushctl import (
    RetrySeen,
    RunFollower,
    RunResult,
    Step,
    TextChunk,
    ToolCallSeen,
)
from crushd.proto import Event, Message, Part

PROMPT = "list the files"


def text(value: str) -> dict[str, object]:
    return {"type": "text", "data": {"text": value}}


def call(
    call_id: str, name: str, arguments: str, *, finished: bool
) -> dict[str, object]:
    data = {"id": call_id, "name": name, "input": arguments, "finished": finished}
    return {"type": "tool_call", "data": data}


def message(
    message_id: str, role: str, *parts: dict[str, object], session: str = "s1"
) -> dict[str, object]:
    return {"id": message_id, "role": role, "session_id": session, "parts": list(parts)}


def ev(type_: str, change: str, payload: object) -> Event:
    return Event(type=type_, event_type=change, payload=payload, id=0)


def user(prompt: str = PROMPT, session: str = "s1") -> Event:
    return ev(
        "message", "created", message("u1", "user", text(prompt), session=session)
    )


def said(message_id: str, value: str, *more: dict[str, object]) -> Event:
    return ev(
        "message", "updated", message(message_id, "assistant", text(value), *more)
    )


def done(**fields: object) -> Event:
    return ev("run_complete", "updated", {"session_id": "s1", "run_id": "r1", **fields})


def outputs(follower: RunFollower, *events: Event) -> list[object]:
    return [out for event in events for out in follower.feed(event).outputs]


def test_only_the_new_suffix_of_each_update_is_reported() -> None:
    """Every update carries the whole message: only the added text comes out,
    without the leading white space the first text began with."""
    follower = RunFollower("s1", "r1", PROMPT)
    got = outputs(
        follower, user(), said("a1", "\n"), said("a1", "\nHel"), said("a1", "\nHello")
    )
    assert got == [TextChunk("a1", "Hel", first=True), TextChunk("a1", "lo")]


def test_events_before_the_prompt_and_of_other_sessions_are_not_the_run() -> None:
    """An earlier turn's assistant message, another session's and another
    run's run_complete are ignored; the user message starts the run."""
    follower = RunFollower("s1", "r1", PROMPT)
    assert follower.feed(said("old", "earlier answer")).belongs is False
    assert follower.feed(user(session="s2")).belongs is False
    assert follower.feed(user("another prompt")).belongs is False
    assert follower.feed(user()).belongs is True
    other_run = ev("run_complete", "updated", {"session_id": "s1", "run_id": "r0"})
    assert follower.feed(other_run).belongs is False
    other_session = said("x", "hi")
    other_session.payload["session_id"] = "s2"  # type: ignore[index]
    assert follower.feed(other_session).belongs is False
    assert follower.result is None


def test_a_new_step_is_a_first_chunk() -> None:
    """The second assistant message of the turn starts with ``first``."""
    follower = RunFollower("s1", "r1", PROMPT)
    got = outputs(follower, user(), said("a1", "Looking."), said("a2", "Done."))
    assert got == [
        TextChunk("a1", "Looking.", first=True),
        TextChunk("a2", "Done.", first=True),
    ]


def test_tool_call_reported_once_when_its_input_is_complete() -> None:
    """A tool call shows when ``finished``; later updates do not repeat it."""
    follower = RunFollower("s1", "r1", PROMPT)
    started = said("a1", "", call("c1", "view", "", finished=False))
    complete = said(
        "a1", "", call("c1", "view", '{"file_path":"/p/a.go"}', finished=True)
    )
    got = outputs(follower, user(), started, complete, complete)
    assert got == [ToolCallSeen("c1", "view", '{"file_path":"/p/a.go"}')]


def test_tool_result_announces_a_call_never_seen_finished() -> None:
    """A tool result for a call not yet shown shows it (input as last seen)."""
    follower = RunFollower("s1", "r1", PROMPT)
    started = said("a1", "", call("c1", "ls", '{"path":"/p"}', finished=False))
    result = {"tool_call_id": "c1", "name": "ls", "content": "a.go"}
    tool = ev(
        "message",
        "created",
        message("t1", "tool", {"type": "tool_result", "data": result}),
    )
    got = outputs(follower, user(), started, tool)
    assert got == [ToolCallSeen("c1", "ls", '{"path":"/p"}')]


def test_retry_that_cuts_the_text_back_does_not_repeat_it() -> None:
    """A retried call resets the text; the same text streamed again is not
    printed twice, and only what goes beyond it is new."""
    follower = RunFollower("s1", "r1", PROMPT)
    got = outputs(
        follower,
        user(),
        said("a1", "Hello wor"),
        said("a1", ""),
        said("a1", "Hello"),
        said("a1", "Hello world"),
    )
    assert got == [TextChunk("a1", "Hello wor", first=True), TextChunk("a1", "ld")]


def test_retry_with_other_text_restarts_the_message() -> None:
    """Text that neither extends nor shortens the last is reported whole."""
    follower = RunFollower("s1", "r1", PROMPT)
    got = outputs(follower, user(), said("a1", "Hello"), said("a1", "Bye"))
    assert got[-1] == TextChunk("a1", "Bye", restarted=True)


def retrying(session: str = "s1", **fields: object) -> Event:
    payload = {"session_id": session, "run_id": "other", "error": "Busy: try later"}
    return ev("run_retry", "created", payload | {"retry": 2, "retries": 3} | fields)


def test_run_retry_of_the_runs_session_is_reported() -> None:
    """A retry notice of the run's session, once the run began, is the run's
    (by session: a folded prompt runs under the turn's run_id)."""
    follower = RunFollower("s1", "r1", PROMPT)
    assert follower.feed(retrying(delay_seconds=10)) == Step(belongs=False)
    follower.feed(user())
    assert follower.feed(retrying(session="s2", delay_seconds=10)).belongs is False
    step = follower.feed(retrying(delay_seconds=10))
    assert step == Step(belongs=True, outputs=(RetrySeen("Busy: try later", 2, 3, 10),))
    malformed = follower.feed(retrying(retry="two", delay_seconds=10))
    assert malformed == Step(belongs=True)


def test_run_complete_ends_the_run_and_supplies_missing_text() -> None:
    """The own run_complete is the result; text it holds beyond the last
    update is reported before it."""
    follower = RunFollower("s1", "r1", PROMPT)
    got = outputs(
        follower,
        user(),
        said("a1", "The answer"),
        done(message_id="a1", text="The answer is 4."),
    )
    result = RunResult("s1", "r1", message_id="a1", text="The answer is 4.")
    assert got == [
        TextChunk("a1", "The answer", first=True),
        TextChunk("a1", " is 4."),
        result,
    ]
    assert follower.result == result
    assert result.outcome == "ok"
    assert follower.feed(said("a1", "later")).belongs is False


def test_run_complete_outcomes() -> None:
    """error and cancelled come through; the text falls back to what was seen."""
    follower = RunFollower("s1", "r1", PROMPT)
    outputs(
        follower, user(), said("a1", "partial"), done(message_id="a1", cancelled=True)
    )
    assert follower.result == RunResult("s1", "r1", "a1", "partial", cancelled=True)
    assert follower.result.outcome == "cancelled"
    failed = RunFollower("s1", "r1", PROMPT)
    failed.feed(done(error="provider said no"))
    assert failed.result is not None
    assert failed.result.outcome == "error"


def test_session_and_agent_events_belong_once_started() -> None:
    """session and agent_event events of the session are the run's (for --json)."""
    follower = RunFollower("s1", "r1", PROMPT)
    session = ev("session", "updated", {"id": "s1", "title": "t"})
    finished = ev(
        "agent_event", "created", {"type": "agent_finished", "session_id": "s1"}
    )
    assert follower.feed(session).belongs is False
    follower.feed(user())
    assert follower.feed(session).belongs is True
    assert follower.feed(finished).belongs is True


def stored(message_id: str, role: str, *parts: Part) -> Message:
    return Message(id=message_id, role=role, session_id="s1", parts=list(parts))


def test_settle_after_missed_events_uses_the_stored_messages() -> None:
    """After a resync the end may be lost: the stored turn gives the rest of
    the text and the outcome (an error finish is an error)."""
    follower = RunFollower("s1", "r1", PROMPT)
    follower.feed(user())
    follower.feed(said("a1", "Part"))
    follower.missed_events()
    messages = [
        stored("u0", "user", Part("text", {"text": "older prompt"})),
        stored("u1", "user", Part("text", {"text": PROMPT})),
        stored(
            "a1",
            "assistant",
            Part("text", {"text": "Partial"}),
            Part(
                "finish",
                {"reason": "error", "message": "Rate limited", "details": "429"},
            ),
        ),
    ]
    got = follower.settle(messages)
    result = RunResult("s1", "r1", "a1", "Partial", error="Rate limited: 429")
    assert got == (TextChunk("a1", "ial"), result)


def test_settle_without_the_prompt_is_an_error() -> None:
    """A turn whose prompt was never stored (session gone) settles as an error."""
    follower = RunFollower("s1", "r1", PROMPT)
    (result,) = follower.settle([])
    assert isinstance(result, RunResult)
    assert result.error == "the run left no answer"


def test_missed_events_counts_later_messages_without_the_prompt() -> None:
    """After a gap the user message may be gone: the session's messages count."""
    follower = RunFollower("s1", "r1", PROMPT)
    follower.missed_events()
    assert outputs(follower, said("a1", "Hi")) == [TextChunk("a1", "Hi", first=True)]


def test_malformed_run_complete_is_not_the_end() -> None:
    """A run_complete that does not fit the wire model is skipped, not trusted."""
    follower = RunFollower("s1", "r1", PROMPT)
    follower.feed(user())
    assert follower.feed(done(cancelled="yes")).belongs is False
    assert follower.result is None
