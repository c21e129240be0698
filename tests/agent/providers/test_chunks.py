"""Stream chunk reading, error mapping and request bodies, without a server."""

from __future__ import annotations

from collections.abc import Mapping

from crushd.agent.providers import (
    ChatMessage,
    Finish,
    StreamRequest,
    ToolCallDelta,
    ToolCallDone,
    ToolCallStart,
    Usage,
)
from crushd.agent.providers._chunks import ChunkReader, usage_from_json
from crushd.agent.providers._failures import retry_after, status_error, stream_error
from crushd.agent.providers._wire import request_body


def _feed(reader: ChunkReader, *deltas: Mapping[str, object]) -> list[object]:
    events: list[object] = []
    for delta in deltas:
        events.extend(reader.feed({"choices": [{"index": 0, "delta": delta}]}))
    return events


def test_name_arriving_after_arguments_starts_with_them() -> None:
    """Arguments before the name are held, then sent with the start."""
    reader = ChunkReader()
    early = {"tool_calls": [{"index": 0, "id": "c", "function": {"arguments": "{"}}]}
    named = {"tool_calls": [{"index": 0, "function": {"name": "ls", "arguments": "}"}}]}
    assert _feed(reader, early) == []
    assert _feed(reader, named) == [ToolCallStart(0, "c", "ls"), ToolCallDelta(0, "{}")]
    assert reader.finish()[0] == ToolCallDone(0, "c", "ls", "{}")


def test_calls_without_index_or_sharing_index_zero_stay_apart() -> None:
    """Servers that omit the index or reuse 0 still give one call per id."""
    reader = ChunkReader()
    first = {"tool_calls": [{"id": "a", "function": {"name": "ls", "arguments": "{}"}}]}
    again = {"tool_calls": [{"index": 0, "id": "b", "function": {"name": "glob"}}]}
    more = {"tool_calls": [{"index": 0, "function": {"arguments": '{"p":1}'}}]}
    _feed(reader, first, again)
    _feed(reader, more)
    done = [e for e in reader.finish() if isinstance(e, ToolCallDone)]
    assert [(d.id, d.name) for d in done] == [("a", "ls"), ("b", "glob")]
    assert done[1].arguments == '{"p":1}'


def test_missing_id_gets_one_and_missing_reason_is_unknown() -> None:
    """A call without id gets a generated one; no finish reason: unknown."""
    reader = ChunkReader()
    _feed(reader, {"tool_calls": [{"index": 0, "function": {"name": "ls"}}]})
    events = reader.finish()
    assert isinstance(events[0], ToolCallDone)
    assert events[0].id.startswith("call_")
    assert events[0].arguments == "{}"
    assert events[-1] == Finish("unknown", None)


def test_keep_alive_comments_and_event_names_are_skipped() -> None:
    """Only ``data:`` lines count; ``[DONE]`` marks the end."""
    reader = ChunkReader()
    assert reader.feed_line(": OPENROUTER PROCESSING") == []
    assert reader.feed_line("event: message") == []
    assert reader.feed_line("") == []
    assert reader.feed_line("data: [DONE]") == []
    assert reader.done


def test_deepseek_and_anthropic_style_cache_counts() -> None:
    """Cache hits and writes are read from the vendors' own keys."""
    deepseek = usage_from_json(
        {"prompt_tokens": 50, "completion_tokens": 5, "prompt_cache_hit_tokens": 20}
    )
    assert deepseek == Usage(input_tokens=30, output_tokens=5, cache_read_tokens=20)
    written = usage_from_json(
        {"prompt_tokens": 50, "completion_tokens": 1, "cache_creation_input_tokens": 10}
    )
    assert written.cache_write_tokens == 10
    assert written.input_tokens == 40


def test_retry_after_as_http_date_and_garbage() -> None:
    """An HTTP date counts from now; unreadable values are ignored."""
    date = {"retry-after": "Wed, 21 Oct 2015 07:28:05 GMT"}
    assert retry_after(date, now=1445412480.0) == 5.0
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({"retry-after": "nan"}) is None
    assert retry_after({}) is None


def test_should_retry_true_makes_a_400_retryable() -> None:
    """The server's ``x-should-retry`` overrides the status rule both ways."""
    error = status_error(400, {"x-should-retry": "true"}, {"message": "m"}, "f")
    assert error.retryable
    assert error.message == "m"
    assert status_error(409, {}, None, "fallback").retryable
    assert not status_error(404, {}, None, "fallback").retryable


def test_stream_error_with_a_status_code() -> None:
    """An error event's numeric code is its status."""
    error = stream_error({"message": "upstream died", "code": 502})
    assert error.status == 502
    assert error.retryable
    assert not stream_error({"message": "bad input", "code": 400}).retryable


def test_openrouter_body_asks_for_usage_and_reasoning() -> None:
    """OpenRouter gets effort under ``reasoning`` and usage accounting on."""
    request = StreamRequest(
        model="m", messages=(ChatMessage("user", "x"),), reasoning_effort="high"
    )
    params, body = request_body(
        request, provider_type="openrouter", can_reason=True, extra_body={"a": 1}
    )
    assert "reasoning_effort" not in params
    assert body == {"a": 1, "usage": {"include": True}, "reasoning": {"effort": "high"}}
    params, body = request_body(
        request, provider_type="anthropic", can_reason=True, extra_body={}
    )
    assert "reasoning_effort" not in params
    assert body == {}
