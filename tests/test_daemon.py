"""crushd.daemon's start-up checks that need no running daemon."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from crushd.daemon import bind_all, open_listeners
from crushd.proto import parse_host
from crushd.server import ListenerError, TokenFileError
from crushd.settings import Settings


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder under /tmp short enough for a unix socket path."""
    path = Path(tempfile.mkdtemp(dir="/tmp"))  # short: sun_path is 104 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _listening_inet(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((address, 0))
    sock.listen()
    return sock


@pytest.mark.parametrize(
    "url", ["tcp://0.0.0.0:0", "tcp://192.0.2.7:7777", "tcp://example.com:80"]
)
def test_bind_all_refuses_non_loopback_tcp(url: str) -> None:
    """A TCP host that is not loopback is refused, naming --allow-remote."""
    with pytest.raises(ListenerError, match=r"not a loopback address.*--allow-remote"):
        bind_all((parse_host(url),))


@pytest.mark.parametrize(
    "url", ["tcp://127.0.0.1:0", "tcp://localhost:0", "tcp://[::1]:0"]
)
def test_bind_all_accepts_loopback_tcp(url: str) -> None:
    """Loopback TCP hosts bind (port 0 picks a free port)."""
    try:
        (bound,) = bind_all((parse_host(url),))
    except OSError as exc:  # pragma: no cover - a host without IPv6
        if "::1" in url:
            pytest.skip(f"no IPv6 loopback here: {exc}")
        raise
    bound.close()


def test_bind_all_tcp_without_port_is_a_listener_error() -> None:
    """A tcp host without a port fails as a ListenerError, not a ValueError."""
    with pytest.raises(ListenerError, match="invalid host format"):
        bind_all((parse_host("tcp://127.0.0.1"),))


def test_bind_all_allow_remote_binds_every_interface() -> None:
    """With allow_remote a wildcard TCP address binds."""
    (bound,) = bind_all((parse_host("tcp://0.0.0.0:0"),), allow_remote=True)
    try:
        assert bound.sock.getsockname()[0] == "0.0.0.0"
    finally:
        bound.close()


def test_bind_all_refuses_adopted_non_loopback_socket() -> None:
    """An inherited tcp socket on a non-loopback address is refused and closed."""
    inherited = _listening_inet("0.0.0.0")
    fd = inherited.detach()
    with pytest.raises(ListenerError, match=r"fd://\d+ \(0\.0\.0\.0\).*--allow-remote"):
        bind_all((parse_host(f"fd://{fd}"),))
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(fd)  # closed by bind_all's clean-up


def test_bind_all_allow_remote_adopts_non_loopback_socket() -> None:
    """With allow_remote an inherited wildcard tcp socket is adopted."""
    fd = _listening_inet("0.0.0.0").detach()
    (bound,) = bind_all((parse_host(f"fd://{fd}"),), allow_remote=True)
    try:
        assert bound.url == f"fd://{fd}"
        assert not os.get_inheritable(fd)
    finally:
        bound.close()


def test_bind_all_failure_removes_unix_socket_bound_before(short_dir: Path) -> None:
    """A later host failing its check removes the socket file bound before it."""
    path = short_dir / "d.sock"
    fd = _listening_inet("0.0.0.0").detach()
    hosts = (parse_host(f"unix://{path}"), parse_host(f"fd://{fd}"))
    with pytest.raises(ListenerError):
        bind_all(hosts)
    assert not path.exists()


def test_open_listeners_unix_only_needs_no_token(
    short_dir: Path, tmp_path: Path
) -> None:
    """A daemon with only unix listeners neither creates nor reads a token."""
    token_file = tmp_path / "state" / "crushd" / "token"
    settings = Settings(
        hosts=(parse_host(f"unix://{short_dir / 'd.sock'}"),), token_file=token_file
    )
    listeners = open_listeners(settings)
    for bound in listeners.sockets:
        bound.close()
    assert listeners.token is None
    assert not token_file.parent.exists()


def test_open_listeners_tcp_creates_private_token_and_reuses_it(
    tmp_path: Path,
) -> None:
    """A tcp listener creates a 0600 token in a 0700 folder, kept on restart."""
    token_file = tmp_path / "state" / "crushd" / "token"
    settings = Settings(hosts=(parse_host("tcp://localhost:0"),), token_file=token_file)
    tokens = []
    for _ in range(2):
        listeners = open_listeners(settings)
        listeners.sockets[0].close()
        tokens.append(listeners.token)
        assert listeners.host_names == ("localhost",)
    assert tokens[0] is not None
    assert tokens[0] == tokens[1]
    assert token_file.read_text().strip() == tokens[0]
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700


def test_open_listeners_bad_token_file_releases_sockets(
    short_dir: Path, tmp_path: Path
) -> None:
    """An unusable token file fails the start and removes the unix socket file."""
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    token_file.chmod(0o644)
    path = short_dir / "d.sock"
    settings = Settings(
        hosts=(parse_host(f"unix://{path}"), parse_host("tcp://127.0.0.1:0")),
        token_file=token_file,
    )
    with pytest.raises(TokenFileError, match="chmod 600"):
        open_listeners(settings)
    assert not path.exists()
