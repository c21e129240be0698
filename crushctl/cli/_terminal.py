"""Read answers from the terminal one line at a time, without blocking Trio.

The blocking ``readline`` runs in a worker thread. Only one read is ever in
flight: a prompt closed while waiting leaves its read running, and the next
prompt takes that line, so no typed line is read twice or by two readers.
"""

from __future__ import annotations

import sys
from typing import TextIO

import trio


class LineReader:
    """Lines from ``stream`` on demand; the read task belongs to ``nursery``.

    Args:
        nursery: owns the reading task (cancelling it abandons the thread,
            which ends with the process).
        stream: the terminal (``sys.stdin``).
    """

    def __init__(self, nursery: trio.Nursery, stream: TextIO) -> None:
        self._nursery = nursery
        self._stream = stream
        self._pending: trio.MemoryReceiveChannel[str] | None = None
        self._ended = False
        self._open_prompt = False  # a prompt waits on stderr without a newline
        self._turn = trio.Lock()  # one prompt asks at a time

    async def ask(self, prompt: str) -> str | None:
        """Show ``prompt`` on stderr; return the next line, ``None`` at EOF.

        Two prompts open at once (a permission and a question) take turns.

        Cancellation:
            Safe; the line being read then goes to the next ``ask``.
        """
        async with self._turn:
            return await self._ask(prompt)

    async def _ask(self, prompt: str) -> str | None:
        if self._ended:
            return None
        sys.stderr.write(prompt)
        sys.stderr.flush()
        self._open_prompt = True
        if self._pending is None:
            send, self._pending = trio.open_memory_channel[str](1)
            self._nursery.start_soon(self._read, send)
        line = await self._pending.receive()
        self._pending = None
        self._open_prompt = False
        self._ended = not line
        return None if self._ended else line.rstrip("\r\n")

    def end_prompt(self) -> None:
        """End a prompt line left open (before printing something else)."""
        if self._open_prompt:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._open_prompt = False

    async def _read(self, send: trio.MemorySendChannel[str]) -> None:
        with send:
            line = await trio.to_thread.run_sync(
                self._stream.readline, abandon_on_cancel=True
            )
            send.send_nowait(line)
