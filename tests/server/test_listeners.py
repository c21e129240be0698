"""Listening sockets: unix (mode, directory, stale probe, inode ownership), tcp, fd."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from crushd.proto import parse_host
from crushd.server.listen._listeners import (
    AddressInUseError,
    BoundSocket,
    ListenerError,
    adopt_fd,
    bind_host,
    bind_tcp,
    bind_unix,
)


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    """A private directory under /tmp, short enough for unix socket paths."""
    path = Path(tempfile.mkdtemp(dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def zero_umask() -> Iterator[None]:
    """Run with umask 0 so that only explicit modes keep files private."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def listening_unix(path: Path) -> socket.socket:
    """Bind and listen on ``path`` the plain way, as another server would."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.fspath(path))
    sock.listen()
    return sock


NOBODY = 65534
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root to chown files to uid 65534"
)


def inode(path: Path) -> tuple[int, int]:
    found = os.lstat(path)
    return found.st_dev, found.st_ino


def test_bind_unix_socket_mode_0600(sock_dir: Path, zero_umask: None) -> None:
    """The socket file is created 0600 even when the umask would allow 0777."""
    path = sock_dir / "s.sock"
    bound = bind_unix(path)
    try:
        mode = os.lstat(path).st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600
        assert os.umask(0) == 0  # the bind restored the caller's umask
        assert bound.url == f"unix://{path}"
        assert bound.identity == inode(path)
    finally:
        bound.close()


def test_bind_unix_listens(sock_dir: Path) -> None:
    """A client can connect to the bound socket right away."""
    path = sock_dir / "s.sock"
    bound = bind_unix(path)
    with bound.sock, socket.socket(socket.AF_UNIX) as client:
        client.connect(os.fspath(path))


def test_bind_unix_creates_missing_parent_0700(sock_dir: Path) -> None:
    """A missing parent directory is created with mode 0700."""
    path = sock_dir / "run" / "s.sock"
    bind_unix(path).close()
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722, 0o702])
def test_bind_unix_refuses_loose_parent(sock_dir: Path, mode: int) -> None:
    """A parent writable by group or others (and not sticky) is refused."""
    os.chmod(sock_dir, mode)
    with pytest.raises(ListenerError, match="writable by group or others"):
        bind_unix(sock_dir / "s.sock")
    assert not (sock_dir / "s.sock").exists()


def test_bind_unix_accepts_sticky_world_writable_parent(sock_dir: Path) -> None:
    """A sticky world-writable directory (the /tmp fallback) is accepted."""
    os.chmod(sock_dir, 0o1777)
    bind_unix(sock_dir / "s.sock").close()
    assert stat.S_ISSOCK(os.lstat(sock_dir / "s.sock").st_mode)


def test_bind_unix_refuses_parent_that_is_a_file(sock_dir: Path) -> None:
    """A parent path that is a regular file gives a clear error."""
    (sock_dir / "run").write_text("")
    with pytest.raises(ListenerError, match="socket directory"):
        bind_unix(sock_dir / "run" / "s.sock")


def test_bind_unix_removes_stale_socket(
    sock_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A socket file nobody listens on is removed (with a warning) and re-bound."""
    path = sock_dir / "s.sock"
    listening_unix(path).close()  # leaves the file behind, like a crashed daemon
    with caplog.at_level(logging.WARNING, logger="crushd.server"):
        bound = bind_unix(path)
    with bound.sock, socket.socket(socket.AF_UNIX) as client:
        client.connect(os.fspath(path))
    assert bound.identity == inode(path)
    assert "removed stale socket" in caplog.text


def test_bind_unix_refuses_live_socket(sock_dir: Path) -> None:
    """A socket another server listens on is refused and left untouched."""
    path = sock_dir / "s.sock"
    with listening_unix(path):
        before = inode(path)
        with pytest.raises(AddressInUseError, match="already listening on"):
            bind_unix(path)
        assert inode(path) == before
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(os.fspath(path))  # the other server still works


