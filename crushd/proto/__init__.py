"""Wire models shared by crushd and crushctl, and their one JSON converter.

Names follow PROTOCOL.md. Everything here is safe for clients to import.
"""

from ._config import (
    SCOPE_GLOBAL,
    SCOPE_WORKSPACE,
    ConfigCompactRequest,
    ConfigModelRequest,
    ConfigProviderKeyRequest,
    ConfigRemoveRequest,
    ConfigSetRequest,
    InitPrompt,
    NeedsInit,
    ReadSkillRequest,
    ReadSkillResponse,
    SkillInfo,
    SkillResult,
    SkillsEvent,
)
from ._events import CREATED, DELETED, UPDATED, ConfigChanged, Event, Resync
from ._hosts import (
    MAX_SOCKET_PATH_BYTES,
    Host,
    cache_dir,
    default_host,
    default_socket_path,
    parse_host,
    server_dir,
)
from ._ids import parse_client_id
from ._json import OMITEMPTY, converter, from_json, to_json
from ._session import (
    TODO_STATUSES,
    HistoryFile,
    Message,
    Part,
    Session,
    SessionCreate,
    SessionUpdate,
    Todo,
)
from ._system import ClientInfo, ControlRequest, ErrorBody, VersionInfo
from ._workspace import CurrentSessionRequest, SkillState, Workspace

__all__ = [
    "CREATED",
    "DELETED",
    "MAX_SOCKET_PATH_BYTES",
    "OMITEMPTY",
    "SCOPE_GLOBAL",
    "SCOPE_WORKSPACE",
    "TODO_STATUSES",
    "UPDATED",
    "ClientInfo",
    "ConfigChanged",
    "ConfigCompactRequest",
    "ConfigModelRequest",
    "ConfigProviderKeyRequest",
    "ConfigRemoveRequest",
    "ConfigSetRequest",
    "ControlRequest",
    "CurrentSessionRequest",
    "ErrorBody",
    "Event",
    "HistoryFile",
    "Host",
    "InitPrompt",
    "Message",
    "NeedsInit",
    "Part",
    "ReadSkillRequest",
    "ReadSkillResponse",
    "Resync",
    "Session",
    "SessionCreate",
    "SessionUpdate",
    "SkillInfo",
    "SkillResult",
    "SkillState",
    "SkillsEvent",
    "Todo",
    "VersionInfo",
    "Workspace",
    "cache_dir",
    "converter",
    "default_host",
    "default_socket_path",
    "from_json",
    "parse_client_id",
    "parse_host",
    "server_dir",
    "to_json",
]
