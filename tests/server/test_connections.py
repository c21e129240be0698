"""serve_app over real TCP sockets: HTTP/1.1 only, and the connection caps.

Time is a MockClock with a small autojump threshold (real socket I/O settles
first), as in ``test_hypercorn_fixes``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import pytest
import trio
import trio.testing
from quart_trio import QuartTrio
from trio.testing import MockClock

from crushd.server import AccessControl
from crushd.server._serve import serve_app
from crushd.server.listen._connections import (
    ConnectionGate,
    ConnectionLimits,
    _Connection,
)
from crushd.server.listen._listeners import bind_tcp
from crushd.server.patches._http1 import HTTP2_REFUSAL

TOKEN = "a-token-long-enough-for-tests"
#: hypercorn holds a connection the client closed until its keep-alive timer.
KEEP_ALIVE_SECONDS = 50
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")


@pytest.fixture
def clock() -> MockClock:
    return MockClock(autojump_threshold=0.01)


def make_app() -> QuartTrio:
    app = QuartTrio("crushd-test")

    @app.route("/ok")
    async def ok() -> str:
        return "ok"

    return app


@asynccontextmanager
async def serving(
    max_connections: int = 512, max_unauthenticated: int = 64
) -> AsyncIterator[int]:
    """Serve the token-guarded app on a fresh TCP port; yield the port."""
    bound = bind_tcp("127.0.0.1", 0)
    port = int(bound.sock.getsockname()[1])
    stop = trio.Event()
    app = AccessControl(make_app(), token=TOKEN)
    serve = partial(
        serve_app,
        app,
        [bound],
        shutdown_trigger=stop.wait,
        keep_alive_seconds=KEEP_ALIVE_SECONDS,
        graceful_timeout_seconds=0.1,
        send_timeout_seconds=3.0,
        max_connections=max_connections,
        max_unauthenticated=max_unauthenticated,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(serve)
        yield port
        stop.set()


def request(port: int, *, token: str | None = TOKEN, extra: str = "") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET /ok HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}{extra}\r\n".encode()


async def read_all(stream: trio.SocketStream) -> bytes:
    """Read until the server closes (a reset counts as closed)."""
    data = b""
    try:
        while chunk := await stream.receive_some():
            data += chunk
    except trio.BrokenResourceError:
        pass
    return data


async def read_response(stream: trio.SocketStream) -> bytes:
    data = b""
    while not data.endswith(b"ok"):
        chunk = await stream.receive_some()
        assert chunk, f"closed mid-response: {data!r}"
        data += chunk
    return data


async def settle() -> None:
    await trio.testing.wait_all_tasks_blocked(0.005)  # under the autojump


async def connect(port: int) -> trio.SocketStream:
    """Connect, and let the server accept and count the connection."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await settle()
    return stream


async def test_h2c_upgrade_is_served_as_http1(clock: MockClock) -> None:
    """Issue 11 F: an ``Upgrade: h2c`` request was switched to HTTP/2 (101),
    whose flow control escapes the send timeout. It is now plain HTTP/1.1."""
    async with serving() as port:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            upgrade = (
                "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
            )
            await stream.send_all(request(port, extra=upgrade))
            reply = await read_response(stream)
    assert reply.startswith(b"HTTP/1.1 200")
    assert b"101" not in reply.split(b"\r\n", 1)[0]


async def test_prior_knowledge_http2_gets_goaway_and_is_closed(
    clock: MockClock,
) -> None:
    """Issue 11 F: the HTTP/2 preface started an HTTP/2 connection (a zero-window
    stream was never dropped). It now gets GOAWAY(HTTP_1_1_REQUIRED) and EOF."""
    async with serving() as port:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            await stream.send_all(H2_PREFACE)
            with trio.fail_after(5):
                reply = await read_all(stream)
    assert reply == HTTP2_REFUSAL


async def test_tcp_connection_caps_drop_the_oldest_unauthenticated_first(
    clock: MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 11 F: without the token, 2,000 connections made the daemon unusable.
    Now a listener keeps few unauthenticated connections (a new one closes the
    oldest), holds at most N in all (503 once all have shown the token), and
    logs closings and refusals once per second per reason with a count."""
    caplog.set_level(logging.WARNING, logger="crushd.server")
    async with serving(max_connections=3, max_unauthenticated=2) as port:
        flood = [await connect(port) for _ in range(4)]  # two oldest dropped
        client = await connect(port)  # drops the third: a real client gets in
        await client.send_all(request(port))
        assert (await read_response(client)).startswith(b"HTTP/1.1 200")
        for stream in flood[:3]:
            assert await read_all(stream) == b""
        second = await connect(port)  # open: flood[3], client, second
        await second.send_all(request(port))
        assert (await read_response(second)).startswith(b"HTTP/1.1 200")
        third = await connect(port)  # full: flood[3] makes room
        assert await read_all(flood[3]) == b""
        await third.send_all(request(port))
        assert (await read_response(third)).startswith(b"HTTP/1.1 200")
        over = await connect(port)  # all three authenticated: refused
        reply = await read_all(over)
        assert reply.startswith(b"HTTP/1.1 503")
        assert b'"message":"too many connections; try again later"' in reply
        await trio.sleep(1)
        later = await connect(port)
        assert b"HTTP/1.1 503" in await read_all(later)
        for stream in [*flood, client, second, third, over, later]:
            await stream.aclose()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[0].startswith("closed the oldest unauthenticated connection")
    assert lines[1].endswith(": too many connections")
    assert lines[2].endswith(": too many connections")  # a second later


async def test_a_refused_request_closes_its_connection(clock: MockClock) -> None:
    """A client without the token cannot hold a connection by asking again."""
    async with serving() as port:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            await stream.send_all(request(port, token=None))
            with trio.fail_after(5):
                reply = await read_all(stream)
    assert reply.startswith(b"HTTP/1.1 401")


def test_gate_counts_per_listening_port() -> None:
    """Counts are kept per port and forgotten once a port has no connection."""
    gate = ConnectionGate(ConnectionLimits(max_connections=2, max_unauthenticated=1))
    closed: list[int] = []

    def conn(port: int, n: int) -> _Connection:
        return _Connection((port, "a", n), partial(closed.append, n))

    first, other_port = conn(80, 1), conn(81, 2)
    assert gate._admit(first)
    assert gate._admit(other_port)
    assert gate.counts(80) == (1, 1)
    gate.authenticated((80, "a", 1))
    assert gate.counts(80) == (1, 0)
    third, fourth = conn(80, 3), conn(80, 4)
    assert gate._admit(third)
    assert gate._admit(fourth)  # the one pending slot: the third is dropped
    assert closed == [3]
    assert gate.counts(80) == (2, 1)
    gate.authenticated((80, "a", 4))
    assert not gate._admit(conn(80, 5))  # full, and everyone showed the token
    for connection in (first, third, fourth, other_port):
        gate._forget(connection)  # the dropped third is not counted twice
    assert gate._ports == {}


async def test_unix_connections_are_not_counted() -> None:
    """Only our uid reaches a unix socket: it is never capped."""
    gate = ConnectionGate(ConnectionLimits(max_connections=1, max_unauthenticated=1))
    left, right = trio.socket.socketpair()
    ran: list[Any] = []

    async def run(server: Any) -> None:
        ran.append(server)

    with left, right:
        await gate.serve("server", left, run)
        await gate.serve("server", left, run)
    assert ran == ["server", "server"]
