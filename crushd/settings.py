"""Daemon settings: flags over environment over defaults.

Source: docs/protocol.md B.21, 8.5.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs
import platformdirs

from crushd.proto import Host, default_host, parse_host, server_dir

#: Defaults in seconds (decision B.21).
DEFAULT_CREATE_GRACE_SECONDS = 30.0
DEFAULT_DETACH_GRACE_SECONDS = 10.0
DEFAULT_IDLE_TIMEOUT_SECONDS = 60.0
DEFAULT_HEARTBEAT_SECONDS = 15.0
DEFAULT_REPLAY_WINDOW_FRAMES = 4096
#: A socket send that makes no progress for this long drops the connection.
DEFAULT_SEND_TIMEOUT_SECONDS = 3.0

#: Open connections per TCP listener, and how many of them may not yet have
#: shown the token (``--max-connections``, ``--max-unauthenticated``).
DEFAULT_MAX_CONNECTIONS = 512
DEFAULT_MAX_UNAUTHENTICATED = 64

#: systemd socket activation hands over descriptors from this number on.
LISTEN_FDS_START = 3


def default_token_file() -> Path:
    """Return ``<user state>/crushd/token`` (``$XDG_STATE_HOME/crushd/token``).

    On Linux that is ``~/.local/state/crushd/token`` unless ``$XDG_STATE_HOME``
    is set; crushctl reads the same file (docs/protocol.md C.6).
    """
    return Path(platformdirs.user_state_dir("crushd", appauthor=False)) / "token"


@attrs.frozen
class Settings:
    """Everything ``crushd serve`` is configured with; times are seconds.

    Attributes:
        hosts: where to listen (unix, tcp, fd); the first names the log folder.
        create_grace_seconds: hold after a create until the first stream.
        detach_grace_seconds: hold after a client's last stream ends.
        idle_timeout_seconds: linger with no workspace before exiting.
        heartbeat_seconds: ``: ping`` interval on idle streams.
        replay_window_frames: events kept per workspace for resume.
        send_timeout_seconds: stalled socket sends are dropped after this.
        log_level: stdlib level name (``debug``, ``info``, ...).
        log_format: ``text`` (``ts=... msg=...`` lines) or ``json`` (one
            object per line, for log shippers).
        allow_remote: accept tcp hosts that are not loopback addresses.
        token_file: the bearer token for tcp listeners (created on first use).
        allowed_hosts: extra names accepted in a tcp request's ``Host`` header
            (for port-forwarded clients), besides loopback and the bound names.
        debug_endpoints: serve ``/v1/debug/...`` (benchmarks only; unix only).
        max_connections: open connections per TCP listener; when full, the
            oldest not yet authenticated is closed, else a new one gets 503.
        max_unauthenticated: of those, connections that have not yet passed
            the token check; a new one closes the oldest.
    """

    hosts: tuple[Host, ...] = attrs.field(factory=lambda: (default_host(),))
    create_grace_seconds: float = DEFAULT_CREATE_GRACE_SECONDS
    detach_grace_seconds: float = DEFAULT_DETACH_GRACE_SECONDS
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
    replay_window_frames: int = DEFAULT_REPLAY_WINDOW_FRAMES
    send_timeout_seconds: float = DEFAULT_SEND_TIMEOUT_SECONDS
    log_level: str = "info"
    log_format: str = "text"
    allow_remote: bool = False
    token_file: Path = attrs.field(factory=default_token_file)
    allowed_hosts: tuple[str, ...] = ()
    debug_endpoints: bool = False
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_unauthenticated: int = DEFAULT_MAX_UNAUTHENTICATED

    @property
    def log_file(self) -> Path:
        """``<cache>/server-<safeHost>/crushd.log`` for the first host.

        ``<cache>`` is ``$CRUSH_CACHE_DIR`` or ``<user cache>/crush``.
        """
        return server_dir(self.hosts[0]) / "crushd.log"

    def redacted(self) -> dict[str, object]:
        """Return the settings as JSON data for ``GET /v1/config``.

        No secrets here: the token file's path is listed, never the token.
        """
        data = attrs.asdict(self, recurse=False)
        data["hosts"] = [host.url for host in self.hosts]
        data["token_file"] = str(self.token_file)
        data["allowed_hosts"] = list(self.allowed_hosts)
        return data


def seconds_from_env(
    name: str, default: float, environ: Mapping[str, str] | None = None
) -> float:
    """Read a seconds value from the environment; floats allowed, 0 = immediate.

    Invalid or negative values fall back to ``default`` (docs/protocol.md 8.5).
    """
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 and value == value else default


def listen_fds_hosts(
    environ: Mapping[str, str] | None = None, pid: int | None = None
) -> tuple[Host, ...]:
    """Return ``fd://3`` .. ``fd://3+n-1`` when systemd passed us n sockets.

    Socket activation (``sd_listen_fds``): the sockets are ours when
    ``$LISTEN_PID`` is this process's pid and ``$LISTEN_FDS`` is n >= 1.

    Args:
        environ: the environment; ``None`` means ``os.environ``.
        pid: the pid to match; ``None`` means ``os.getpid()``.

    Returns:
        The ``fd://`` hosts, or ``()`` when nothing was passed to this process
        (variables missing, malformed, or meant for another pid).

    Source: docs/protocol.md C.8; systemd ``sd_listen_fds(3)``.
    """
    env = os.environ if environ is None else environ
    count, owner = env.get("LISTEN_FDS", ""), env.get("LISTEN_PID", "")
    if not (count.isdigit() and owner.isdigit()):
        return ()
    if int(owner) != (os.getpid() if pid is None else pid):
        return ()
    start = LISTEN_FDS_START
    return tuple(parse_host(f"fd://{fd}") for fd in range(start, start + int(count)))
