"""The scripted fake provider the engine's unit tests rely on."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from crushd.agent.providers import (
    ChatMessage,
    FakeProvider,
    Finish,
    ProviderError,
    StreamEvent,
    StreamRequest,
    TextDelta,
    ToolCallDone,
    text_turn,
    tool_turn,
)


def _request(text: str = "hi") -> StreamRequest:
    return StreamRequest(model="m", messages=(ChatMessage("user", text),))


async def _collect(provider: FakeProvider, request: StreamRequest) -> list[StreamEvent]:
    return [event async for event in provider.stream(request)]


async def test_plays_turns_in_order_and_records_requests() -> None:
    """Each call plays the next turn; every request is kept."""
    turns = [text_turn("hello world", chunks=3), tool_turn(("c1", "ls", {}))]
    fake = FakeProvider(turns)
    first = await _collect(fake, _request("one"))
    second = await _collect(fake, _request("two"))
    assert "".join(e.text for e in first if isinstance(e, TextDelta)) == "hello world"
    assert isinstance(first[-1], Finish)
    assert first[-1].reason == "stop"
    assert next(e for e in second if isinstance(e, ToolCallDone)).arguments == "{}"
    assert [r.messages[0].content for r in fake.requests] == ["one", "two"]


async def test_error_turn_and_mid_stream_error() -> None:
    """A ProviderError turn fails at once; one among events fails there."""
    boom = ProviderError("rate limited", status=429, retryable=True, retry_after=2.0)
    fake = FakeProvider([boom, [TextDelta("a"), boom]])
    with pytest.raises(ProviderError):
        await _collect(fake, _request())
    seen: list[StreamEvent] = []

    async def consume() -> None:
        async for event in fake.stream(_request()):
            seen.append(event)  # noqa: PERF401 (keep what came before the error)

    with pytest.raises(ProviderError) as info:
        await consume()
    assert seen == [TextDelta("a")]
    assert info.value.retry_after == 2.0


async def test_exhausted_script_fails_unless_repeat() -> None:
    """An extra call raises, or replays the repeat turn."""
    with pytest.raises(ProviderError, match="no scripted turn"):
        await _collect(FakeProvider(), _request())
    fake = FakeProvider(repeat=text_turn("again"))
    assert (await _collect(fake, _request()))[0] == TextDelta("again")
    assert (await _collect(fake, _request()))[0] == TextDelta("again")


async def test_gate_holds_the_stream(autojump_clock: trio.testing.MockClock) -> None:
    """Events after a gate wait until the test sets it; aclose marks closed."""
    gate = trio.Event()
    fake = FakeProvider([[TextDelta("a"), gate, TextDelta("b"), Finish("stop", None)]])
    seen: list[StreamEvent] = []

    async def consume() -> None:
        seen.extend(await _collect(fake, _request()))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        await trio.sleep(5)
        assert seen == []
        gate.set()
    assert seen[1] == TextDelta("b")
    await fake.aclose()
    assert fake.closed
