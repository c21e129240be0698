"""The daemon's error hierarchy; each error knows its HTTP status and message.

The server maps these to ``{"message": ...}`` JSON in exactly one place
(``crushd.server``); anything that is not a ``CrushdError`` becomes a logged 500
``internal server error``. Messages are the upstream Crush texts (docs/protocol.md 0.5).

Hierarchy, split by fault::

    CrushdError                       (abstract: never raised directly)
    ├── ClientError                   the request was wrong (4xx)
    │   ├── BadRequest                400
    │   │   ├── DecodeError           400 failed to decode request
    │   │   ├── PathRequired          400 path is required
    │   │   ├── PathNotAbsolute       400 path must be absolute (decision B.16)
    │   │   ├── InvalidPath           400 <field> contains a NUL byte, ...
    │   │   ├── InvalidClientID       400 invalid client_id[: detail]
    │   │   ├── ClientIDRequired      400 client_id is required
    │   │   ├── ClientIDNotUUID       400 client_id is not a valid UUID
    │   │   └── UnknownCommand        400 unknown command
    │   ├── Unauthorized              401 unauthorized (tcp without the bearer token)
    │   ├── Forbidden                 403 forbidden (foreign Host, or Origin on tcp)
    │   ├── NotFound                  404
    │   │   ├── WorkspaceNotFound     404 workspace not found
    │   │   ├── SessionNotFound       404 session not found (decision B.4)
    │   │   └── SkillNotFound         404 skill not found: <id> (decision B.4)
    │   ├── Conflict                  409
    │   │   ├── ClientNotAttached     409 client not attached
    │   │   ├── ClientRetired         409 client has been retired
    │   │   ├── WorkspaceClosing      409 workspace closing
    │   │   └── ServerBusy            409 server is hosting live workspaces
    │   └── PayloadTooLarge           413 request body too large
    └── ServerError                   the daemon could not do it (5xx)
        ├── InternalError             500 (a failed dependency; message says which)
        │   ├── DataDirLocked         500 data directory already in use ...
        │   ├── DataDirUntrusted      500 data directory <dir> is not owned by you ...
        │   ├── ConfigInvalid         500 failed to initialize config: <file>: ...
        │   └── ModelUnavailable      500 large model not selected, ...
        ├── NotSupported              501 not supported by crushd
        ├── ShuttingDown              503 server is shutting down
        └── ConfigLocked              503 timed out locking <file>.lock
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AgentNotInitialized",
    "BadRequest",
    "ClientError",
    "ClientIDNotUUID",
    "ClientIDRequired",
    "ClientNotAttached",
    "ClientRetired",
    "ConfigInvalid",
    "ConfigLocked",
    "Conflict",
    "CrushdError",
    "DataDirLocked",
    "DataDirUntrusted",
    "DecodeError",
    "EmptyPrompt",
    "Forbidden",
    "InternalError",
    "InvalidClientID",
    "InvalidPath",
    "ModelUnavailable",
    "NotFound",
    "NotSupported",
    "PathNotAbsolute",
    "PathRequired",
    "PayloadTooLarge",
    "RequestTimeout",
    "ServerBusy",
    "ServerError",
    "SessionIdMissing",
    "SessionNotFound",
    "ShuttingDown",
    "SkillNotFound",
    "Unauthorized",
    "UnknownCommand",
    "WorkspaceClosing",
    "WorkspaceNotFound",
]


class CrushdError(Exception):
    """Base of every error the daemon answers with; carries status and message.

    Subclasses set ``status`` and usually ``default_message``; the base class and
    the abstract fault classes cannot be raised directly (h11's ``ProtocolError``
    pattern), so every raise site names a concrete error.

    Args:
        message: the text sent as ``{"message": ...}``; ``None`` uses the class's
            ``default_message``.

    Raises:
        TypeError: when an abstract class (no ``default_message`` and no message)
            is instantiated.
    """

    status: ClassVar[int] = 500
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None) -> None:
        text = message if message is not None else self.default_message
        if not text:
            raise TypeError(f"{type(self).__name__} needs a message")
        super().__init__(text)
        self.message = text


class ClientError(CrushdError):
    """The request was wrong (a 4xx status)."""

    status = 400


class BadRequest(ClientError):
    """400: the request is malformed; the message says how."""

    status = 400


class DecodeError(BadRequest):
    """400 ``failed to decode request``: empty or malformed JSON, or wrong types."""

    default_message = "failed to decode request"


class PathRequired(BadRequest):
    """400 ``path is required``: a workspace create without a path."""

    default_message = "path is required"


class PathNotAbsolute(BadRequest):
    """400 ``path must be absolute``: relative workspace paths (decision B.16)."""

    default_message = "path must be absolute"


class InvalidPath(BadRequest):
    """400: a path the client sent cannot name a file on this system.

    The message names the field and the problem: ``<field> contains a NUL
    byte``, ``<field> is longer than 4096 bytes`` or ``<field> is not valid
    Unicode (unpaired surrogate)``.
    """


class InvalidClientID(BadRequest):
    """400 ``invalid client_id``, optionally with the parser's detail appended."""

    default_message = "invalid client_id"


