"""Every recorded model answer reads back as what upstream reassembled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crushd.agent.providers import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDone,
)
from crushd.agent.providers._chunks import ChunkReader

FIXTURES = Path(__file__).parents[2] / "fixtures" / "llm"
ANSWERS = [
    pytest.param(answer, id=f"{path.stem}-{answer['index']}")
    for path in sorted(FIXTURES.glob("*.json"))
    for answer in json.loads(path.read_text())["interactions"]
]


def _read(sse: str) -> list[StreamEvent]:
    reader = ChunkReader()
    events = [e for line in sse.splitlines() for e in reader.feed_line(line)]
    assert reader.done
    return events + reader.finish()


@pytest.mark.skipif(not ANSWERS, reason="no recordings in tests/fixtures/llm")
@pytest.mark.parametrize("answer", ANSWERS)
def test_recorded_answer_reassembles(answer: dict[str, object]) -> None:
    """Text, reasoning, tool calls and finish reason match the recording."""
    recorded = answer["recorded"]
    assert isinstance(recorded, dict)
    events = _read(str(answer["response_sse"]))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    calls = [
        {"id": e.id, "name": e.name, "arguments": e.arguments}
        for e in events
        if isinstance(e, ToolCallDone)
    ]
    assert text == recorded["content"]
    assert reasoning == recorded["reasoning"]
    assert calls == recorded["tool_calls"]
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert finish.reason == recorded["finish_reason"]
    assert finish.usage is not None
    assert finish.usage.output_tokens == recorded["usage"]["completion_tokens"]
