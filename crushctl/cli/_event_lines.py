"""One readable line per event for ``crushctl watch``.

Every ``message`` update carries the whole message (docs/protocol.md 3.3, 4),
so ``EventLines`` remembers what each message looked like and prints only the
change: ``m1 assistant: +12 chars "…last words"``, a finished tool call, a
tool result, the finish.
"""

from __future__ import annotations

import collections
import json

import attrs

from crushctl import (
    finish_error,
    finish_part,
    message_text,
    parts_of,
    reasoning_text,
    text_field,
)
from crushd.proto import Event

from ._prompt_lines import PROMPT_SUMMARIES
from ._render import clip, quoted, tool_line
from ._skills import skills_summary

#: How many messages' last states are remembered (the oldest is forgotten).
REMEMBERED_MESSAGES = 1024
#: Characters of text quoted in a line.
PREVIEW_CHARS = 60
#: Characters of a payload printed as JSON for events of other types.
PAYLOAD_CHARS = 120


@attrs.frozen
class _Seen:
    """What a message looked like at its last event."""

    text: int = 0
    reasoning: int = 0
    calls: frozenset[str] = frozenset()
    finished: frozenset[str] = frozenset()
    finish: str = ""


class EventLines:
    """Format events as ``#<id> <type> <event_type> <summary>`` lines."""

    def __init__(self) -> None:
        self._seen: collections.OrderedDict[str, _Seen] = collections.OrderedDict()

    def line(self, event: Event) -> str:
        """Return the line for ``event`` (and remember its message, if any)."""
        summary = self._summary(event)
        return f"#{event.id} {event.type} {event.event_type} {summary}".rstrip()

    def _summary(self, event: Event) -> str:
        payload = event.payload
        if not isinstance(payload, dict):
            return _clip_json(payload)
        if event.type == "message":
            return self._message(event.event_type, payload)
        summarize = _SUMMARIES.get(event.type) or PROMPT_SUMMARIES.get(event.type)
        if summarize is None:
            return _clip_json(payload)
        try:
            return summarize(payload)
        except ValueError:  # a prompt payload of the wrong shape
            return _clip_json(payload)

    def _message(self, change: str, message: dict[str, object]) -> str:
        message_id, role = text_field(message, "id"), text_field(message, "role")
        head = f"{message_id} {role}"
        if change == "deleted":
            self._seen.pop(message_id, None)
            return head
        before = self._seen.get(message_id)
        now = _seen(message.get("parts"))
        self._remember(message_id, now)
        details = _changes(before, now, message.get("parts"), role)
        return f"{head}: {', '.join(details)}" if details else head

    def _remember(self, message_id: str, seen: _Seen) -> None:
        self._seen[message_id] = seen
        self._seen.move_to_end(message_id)
        while len(self._seen) > REMEMBERED_MESSAGES:
            self._seen.popitem(last=False)


def _seen(parts: object) -> _Seen:
    calls = list(parts_of(parts, "tool_call"))
    finish = finish_part(parts)
    return _Seen(
        text=len(message_text(parts)),
        reasoning=len(reasoning_text(parts)),
        calls=frozenset(text_field(c, "id") for c in calls),
        finished=frozenset(text_field(c, "id") for c in calls if c.get("finished")),
        finish=text_field(finish, "reason") if finish else "",
    )


def _changes(before: _Seen | None, now: _Seen, parts: object, role: str) -> list[str]:
    old = before or _Seen()
    details = [*_text_change(old.text, parts, role, fresh=before is None)]
    if now.reasoning > old.reasoning:
        details.append(f"+{_chars(now.reasoning - old.reasoning)} of reasoning")
    details += _call_changes(old, now, parts)
    details += [
        _result(data) for data in parts_of(parts, "tool_result") if before is None
    ]
    if now.finish and not old.finish:
        details.append(_finish(parts))
    return details


