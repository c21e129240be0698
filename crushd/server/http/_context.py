"""What the routes need from the daemon, passed explicitly to the app factory."""

from __future__ import annotations

import platform
import sys
from typing import TYPE_CHECKING

import attrs

from crushd import __version__
from crushd.config import ConfigSources
from crushd.proto import VersionInfo
from crushd.registry import Registry
from crushd.workspace import EventTraffic

if TYPE_CHECKING:
    from crushd.workspace import Workspace

#: Request bodies above this many bytes get 413.
MAX_BODY_BYTES = 10 * 1024 * 1024


def version_info() -> VersionInfo:
    """Return this build's ``/v1/version`` answer (decision B.20)."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    python = ".".join(str(part) for part in sys.version_info[:3])
    return VersionInfo(
        version=__version__,
        commit=__version__,
        build_id=__version__,
        go_version=f"python {python}",
        platform=f"{sys.platform}/{arch}",
    )


@attrs.define
class ServerContext:
    """Everything the HTTP layer uses.

    Attributes:
        registry: the workspace registry; it hosts ``crushd.workspace.Workspace``
            (the daemon's factory builds them), so routes need no downcast.
        heartbeat_seconds: idle streams get ``: ping`` this often (C.2);
            required, the default is ``Settings``'s.
        max_body_bytes: request bodies above this get 413.
        server_config: the daemon's redacted settings; ``GET /v1/config``
            lists them under ``"crushd"``.
        config_sources: the machine-wide config layers ``GET /v1/config``
            loads (decision B.1); ``None`` answers only the settings.
        version: the ``/v1/version`` answer.
        debug_endpoints: serve ``/v1/debug/...`` (``--debug-endpoints``).
        traffic: the workspaces' shared event counters (the opener's
            ``EventTraffic``), which ``GET /v1/metrics`` reports; a context
            built without the opener's counts nothing.
    """

    registry: Registry[Workspace]
    heartbeat_seconds: float = attrs.field(kw_only=True)
    max_body_bytes: int = MAX_BODY_BYTES
    server_config: dict[str, object] = attrs.field(factory=dict)
    config_sources: ConfigSources | None = None
    version: VersionInfo = attrs.field(factory=version_info)
    debug_endpoints: bool = False
    traffic: EventTraffic = attrs.field(factory=EventTraffic)
