"""``--host`` URLs, the default socket path and per-host folders (docs/protocol.md 8).

Shared by the daemon and crushctl, so both agree on where a server lives.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import attrs
import platformdirs

#: Unix socket paths longer than this fall back to ``/tmp/crush-<uid>/`` (sun_path).
MAX_SOCKET_PATH_BYTES = 104

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_SCHEMES = ("unix", "tcp", "fd")


@attrs.frozen
class Host:
    """A parsed ``--host`` value.

    Attributes:
        url: the value as given, e.g. ``unix:///run/user/1000/crush-1000.sock``.
        scheme: ``unix``, ``tcp`` or ``fd``.
        address: the socket path (unix), ``host:port`` (tcp) or fd number (fd).
    """

    url: str
    scheme: str
    address: str

    @property
    def safe_name(self) -> str:
        """The host with each character outside ``[A-Za-z0-9._-]`` made ``_``."""
        return _UNSAFE.sub("_", self.url)

    @property
    def tcp_host_port(self) -> tuple[str, int]:
        """``(host, port)`` of a ``tcp`` host.

        Raises:
            ValueError: not a tcp host, or the port is missing or not a number.
        """
        if self.scheme != "tcp":
            raise ValueError(f"not a tcp host: {self.url}")
        host, sep, port = self.address.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"invalid host format: {self.url}")
        return host.strip("[]"), int(port)


def parse_host(value: str) -> Host:
    """Parse ``unix:///path``, ``tcp://127.0.0.1:PORT`` or ``fd://N``.

    Args:
        value: the ``--host`` value.

    Returns:
        The parsed ``Host``; a tcp URL's path part is dropped from ``address``.

    Raises:
        ValueError: no ``://``, an unknown scheme, or an empty address; the
            message starts with ``invalid host format:`` as upstream.
    """
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in _SCHEMES or not rest:
        raise ValueError(f"invalid host format: {value}")
    if scheme == "tcp":
        rest = rest.split("/", 1)[0]
    if scheme == "fd" and not rest.isdigit():
        raise ValueError(f"invalid host format: {value}")
    return Host(url=value, scheme=scheme, address=rest)


def default_socket_path() -> Path:
    """Return the default unix socket path (docs/protocol.md 8.2, hardened).

    ``$XDG_RUNTIME_DIR/crush-<uid>.sock`` when that variable is set (a folder
    only the user may enter); else ``<temp dir>/crush-<uid>/crush-<uid>.sock``,
    in a private folder the daemon creates 0700: never directly in the shared
    temp folder, where another user could squat the name first. A candidate
    longer than ``MAX_SOCKET_PATH_BYTES`` (UTF-8 bytes, the platform's
    ``sun_path``) is skipped; the last one, ``/tmp/crush-<uid>/crush-<uid>.sock``,
    always fits. Pure: nothing is created or checked here (the daemon's bind
    and crushctl's connect do that).
    """
    name = f"crush-{os.getuid()}.sock"
    folder = f"crush-{os.getuid()}"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    candidates = [Path(runtime) / name] if runtime else []
    candidates.append(Path(tempfile.gettempdir()) / folder / name)
    for path in candidates:
        if len(os.fsencode(path)) <= MAX_SOCKET_PATH_BYTES:
            return path
    return Path("/tmp") / folder / name  # noqa: S108 - a private 0700 folder


def default_host() -> Host:
    """Return the default host: ``unix://`` + ``default_socket_path()``."""
    return parse_host(f"unix://{default_socket_path()}")


def cache_dir() -> Path:
    """Return crush's cache folder: ``$CRUSH_CACHE_DIR`` or ``<user cache>/crush``."""
    override = os.environ.get("CRUSH_CACHE_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("crush", appauthor=False))


def server_dir(host: Host) -> Path:
    """Return ``<cache>/server-<safeHost>/``: the host's log and spawn-lock folder."""
    return cache_dir() / f"server-{host.safe_name}"