def test_bind_unix_probe_failure_is_not_stale(sock_dir: Path) -> None:
    """A probe that neither connects nor is refused (full backlog) keeps the file."""
    path = sock_dir / "s.sock"
    clients: list[socket.socket] = []
    with listening_unix(path) as other:
        other.listen(0)
        try:
            _fill_backlog(path, clients)
            with pytest.raises(ListenerError, match="cannot tell whether") as info:
                bind_unix(path)
        finally:
            for client in clients:
                client.close()
    assert not isinstance(info.value, AddressInUseError)
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def _fill_backlog(path: Path, clients: list[socket.socket]) -> None:
    """Connect non-blocking clients until the listener's backlog is full."""
    for _ in range(64):
        client = socket.socket(socket.AF_UNIX)
        client.setblocking(False)
        clients.append(client)
        try:
            client.connect(os.fspath(path))
        except BlockingIOError:
            return
    pytest.fail("the backlog never filled up")


def test_bind_unix_refuses_regular_file(sock_dir: Path) -> None:
    """A regular file at the socket path is refused and kept."""
    path = sock_dir / "s.sock"
    path.write_text("precious")
    with pytest.raises(ListenerError, match="not a socket"):
        bind_unix(path)
    assert path.read_text() == "precious"


def test_bind_unix_error_is_an_oserror(sock_dir: Path) -> None:
    """Listener errors are OSErrors, so startup code can catch them as such."""
    path = sock_dir / "s.sock"
    path.write_text("")
    with pytest.raises(OSError, match="not a socket"):
        bind_unix(path)


def test_remove_if_ours_removes_own_socket(sock_dir: Path) -> None:
    """The socket file this process created is removed."""
    bound = bind_unix(sock_dir / "s.sock")
    bound.close()
    assert bound.remove_if_ours()
    assert not (sock_dir / "s.sock").exists()


def test_remove_if_ours_keeps_replaced_socket(sock_dir: Path) -> None:
    """A socket file that replaced ours while we ran (a newer daemon's) is kept."""
    path = sock_dir / "s.sock"
    bound = bind_unix(path)
    path.unlink()
    with listening_unix(path):
        bound.close()  # as at daemon exit: hypercorn closed the socket first
        assert not bound.remove_if_ours()
        assert stat.S_ISSOCK(os.lstat(path).st_mode)


@pytest.mark.parametrize("change", ["chmod", "touch"])
def test_socket_removed_on_exit_after_chmod_or_touch(
    sock_dir: Path, change: str
) -> None:
    """Issue 11 C: a chmod/touch changed the ctime in the identity, so the
    daemon's own socket file was left behind at exit."""
    path = sock_dir / "s.sock"
    bound = bind_unix(path)
    if change == "touch":
        os.utime(path, ns=(1, 1))
    else:
        os.chmod(path, 0o644)
    bound.close()
    assert bound.remove_if_ours()
    assert not path.exists()


@needs_root
def test_socket_path_of_another_uid_is_refused_naming_the_owner(
    sock_dir: Path,
) -> None:
    """Issue 11 C: another uid's socket at the path (dead or live) is never
    removed or used; the error names its owner."""
    path = sock_dir / "s.sock"
    listening_unix(path).close()  # a dead socket: it used to be removed
    os.chown(path, NOBODY, NOBODY)
    before = inode(path)
    with pytest.raises(ListenerError, match=f"belongs to uid {NOBODY}"):
        bind_unix(path)
    assert inode(path) == before


@needs_root
def test_remove_if_ours_keeps_a_socket_given_to_another_uid(sock_dir: Path) -> None:
    """A socket file that now belongs to another uid is not ours to remove."""
    path = sock_dir / "s.sock"
    bound = bind_unix(path)
    os.chown(path, NOBODY, NOBODY)
    bound.close()
    assert not bound.remove_if_ours()
    assert path.exists()


def test_symlinked_socket_folder_in_a_shared_folder_is_refused(
    sock_dir: Path,
) -> None:
    """Issue 11 C: ``/tmp/crush-<uid>`` planted as a symlink elsewhere is refused,
    whoever owns the target; the socket is not created there."""
    shared = sock_dir / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    target = sock_dir / "elsewhere"
    target.mkdir(mode=0o700)
    (shared / "crush-x").symlink_to(target)
    with pytest.raises(ListenerError, match="a symlink in"):
        bind_unix(shared / "crush-x" / "s.sock")
    assert list(target.iterdir()) == []


@needs_root
def test_symlinked_socket_folder_of_another_uid_is_refused(sock_dir: Path) -> None:
    """A symlink another uid owns decides nothing about where our socket goes."""
    target = sock_dir / "elsewhere"
    target.mkdir(mode=0o700)
    link = sock_dir / "run"
    link.symlink_to(target)
    os.chown(link, NOBODY, NOBODY, follow_symlinks=False)
    with pytest.raises(ListenerError, match=f"symlink owned by uid {NOBODY}"):
        bind_unix(link / "s.sock")


