"""After a replayed run: the fixture's checks and the run's event invariants.

Each function returns a list of problems (one sentence each; empty when all
is well), so a test asserts ``== []`` and a failure names every problem at
once. The checks are the fixture's ``checks[]`` (``tests/fixtures/llm/README.md``);
the invariants are docs/agent.md sections 1.4 and 7.8.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crushd.proto import Event, Message

from ._scenario import AGENT, Scenario
from ._server import RecordedRequest

JSONObject = dict[str, object]


def parts(message: Message, kind: str) -> list[dict[str, object]]:
    """The ``data`` of every part of ``kind`` in ``message``."""
    return [part.data for part in message.parts if part.type == kind]


def message_text(message: Message) -> str:
    """The message's text parts, joined."""
    return "".join(str(data.get("text", "")) for data in parts(message, "text"))


def final_text(messages: Sequence[Message]) -> str:
    """The text of the last assistant message (``""`` when there is none)."""
    assistants = [m for m in messages if m.role == "assistant"]
    return message_text(assistants[-1]) if assistants else ""


def result_for(messages: Sequence[Message], tools: Sequence[str]) -> JSONObject | None:
    """The tool result answering the last call to one of ``tools``.

    As upstream's test finds it: walk the messages in order, remember the id
    of the last assistant tool call so named, then find the result with that
    ``tool_call_id``.
    """
    wanted = ""
    for message in messages:
        if message.role == "assistant":
            for call in parts(message, "tool_call"):
                if call.get("name") in tools:
                    wanted = str(call.get("id"))
    results = [r for m in messages for r in parts(m, "tool_result")]
    return next((r for r in results if wanted and r["tool_call_id"] == wanted), None)


def _names(check: JSONObject) -> list[str]:
    tools = check.get("tool_any") or check.get("tool")
    return [str(t) for t in tools] if isinstance(tools, list) else [str(tools)]


def _stored_check(check: JSONObject, messages: Sequence[Message], root: Path) -> bool:
    kind = check["kind"]
    if kind == "message_count":
        return len(messages) == check["equals"]
    if kind == "final_text_equals":
        return final_text(messages) == check["equals"]
    if kind == "file_contains":
        path = root / str(check["path"])
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        wanted = str(check["contains"])
        if check.get("case_insensitive"):
            text, wanted = text.lower(), wanted.lower()
        return wanted in text
    result = result_for(messages, _names(check))
    if kind == "tool_result_exists":
        return result is not None
    if kind == "tool_result_contains":
        content = "" if result is None else str(result.get("content", ""))
        strings = check["contains"]
        assert isinstance(strings, list)
        return all(str(s) in content for s in strings)
    return True  # the request-side kinds are checked by request_problems


def request_problems(
    scenario: Scenario, requests: Sequence[RecordedRequest]
) -> list[str]:
    """``agent_turns_served`` and ``tool_results_returned``, from the request record."""
    agent = [r for r in requests if r.purpose == AGENT and r.model == scenario.large]
    problems = []
    served = [r for r in agent if r.served]
    if len(served) != len(scenario.agent_turns) or len(agent) != len(served):
        problems.append(
            f"{len(agent)} agent calls, {len(served)} served; "
            f"recorded {len(scenario.agent_turns)}"
        )
    problems.extend(f"agent call {r.position}: {p}" for r in agent for p in r.problems)
    return problems


def fixture_problems(
    scenario: Scenario,
    messages: Sequence[Message],
    requests: Sequence[RecordedRequest],
    root: Path,
) -> list[str]:
    """Every failed check of the fixture, as its own sentence.

    Args:
        scenario: the recording.
        messages: the session's stored messages after the run.
        requests: what the replay server received for this scenario.
        root: the project directory the run worked in.
    """
    problems = [
        f"check failed: {check['text']}"
        for check in scenario.checks
        if not _stored_check(check, messages, root)
    ]
    return problems + request_problems(scenario, requests)


def unanswered_tool_calls(messages: Sequence[Message]) -> list[str]:
    """Ids of assistant tool calls with no tool result."""
    answered = {r["tool_call_id"] for m in messages for r in parts(m, "tool_result")}
    return [
        str(call["id"])
        for m in messages
        if m.role == "assistant"
        for call in parts(m, "tool_call")
        if call["id"] not in answered
    ]


def _payload(event: Event) -> JSONObject:
    return event.payload if isinstance(event.payload, dict) else {}


def _of_session(event: Event, session_id: str) -> bool:
    payload = _payload(event)
    if event.type == "session":
        return payload.get("id") == session_id
    return payload.get("session_id") == session_id


def run_complete_for(events: Sequence[Event], run_id: str) -> list[Event]:
    """The ``run_complete`` events carrying ``run_id``."""
    return [
        e
        for e in events
        if e.type == "run_complete" and _payload(e).get("run_id") == run_id
    ]


def event_problems(events: Sequence[Event], session_id: str, run_id: str) -> list[str]:
    """What is wrong with one turn's events, as one watcher saw them.

    The user's ``message created`` comes before the assistant's; the session
    was published busy, then idle; ``agent_event{agent_finished}`` comes
    before the one ``run_complete`` for ``run_id``, and no message of the
    session changes after it.
    """
    ours = [e for e in events if _of_session(e, session_id)]
    completes = run_complete_for(ours, run_id)
    if len(completes) != 1:
        return [f"{len(completes)} run_complete events for run {run_id}"]
    cut = ours.index(completes[0])
    before, after = ours[:cut], ours[cut + 1 :]
    problems = []
    roles = [_payload(e).get("role") for e in before if _created_message(e)]
    if "user" not in roles or "assistant" not in roles[roles.index("user") :]:
        problems.append(f"message created roles {roles}: user first, then assistant")
    busy = [_payload(e).get("is_busy") for e in before if e.type == "session"]
    if True not in busy or busy[-1] is not False:
        problems.append(f"session is_busy sequence {busy}: busy, then idle")
    if not any(_payload(e).get("type") == "agent_finished" for e in before):
        problems.append("no agent_event agent_finished before run_complete")
    if any(e.type == "message" for e in after):
        problems.append("a message event after run_complete")
    return problems


def _created_message(event: Event) -> bool:
    return event.type == "message" and event.event_type == "created"
