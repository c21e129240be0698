"""serve_app with the hypercorn/quart-trio fixes, over real unix sockets.

Time is a MockClock with a small positive autojump threshold (real socket I/O
must settle before virtual time jumps), so the keep-alive, graceful and send
timeouts below are virtual seconds and each test takes milliseconds.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import cast

import attrs
import pytest
import trio
import trio.testing
from hypercorn.events import RawData
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.typing import (
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    Scope,
)
from quart import Response
from quart_trio import QuartTrio
from trio.testing import MockClock

from crushd.server._serve import serve_app
from crushd.server.listen._listeners import bind_unix
from crushd.server.patches._hypercorn_fixes import ShieldFinalSend, install_send_timeout

HELLO = b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
HELLO_CLOSE = b"GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
STREAM = b"GET /stream HTTP/1.1\r\nHost: test\r\n\r\n"
FINAL_BODY: ASGISendEvent = {
    "type": "http.response.body",
    "body": b"",
    "more_body": False,
}
MORE_BODY: ASGISendEvent = {
    "type": "http.response.body",
    "body": b"x",
    "more_body": True,
}


@pytest.fixture
def clock() -> MockClock:
    """Virtual time that jumps once everything has been idle for 10 ms of real time."""
    return MockClock(autojump_threshold=0.01)


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A private directory under /tmp, short enough for unix socket paths."""
    path = Path(tempfile.mkdtemp(dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def make_app() -> QuartTrio:
    """A tiny app: a normal route and an endless streaming route (SSE-like)."""
    app = QuartTrio("crushd-test")

    @app.route("/hello")
    async def hello() -> str:
        return "hello"

    @app.route("/stream")
    async def stream() -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            while True:
                yield b"x" * 65536

        response = Response(chunks())
        response.timeout = None
        return response

    return app


@attrs.frozen
class Running:
    path: Path
    stop: trio.Event
    urls: list[str]


@asynccontextmanager
async def serving(
    sock_dir: Path,
    *,
    graceful_timeout_seconds: float = 3.0,
    keep_alive_seconds: float = 5.0,
    send_timeout_seconds: float = 10.0,
) -> AsyncIterator[Running]:
    """Run serve_app on a fresh unix socket; leaving the block shuts it down."""
    bound = bind_unix(sock_dir / "s.sock")
    stop = trio.Event()
    serve = partial(
        serve_app,
        make_app(),
        [bound],
        shutdown_trigger=stop.wait,
        graceful_timeout_seconds=graceful_timeout_seconds,
        keep_alive_seconds=keep_alive_seconds,
        send_timeout_seconds=send_timeout_seconds,
        max_connections=512,
        max_unauthenticated=64,
    )
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(serve)
        yield Running(sock_dir / "s.sock", stop, urls)
        stop.set()


@attrs.define
class Clients:
    """Client connections of one test; all closed at teardown, pass or fail."""

    opened: list[trio.SocketStream] = attrs.field(factory=list)

    async def connect(
        self, path: Path, *, receive_buffer_bytes: int = 0
    ) -> trio.SocketStream:
        sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.opened.append(trio.SocketStream(sock))
        if receive_buffer_bytes:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer_bytes)
        await sock.connect(os.fspath(path))
        return self.opened[-1]


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    """The test's client connections, closed when it ends."""
    opened = Clients()
    yield opened
    for stream in opened.opened:
        await stream.aclose()


async def request_hello(stream: trio.SocketStream, request: bytes = HELLO) -> bytes:
    """Send a /hello request and read its whole response."""
    await stream.send_all(request)
    data = b""
    while not data.endswith(b"hello"):
        chunk = await stream.receive_some()
        assert chunk, f"connection closed mid-response: {data!r}"
        data += chunk
    return data


async def wait_eof(stream: trio.SocketStream) -> None:
    while await stream.receive_some():
        pass


def http_scope() -> Scope:
    return cast("Scope", {"type": "http"})


async def never_receive() -> ASGIReceiveEvent:
    raise AssertionError("the app under test does not receive")


async def send_cancelled(
    message: ASGISendEvent, scope: Scope, send: ASGISendCallable
) -> None:
    """An ASGI app whose one send happens inside an already-cancelled scope."""
    with trio.CancelScope() as cancelled:
        cancelled.cancel()
        await send(message)


async def shielded_sends(message: ASGISendEvent, scope: Scope) -> list[ASGISendEvent]:
    """Run ``send_cancelled`` behind ShieldFinalSend; return what got through."""
    sent: list[ASGISendEvent] = []

    async def record(message: ASGISendEvent) -> None:
        await trio.lowlevel.checkpoint()
        sent.append(message)

    async def app(
        scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        await send_cancelled(message, scope, send)

    await ShieldFinalSend(app, shield_seconds=1.0)(scope, never_receive, record)
    return sent


async def test_shield_final_send_finishes_final_body_when_cancelled() -> None:
    """The final body send of an HTTP response completes inside a cancelled scope."""
    assert await shielded_sends(FINAL_BODY, http_scope()) == [FINAL_BODY]


async def test_shield_final_send_leaves_other_sends_cancellable() -> None:
    """A body chunk with more to come is not shielded: cancellation applies."""
    assert await shielded_sends(MORE_BODY, http_scope()) == []


async def test_shield_final_send_ignores_non_http_scopes() -> None:
    """Non-HTTP scopes (websocket, lifespan) get the server's send untouched."""
    scope = cast("Scope", {"type": "websocket"})
    assert await shielded_sends(FINAL_BODY, scope) == []


async def test_install_send_timeout_is_idempotent() -> None:
    """Installing the send-timeout patch twice leaves one patched method."""
    assert install_send_timeout()
    patched = TCPServer.protocol_send
    assert install_send_timeout()
    assert TCPServer.protocol_send is patched
    assert patched.__module__ == "crushd.server.patches._hypercorn_fixes"


async def test_serve_app_reports_socket_urls(
    sock_dir: Path, clock: MockClock, clients: Clients
) -> None:
    """task_status.started gets the listeners' URLs once they are served."""
    async with serving(sock_dir) as server:
        assert server.urls == [f"unix://{server.path}"]
        stream = await clients.connect(server.path)
        assert (await request_hello(stream)).startswith(b"HTTP/1.1 200")


async def test_serve_app_logs_to_crushd_http(
    sock_dir: Path,
    clock: MockClock,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """hypercorn's "Running on" line goes to the crushd.http logger, not stderr."""
    with caplog.at_level(logging.INFO, logger="crushd.http"):
        async with serving(sock_dir):
            pass
    assert [r.name for r in caplog.records if "Running on" in r.message] == [
        "crushd.http"
    ]
    assert "Running on" not in capfd.readouterr().err


async def test_serve_app_rejects_empty_socket_list() -> None:
    """Serving no sockets at all is a programming error."""
    with pytest.raises(ValueError, match="at least one socket"):
        await serve_app(
            make_app(),
            [],
            shutdown_trigger=trio.sleep_forever,
            graceful_timeout_seconds=3.0,
            keep_alive_seconds=5.0,
            send_timeout_seconds=10.0,
            max_connections=512,
            max_unauthenticated=64,
        )


async def test_serve_app_closes_connection_close_promptly(
    sock_dir: Path, clock: MockClock, clients: Clients
) -> None:
    """After a ``Connection: close`` response the server closes the connection."""
    async with serving(sock_dir, keep_alive_seconds=60.0) as server:
        stream = await clients.connect(server.path)
        await request_hello(stream, HELLO_CLOSE)
        with trio.fail_after(1.0):
            await wait_eof(stream)


async def test_serve_app_closes_idle_keep_alive_after_timeout(
    sock_dir: Path, clock: MockClock, clients: Clients
) -> None:
    """An idle keep-alive connection is closed after keep_alive_seconds."""
    async with serving(sock_dir, keep_alive_seconds=5.0) as server:
        stream = await clients.connect(server.path)
        await request_hello(stream)
        start = trio.current_time()
        with trio.fail_after(10.0):
            await wait_eof(stream)
        assert 5.0 <= trio.current_time() - start < 5.5


async def test_serve_app_keep_alive_serves_several_requests(
    sock_dir: Path, clock: MockClock, clients: Clients
) -> None:
    """A keep-alive connection carries several requests before going idle."""
    async with serving(sock_dir) as server:
        stream = await clients.connect(server.path)
        for _ in range(3):
            assert (await request_hello(stream)).startswith(b"HTTP/1.1 200")


async def test_serve_app_shutdown_with_idle_client_is_prompt(
    sock_dir: Path, clock: MockClock, clients: Clients
) -> None:
    """Shutdown does not wait the graceful timeout for an idle keep-alive client."""
    async with serving(sock_dir, graceful_timeout_seconds=3.0) as server:
        stream = await clients.connect(server.path)
        await request_hello(stream)
        start = trio.current_time()
        server.stop.set()
    assert trio.current_time() - start < 0.5


async def test_serve_app_stalled_reader_blocks_neither_others_nor_shutdown(
    sock_dir: Path, clock: MockClock, clients: Clients
) -> None:
    """A streaming client that never reads cannot stall other clients or shutdown."""
    async with trio.open_nursery() as watchdogs:
        async with serving(
            sock_dir, graceful_timeout_seconds=1.0, send_timeout_seconds=2.0
        ) as server:
            stalled = await clients.connect(server.path, receive_buffer_bytes=4096)
            # Without the send timeout nothing would end this connection: close
            # it late, so a regression fails the timing below instead of hanging.
            watchdogs.start_soon(close_after, stalled, 30.0)
            await stalled.send_all(STREAM)
            other = await clients.connect(server.path)
            with trio.fail_after(1.0):
                assert (await request_hello(other)).startswith(b"HTTP/1.1 200")
            start = trio.current_time()
            server.stop.set()
        assert trio.current_time() - start < 3.0
        watchdogs.cancel_scope.cancel()


async def close_after(stream: trio.SocketStream, seconds: float) -> None:
    await trio.sleep(seconds)
    await stream.aclose()


class _Server:
    """The parts of hypercorn's ``TCPServer`` the patched send touches."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.send_lock = trio.Lock()
        self.config = attrs.make_class(
            "Config", {"send_timeout_seconds": attrs.field(default=5.0)}
        )()
        self.protocol = None


@asynccontextmanager
async def _socket_pair() -> AsyncIterator[tuple[trio.SocketStream, socket.socket]]:
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    async with trio.SocketStream(trio.socket.from_stdlib_socket(ours)) as stream:
        yield stream, theirs
    theirs.close()


async def test_an_uncontended_send_writes_before_it_yields() -> None:
    """The bytes are on the socket before the send's first yield to the loop."""
    install_send_timeout()
    async with _socket_pair() as (stream, peer):
        server = _Server(stream)
        coro = TCPServer.protocol_send(cast("TCPServer", server), RawData(b"202"))
        trap = coro.send(None)  # runs up to the first yield, no further
        assert trap is not None
        assert peer.recv(16) == b"202"
        assert not server.send_lock.locked()
        coro.close()


async def test_a_contended_send_waits_for_the_lock() -> None:
    """With the lock held elsewhere nothing is written until it is released."""
    install_send_timeout()
    async with _socket_pair() as (stream, peer):
        server = _Server(stream)
        async with trio.open_nursery() as nursery:
            await server.send_lock.acquire()
            send = partial(TCPServer.protocol_send, cast("TCPServer", server))
            nursery.start_soon(send, RawData(b"later"))
            await trio.testing.wait_all_tasks_blocked()
            with pytest.raises(BlockingIOError):
                peer.recv(16)
            server.send_lock.release()
        assert peer.recv(16) == b"later"