def test_own_symlinked_socket_folder_in_a_private_folder_is_used(
    sock_dir: Path,
) -> None:
    """A symlink of ours in a folder only we write (``/var/run`` style) is fine."""
    target = sock_dir / "elsewhere"
    target.mkdir(mode=0o700)
    (sock_dir / "run").symlink_to(target)
    bind_unix(sock_dir / "run" / "s.sock").close()
    assert (target / "s.sock").exists()


def test_private_default_folder_is_created_0700(
    sock_dir: Path, zero_umask: None
) -> None:
    """The default ``<tmp>/crush-<uid>/`` is created 0700 inside a sticky tmp."""
    sock_dir.chmod(0o1777)
    path = sock_dir / f"crush-{os.getuid()}" / "s.sock"
    bind_unix(path).close()
    found = os.lstat(path.parent)
    assert stat.S_ISDIR(found.st_mode)
    assert stat.S_IMODE(found.st_mode) == 0o700


def test_remove_if_ours_tolerates_missing_file(sock_dir: Path) -> None:
    """A socket file that is already gone is not an error."""
    bound = bind_unix(sock_dir / "s.sock")
    bound.close()
    (sock_dir / "s.sock").unlink()
    assert not bound.remove_if_ours()


def test_bind_tcp_reports_real_port() -> None:
    """Port 0 picks a free port and the URL names it."""
    bound = bind_tcp("127.0.0.1", 0)
    with bound.sock:
        port = bound.sock.getsockname()[1]
        assert port != 0
        assert bound.url == f"tcp://127.0.0.1:{port}"
        assert bound.path is None
        assert not bound.remove_if_ours()
        socket.create_connection(("127.0.0.1", port)).close()


def test_bind_tcp_busy_port_raises_address_in_use() -> None:
    """A port another socket listens on raises AddressInUseError."""
    with bind_tcp("127.0.0.1", 0).sock as first:
        port = first.getsockname()[1]
        with pytest.raises(AddressInUseError, match="address already in use"):
            bind_tcp("127.0.0.1", port)


def test_adopt_fd_uses_listening_socket() -> None:
    """An inherited listening socket is adopted as is, under its fd:// URL."""
    with socket.socket() as original:
        original.bind(("127.0.0.1", 0))
        original.listen()
        fd = original.detach()
    bound = adopt_fd(fd)
    with bound.sock:
        assert bound.url == f"fd://{fd}"
        assert bound.sock.fileno() == fd
        assert bound.identity is None


def test_adopt_fd_refuses_non_listening_socket() -> None:
    """A socket that does not listen is refused and its fd left open."""
    with socket.socket() as unbound:
        with pytest.raises(ListenerError, match="not a listening stream socket"):
            adopt_fd(unbound.fileno())
        assert unbound.fileno() >= 0
        os.fstat(unbound.fileno())  # still open


def test_adopt_fd_refuses_closed_fd() -> None:
    """A file descriptor that is not open is refused with a clear error."""
    fd = os.open(os.devnull, os.O_RDONLY)
    os.close(fd)
    with pytest.raises(ListenerError, match="not a usable socket"):
        adopt_fd(fd)


def test_bind_host_dispatches_on_scheme(sock_dir: Path) -> None:
    """``bind_host`` binds unix and tcp hosts by their scheme."""
    unix = bind_host(parse_host(f"unix://{sock_dir}/s.sock"))
    tcp = bind_host(parse_host("tcp://127.0.0.1:0"))
    for bound in (unix, tcp):
        bound.close()
    assert unix.sock.family == socket.AF_UNIX
    assert tcp.url.startswith("tcp://127.0.0.1:")


def test_bind_host_tcp_without_port_is_a_listener_error() -> None:
    """A tcp host without a port is refused as a listener error."""
    with pytest.raises(ListenerError, match="invalid host format"):
        bind_host(parse_host("tcp://127.0.0.1"))


def test_bound_socket_detach_hands_over_fd(sock_dir: Path) -> None:
    """``detach`` returns the open fd and leaves the socket object empty."""
    bound: BoundSocket = bind_unix(sock_dir / "s.sock")
    fd = bound.detach()
    assert bound.sock.fileno() == -1
    socket.socket(fileno=fd).close()
