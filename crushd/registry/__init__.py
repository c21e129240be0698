"""The workspace registry: workspaces by id and path, client claims, idle linger.

No HTTP and no SQL here; see docs/architecture.md section 3 and seeds 001/004.
"""

from ._claims import Claim, arm_timer
from ._config_reload import ConfigDependent, ReloadsConfig, reload_config_dependents
from ._hosted import (
    Build,
    EventLogLike,
    Hosted,
    HostedView,
    HostedWorkspace,
    WorkspaceFactory,
)
from ._paths import resolve_workspace_key, validate_client_id, validate_query_client_id
from ._registry import Registry
from ._retired import RETIRED_MAX, RETIRED_TTL_SECONDS
from ._settings import (
    CHANNELS_MISMATCH,
    CLEANUP_SECONDS,
    RegistrySettings,
    RegistryStatistics,
)
from ._streams import StreamTicket

__all__ = [
    "CHANNELS_MISMATCH",
    "CLEANUP_SECONDS",
    "RETIRED_MAX",
    "RETIRED_TTL_SECONDS",
    "Build",
    "Claim",
    "ConfigDependent",
    "EventLogLike",
    "Hosted",
    "HostedView",
    "HostedWorkspace",
    "Registry",
    "RegistrySettings",
    "RegistryStatistics",
    "ReloadsConfig",
    "StreamTicket",
    "WorkspaceFactory",
    "arm_timer",
    "reload_config_dependents",
    "resolve_workspace_key",
    "validate_client_id",
    "validate_query_client_id",
]
