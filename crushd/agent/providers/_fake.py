"""A scripted provider for unit tests and the stress suite.

Each ``stream`` call plays the next turn of the script: its events in order,
waiting on any ``trio.Event`` gate placed between them and raising any
``ProviderError`` placed among them. A turn that is a ``ProviderError`` fails
at once. Every request is recorded, so tests can check the history sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence

import trio

from ._types import (
    Finish,
    ProviderError,
    StreamEvent,
    StreamRequest,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolCallStart,
    Usage,
)

#: One step of a scripted turn: an event to yield, a gate to wait on, or an
#: error to raise there.
ScriptItem = StreamEvent | trio.Event | ProviderError
#: One scripted turn: its items, or an error the call fails with at once.
ScriptTurn = Sequence[ScriptItem] | ProviderError


class FakeProvider:
    """Plays a script of turns, one per ``stream`` call.

    Args:
        script: the turns, in call order.
        repeat: a turn played again whenever the script is used up (the
            stress suite's endless answers); ``None`` makes an extra call fail
            with a non-retryable ``ProviderError``.

    Attributes:
        requests: every ``StreamRequest`` received, in order.
        closed: whether ``aclose`` was called.
    """

    def __init__(
        self, script: Iterable[ScriptTurn] = (), *, repeat: ScriptTurn | None = None
    ) -> None:
        self._script = list(script)
        self._repeat = repeat
        self.requests: list[StreamRequest] = []
        self.closed = False

    def add(self, turn: ScriptTurn) -> None:
        """Append a turn to the script."""
        self._script.append(turn)

    @property
    def remaining(self) -> int:
        """Turns not played yet (the ``repeat`` turn not counted)."""
        return len(self._script)

    async def stream(self, request: StreamRequest) -> AsyncIterator[StreamEvent]:
        """Record ``request`` and play the next turn.

        Raises:
            ProviderError: scripted, or when no turn is left.
        """
        self.requests.append(request)
        turn = self._next_turn()
        if isinstance(turn, ProviderError):
            raise turn
        for item in turn:
            await trio.lowlevel.checkpoint()
            if isinstance(item, trio.Event):
                await item.wait()
            elif isinstance(item, ProviderError):
                raise item
            else:
                yield item

    def _next_turn(self) -> ScriptTurn:
        if self._script:
            return self._script.pop(0)
        if self._repeat is not None:
            return self._repeat
        raise ProviderError("fake provider: no scripted turn left", status=None)

    async def aclose(self) -> None:
        """Mark the provider closed."""
        self.closed = True


def text_turn(
    text: str, *, chunks: int = 1, usage: Usage | None = None, reason: str = "stop"
) -> list[ScriptItem]:
    """A turn answering ``text`` in ``chunks`` deltas, then ``Finish(reason)``."""
    size = max(1, -(-len(text) // max(1, chunks)))
    items: list[ScriptItem] = [
        TextDelta(text[i : i + size]) for i in range(0, len(text), size)
    ]
    items.append(Finish(reason, usage or Usage(input_tokens=10, output_tokens=5)))
    return items


def tool_turn(
    *calls: tuple[str, str, dict[str, object]], usage: Usage | None = None
) -> list[ScriptItem]:
    """A turn making the tool calls ``(id, name, arguments)``, in order.

    Each call is a start, one arguments delta and a done event; the turn
    finishes with ``tool_calls``.
    """
    items: list[ScriptItem] = []
    for index, (call_id, name, arguments) in enumerate(calls):
        text = json.dumps(arguments)
        items.append(ToolCallStart(index, call_id, name))
        items.append(ToolCallDelta(index, text))
    for index, (call_id, name, arguments) in enumerate(calls):
        items.append(ToolCallDone(index, call_id, name, json.dumps(arguments)))
    items.append(Finish("tool_calls", usage or Usage(input_tokens=10, output_tokens=5)))
    return items