class ClientIDRequired(BadRequest):
    """400 ``client_id is required``: a ``?client_id=`` route without one."""

    default_message = "client_id is required"


class ClientIDNotUUID(BadRequest):
    """400 ``client_id is not a valid UUID``: a malformed ``?client_id=``."""

    default_message = "client_id is not a valid UUID"


class UnknownCommand(BadRequest):
    """400 ``unknown command``: ``POST /v1/control`` with an unknown command."""

    default_message = "unknown command"


class Unauthorized(ClientError):
    """401 ``unauthorized``: a tcp request without the right bearer token (C.6)."""

    status = 401
    default_message = "unauthorized"


class Forbidden(ClientError):
    """403 ``forbidden``: a foreign ``Host`` or any ``Origin`` on tcp (C.6)."""

    status = 403
    default_message = "forbidden"


class NotFound(ClientError):
    """404: the named thing does not exist."""

    status = 404


class WorkspaceNotFound(NotFound):
    """404 ``workspace not found``: clients re-create the workspace on this."""

    default_message = "workspace not found"


class SessionNotFound(NotFound):
    """404 ``session not found`` (decision B.4; upstream answers 500)."""

    default_message = "session not found"


class Conflict(ClientError):
    """409: the request conflicts with the current state."""

    status = 409


class ClientNotAttached(Conflict):
    """409 ``client not attached``: no claim, or a hold without a live stream."""

    default_message = "client not attached"


class ClientRetired(Conflict):
    """409 ``client has been retired``: the client said goodbye already."""

    default_message = "client has been retired"


class WorkspaceClosing(Conflict):
    """409 ``workspace closing``: the workspace is being torn down."""

    default_message = "workspace closing"


class ServerBusy(Conflict):
    """409 ``server is hosting live workspaces``: an idle-gated shutdown refused."""

    default_message = "server is hosting live workspaces"


class PayloadTooLarge(ClientError):
    """413: the request body is over the daemon's limit (10 MiB)."""

    status = 413
    default_message = "request body too large"


class RequestTimeout(ClientError):
    """408: the request body did not arrive in time (quart's 60 s body timeout)."""

    status = 408
    default_message = "request timeout"


class ServerError(CrushdError):
    """The daemon could not do what was asked (a 5xx status)."""

    status = 500


class InternalError(ServerError):
    """500 with a message naming the failed step (e.g. ``failed to ...: why``)."""

    status = 500


class DataDirLocked(InternalError):
    """500: another process holds ``<data_dir>/crush.lock`` (docs/protocol.md 7.5).

    The message is ``data directory already in use by another crush process:
    <dir> (owner pid=N version=V started_at=T)``; the owner part is shortened
    when the lock file's JSON is missing fields.
    """


class DataDirUntrusted(InternalError):
    """500: the data directory, or a file in it, is not safe to use.

    For a data directory another uid owns or others may write, the message
    is ``data directory <dir> is not owned by you or is writable by others``;
    a refused file inside it (a symlinked ``crush.lock`` or ``crush.db``,
    another uid's file) gets a message naming that file.
    """


class NotSupported(ServerError):
    """501 ``not supported by crushd``: a route crushd does not implement (yet)."""

    status = 501
    default_message = "not supported by crushd"


class ShuttingDown(ServerError):
    """503 ``server is shutting down``: creates after the closing latch is set."""

    status = 503
    default_message = "server is shutting down"


class ConfigInvalid(InternalError):
    """500: a configuration file cannot be loaded (issue 3, docs/protocol.md 7.1).

    The message is ``failed to initialize config: <file>: <where>: <problem>``
    where ``<where>`` is a JSON path (``$.options.debug``) for a wrong type or
    ``line:col`` for bad JSON. Workspace creation fails; the daemon keeps going.
    """


class SkillNotFound(NotFound):
    """404 ``skill not found: <id>``: no visible, enabled skill has that id.

    Upstream answers 500; crushd 404, as for unknown sessions (decision B.4).
    """


class ConfigLocked(ServerError):
    """503: the config file's ``<file>.lock`` stayed locked past the deadline.

    The message names the file; nothing was written and nothing published.
    """

    status = 503


class ModelUnavailable(InternalError):
    """500: the selected model cannot be used, so the agent cannot start.

    Messages are upstream's: ``large model not selected``, ``large model
    provider not configured``, ``large model not found in provider config``
    and the same three for ``small``; ``agent/init`` answers with them.
    """


class AgentNotInitialized(BadRequest):
    """400 ``agent coordinator not initialized``: a prompt before ``agent/init``."""

    default_message = "agent coordinator not initialized"


class EmptyPrompt(BadRequest):
    """400 ``prompt is empty``: no prompt text and no ``text/*`` attachment.

    Upstream answers 500; crushd 400 (decision B.5).
    """

    default_message = "prompt is empty"


class SessionIdMissing(BadRequest):
    """400 ``session id is missing``: a prompt without ``session_id`` (B.5)."""

    default_message = "session id is missing"
