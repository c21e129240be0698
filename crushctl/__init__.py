"""crushctl: the client library for crushd, and its admin CLI (``crushctl.cli``).

Imports nothing from crushd except ``crushd.proto``, the shared wire models.
"""

from . import _httpx_cli  # noqa: F401 - first: before any ``import httpx``
from ._backoff import (
    INITIAL_BACKOFF_SECONDS,
    JITTER_FRACTION,
    MAX_BACKOFF_SECONDS,
    Backoff,
)
from ._client import CLIENT_ID, Client
from ._exceptions import (
    BadRequestError,
    ConfigLockedError,
    ConflictError,
    CrushctlError,
    HTTPStatusError,
    NotFoundError,
    NotSupportedError,
    PayloadTooLargeError,
    RequestError,
    ServerUnavailable,
    ShuttingDownError,
    UntrustedServerError,
    error_for_status,
)
from ._http import (
    CLEANUP_SECONDS,
    TIMEOUT_SECONDS,
    UNIX_API_HOST,
    base_url,
    client_version,
)
from ._launch import (
    DEFAULT_READY_TIMEOUT_SECONDS,
    READY_TIMEOUT_ENV,
    ServerStartError,
    ready_timeout_seconds,
)
from ._parts import (
    finish_error,
    finish_part,
    message_text,
    parts_of,
    plain_parts,
    reasoning_text,
    text_field,
)
from ._prompt_models import (
    FREE_TEXT,
    MULTI_CHOICE,
    SINGLE_CHOICE,
    YES_NO,
    ShellResult,
    is_resolved,
)
from ._prompts import (
    PermissionAsked,
    PermissionClosed,
    PromptChange,
    PromptTracker,
    QuestionsAsked,
    QuestionsClosed,
)
from ._recovery import WorkspaceSpec, retire_or_release
from ._run import RunFollower, RunOutput, RunResult, Step, TextChunk, ToolCallSeen
from ._spawn import (
    CREATE_ATTEMPTS,
    SOCKET_GONE_SECONDS,
    create_workspace_respawning,
    ensure_server,
)
from ._sse import ServerSentEvent, SSEDecoder
from ._stream import EventStream, decode_event, open_event_stream, parse_event_id
from ._watch import (
    STOPPED_POLL_SECONDS,
    STUCK_FAILURES,
    Connected,
    EventWatcher,
    Retrying,
    Stopped,
    Stuck,
    WatchItem,
    open_watch,
)

__all__ = [
    "CLEANUP_SECONDS",
    "CLIENT_ID",
    "CREATE_ATTEMPTS",
    "DEFAULT_READY_TIMEOUT_SECONDS",
    "FREE_TEXT",
    "INITIAL_BACKOFF_SECONDS",
    "JITTER_FRACTION",
    "MAX_BACKOFF_SECONDS",
    "MULTI_CHOICE",
    "READY_TIMEOUT_ENV",
    "SINGLE_CHOICE",
    "SOCKET_GONE_SECONDS",
    "STOPPED_POLL_SECONDS",
    "STUCK_FAILURES",
    "TIMEOUT_SECONDS",
    "UNIX_API_HOST",
    "YES_NO",
    "Backoff",
    "BadRequestError",
    "Client",
    "ConfigLockedError",
    "ConflictError",
    "Connected",
    "CrushctlError",
    "EventStream",
    "EventWatcher",
    "HTTPStatusError",
    "NotFoundError",
    "NotSupportedError",
    "PayloadTooLargeError",
    "PermissionAsked",
    "PermissionClosed",
    "PromptChange",
    "PromptTracker",
    "QuestionsAsked",
    "QuestionsClosed",
    "RequestError",
    "Retrying",
    "RunFollower",
    "RunOutput",
    "RunResult",
    "SSEDecoder",
    "ServerSentEvent",
    "ServerStartError",
    "ServerUnavailable",
    "ShellResult",
    "ShuttingDownError",
    "Step",
    "Stopped",
    "Stuck",
    "TextChunk",
    "ToolCallSeen",
    "UntrustedServerError",
    "WatchItem",
    "WorkspaceSpec",
    "base_url",
    "client_version",
    "create_workspace_respawning",
    "decode_event",
    "ensure_server",
    "error_for_status",
    "finish_error",
    "finish_part",
    "is_resolved",
    "message_text",
    "open_event_stream",
    "open_watch",
    "parse_event_id",
    "parts_of",
    "plain_parts",
    "ready_timeout_seconds",
    "reasoning_text",
    "retire_or_release",
    "text_field",
]
