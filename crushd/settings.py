"""Daemon settings: flags over environment over defaults (PROTOCOL.md B.21, 8.5)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from crushd.proto import Host, default_host, server_dir

#: Defaults in seconds (decision B.21).
DEFAULT_CREATE_GRACE_SECONDS = 30.0
DEFAULT_DETACH_GRACE_SECONDS = 10.0
DEFAULT_IDLE_TIMEOUT_SECONDS = 60.0
DEFAULT_HEARTBEAT_SECONDS = 15.0
DEFAULT_REPLAY_WINDOW_FRAMES = 4096
#: A socket send that makes no progress for this long drops the connection.
DEFAULT_SEND_TIMEOUT_SECONDS = 3.0

ENV_SECONDS = {
    "create_grace_seconds": ("CRUSH_SERVER_CREATE_GRACE", DEFAULT_CREATE_GRACE_SECONDS),
    "detach_grace_seconds": ("CRUSH_SERVER_DETACH_GRACE", DEFAULT_DETACH_GRACE_SECONDS),
    "idle_timeout_seconds": ("CRUSH_SERVER_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT_SECONDS),
}


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
    """

    hosts: tuple[Host, ...] = attrs.field(factory=lambda: (default_host(),))
    create_grace_seconds: float = DEFAULT_CREATE_GRACE_SECONDS
    detach_grace_seconds: float = DEFAULT_DETACH_GRACE_SECONDS
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
    replay_window_frames: int = DEFAULT_REPLAY_WINDOW_FRAMES
    send_timeout_seconds: float = DEFAULT_SEND_TIMEOUT_SECONDS
    log_level: str = "info"

    @property
    def log_file(self) -> Path:
        """``<cache>/server-<safeHost>/crushd.log`` for the first host.

        ``<cache>`` is ``$CRUSH_CACHE_DIR`` or ``<user cache>/crush``.
        """
        return server_dir(self.hosts[0]) / "crushd.log"

    def redacted(self) -> dict[str, object]:
        """Return the settings as JSON data for ``GET /v1/config`` (no secrets here)."""
        data = attrs.asdict(self, recurse=False)
        data["hosts"] = [host.url for host in self.hosts]
        return data


def seconds_from_env(
    name: str, default: float, environ: Mapping[str, str] | None = None
) -> float:
    """Read a seconds value from the environment; floats allowed, 0 = immediate.

    Invalid or negative values fall back to ``default`` (PROTOCOL.md 8.5).
    """
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 and value == value else default
