"""Listening sockets the daemon binds itself: unix, tcp and inherited fds.

crushd never lets hypercorn bind: hypercorn's ``unix:`` bind deletes whatever
socket file is at the path (a live daemon included) and swaps the process umask.
Instead the daemon binds here and hands hypercorn ``fd://N`` (see ``serve_app``).

Source: docs/architecture.md 4b; docs/protocol.md 8.3 (stale-socket probe) and
C.6 (socket mode),
C.8 (socket activation).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import stat
from pathlib import Path

import attrs

from crushd.proto import Host

__all__ = [
    "DEFAULT_BACKLOG",
    "PROBE_TIMEOUT_SECONDS",
    "AddressInUseError",
    "BoundSocket",
    "ListenerError",
    "adopt_fd",
    "bind_host",
    "bind_tcp",
    "bind_unix",
]

logger = logging.getLogger("crushd.server")

#: How long the stale-socket probe waits for its connect (docs/protocol.md 8.3).
PROBE_TIMEOUT_SECONDS = 0.2
#: The listen backlog used unless the caller passes another. As large as
#: Linux's default ``somaxconn`` (the kernel caps it there; Go listens with
#: somaxconn too): with 128, a burst of 200 clients connecting at once
#: overflowed the queue, and trio reports such a refused unix connect as
#: connected, so the client's first send failed (found by the soak).
DEFAULT_BACKLOG = 4096

# Bind under this umask so the socket file is born 0600: no window where it is
# looser. The swap is process-wide but only ever tightens modes, and it lasts for
# one bind() call at startup.
_SOCKET_UMASK = 0o177
_DIR_MODE = 0o700
_LOOSE_BITS = stat.S_IWGRP | stat.S_IWOTH


class ListenerError(OSError):
    """A listening socket could not be set up; the message says which and why.

    Raised at startup only (no HTTP status). Nothing at the path is deleted when
    this is raised, except a socket file this call had just created.
    """


class AddressInUseError(ListenerError):
    """Another server already listens there: a live unix socket or a busy port."""


@attrs.frozen
class BoundSocket:
    """A bound, listening stream socket that has not been handed to hypercorn yet.

    Attributes:
        sock: the listening socket; ``detach()`` hands its fd over.
        url: the ``--host`` style URL it listens on (``unix:///p``,
            ``tcp://127.0.0.1:7777`` with the real port, ``fd://3``).
        backlog: the listen backlog, re-applied by hypercorn when it adopts the fd.
        path: the unix socket file, or ``None`` for tcp and adopted fds.
        identity: ``(st_dev, st_ino)`` of the socket file this process
            created, or ``None`` when it created none (tcp, adopted fd). While
            our socket is open its inode stays allocated, so a file that
            replaced it has another inode. The ctime is deliberately not part
            of it: a ``chmod`` or ``touch`` of the file changes the ctime, and
            the socket was then left behind at exit.
    """

    sock: socket.socket
    url: str
    backlog: int = DEFAULT_BACKLOG
    path: Path | None = None
    identity: tuple[int, int] | None = None

    def detach(self) -> int:
        """Give up the socket object and return its fd; the caller now owns it."""
        return self.sock.detach()

    def close(self) -> None:
        """Close the socket (for error paths where it never reached hypercorn)."""
        self.sock.close()

    def remove_if_ours(self) -> bool:
        """Unlink the socket file if it is still the one this process created.

        Ours means: the same device and inode, still a socket, still owned by
        this process's effective uid. A file that another process put at the
        path since (a newer daemon's socket) is left alone.

        Returns:
            ``True`` when the file was removed, ``False`` when there was nothing
            of ours to remove.

        Source: docs/architecture.md 4b, "unlinks the socket only if its inode is
        still ours".
        """
        if self.path is None or self.identity is None:
            return False
        try:
            found = os.lstat(self.path)
        except FileNotFoundError:
            return False
        if _identity(found) != self.identity or not _own_socket(found):
            return False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        return True


def bind_unix(path: Path, *, backlog: int = DEFAULT_BACKLOG) -> BoundSocket:
    """Bind and listen on a unix socket, mode 0600, after a stale-socket check.

    The parent directory is created 0700 when missing (the default path's
    private ``/tmp/crush-<uid>/`` included). An existing parent must not be
    writable by group or others unless it is sticky (``/tmp`` style, for an
    explicit ``--host`` there): what matters is that nobody else can remove or
    replace our socket file, and in a sticky directory only its owner can. It
    must also be owned by this user or root, and be no symlink another user
    could have planted (see ``_stat_directory``). The 0600 mode keeps other
    users from connecting.

    An existing file at ``path`` owned by another uid is refused, never probed
    or removed (someone may be squatting the path). One of ours is probed with
    a connect (``PROBE_TIMEOUT_SECONDS``): accepted means a live server
    (refuse); refused or vanished means stale (removed, with a warning). A
    timeout or any other error is never stale.

    Blocks for at most ``PROBE_TIMEOUT_SECONDS``; call it at startup.

    Args:
        path: the socket file (at most ~104 bytes, the platform's ``sun_path``);
            a relative path is made absolute.
        backlog: the listen backlog.

    Returns:
        The listening socket, its ``unix://`` URL and the file's identity.

    Raises:
        AddressInUseError: a live server accepts connections on ``path``, or another
            process bound it between the probe and the bind.
        ListenerError: the parent directory is unsafe or cannot be created; a
            file of another uid (the message names it) or a non-socket file is
            at ``path``; the probe failed in a way that is not "stale"; the
            stale file could not be removed; the bind failed.

    Source: docs/protocol.md 8.3 (probe and stale classification, as upstream's
    server listen) and C.6 (0600 socket in a private directory).
    """
    path = path.absolute()
    _prepare_directory(path.parent)
    _remove_if_stale(path)
    sock = _bind_private(path)
    try:
        sock.listen(backlog)
        found = os.lstat(path)
    except OSError as error:
        sock.close()
        with contextlib.suppress(OSError):
            os.unlink(path)  # we created it a moment ago
        raise _bind_error(f"unix://{path}", error) from error
    return BoundSocket(
        sock=sock,
        url=f"unix://{path}",
        backlog=backlog,
        path=path,
        identity=_identity(found),
    )


def bind_tcp(host: str, port: int, *, backlog: int = DEFAULT_BACKLOG) -> BoundSocket:
    """Bind and listen on a TCP address.

    Args:
        host: an IPv4/IPv6 literal or name; ``""`` means every IPv4 interface.
        port: the port; 0 picks a free one (the URL carries the real port).
        backlog: the listen backlog.

    Returns:
        The listening socket and its ``tcp://host:port`` URL.

    Raises:
        AddressInUseError: the port is taken.
        ListenerError: the bind failed for another reason.

    Source: docs/protocol.md 8.1 (``tcp://host:port`` hosts).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as error:
        sock.close()
        raise _bind_error(f"tcp://{host}:{port}", error) from error
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    url = f"tcp://{shown}:{sock.getsockname()[1]}"
    return BoundSocket(sock=sock, url=url, backlog=backlog)


def adopt_fd(fd: int, *, backlog: int = DEFAULT_BACKLOG) -> BoundSocket:
    """Adopt an inherited, already listening stream socket (socket activation).

    The socket is used as is: its file (if any) is never removed by crushd.
    It is made non-inheritable, so processes crushd starts do not get it.

    Args:
        fd: the file descriptor number (``fd://N``; systemd starts at 3).
        backlog: the listen backlog hypercorn re-applies when it adopts the fd.

    Returns:
        The socket with URL ``fd://N``.

    Raises:
        ListenerError: ``fd`` is not open, not a stream socket, or not
            listening; the fd is left open for its owner.

    Source: docs/protocol.md C.8 (``crushd serve --host fd://3``).
    """
    try:
        sock = socket.socket(fileno=fd)
    except OSError as error:
        raise ListenerError(f"fd://{fd} is not a usable socket: {error}") from error
    listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    if sock.type != socket.SOCK_STREAM or not listening:
        sock.detach()
        raise ListenerError(f"fd://{fd} is not a listening stream socket")
    sock.set_inheritable(False)  # as sd_listen_fds: not passed on to children
    return BoundSocket(sock=sock, url=f"fd://{fd}", backlog=backlog)


def bind_host(host: Host, *, backlog: int = DEFAULT_BACKLOG) -> BoundSocket:
    """Bind the listener a parsed ``--host`` names (unix, tcp or fd).

    Args:
        host: from ``crushd.proto.parse_host``.
        backlog: the listen backlog.

    Returns:
        The listening socket (see ``bind_unix``, ``bind_tcp``, ``adopt_fd``).

    Raises:
        AddressInUseError: see ``bind_unix`` and ``bind_tcp``.
        ListenerError: see the three functions; also a tcp host without a port.
    """
    if host.scheme == "unix":
        return bind_unix(Path(host.address), backlog=backlog)
    if host.scheme == "fd":
        return adopt_fd(int(host.address), backlog=backlog)
    try:
        name, port = host.tcp_host_port
    except ValueError as error:
        raise ListenerError(str(error)) from error
    return bind_tcp(name, port, backlog=backlog)


def _prepare_directory(directory: Path) -> None:
    """Create ``directory`` 0700 if missing; refuse one others could control."""
    try:
        directory.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    except FileExistsError:
        pass  # a file or a dangling symlink: named by the checks below
    except OSError as error:
        raise ListenerError(
            f"cannot create socket directory {directory}: {error}"
        ) from error
    found = _stat_directory(directory)
    if not stat.S_ISDIR(found.st_mode):
        raise ListenerError(f"socket directory {directory} is not a directory")
    if found.st_uid not in {os.getuid(), 0}:
        raise ListenerError(
            f"refusing socket directory {directory}: owned by uid {found.st_uid}"
        )
    if found.st_mode & _LOOSE_BITS and not found.st_mode & stat.S_ISVTX:
        raise ListenerError(
            f"refusing socket directory {directory}: writable by group or others"
            f" (mode {stat.S_IMODE(found.st_mode):o}; chmod 700 it)"
        )


def _stat_directory(directory: Path) -> os.stat_result:
    """``stat`` the socket folder; a symlink only if nobody else could plant it.

    A symlink owned by another uid, or one in a folder others may write to
    (``/tmp/crush-<uid>`` pointing elsewhere), is refused: whoever placed it
    chose where our socket goes.
    """
    try:
        link = os.lstat(directory)
        if stat.S_ISLNK(link.st_mode):
            _check_symlink(directory, link)
        return os.stat(directory)
    except ListenerError:
        raise
    except OSError as error:
        message = f"cannot use socket directory {directory}: {error}"
        raise ListenerError(message) from error


def _check_symlink(directory: Path, link: os.stat_result) -> None:
    holder = os.stat(directory.parent)
    if link.st_uid not in {os.getuid(), 0}:
        reason = f"a symlink owned by uid {link.st_uid}"
    elif holder.st_mode & _LOOSE_BITS:
        reason = f"a symlink in {directory.parent}, which others may write to"
    else:
        return
    raise ListenerError(f"refusing socket directory {directory}: {reason}")


def _remove_if_stale(path: Path) -> None:
    """Remove a dead socket file at ``path``; refuse a live or unknown one."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if found.st_uid != os.geteuid():
        raise ListenerError(
            f"refusing {path}: the file there belongs to uid {found.st_uid}, not"
            f" to uid {os.geteuid()} (another user may be squatting the socket"
            " path); not using or removing it"
        )
    if not stat.S_ISSOCK(found.st_mode):
        raise ListenerError(f"{path} exists and is not a socket; not removing it")
    if _is_live(path):
        raise AddressInUseError(f"another crushd is already listening on {path}")
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise ListenerError(f"cannot remove stale socket {path}: {error}") from error
    logger.warning("removed stale socket %s", path)


def _is_live(path: Path) -> bool:
    """Connect-probe ``path``: True if accepted, False if stale, else raise."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(PROBE_TIMEOUT_SECONDS)
    try:
        probe.connect(os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError as error:  # a timeout included: never classified stale
        raise ListenerError(
            f"cannot tell whether {path} is in use ({error}); not removing it"
        ) from error
    finally:
        probe.close()
    return True


def _bind_private(path: Path) -> socket.socket:
    """Bind a unix socket at ``path`` born with mode 0600."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(_SOCKET_UMASK)
    try:
        sock.bind(os.fspath(path))
    except OSError as error:
        sock.close()
        raise _bind_error(f"unix://{path}", error) from error
    finally:
        os.umask(previous)
    return sock


def _identity(found: os.stat_result) -> tuple[int, int]:
    return found.st_dev, found.st_ino


def _own_socket(found: os.stat_result) -> bool:
    return stat.S_ISSOCK(found.st_mode) and found.st_uid == os.geteuid()


def _bind_error(url: str, error: OSError) -> ListenerError:
    """Translate a bind/listen ``OSError`` into the listener error to raise."""
    if error.errno == errno.EADDRINUSE:
        return AddressInUseError(f"address already in use: {url}")
    return ListenerError(f"cannot listen on {url}: {error.strerror or error}")
