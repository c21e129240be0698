"""System wire models: version, errors, control, roster (docs/protocol.md 2.1, C.5)."""

from __future__ import annotations

import attrs

from ._json import OMITEMPTY


@attrs.frozen
class VersionInfo:
    """``GET /v1/version`` body (decision B.20).

    ``go_version`` carries ``"python X.Y.Z"``; ``platform`` is ``"linux/amd64"`` style.
    """

    version: str
    commit: str
    build_id: str
    go_version: str
    platform: str


@attrs.frozen
class ErrorBody:
    """Every error response: ``{"message": "<text>"}`` (docs/protocol.md 0.5)."""

    message: str


@attrs.frozen
class ControlRequest:
    """``POST /v1/control`` body: ``shutdown`` or ``shutdown_if_idle``."""

    command: str = ""


@attrs.frozen
class ClientInfo:
    """One row of ``GET /v1/workspaces/{id}/clients`` (docs/protocol.md C.5).

    ``attached_at``/``last_seen`` are Unix seconds (0 when never streamed);
    ``held`` is true while a create or detach grace timer is armed.
    """

    client_id: str
    streams: int
    held: bool
    released: bool
    current_session_id: str
    attached_at: float
    last_seen: float
    user_agent: str = attrs.field(default="", metadata=OMITEMPTY)
