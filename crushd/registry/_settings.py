"""The registry's timings, fixed texts and statistics record."""

from __future__ import annotations

import attrs

#: Bound on how long a workspace's cleanup may take once cancelled, seconds.
CLEANUP_SECONDS = 5.0

CHANNELS_MISMATCH = (
    "requested channels differ from the existing workspace; channels are an "
    "explicit opt-in and are not shared across duplicate creates"
)


@attrs.frozen
class RegistrySettings:
    """Timings of the registry, all in seconds (0 = immediate).

    Required: the defaults live in ``crushd.settings`` only (decision B.21).

    Source: docs/protocol.md decision B.21.
    """

    create_grace_seconds: float
    detach_grace_seconds: float
    idle_timeout_seconds: float


@attrs.frozen
class RegistryStatistics:
    """A point-in-time count of the registry's contents."""

    workspaces: int
    claims: int
    streams: int
    builds_in_flight: int
    cleanups_in_flight: int
    retired_clients: int
    closing: bool
