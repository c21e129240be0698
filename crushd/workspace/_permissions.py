"""The permission service: one prompt on screen per workspace, first resolver wins.

A tool asks through ``request`` (the agent's ``PermissionGate``); any client
answers through ``grant`` (``POST permissions/grant``). Every step publishes
into the workspace log, so every attached client sees the same prompt and the
same outcome (docs/agent.md 3.1-3.4, docs/protocol.md 6.5).

Route bodies (wire models in ``crushd.proto``):

* ``POST permissions/grant[?client_id=]`` ``{"permission": {...}, "action":
  "allow"|"allow_session"|"deny"}`` -> ``grant(body, client_id)`` ->
  ``{"resolved": bool}``; another action -> 400 ``invalid permission action``.
* ``GET permissions/skip[?session_id=]`` -> ``{"skip": skip(session_id)}``.
* ``POST permissions/skip {"skip": bool, "session_id"?: str}`` ->
  ``set_skip(skip, session_id)``, 200 empty.
* ``GET permissions`` -> ``[PermissionRequest, ...]`` from ``pending()``; the
  same objects are replayed to a stream attaching without ``Last-Event-ID``.
"""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import attrs
import trio

from crushd.errors import BadRequest
from crushd.proto import (
    CREATED,
    PERMISSION_ACTIONS,
    PERMISSION_ALLOW_SESSION,
    PERMISSION_DENY,
    PERMISSION_NOTIFICATION_EVENT,
    PERMISSION_REQUEST_EVENT,
    PermissionGrant,
    PermissionNotification,
    PermissionRequest,
)

if TYPE_CHECKING:
    from crushd.agent.tools import PermissionAsk
    from crushd.config import Config


class EventSink(Protocol):
    """Where the service publishes (the workspace's ``EventLog``)."""

    def publish(self, type: str, event_type: str, payload: object) -> object:  # noqa: A002 (the envelope's key)
        """Append one event; synchronous."""


class InvalidPermissionAction(BadRequest):
    """400 ``invalid permission action``: not ``allow``, ``allow_session``, ``deny``."""

    default_message = "invalid permission action"


@attrs.frozen
class _Key:
    session_id: str
    tool_name: str
    action: str
    path: str


@attrs.define
class _Pending:
    request: PermissionRequest
    done: trio.Event = attrs.field(factory=trio.Event)
    granted: bool = False


