"""Tests for ``listen._peercred``: the SO_PEERCRED check on unix connections.

A second uid cannot be conjured without root, so these tests prove the layer
with this process's own credentials and a pretended daemon uid (``uid=`` or a
patched ``os.geteuid``); tests/e2e/test_security.py runs a real client under
another uid when the suite runs as root.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import trio
from hypercorn.trio.tcp_server import TCPServer
from quart_trio import QuartTrio
from trio.testing import MockClock

from crushd.server import (
    PeerCredentials,
    bind_unix,
    install_peer_check,
    peer_allowed,
    peer_credentials,
    serve_app,
)
from crushd.server.listen import _peercred

linux_only = pytest.mark.skipif(
    not hasattr(socket, "SO_PEERCRED"), reason="SO_PEERCRED is Linux-only"
)
HELLO = b"GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"


@pytest.fixture
def clock() -> MockClock:
    """Virtual time that jumps once real socket I/O has settled for 10 ms."""
    return MockClock(autojump_threshold=0.01)


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A private directory under /tmp, short enough for unix socket paths."""
    path = Path(tempfile.mkdtemp(dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected unix socket pair, closed afterwards."""
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        yield left, right


class Broken:
    """A unix 'socket' whose credentials cannot be read."""

    family = socket.AF_UNIX

    def getsockopt(self, level: int, option: int, buflen: int) -> bytes:
        raise OSError(107, "Transport endpoint is not connected")


@linux_only
def test_peer_credentials_reads_this_process(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """SO_PEERCRED reports the connecting process's pid, euid and egid."""
    assert peer_credentials(pair[0]) == PeerCredentials(
        pid=os.getpid(), uid=os.geteuid(), gid=os.getegid()
    )


def test_peer_credentials_without_so_peercred_is_none(
    pair: tuple[socket.socket, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On platforms without SO_PEERCRED the peer is unknown (None)."""
    monkeypatch.delattr(socket, "SO_PEERCRED", raising=False)
    assert peer_credentials(pair[0]) is None
    assert peer_allowed(pair[0], uid=os.geteuid() + 1)


@linux_only
def test_peer_allowed_same_uid(pair: tuple[socket.socket, socket.socket]) -> None:
    """A peer with the daemon's uid (default: our euid) is allowed."""
    assert peer_allowed(pair[0])
    assert peer_allowed(pair[0], uid=os.geteuid())


@linux_only
def test_peer_allowed_refuses_other_uid_and_logs(
    pair: tuple[socket.socket, socket.socket], caplog: pytest.LogCaptureFixture
) -> None:
    """A peer whose uid differs is refused, and the refusal names pid and uids."""
    other = os.geteuid() + 1
    with caplog.at_level(logging.WARNING, logger="crushd.server"):
        assert not peer_allowed(pair[0], uid=other)
    expected = (
        f"refused a unix connection from uid {os.geteuid()} (pid {os.getpid()}):"
        f" only uid {other} may connect"
    )
    assert expected in caplog.text


def test_peer_allowed_refuses_unreadable_peer(caplog: pytest.LogCaptureFixture) -> None:
    """A unix peer whose credentials cannot be read is refused (fail closed)."""
    assert not peer_allowed(Broken())
    assert "cannot read its peer" in caplog.text


def test_peer_allowed_ignores_tcp() -> None:
    """TCP sockets are not checked here: the bearer token guards them."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert peer_allowed(sock, uid=os.geteuid() + 1)


def test_install_peer_check_is_idempotent() -> None:
    """Installing twice leaves one wrapper around TCPServer.run."""
    assert install_peer_check()
    patched = TCPServer.run
    assert install_peer_check()
    assert TCPServer.run is patched
    assert patched.__module__ == "crushd.server.listen._peercred"


def test_install_peer_check_skips_unchecked_hypercorn(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """On an unchecked hypercorn version hypercorn is left alone, with a warning."""
    monkeypatch.setattr(TCPServer, "run", _peercred._original_run)
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.9.9")
    assert not install_peer_check()
    assert TCPServer.run is _peercred._original_run
    assert "hypercorn 9.9.9 is not checked for the peer-uid patch" in caplog.text


def make_app() -> QuartTrio:
    """A one-route app."""
    app = QuartTrio("crushd-peercred-test")

    @app.route("/hello")
    async def hello() -> str:
        return "hello"

    return app


@asynccontextmanager
async def serving(sock_dir: Path) -> AsyncIterator[Path]:
    """Serve the app on a unix socket with the peer check installed."""
    assert install_peer_check()
    bound = bind_unix(sock_dir / "s.sock")
    stop = trio.Event()
    serve = partial(
        serve_app,
        make_app(),
        [bound],
        shutdown_trigger=stop.wait,
        graceful_timeout_seconds=2.0,
        keep_alive_seconds=5.0,
        send_timeout_seconds=3.0,
        max_connections=512,
        max_unauthenticated=64,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(serve)
        yield sock_dir / "s.sock"
        stop.set()


async def exchange(path: Path) -> bytes:
    """Send one request; read until the server closes (or resets) the connection."""
    stream = await trio.open_unix_socket(os.fspath(path))
    data = b""
    async with stream:
        with trio.fail_after(5):
            try:
                await stream.send_all(HELLO)
                while chunk := await stream.receive_some():
                    data += chunk
            except trio.BrokenResourceError:
                pass  # closed with our request unread: the kernel sends a reset
    return data


@linux_only
async def test_serve_app_serves_own_uid(sock_dir: Path, clock: MockClock) -> None:
    """A connection from the daemon's own uid is served normally."""
    async with serving(sock_dir) as path:
        assert (await exchange(path)).startswith(b"HTTP/1.1 200")


@linux_only
async def test_serve_app_closes_other_uid_unread(
    sock_dir: Path,
    clock: MockClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A connection from another uid is closed without any response, and logged."""
    real = os.geteuid()
    async with serving(sock_dir) as path:
        monkeypatch.setattr(os, "geteuid", lambda: real + 1)
        assert await exchange(path) == b""
        monkeypatch.setattr(os, "geteuid", lambda: real)
        assert (await exchange(path)).startswith(b"HTTP/1.1 200")
    assert f"refused a unix connection from uid {real}" in caplog.text


def test_module_is_importable_on_every_platform() -> None:
    """The module only touches SO_PEERCRED when it exists (no import-time use)."""
    assert "crushd.server.listen._peercred" in sys.modules
    assert not hasattr(_peercred, "SO_PEERCRED")
