"""The send-timeout patch's fast path: one synchronous write, then trio for the rest."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest
import trio
import trio.testing

from crushd.server.patches._hypercorn_fixes import _send_all_within, _write_nowait


@pytest.fixture
async def pair() -> AsyncIterator[tuple[trio.SocketStream, trio.SocketStream]]:
    """A connected unix socket pair as trio socket streams."""
    left, right = trio.socket.socketpair()
    a, b = trio.SocketStream(left), trio.SocketStream(right)
    yield a, b
    await a.aclose()
    await b.aclose()


async def receive_exactly(stream: trio.SocketStream, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = await stream.receive_some(65536)
        assert chunk, "peer closed early"
        data += chunk
    return data


async def test_write_nowait_sends_small_data_at_once(
    pair: tuple[trio.SocketStream, trio.SocketStream],
) -> None:
    """A chunk that fits the socket buffer is written whole, with no await."""
    sender, receiver = pair
    frame = b"id: 1\ndata: {}\n\n"
    assert _write_nowait(sender, frame) == len(frame)
    assert await receive_exactly(receiver, len(frame)) == frame


async def test_write_nowait_returns_zero_when_buffer_full(
    pair: tuple[trio.SocketStream, trio.SocketStream],
) -> None:
    """With the socket buffer full the fast path writes nothing (no exception)."""
    sender, _ = pair
    while _write_nowait(sender, b"x" * 65536):
        pass
    assert _write_nowait(sender, b"more") == 0


async def test_write_nowait_skips_non_socket_streams() -> None:
    """Streams that are not socket streams always take trio's path."""
    stream = trio.testing.MemorySendStream()
    assert _write_nowait(stream, b"data") == 0
    with pytest.raises(trio.WouldBlock):
        stream.get_data_nowait()


async def test_write_nowait_empty_data_writes_nothing(
    pair: tuple[trio.SocketStream, trio.SocketStream],
) -> None:
    """Empty data is a no-op."""
    assert _write_nowait(pair[0], b"") == 0


async def test_write_nowait_closed_socket_is_closed_resource(
    pair: tuple[trio.SocketStream, trio.SocketStream],
) -> None:
    """A locally closed socket raises ClosedResourceError, as trio's send_all does."""
    sender, _ = pair
    sender.socket.close()
    with pytest.raises(trio.ClosedResourceError):
        _write_nowait(sender, b"data")


async def test_write_nowait_peer_gone_is_broken_resource(
    pair: tuple[trio.SocketStream, trio.SocketStream],
) -> None:
    """A peer that closed makes the write raise BrokenResourceError."""
    sender, receiver = pair
    await receiver.aclose()
    with pytest.raises(trio.BrokenResourceError):
        _write_nowait(sender, b"data")


async def test_send_all_within_finishes_large_data_through_trio(
    pair: tuple[trio.SocketStream, trio.SocketStream],
) -> None:
    """Data larger than the buffer: the fast part plus trio's part arrive in order."""
    sender, receiver = pair
    data = bytes(range(256)) * 8192  # 2 MiB, far more than a socket buffer
    received: list[bytes] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: _collect(receiver, len(data), received), name="reader"
        )
        assert await _send_all_within(sender, data, math.inf)
    assert received == [data]


async def _collect(stream: trio.SocketStream, size: int, out: list[bytes]) -> None:
    out.append(await receive_exactly(stream, size))


async def test_send_all_within_gives_up_on_stalled_peer(
    pair: tuple[trio.SocketStream, trio.SocketStream],
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A peer that reads nothing makes the slow path return False after the stall."""
    sender, _ = pair
    start = trio.current_time()
    assert not await _send_all_within(sender, b"x" * (4 << 20), 3.0)
    assert trio.current_time() - start == pytest.approx(3.0)
