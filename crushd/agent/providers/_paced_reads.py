"""Socket reads of a provider connection, at most one per pace.

A model streams its answer as one SSE event per token, each written to the
socket on its own. Read as they come, every token costs the event loop a
wake-up and a trip up through the whole HTTP stack: in the agent benchmark
(three sessions at 200 deltas/s, stress/RESULTS.md) that made the paced
stream cost about five times the CPU per token of an unpaced one. Here a
connection reads its socket at most once per ``READ_PACE_SECONDS``: the
tokens that arrive meanwhile wait in the kernel's buffer and come back in
one read, and h11 then hands them out one by one without another wake-up.
Measured with that benchmark: the daemon's CPU per 1,000 deltas fell from
about 720 to 570 ms at a pace of 10 ms (480 ms at 20 ms, but the 20 ms pace
pushed the delta-to-client p99 over its 60 ms target).

A connection idle for longer than the pace reads at once (a request's answer
and the first token are never held back), and a read that fills the buffer
asked for is followed by the next at once (a fast stream is not slowed).
The pace costs a token at most ``READ_PACE_SECONDS`` of latency, well below
the 33 ms for which the message flusher coalesces tokens anyway
(docs/agent.md 5.1).

The wrappers follow httpcore's network backend and stream interfaces by
shape (duck typing), so this module imports neither httpx nor httpcore:
the SDK is loaded in a worker thread at ``agent/init``, never with the
agent package.
"""

from __future__ import annotations

from typing import Any

import trio

__all__ = ["READ_PACE_SECONDS", "PacedBackend", "PacedStream", "pace_reads"]

#: Least seconds between two socket reads of one provider connection.
READ_PACE_SECONDS = 0.010


class PacedStream:
    """An httpcore network stream whose reads are paced (see module doc).

    Args:
        inner: the stream to wrap (``read``, ``write``, ``aclose``,
            ``start_tls``, ``get_extra_info``).
        pace: least seconds between the end of one read and the next
            (default ``READ_PACE_SECONDS``).
    """

    def __init__(self, inner: Any, pace: float | None = None) -> None:
        self._inner = inner
        self._pace = READ_PACE_SECONDS if pace is None else pace
        self._next_read = float("-inf")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109 - httpcore's signature
        """Wait out the pace, then read up to ``max_bytes`` as the inner stream."""
        if trio.current_time() < self._next_read:
            await trio.sleep_until(self._next_read)
        data: bytes = await self._inner.read(max_bytes, timeout)
        if len(data) < max_bytes:
            self._next_read = trio.current_time() + self._pace
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109 - httpcore's signature
        """Write as the inner stream (writes are never paced)."""
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        """Close the inner stream."""
        await self._inner.aclose()

    async def start_tls(self, *args: Any, **kwargs: Any) -> PacedStream:
        """Start TLS on the inner stream; the TLS stream is paced too."""
        inner = await self._inner.start_tls(*args, **kwargs)
        return PacedStream(inner, self._pace)

    def get_extra_info(self, info: str) -> Any:
        """Answer as the inner stream (``socket``, ``ssl_object``, ...)."""
        return self._inner.get_extra_info(info)


class PacedBackend:
    """An httpcore network backend whose streams are ``PacedStream``.

    Args:
        inner: the backend to wrap (httpcore's own, picked for Trio).
        pace: passed on to each stream (default ``READ_PACE_SECONDS``).
    """

    def __init__(self, inner: Any, pace: float | None = None) -> None:
        self._inner = inner
        self._pace = READ_PACE_SECONDS if pace is None else pace

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> PacedStream:
        """Connect as the inner backend; the stream is paced."""
        return PacedStream(await self._inner.connect_tcp(*args, **kwargs), self._pace)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> PacedStream:
        """Connect as the inner backend; the stream is paced."""
        stream = await self._inner.connect_unix_socket(*args, **kwargs)
        return PacedStream(stream, self._pace)

    async def sleep(self, seconds: float) -> None:
        """Sleep as the inner backend does."""
        await self._inner.sleep(seconds)


def pace_reads(transport: Any, pace: float | None = None) -> bool:
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
        pool._network_backend = PacedBackend(inner, pace)  # type: ignore[union-attr]
    return True
