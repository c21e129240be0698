"""The lines of a streamed SSE body, split as the SSE specification says.

Lines end at CRLF, LF or CR, and nowhere else. httpx's own line iterator
splits like ``str.splitlines``, which also breaks at U+2028, U+2029, U+0085
and a few control characters; JSON may hold those raw inside a string
(Python's ``json.dumps(..., ensure_ascii=False)`` writes them so), and a
model's token cut in two that way would end its stream as malformed data.
A CRLF cut between two chunks is one line end. Source: the HTML Living
Standard, "Server-sent events", parsing an event stream.
"""

from __future__ import annotations

import codecs
import re
from collections import deque
from collections.abc import AsyncIterator

__all__ = ["SSELines"]

_LINE_END = re.compile(r"\r\n|\r|\n")


class SSELines:
    """Async iterator of a body's lines (without their line ends).

    Args:
        chunks: the body's bytes as received (``httpx.Response.aiter_bytes``).

    Bytes that are not UTF-8 become U+FFFD. A last line without a line end
    is returned when the body ends.
    """

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lines: deque[str] = deque()
        self._partial = ""
        self._ended = False

    def __aiter__(self) -> SSELines:
        return self

    async def __anext__(self) -> str:
        while not self._lines:
            if self._ended:
                raise StopAsyncIteration
            await self._read()
        return self._lines.popleft()

    async def discard_rest(self) -> None:
        """Read the body to its end, keeping nothing."""
        self._ended = True
        self._lines.clear()
        async for _ in self._chunks:
            pass

    async def _read(self) -> None:
        chunk = await anext(self._chunks, None)
        if chunk is None:
            self._end()
        else:
            self._split(self._decoder.decode(chunk))

    def _split(self, text: str) -> None:
        text = self._partial + text
        # A CR at the very end may be the first half of a CRLF.
        held = "\r" if text.endswith("\r") else ""
        parts = _LINE_END.split(text[: len(text) - len(held)])
        self._partial = parts.pop() + held
        self._lines.extend(parts)

    def _end(self) -> None:
        self._ended = True
        rest = self._partial + self._decoder.decode(b"", final=True)
        self._partial = ""
        if rest:
            self._split(rest + "\n")