class PermissionService:
    """The permission prompts of one workspace.

    Args:
        events: the workspace's event log.
        root: the workspace folder (a request path ``.`` becomes it).
        config: returns the *current* config; ``permissions.allowed_tools``
            is read on every request, so a config change applies at once.
        skip: the workspace's ``yolo`` flag (skip every prompt).

    Source: Crush ``internal/permission/permission.go`` and its
    ``resolve`` (seed 000); docs/agent.md 3.1 and 3.4.
    """

    def __init__(
        self,
        events: EventSink,
        root: Path,
        config: Callable[[], Config],
        *,
        skip: bool = False,
    ) -> None:
        self._events = events
        self._root = root
        self._config = config
        self._skip = skip
        self._skip_sessions: set[str] = set()
        self._granted: set[_Key] = set()
        self._pending: dict[str, _Pending] = {}
        # trio.Lock is fair: waiting requests get the screen in arrival order.
        self._lock = trio.Lock()

    def skip(self, session_id: str | None = None) -> bool:
        """Return whether prompts are skipped (for ``session_id`` when given).

        Without a session: the workspace toggle (``yolo`` or
        ``set_skip(skip)``). With one: the workspace toggle or that session's.
        """
        return self._skip or (bool(session_id) and session_id in self._skip_sessions)

    def set_skip(self, skip: bool, session_id: str | None = None) -> None:
        """Turn auto-approve on or off for the workspace, or one session.

        Atomic, no await. Requests already on screen stay there; queued ones
        check again when their turn comes. Not persisted.

        Source: Crush ``SetSkipRequests``; the per-session form is crushd's
        (docs/agent.md 3.4, fixes crush#3648).
        """
        if not session_id:
            self._skip = skip
        elif skip:
            self._skip_sessions.add(session_id)
        else:
            self._skip_sessions.discard(session_id)

    def pending(self) -> list[PermissionRequest]:
        """Return the requests waiting for a decision, oldest first (wire objects)."""
        return [entry.request for entry in self._pending.values()]

    async def request(
        self, session_id: str, tool_call_id: str, ask: PermissionAsk
    ) -> bool:
        """Ask for permission and wait for a client's decision; True when allowed.

        Returns at once, publishing nothing, when prompts are skipped for the
        workspace or the session, or ``allowed_tools`` lists the tool or
        ``tool:action``. Otherwise waits for its turn (one prompt per
        workspace, arrival order), checks those again, publishes the
        "asking" notification, and is allowed at once by an earlier
        ``allow_session`` of the same (session, tool, action, folder);
        else publishes a ``permission_request`` and waits for ``grant``.

        Cancellation: while queued, nothing was published and nothing is
        left. While on screen, the request is withdrawn and
        ``permission_notification {granted: false, denied: true,
        cancelled: true}`` closes every client's dialog (unless a decision
        was published first); ``trio.Cancelled`` propagates.

        Source: Crush ``permissionService.Request`` (docs/agent.md 3.1).
        """
        if self._fast_path(session_id, ask):
            return True
        async with self._lock:
            if self._fast_path(session_id, ask):
                return True
            self._notify(tool_call_id)
            request = self._new_request(session_id, tool_call_id, ask)
            if _key(request) in self._granted:
                self._notify(tool_call_id, granted=True)
                return True
            return await self._wait(request)

    def grant(self, body: PermissionGrant, client_id: str = "") -> bool:
        """Apply a client's decision (``POST permissions/grant``).

        Returns ``resolve(body.permission.id, body.action, client_id)``;
        the other fields of ``body.permission`` are ignored (the pending
        request's own fields form the ``allow_session`` key).

        Raises:
            InvalidPermissionAction: ``body.action`` is unknown (400).
        """
        return self.resolve(body.permission.id, body.action, client_id)

    def resolve(self, request_id: str, action: str, client_id: str = "") -> bool:
        """Decide the pending request ``request_id``; True if this call did.

        Atomic, no await: the first decision takes the request, records an
        ``allow_session`` key (only then, so a losing ``allow_session`` leaves
        nothing behind), publishes exactly one ``permission_notification``
        (with ``resolved_by`` = ``client_id`` when given) and wakes the tool.
        An unknown or already decided id returns False and publishes nothing.

        Args:
            request_id: the ``permission_request`` id.
            action: ``allow``, ``allow_session`` or ``deny``.
            client_id: who decided (``""`` when not told).

        Raises:
            InvalidPermissionAction: ``action`` is unknown (400), checked first.

        Source: Crush ``permissionService.resolve`` (seed 000).
        """
        if action not in PERMISSION_ACTIONS:
            raise InvalidPermissionAction
        entry = self._pending.pop(request_id, None)
        if entry is None:
            return False
        granted = action != PERMISSION_DENY
        if action == PERMISSION_ALLOW_SESSION:
            self._granted.add(_key(entry.request))
        self._notify(
            entry.request.tool_call_id,
            granted=granted,
            denied=not granted,
            resolved_by=client_id,
        )
        entry.granted = granted
        entry.done.set()
        return True

    def _fast_path(self, session_id: str, ask: PermissionAsk) -> bool:
        if self.skip(session_id):
            return True
        allowed = self._config().permissions.allowed_tools
        return ask.tool_name in allowed or f"{ask.tool_name}:{ask.action}" in allowed

    def _new_request(
        self, session_id: str, tool_call_id: str, ask: PermissionAsk
    ) -> PermissionRequest:
        return PermissionRequest(
            id=str(uuid.uuid4()),
            session_id=session_id,
            tool_call_id=tool_call_id,
            tool_name=ask.tool_name,
            description=ask.description,
            action=ask.action,
            params=ask.params,
            path=_folder_of(ask.path, self._root),
        )

    async def _wait(self, request: PermissionRequest) -> bool:
        entry = _Pending(request)
        self._pending[request.id] = entry
        self._events.publish(PERMISSION_REQUEST_EVENT, CREATED, request)
        try:
            await entry.done.wait()
        finally:
            # Still pending means nobody decided: close it for every client.
            if self._pending.pop(request.id, None) is not None:
                self._notify(request.tool_call_id, denied=True, cancelled=True)
        return entry.granted

    def _notify(
        self,
        tool_call_id: str,
        *,
        granted: bool = False,
        denied: bool = False,
        resolved_by: str = "",
        cancelled: bool = False,
    ) -> None:
        notification = PermissionNotification(
            tool_call_id, granted, denied, resolved_by, cancelled
        )
        self._events.publish(PERMISSION_NOTIFICATION_EVENT, CREATED, notification)


def _key(request: PermissionRequest) -> _Key:
    return _Key(request.session_id, request.tool_name, request.action, request.path)


def _folder_of(path: str, root: Path) -> str:
    """Return the folder a prompt is about: a file's parent, a folder itself.

    A relative path is taken from ``root`` (so ``.`` is ``root``); a path
    that cannot be stat'ed is kept (cleaned). One ``stat`` on the event loop, as
    upstream does it inline: the path is one the tool just used, and only
    prompts that reach the dialog pay for it.
    """
    full = os.path.normpath(os.path.join(root, path))
    try:
        mode = os.stat(full).st_mode
    except (OSError, ValueError):
        return full
    return full if stat.S_ISDIR(mode) else os.path.dirname(full)
