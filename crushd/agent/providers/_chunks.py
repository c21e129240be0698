"""Reading an OpenAI chat-completions stream into the contract's events.

One ``ChunkReader`` per call is fed the stream's lines. Text and reasoning
deltas pass through at once (reasoning from the delta's ``reasoning_content``
or ``reasoning`` field, which OpenAI-compatible servers add); tool calls grow
per ``index`` and each gets one ``ToolCallDone`` before the final ``Finish``.
Usage comes from the last chunk that carries it. Source: fantasy's
openai-compat stream handling (docs/agent.md 4.4).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping

import attrs

from ._failures import stream_error
from ._types import (
    Finish,
    ProviderError,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolCallStart,
    Usage,
)

DONE = "[DONE]"


@attrs.define
class _Call:
    index: int
    id: str
    name: str = ""
    started: bool = False
    arguments: list[str] = attrs.field(factory=list)


@attrs.define
class ChunkReader:
    """Turns SSE lines into stream events for one call.

    Attributes:
        done: the ``[DONE]`` line arrived.
        finish_reason: the last ``finish_reason`` seen (``""`` until one).
        usage: the last usage reported, or ``None``.
    """

    done: bool = False
    finish_reason: str = ""
    usage: Usage | None = None
    _calls: dict[int, _Call] = attrs.field(factory=dict)
    _aliases: dict[int, int] = attrs.field(factory=dict)
    _last: int = 0

    def feed_line(self, line: str) -> list[StreamEvent]:
        """Read one line of the SSE body; return the events it completes.

        Raises:
            ProviderError: an ``{"error": ...}`` event, or data that is not
                JSON (not retryable).
        """
        if not line.startswith("data:"):
            return []  # blank separators, ``event:`` names, ``:`` keep-alives
        data = line[5:].strip()
        if data == DONE:
            self.done = True
            return []
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise ProviderError(f"malformed stream data: {data[:200]!r}") from exc
        return self.feed(chunk) if isinstance(chunk, dict) else []

    def feed(self, chunk: Mapping[str, object]) -> list[StreamEvent]:
        """Read one decoded chunk; return its events."""
        if chunk.get("error"):
            raise stream_error(chunk["error"])
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self.usage = usage_from_json(usage)
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices:
            return []
        choice = choices[0] if isinstance(choices[0], Mapping) else {}
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            self.finish_reason = reason
        delta = choice.get("delta")
        return self._delta(delta) if isinstance(delta, Mapping) else []

    def finish(self) -> list[StreamEvent]:
        """The closing events: one ``ToolCallDone`` per call, then ``Finish``.

        Without a finish reason the call ends as ``unknown`` (upstream's).
        """
        events: list[StreamEvent] = []
        for call in sorted(self._calls.values(), key=lambda c: c.index):
            events.extend(self._start(call))
            arguments = "".join(call.arguments) or "{}"
            events.append(ToolCallDone(call.index, call.id, call.name, arguments))
        events.append(Finish(self.finish_reason or "unknown", self.usage))
        return events

    def _delta(self, delta: Mapping[str, object]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            events.append(TextDelta(content))
        calls = delta.get("tool_calls")
        for item in calls if isinstance(calls, list) else []:
            if isinstance(item, Mapping):
                events.extend(self._tool_delta(item))
        return events

    def _tool_delta(self, item: Mapping[str, object]) -> list[StreamEvent]:
        function = item.get("function")
        fn = function if isinstance(function, Mapping) else {}
        call = self._call_for(item)
        was_started = call.started
        name = fn.get("name")
        if isinstance(name, str) and name and not call.name:
            call.name = name
        arguments = fn.get("arguments")
        if isinstance(arguments, str) and arguments:
            call.arguments.append(arguments)
        events = self._start(call) if call.name else []
        if was_started and isinstance(arguments, str) and arguments:
            events.append(ToolCallDelta(call.index, arguments))
        return events

    def _call_for(self, item: Mapping[str, object]) -> _Call:
        raw_id = item.get("id")
        call_id = raw_id if isinstance(raw_id, str) else ""
        wire = item.get("index")
        if not isinstance(wire, int) or isinstance(wire, bool):
            # No index: a new call when it brings an id, else the last one.
            wire = -1
            index = len(self._calls) if call_id or not self._calls else self._last
        else:
            index = self._aliases.get(wire, wire)
        call = self._calls.get(index)
        if call is not None and call_id and call.id != call_id and call.started:
            # Some servers number every call 0: a new id means a new call.
            index, call = max(self._calls) + 1, None
            self._aliases[wire] = index
        if call is None:
            call = _Call(index, call_id or f"call_{uuid.uuid4().hex[:24]}")
            self._calls[index] = call
        self._last = index
        return call

    @staticmethod
    def _start(call: _Call) -> list[StreamEvent]:
        if call.started:
            return []
        call.started = True
        start: list[StreamEvent] = [ToolCallStart(call.index, call.id, call.name)]
        if call.arguments:
            start.append(ToolCallDelta(call.index, "".join(call.arguments)))
        return start


def usage_from_json(data: Mapping[str, object]) -> Usage:
    """Read a chat-completions ``usage`` object.

    ``prompt_tokens`` counts cached tokens too, so cache reads and writes are
    taken out of ``input_tokens`` (fantasy does the same). Cache reads come
    from ``prompt_tokens_details.cached_tokens`` (OpenAI),
    ``prompt_cache_hit_tokens`` (DeepSeek) or ``cache_read_input_tokens``;
    writes from ``cache_write_tokens``/``cache_creation_input_tokens``; a
    ``cost`` (OpenRouter, USD) is kept.
    """
    details = data.get("prompt_tokens_details")
    extra = details if isinstance(details, Mapping) else {}
    read = (
        _count(extra.get("cached_tokens"))
        or _count(data.get("prompt_cache_hit_tokens"))
        or _count(data.get("cache_read_input_tokens"))
    )
    written = _count(extra.get("cache_write_tokens")) or _count(
        data.get("cache_creation_input_tokens")
    )
    return Usage(
        input_tokens=max(0, _count(data.get("prompt_tokens")) - read - written),
        output_tokens=_count(data.get("completion_tokens")),
        cache_read_tokens=read,
        cache_write_tokens=written,
        cost=_number(data.get("cost")),
    )


def _count(value: object) -> int:
    number = _number(value)
    return max(0, int(number)) if number is not None else 0


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
