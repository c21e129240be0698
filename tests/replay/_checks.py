"""What a received agent request must contain, given the recording.

Never the system prompt, the tool descriptions or the todo reminder: a
re-implementation writes its own. Only message roles, the prompt, tool-call
ids, names and arguments (as JSON values) and tool-result ids are compared
(docs/agent.md section 7.8). The request is compared after ``map_back``, so the
test's directory reads as the recorded one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ._scenario import Interaction, Scenario

JSONObject = dict[str, object]


def text_of(content: object) -> str:
    """The text of a message's ``content``: a string or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        )
    return ""


def _messages(body: JSONObject) -> list[JSONObject]:
    raw = body.get("messages")
    if not isinstance(raw, list):
        return []
    return [m for m in raw if isinstance(m, dict)]


def _tool_ids(messages: Sequence[JSONObject]) -> list[str]:
    return [str(m.get("tool_call_id")) for m in messages if m.get("role") == "tool"]


def _calls_as_values(calls: object) -> dict[str, tuple[str, object]] | None:
    """``{id: (name, arguments as a JSON value)}``; ``None`` if malformed."""
    if not isinstance(calls, list):
        return None
    found: dict[str, tuple[str, object]] = {}
    try:
        for call in calls:
            function = call["function"]
            found[call["id"]] = (function["name"], json.loads(function["arguments"]))
    except (KeyError, TypeError, ValueError):
        return None
    return found


def _recorded_calls(turn: Interaction) -> dict[str, tuple[str, object]]:
    return {c.id: (c.name, json.loads(c.arguments)) for c in turn.tool_calls}


def _first_request(messages: Sequence[JSONObject], prompt: str) -> list[str]:
    last = messages[-1] if messages else {}
    if last.get("role") != "user" or prompt not in text_of(last.get("content")):
        return [f"the first agent request does not end with the prompt {prompt!r}"]
    return []


def _tool_block(messages: Sequence[JSONObject], previous: Interaction) -> list[str]:
    """The request ends with results for exactly ``previous``'s calls, echoed."""
    wanted = _recorded_calls(previous)
    cut = len(messages)
    while cut > 0 and messages[cut - 1].get("role") == "tool":
        cut -= 1
    block = messages[cut:]
    problems = []
    if sorted(_tool_ids(block)) != sorted(wanted):
        problems.append(f"trailing tool results {_tool_ids(block)} != {sorted(wanted)}")
    if any(not text_of(m.get("content")) for m in block):
        problems.append("a trailing tool result is empty")
    echo = messages[cut - 1] if cut > 0 else {}
    if echo.get("role") != "assistant":
        problems.append("the tool results do not follow an assistant message")
    elif _calls_as_values(echo.get("tool_calls")) != wanted:
        problems.append(f"the assistant echo {echo.get('tool_calls')} != {wanted}")
    return problems


def agent_request_problems(
    scenario: Scenario, position: int, body: JSONObject
) -> list[str]:
    """What is wrong with the agent request served at cursor ``position``.

    Args:
        scenario: the recording.
        position: 0 for the first agent request, 1 for the next...
        body: the request body with the workdir mapped back.

    Returns:
        One sentence per problem; empty when the request is as recorded. A
        position beyond the recording has nothing to compare (the server
        answers it with a 500).
    """
    turns = scenario.agent_turns
    messages = _messages(body)
    if position >= len(turns):
        return []
    if position == 0:
        return _first_request(messages, scenario.prompt)
    problems = _tool_block(messages, turns[position - 1])
    earlier = {c.id for turn in turns[: position - 1] for c in turn.tool_calls}
    if missing := earlier - set(_tool_ids(messages)):
        problems.append(f"earlier tool results missing: {sorted(missing)}")
    return problems
