"""Tests for crushd/agent/providers/_paced_reads.py: one socket read per pace."""

from __future__ import annotations

from typing import Any

import httpx
import trio
import trio.testing

from crushd.agent.providers._paced_reads import (
    READ_PACE_SECONDS,
    PacedBackend,
    PacedStream,
    pace_reads,
)


class _Inner:
    """A network stream of scripted reads; notes when each read began."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.began: list[float] = []
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        self.began.append(trio.current_time())
        return self.chunks.pop(0)[:max_bytes]

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        self.calls.append(("write", (buffer, timeout)))

    async def aclose(self) -> None:
        self.calls.append(("aclose", ()))

    async def start_tls(self, *args: Any, **kwargs: Any) -> _Inner:
        self.calls.append(("start_tls", args))
        return _Inner(self.chunks)

    def get_extra_info(self, info: str) -> Any:
        return f"info {info}"


async def test_reads_are_spaced_by_the_pace(mock_clock: trio.testing.MockClock) -> None:
    """The first read is at once; each later one waits for the pace."""
    mock_clock.autojump_threshold = 0
    inner = _Inner([b"a", b"b", b"c"])
    stream = PacedStream(inner, pace=0.01)
    start = trio.current_time()
    assert [await stream.read(10) for _ in range(3)] == [b"a", b"b", b"c"]
    gaps = [round(t - start, 6) for t in inner.began]
    assert gaps == [0.0, 0.01, 0.02]


async def test_an_idle_connection_reads_at_once(
    mock_clock: trio.testing.MockClock,
) -> None:
    """After a pause longer than the pace the next read is not delayed."""
    mock_clock.autojump_threshold = 0
    inner = _Inner([b"a", b"b"])
    stream = PacedStream(inner, pace=0.01)
    await stream.read(10)
    await trio.sleep(0.5)
    before = trio.current_time()
    await stream.read(10)
    assert inner.began[-1] == before


async def test_a_full_read_is_followed_at_once(
    mock_clock: trio.testing.MockClock,
) -> None:
    """A read that filled ``max_bytes`` suggests more is waiting: no pause."""
    mock_clock.autojump_threshold = 0
    inner = _Inner([b"0123456789", b"x", b"y"])
    stream = PacedStream(inner, pace=0.01)
    await stream.read(10)
    await stream.read(10)
    await stream.read(10)
    assert [round(t, 6) for t in inner.began] == [0.0, 0.0, 0.01]


async def test_writes_close_tls_and_info_pass_through() -> None:
    """Only reads are paced; a TLS stream started on it is paced too."""
    inner = _Inner([b"a"])
    stream = PacedStream(inner)
    await stream.write(b"req", 5.0)
    tls = await stream.start_tls("ctx", server_hostname="h")
    await stream.aclose()
    assert isinstance(tls, PacedStream)
    assert stream.get_extra_info("socket") == "info socket"
    assert inner.calls == [
        ("write", (b"req", 5.0)),
        ("start_tls", ("ctx",)),
        ("aclose", ()),
    ]


async def test_the_backend_paces_every_stream_it_opens() -> None:
    """``connect_tcp`` and ``connect_unix_socket`` hand out paced streams."""

    class Backend:
        async def connect_tcp(self, *args: Any, **kwargs: Any) -> _Inner:
            return _Inner([])

        async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _Inner:
            return _Inner([])

        async def sleep(self, seconds: float) -> None:
            await trio.sleep(seconds)

    backend = PacedBackend(Backend())
    assert isinstance(await backend.connect_tcp("h", 1), PacedStream)
    assert isinstance(await backend.connect_unix_socket("/s"), PacedStream)
    await backend.sleep(0)


def test_pace_reads_wraps_an_httpx_transport_once() -> None:
    """The pool's backend is wrapped; a second call does not wrap it again."""
    transport = httpx.AsyncHTTPTransport()
    assert pace_reads(transport)
    backend: Any = transport._pool._network_backend
    assert isinstance(backend, PacedBackend)
    assert pace_reads(transport)
    assert transport._pool._network_backend is backend


def test_pace_reads_leaves_an_unknown_transport_alone() -> None:
    """A transport without httpcore's pool is reported, not broken."""
    transport = object()
    assert not pace_reads(transport)


def test_the_pace_stays_under_the_flush_interval() -> None:
    """A token waits for at most one pace, well under the 33 ms coalescing."""
    from crushd.workspace._messages import DEBOUNCE_SECONDS

    assert READ_PACE_SECONDS <= DEBOUNCE_SECONDS / 2
