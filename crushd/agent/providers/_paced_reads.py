"""Socket reads of a provider connection, lined up with the flush window.

A model streams its answer as one SSE event per token, each written to the
socket on its own. Read as they come, every token costs the event loop a
wake-up and a trip up through the whole HTTP stack, although the message
flusher publishes the tokens of a window (33 ms) as one update anyway. So a
connection that already read during the open window waits for the window's
close before it reads again (``ReadWindow.pace``): the tokens meanwhile wait
in the kernel's buffer, come back in one read, and h11 hands them out one by
one without another wake-up; the flusher then waits for them before it
writes. The window itself is the workspace's (``crushd.workspace``'s
``FlushWindow``, whose module tells the rules and the measurements).

Never held back here: the first read after a write (the head of an answer),
a read after one that filled the buffer asked for (a fast stream), and any
read inside ``unpaced()`` (the rest of a body after ``[DONE]``: the turn's
finish waits for it, and no token can come with it).

The wrappers follow httpcore's network backend and stream interfaces by
shape (duck typing), so this module imports neither httpx nor httpcore:
the SDK is loaded in a worker thread at ``agent/init``, never with the
agent package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

__all__ = ["PacedBackend", "PacedStream", "ReadWindow", "pace_reads", "unpaced"]

#: Set inside ``unpaced()``; a Trio task's context is its own.
_UNPACED: ContextVar[bool] = ContextVar("crushd_unpaced_reads", default=False)


@contextmanager
def unpaced() -> Iterator[None]:
    """Within the block, this task's paced reads never wait for the window."""
    token = _UNPACED.set(True)
    try:
        yield
    finally:
        _UNPACED.reset(token)


class ReadWindow(Protocol):
    """The flush window a provider's reads line up with (``FlushWindow``)."""

    async def pace(self, last: int | None) -> None:
        """Wait, if need be, before a read; ``last`` is the previous ``stamp``."""

    def stamp(self) -> int:
        """The window a read made now counts toward."""


class PacedStream:
    """An httpcore network stream whose reads are paced by a window.

    Args:
        inner: the stream to wrap (``read``, ``write``, ``aclose``,
            ``start_tls``, ``get_extra_info``).
        window: the workspace's flush window.
    """

    def __init__(self, inner: Any, window: ReadWindow) -> None:
        self._inner = inner
        self._window = window
        self._last: int | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109 - httpcore's signature
        """Wait for the window if need be, then read as the inner stream."""
        if not _UNPACED.get():
            await self._window.pace(self._last)
        data: bytes = await self._inner.read(max_bytes, timeout)
        self._last = None if len(data) >= max_bytes else self._window.stamp()
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109 - httpcore's signature
        """Write as the inner stream; the next read is not held back."""
        self._last = None
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        """Close the inner stream."""
        await self._inner.aclose()

    async def start_tls(self, *args: Any, **kwargs: Any) -> PacedStream:
        """Start TLS on the inner stream; the TLS stream is paced too."""
        inner = await self._inner.start_tls(*args, **kwargs)
        return PacedStream(inner, self._window)

    def get_extra_info(self, info: str) -> Any:
        """Answer as the inner stream (``socket``, ``ssl_object``, ...)."""
        return self._inner.get_extra_info(info)


class PacedBackend:
    """An httpcore network backend whose streams are ``PacedStream``.

    Args:
        inner: the backend to wrap (httpcore's own, picked for Trio).
        window: passed on to each stream.
    """

    def __init__(self, inner: Any, window: ReadWindow) -> None:
        self._inner = inner
        self._window = window

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> PacedStream:
        """Connect as the inner backend; the stream is paced."""
        return PacedStream(await self._inner.connect_tcp(*args, **kwargs), self._window)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> PacedStream:
        """Connect as the inner backend; the stream is paced."""
        stream = await self._inner.connect_unix_socket(*args, **kwargs)
        return PacedStream(stream, self._window)

    async def sleep(self, seconds: float) -> None:
        """Sleep as the inner backend does."""
        await self._inner.sleep(seconds)


def pace_reads(transport: Any, window: ReadWindow) -> bool:
    """Make the connections of an ``httpx.AsyncHTTPTransport`` pace their reads.

    httpx has no hook for the network backend: the pool's backend (a private
    attribute of httpcore's pool) is wrapped in place.

    Returns:
        Whether the transport is paced now; ``False`` leaves it as it was
        (an httpx or httpcore release without that attribute).
    """
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if inner is None:
        return False
    if not isinstance(inner, PacedBackend):
        pool._network_backend = PacedBackend(inner, window)  # type: ignore[union-attr]
    return True