def _text_change(before: int, parts: object, role: str, *, fresh: bool) -> list[str]:
    text = message_text(parts)
    if fresh and role != "assistant" and text:
        return [_head(text)]
    if len(text) > before:
        return [f"+{_chars(len(text) - before)} {_tail(text)}"]
    if len(text) < before:
        return ["text reset"]
    return []


def _chars(count: int) -> str:
    return f"{count} char{'' if count == 1 else 's'}"


def _call_changes(old: _Seen, now: _Seen, parts: object) -> list[str]:
    lines = []
    for call in parts_of(parts, "tool_call"):
        call_id, name = text_field(call, "id"), text_field(call, "name")
        if call_id in now.finished and call_id not in old.finished:
            lines.append(f"→ {tool_line(name, text_field(call, 'input'))}")
        elif call_id not in old.calls:
            lines.append(f"→ {name} …")
    return lines


def _result(data: dict[str, object]) -> str:
    content = text_field(data, "content")
    name = text_field(data, "name")
    if data.get("is_error") is True:
        return f"← {name} error {_head(content)}"
    count = len(content.splitlines())
    return f"← {name} {count} line{'' if count == 1 else 's'}"


def _finish(parts: object) -> str:
    finish = finish_part(parts) or {}
    reason = text_field(finish, "reason")
    if reason == "error":
        return f"finish error {_head(finish_error(finish))}"
    return f"finish {reason}"


def _session(payload: dict[str, object]) -> str:
    title = _head(text_field(payload, "title"))
    line = f"id={payload.get('id', '')} title={title}"
    return f"{line} busy" if payload.get("is_busy") is True else line


def _run_complete(payload: dict[str, object]) -> str:
    run_id = text_field(payload, "run_id") or "-"
    if payload.get("cancelled") is True:
        outcome = "cancelled"
    elif error := text_field(payload, "error"):
        outcome = f"error {_head(error)}"
    else:
        outcome = "ok"
    return f"{run_id} {outcome} session={text_field(payload, 'session_id')}"


def _run_retry(payload: dict[str, object]) -> str:
    run_id = text_field(payload, "run_id") or "-"
    retry, retries = payload.get("retry", "?"), payload.get("retries", "?")
    delay = payload.get("delay_seconds")
    wait = f" in {delay:g} s" if isinstance(delay, int | float) else ""
    line = f"{run_id} retry {retry} of {retries}{wait}"
    line += f" session={text_field(payload, 'session_id')}"
    return f"{line}: {_head(text_field(payload, 'error'))}"


def _agent_event(payload: dict[str, object]) -> str:
    kind = text_field(payload, "type")
    line = f"{kind} {text_field(payload, 'session_id')}".rstrip()
    if error := text_field(payload, "error"):
        return f"{line}: {_head(error)}"
    if title := text_field(payload, "session_title"):
        return f"{line} {_head(title)}"
    return line


def _config_changed(payload: dict[str, object]) -> str:
    return f"workspace={payload.get('workspace_id', '')} (crushctl config get)"


def _skills(payload: dict[str, object]) -> str:
    return clip(skills_summary(payload), PAYLOAD_CHARS)


def _head(text: str) -> str:
    """Return the start of ``text`` as a JSON string, ``…`` marking a cut."""
    cut = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
    return quoted(cut)


def _tail(text: str) -> str:
    """Return the end of ``text`` as a JSON string, ``…`` marking a cut."""
    cut = text if len(text) <= PREVIEW_CHARS else "…" + text[-(PREVIEW_CHARS - 1) :]
    return quoted(cut)


def _clip_json(payload: object) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= PAYLOAD_CHARS else text[: PAYLOAD_CHARS - 1] + "…"


_SUMMARIES = {
    "session": _session,
    "run_complete": _run_complete,
    "run_retry": _run_retry,
    "agent_event": _agent_event,
    "config_changed": _config_changed,
    "skills_event": _skills,
}
