"""Tests for crushd/agent/_live.py: stream events applied to a live message."""

from __future__ import annotations

import base64

from crushd.agent._lanes import PromptAttachment
from crushd.agent._live import LiveMessage, tool_message, user_message
from crushd.agent.providers import (
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolCallStart,
)
from crushd.agent.tools import ToolCall, ToolResult


def test_user_message_has_text_binary_and_stop_finish() -> None:
    """A prompt is a text part, one PascalCase binary part per attachment, then
    upstream's finish{stop, time 0}."""
    att = PromptAttachment("/p/a.txt", "a.txt", "text/plain", b"hi")
    msg = user_message("s", "hello", [att])
    assert msg.role == "user"
    assert [p.type for p in msg.parts] == ["text", "binary", "finish"]
    assert msg.parts[0].data == {"text": "hello"}
    assert msg.parts[1].data == {
        "Path": "/p/a.txt",
        "MIMEType": "text/plain",
        "Data": base64.b64encode(b"hi").decode(),
    }
    assert msg.parts[2].data == {"reason": "stop", "time": 0}


def test_tool_message_keeps_every_stored_key() -> None:
    """A tool result part carries all of upstream's stored keys."""
    call = ToolCall("c1", "view", "{}")
    msg = tool_message("s", call, ToolResult("out", metadata='{"a":1}'))
    assert msg.role == "tool"
    assert msg.parts[0].data == {
        "tool_call_id": "c1",
        "name": "view",
        "content": "out",
        "data": "",
        "mime_type": "",
        "metadata": '{"a":1}',
        "is_error": False,
    }
    image = tool_message("s", call, ToolResult("img", media=("image/png", b"\x89P")))
    assert image.parts[0].data["data"] == base64.b64encode(b"\x89P").decode()
    assert image.parts[0].data["mime_type"] == "image/png"


def test_reasoning_then_text_ends_reasoning_structurally() -> None:
    """Reasoning deltas are debounced; the first text after them stamps
    finished_at, a structural change."""
    live = LiveMessage("s", "m", "p")
    assert live.apply(ReasoningDelta("thin")) is False
    assert live.apply(ReasoningDelta("king")) is False
    assert live.apply(TextDelta("Hi")) is True
    assert live.apply(TextDelta(" there")) is False
    reasoning = live.parts[0].data
    assert reasoning["thinking"] == "thinking"
    assert set(reasoning) >= {
        "signature",
        "thought_signature",
        "tool_id",
        "responses_data",
    }
    assert reasoning["finished_at"]
    assert live.text == "Hi there"


def test_leading_newline_dropped_only_as_first_part() -> None:
    """A leading newline is dropped when nothing came before it (upstream)."""
    live = LiveMessage("s")
    live.apply(TextDelta("\nHello"))
    assert live.text == "Hello"
    after_reasoning = LiveMessage("s")
    after_reasoning.apply(ReasoningDelta("r"))
    after_reasoning.apply(TextDelta("\n\n"))
    assert after_reasoning.text == "\n\n"


def test_tool_call_grows_then_finishes() -> None:
    """A call appears unfinished, grows by fragments and finishes; both ends
    are structural."""
    live = LiveMessage("s")
    assert live.apply(ToolCallStart(0, "c1", "view")) is True
    assert live.apply(ToolCallDelta(0, '{"file_')) is False
    assert live.tool_call_parts()[0].data["input"] == '{"file_'
    assert live.tool_calls() == []
    assert live.apply(ToolCallDone(0, "c1", "view", '{"file_path":"a"}')) is True
    assert live.tool_call_parts()[0].data == {
        "id": "c1",
        "name": "view",
        "input": '{"file_path":"a"}',
        "provider_executed": False,
        "finished": True,
    }
    assert live.tool_calls() == [ToolCall("c1", "view", '{"file_path":"a"}')]


def test_invalid_tool_input_is_stored_as_empty_object() -> None:
    """Arguments that are not JSON are stored as {} and remembered."""
    live = LiveMessage("s")
    live.apply(ToolCallDone(0, "c1", "view", '{"oops'))
    assert live.tool_calls() == [ToolCall("c1", "view", "{}")]
    assert live.invalid_inputs == {"c1"}


def test_close_calls_finishes_unfinished_with_empty_input() -> None:
    """On an error exit unfinished calls are closed with input {}."""
    live = LiveMessage("s")
    live.apply(ToolCallStart(0, "c1", "view"))
    live.apply(ToolCallDelta(0, '{"x'))
    assert live.close_calls() is True
    assert live.tool_calls() == [ToolCall("c1", "view", "{}")]
    assert live.close_calls() is False


def test_finish_replaces_and_reset_drops_streamed_parts() -> None:
    """set_finish keeps one finish part; reset removes all streamed parts."""
    live = LiveMessage("s")
    live.apply(TextDelta("x"))
    live.set_finish("end_turn")
    live.set_finish("error", "Provider Error", "boom")
    finishes = [p for p in live.parts if p.type == "finish"]
    assert len(finishes) == 1
    assert finishes[0].data["message"] == "Provider Error"
    assert live.finish_reason == "error"
    live.reset()
    assert live.parts == []
    assert live.is_empty


def test_snapshot_is_a_copy() -> None:
    """A snapshot does not change when the live message grows later."""
    live = LiveMessage("s", "model", "prov")
    live.apply(TextDelta("a"))
    snap = live.snapshot()
    live.apply(TextDelta("b"))
    assert snap.parts[0].data["text"] == "a"
    assert (snap.role, snap.model, snap.provider) == ("assistant", "model", "prov")


def test_finish_event_only_ends_reasoning() -> None:
    """The provider's Finish closes reasoning but adds no finish part."""
    live = LiveMessage("s")
    live.apply(ReasoningDelta("r"))
    assert live.apply(Finish("stop", None)) is True
    assert live.finish_reason == ""
