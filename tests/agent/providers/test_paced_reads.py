"""Tests for crushd/agent/providers/_paced_reads.py: reads lined up with the window."""

from __future__ import annotations

from typing import Any

import httpx
import trio
import trio.testing

from crushd.agent.providers._paced_reads import (
    PacedBackend,
    PacedStream,
    pace_reads,
    unpaced,
)
from crushd.workspace._flush_window import FlushWindow


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


async def test_a_second_read_in_the_window_waits_for_its_close(
    mock_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    """The tokens arriving meanwhile come back in the read at the close."""
    mock_clock.autojump_threshold = 0
    window = FlushWindow()
    window.open()
    inner = _Inner([b"a", b"bcd"])
    stream = PacedStream(inner, window)
    assert await stream.read(10) == b"a"
    got: list[bytes] = []

    async def read() -> None:
        got.append(await stream.read(10))

    nursery.start_soon(read)
    await trio.sleep(0.033)
    assert got == []
    window.close()
    await trio.testing.wait_all_tasks_blocked()
    assert got == [b"bcd"]
    assert inner.began == [0.0, 0.033]


async def test_no_window_open_reads_at_once() -> None:
    """A quiet model's next token is read as soon as it comes."""
    inner = _Inner([b"a", b"b", b"c"])
    stream = PacedStream(inner, FlushWindow())
    assert [await stream.read(10) for _ in range(3)] == [b"a", b"b", b"c"]


def _in_open_window(chunks: list[bytes]) -> PacedStream:
    window = FlushWindow()
    window.open()
    return PacedStream(_Inner(chunks), window)


async def _read_at_once(stream: PacedStream, max_bytes: int) -> bytes:
    with trio.testing.assert_no_checkpoints():  # _Inner never checkpoints
        return await stream.read(max_bytes)


async def test_the_read_after_a_write_is_not_held() -> None:
    """A new request's answer head is read at once, even in an open window."""
    stream = _in_open_window([b"end of the last answer", b"HTTP/1.1 200 OK"])
    await stream.read(100)
    await stream.write(b"POST /chat/completions")
    assert await _read_at_once(stream, 100) == b"HTTP/1.1 200 OK"


async def test_a_full_read_is_followed_at_once() -> None:
    """A read that filled ``max_bytes`` suggests more is waiting: no pause."""
    stream = _in_open_window([b"0123456789", b"x"])
    await stream.read(10)
    assert await _read_at_once(stream, 10) == b"x"


async def test_a_partial_read_holds_the_next_one() -> None:
    """The counter-case of the two above: without a write or a full read, it parks."""
    stream = _in_open_window([b"a", b"b"])
    await stream.read(10)
    with trio.move_on_after(1) as scope:
        await stream.read(10)
    assert scope.cancelled_caught


async def test_inside_unpaced_a_partial_read_does_not_hold_the_next(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``unpaced()`` lifts the pause for this task's reads, and only inside it."""
    stream = _in_open_window([b"a", b"b", b"c"])
    await stream.read(10)
    with unpaced():
        assert await _read_at_once(stream, 10) == b"b"
    with trio.move_on_after(1) as scope:
        await stream.read(10)
    assert scope.cancelled_caught


async def test_writes_close_tls_and_info_pass_through() -> None:
    """Only reads are paced; a TLS stream started on it is paced too."""
    inner = _Inner([b"a"])
    stream = PacedStream(inner, FlushWindow())
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

    backend = PacedBackend(Backend(), FlushWindow())
    assert isinstance(await backend.connect_tcp("h", 1), PacedStream)
    assert isinstance(await backend.connect_unix_socket("/s"), PacedStream)
    await backend.sleep(0)


def test_pace_reads_wraps_an_httpx_transport_once() -> None:
    """The pool's backend is wrapped; a second call does not wrap it again."""
    transport = httpx.AsyncHTTPTransport()
    assert pace_reads(transport, FlushWindow())
    backend: Any = transport._pool._network_backend
    assert isinstance(backend, PacedBackend)
    assert pace_reads(transport, FlushWindow())
    assert transport._pool._network_backend is backend


def test_pace_reads_leaves_an_unknown_transport_alone() -> None:
    """A transport without httpcore's pool is reported, not broken."""
    transport = object()
    assert not pace_reads(transport, FlushWindow())
