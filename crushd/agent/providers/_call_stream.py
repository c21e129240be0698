"""One streamed chat-completions call: the SDK's answer read as model events.

The SDK sends the request and hands back the raw HTTP answer
(``with_streaming_response``); this module reads its SSE body itself, line
by line (``SSELines``), turns each line into stream events
(``ChunkReader``) and reads the body to its end, so no async generator of
the SDK or of httpx is ever left half-consumed (under Trio those warn when
collected). Errors become ``ProviderError`` through the provider's own
mapping (docs/agent.md 5.1).
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import trio

from ._chunks import ChunkReader
from ._failures import connection_error
from ._paced_reads import unpaced
from ._sse_lines import SSELines
from ._types import ProviderError, StreamEvent

__all__ = ["DRAIN_SECONDS", "SHARE_LOOP_SECONDS", "CallStream"]

#: Seconds to read the rest of the body after ``[DONE]`` (connection reuse).
DRAIN_SECONDS = 2.0
#: Seconds of reading buffered lines before the reader lets other tasks run
#: (0.5 ms, as the fan-out's slice: a request waits out at most one of each).
SHARE_LOOP_SECONDS = 0.0005


class CallStream:
    """One call's events, as an async iterator with ``aclose``.

    Args:
        call: returns the SDK's async context manager of the raw answer.
        failure: maps an exception of the SDK or httpx to a ``ProviderError``.

    Raises (from ``__anext__``):
        ProviderError: the call or the stream failed; the answer is released
            first.
    """

    def __init__(
        self, call: Callable[[], Any], failure: Callable[[Exception], ProviderError]
    ) -> None:
        self._call = call
        self._failure = failure
        self._reader = ChunkReader()
        self._pending: deque[StreamEvent] = deque()
        self._stack = contextlib.AsyncExitStack()
        self._response: Any = None
        self._lines: SSELines | None = None
        self._ended = False
        self._shared = time.perf_counter()

    def __aiter__(self) -> CallStream:
        return self

    async def __anext__(self) -> StreamEvent:
        try:
            while not self._pending:
                if self._ended:
                    raise StopAsyncIteration
                await self._read()
            return self._pending.popleft()
        except StopAsyncIteration:
            raise
        except ProviderError:
            await self.aclose()
            raise
        except Exception as exc:
            await self.aclose()
            raise self._failure(exc) from exc
        except BaseException:
            await self.aclose()
            raise

    async def _read(self) -> None:
        if self._lines is None:
            # The SDK builds and sends the request in one loop step (~2 ms of
            # CPU); it starts in a step of its own, not in the caller's that
            # assembled the history (three turns starting together made 5 ms
            # steps that a request waited out, stress/RESULTS.md).
            await trio.lowlevel.checkpoint()
            answer = await self._stack.enter_async_context(self._call())
            self._response = answer.http_response
            self._lines = SSELines(self._response.aiter_bytes())
            return
        line = await anext(self._lines, None)
        await self._share_loop()
        if line is not None:
            self._pending.extend(self._reader.feed_line(line))
        if line is None or self._reader.done:
            await _drain(self._lines)
            await self.aclose()
            if not (self._reader.done or self._reader.finish_reason):
                raise connection_error("the stream ended before the model finished")
            self._pending.extend(self._reader.finish())

    async def _share_loop(self) -> None:
        # Lines already buffered come without a checkpoint: a fast stream
        # would hold the loop for tens of ms (measured 16-29 ms steps).
        now = time.perf_counter()
        if now - self._shared > SHARE_LOOP_SECONDS:
            self._shared = now
            await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        """Release the HTTP answer; safe to call more than once."""
        self._ended = True
        if self._lines is not None:
            await _release(self._lines, self._response)
        with trio.CancelScope(shield=True):
            await self._stack.aclose()


async def _drain(lines: SSELines) -> None:
    # Reading the body to its end lets the connection be reused and finishes
    # every generator under the line iterator. Unpaced: the turn's finish
    # waits for this, and nothing read now is a token to gather.
    with (
        trio.move_on_after(DRAIN_SECONDS),
        contextlib.suppress(Exception),
        unpaced(),
    ):
        await lines.discard_rest()


async def _release(lines: SSELines, response: Any) -> None:
    # Closing the response makes the body's next read end or fail, which
    # finishes each generator beneath it (cancelled or abandoned).
    with (
        trio.CancelScope(shield=True),
        trio.move_on_after(DRAIN_SECONDS),
        unpaced(),
    ):
        await response.aclose()
        with contextlib.suppress(Exception):
            await lines.discard_rest()
