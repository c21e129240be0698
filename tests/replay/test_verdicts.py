"""The after-run checks, on stored messages and events built by hand."""

from __future__ import annotations

import json
from pathlib import Path

import attrs

from crushd.proto import Event, Message, Part

from . import (
    AGENT,
    TITLE,
    RecordedRequest,
    event_problems,
    fixture_problems,
    load_scenario,
    provider_config,
    result_for,
    unanswered_tool_calls,
)

SID = "s1"
RUN = "r1"


def message(role: str, *parts: tuple[str, dict[str, object]]) -> Message:
    return Message(
        id=f"m{len(parts)}{role}",
        role=role,
        session_id=SID,
        parts=[Part(kind, data) for kind, data in parts],
    )


def call(call_id: str, name: str, arguments: object) -> tuple[str, dict[str, object]]:
    return ("tool_call", {"id": call_id, "name": name, "input": json.dumps(arguments)})


def result(call_id: str, name: str, content: str) -> tuple[str, dict[str, object]]:
    data: dict[str, object] = {
        "tool_call_id": call_id,
        "name": name,
        "content": content,
    }
    return ("tool_result", data)


def text(value: str) -> tuple[str, dict[str, object]]:
    return ("text", {"text": value})


def read_a_file_messages(root: Path) -> list[Message]:
    """What a faithful agent stores for read_a_file."""
    glob_id, view_id = "call_58a6f8fab343c64a", "call_87efb49dce50ed1b"
    return [
        message("user", text("Read the go mod")),
        message("assistant", call(glob_id, "glob", {"pattern": "go.mod"})),
        message("tool", result(glob_id, "glob", f"{root}/go.mod")),
        message("assistant", call(view_id, "view", {"file_path": f"{root}/go.mod"})),
        message(
            "tool", result(view_id, "view", "     1|module example.com/testproject")
        ),
        message(
            "assistant",
            text("Module `example.com/testproject`, Go 1.23, no dependencies."),
        ),
    ]


def requests(served: int, extra: int = 0) -> list[RecordedRequest]:
    interactions = [1, 3, 4]
    made = [
        RecordedRequest(
            "read_a_file",
            "deepseek-v4-pro-0813",
            AGENT,
            n,
            interactions[n] if n < len(interactions) else None,
            {},
            {},
            (),
        )
        for n in range(served + extra)
    ]
    title = RecordedRequest(
        "read_a_file", "deepseek-v4-flash-0731", TITLE, 0, 0, {}, {}, ()
    )
    return [title, *made]


def test_a_faithful_run_passes_every_check(tmp_path: Path) -> None:
    scenario = load_scenario("read_a_file")
    messages = read_a_file_messages(tmp_path)
    assert fixture_problems(scenario, messages, requests(3), tmp_path) == []
    assert unanswered_tool_calls(messages) == []


def test_each_failed_check_is_named(tmp_path: Path) -> None:
    """A wrong view result, another final text, an extra call and a bad echo."""
    scenario = load_scenario("read_a_file")
    messages = read_a_file_messages(tmp_path)
    messages[4] = message("tool", result("call_87efb49dce50ed1b", "view", "nothing"))
    messages[5] = message("assistant", text("Something else."))
    sent = requests(3, extra=1)
    sent[2] = attrs.evolve(sent[2], problems=("a trailing tool result is empty",))
    assert fixture_problems(scenario, messages, sent, tmp_path) == [
        "check failed: " + str(scenario.checks[0]["text"]),
        "check failed: " + str(scenario.checks[1]["text"]),
        "4 agent calls, 3 served; recorded 3",
        "agent call 1: a trailing tool result is empty",
    ]


def test_the_result_for_a_tool_is_the_last_call_s_result(tmp_path: Path) -> None:
    messages = [
        message("assistant", call("a", "view", {}), call("b", "ls", {})),
        message("tool", result("a", "view", "first")),
        message("assistant", call("c", "view", {})),
        message("tool", result("c", "view", "second")),
    ]
    found = result_for(messages, ["view"])
    assert found is not None
    assert found["content"] == "second"
    assert unanswered_tool_calls(messages) == ["b"]


def event(number: int, kind: str, inner: str, payload: dict[str, object]) -> Event:
    return Event(type=kind, event_type=inner, payload=payload, id=number)


def session(busy: bool) -> dict[str, object]:
    return {"id": SID, "title": "t", "is_busy": busy}


def turn_events() -> list[Event]:
    """One turn's events in the order docs/agent.md section 1.4 gives."""
    item = {"session_id": SID}
    return [
        event(1, "session", "updated", session(True)),
        event(2, "message", "created", {**item, "role": "user"}),
        event(3, "message", "created", {**item, "role": "assistant"}),
        event(4, "message", "updated", {**item, "role": "assistant"}),
        event(5, "session", "updated", session(False)),
        event(6, "agent_event", "created", {**item, "type": "agent_finished"}),
        event(7, "run_complete", "updated", {**item, "run_id": RUN}),
        event(8, "session", "updated", {**session(False), "title": "Untitled"}),
    ]


def test_a_well_ordered_turn_has_no_event_problem() -> None:
    assert event_problems(turn_events(), SID, RUN) == []


def test_event_order_problems_are_named() -> None:
    events = turn_events()
    events[1], events[2] = events[2], events[1]
    events.append(event(9, "message", "updated", {"session_id": SID}))
    del events[5]
    assert event_problems(events, SID, RUN) == [
        "message created roles ['assistant', 'user']: user first, then assistant",
        "no agent_event agent_finished before run_complete",
        "a message event after run_complete",
    ]
    twice = [*turn_events(), turn_events()[6]]
    assert event_problems(twice, SID, RUN) == ["2 run_complete events for run r1"]


def test_the_provider_config_is_upstream_s_shape() -> None:
    scenario = load_scenario("simple_test")
    document = provider_config(scenario, "http://127.0.0.1:1/simple_test/v1")
    provider = document["providers"]["replay"]  # type: ignore[index]
    assert provider["type"] == "openai-compat"
    assert [m["context_window"] for m in provider["models"]] == [200_000] * 2
    assert document["models"] == {
        "large": {"provider": "replay", "model": "deepseek-v4-pro-0813"},
        "small": {"provider": "replay", "model": "deepseek-v4-flash-0731"},
    }
