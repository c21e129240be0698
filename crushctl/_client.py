"""``Client``: typed calls to crushd's ``/v1`` HTTP API, returning wire models."""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from os import PathLike
from types import TracebackType
from typing import TypeVar
from urllib.parse import quote

import httpx
import trio

from crushd.proto import (
    ClientInfo,
    ControlRequest,
    CurrentSessionRequest,
    HistoryFile,
    Host,
    Message,
    Session,
    SessionCreate,
    SessionUpdate,
    Todo,
    VersionInfo,
    Workspace,
    converter,
    default_host,
    from_json,
    to_json,
)

from ._exceptions import RequestError, raise_for_status, request_context

T = TypeVar("T")

#: This process's client id: one per process, shared by every ``Client``
#: (PROTOCOL.md 5.1).
CLIENT_ID = str(uuid.uuid4())

#: The ``Host`` header for unix sockets, as the Go client sends it.
UNIX_API_HOST = "api.crush.localhost"

#: Every phase of an ordinary call (connect, read, write, pool) gets this long;
#: httpx's default.
TIMEOUT_SECONDS = 5.0

#: Awaiting cleanup (closing a response or the connection pool) gets this long.
CLEANUP_SECONDS = 2.0

_JSON_HEADERS = {"Content-Type": "application/json"}


@functools.cache
def client_version() -> str:
    """Return the installed crushd package version, or ``"devel"`` if unknown."""
    try:
        return importlib.metadata.version("crushd")
    except importlib.metadata.PackageNotFoundError:
        return "devel"


def base_url(host: Host) -> str:
    """Return the ``/v1`` base URL for ``host``.

    Args:
        host: a ``unix`` or ``tcp`` host.

    Returns:
        ``http://api.crush.localhost/v1`` for unix sockets, ``http://host:port/v1``
        for tcp.

    Raises:
        ValueError: an ``fd://`` host (only a daemon can adopt a descriptor).
    """
    if host.scheme == "unix":
        return f"http://{UNIX_API_HOST}/v1"
    if host.scheme == "tcp":
        return f"http://{host.address}/v1"
    raise ValueError(f"cannot connect to {host.url}: use a unix:// or tcp:// host")


def _segment(value: str) -> str:
    return quote(value, safe="")


class Client:
    """An async client for one crushd daemon.

    Wraps an ``httpx.AsyncClient`` on the host's transport (a unix socket or
    tcp). Ordinary calls keep httpx's 5 s timeouts; the event stream
    (``open_event_stream``) sets its own read timeout. Use as
    ``async with Client(host) as client:`` or call ``aclose()``.

    Args:
        host: where the daemon listens; ``None`` means
            ``crushd.proto.default_host()``.
        client_id: this client's id; ``None`` means the per-process
            ``CLIENT_ID``.
        transport: an httpx transport to use instead of the host's (tests pass
            an ``httpx.MockTransport``).
        token: a bearer token sent as ``Authorization`` (tcp listeners,
            PROTOCOL.md C.6); ``None`` sends none.

    Raises:
        ValueError: an ``fd://`` host.

    Source: PROTOCOL.md 0.1 (transport), 5.1 (client_id), Crush
    ``internal/client``.
    """

    def __init__(
        self,
        host: Host | None = None,
        *,
        client_id: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        token: str | None = None,
    ) -> None:
        self.host = host or default_host()
        self.client_id = client_id or CLIENT_ID
        headers = {"User-Agent": f"crushctl/{client_version()}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=base_url(self.host),
            transport=transport or _transport_for(self.host),
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            trust_env=False,  # a local daemon: proxies from the environment never apply
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool; idempotent.

        Cancellation:
            Closes even if cancelled (a shielded scope bounded by
            ``CLEANUP_SECONDS``).
        """
        with trio.move_on_after(CLEANUP_SECONDS, shield=True):
            await self._http.aclose()

    # -- system --------------------------------------------------------------

    async def health(self) -> None:
        """Check that the daemon answers ``GET /v1/health`` with a 2xx.

        Raises:
            ServerUnavailable: nothing listens at the host.
            RequestError: the request failed in transit.
            HTTPStatusError: a non-2xx answer.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: PROTOCOL.md 2.1 (the readiness probe).
        """
        await self._send("GET", "/health")

    async def version(self) -> VersionInfo:
        """Return the daemon's ``GET /v1/version`` info.

        Raises:
            ServerUnavailable, RequestError, HTTPStatusError: as ``health``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: PROTOCOL.md 2.1, decision B.20.
        """
        return _decode(await self._send("GET", "/version"), VersionInfo)

    async def control(self, command: str) -> None:
        """Send ``POST /v1/control {"command": command}``.

        Args:
            command: ``shutdown`` or ``shutdown_if_idle`` (both idle-gated).

        Raises:
            ConflictError: 409 ``server is hosting live workspaces``.
            BadRequestError: 400 ``unknown command``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            If cancelled after sending, the daemon may still shut down.

        Source: PROTOCOL.md 2.1 ``POST /v1/control``.
        """
        await self._send("POST", "/control", body=ControlRequest(command=command))

    async def shutdown(self, *, if_idle: bool = False) -> None:
        """Ask the daemon to shut down; it only does so while idle.

        Args:
            if_idle: send ``shutdown_if_idle`` instead of ``shutdown`` (the
                daemon treats both the same way; older servers differ).

        Raises:
            ConflictError: 409, the daemon still hosts workspaces.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            As ``control``.

        Source: PROTOCOL.md 2.1 ``POST /v1/control``.
        """
        await self.control("shutdown_if_idle" if if_idle else "shutdown")

    async def retire(self) -> None:
        """Retire this client: ``DELETE /v1/clients/{client_id}``.

        The daemon drops this client's claims in every workspace and ends its
        streams; later creates from this ``client_id`` get 409.

        Raises:
            BadRequestError: 400, ``client_id`` is not a UUID.
            NotFoundError: 404, a daemon that predates the route.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            If cancelled after sending, the client may be retired anyway.

        Source: PROTOCOL.md 2.1 ``DELETE /v1/clients/{client_id}``, 5.7 step 4.
        """
        await self._send("DELETE", f"/clients/{_segment(self.client_id)}")

    # -- workspaces ----------------------------------------------------------

    async def workspaces(self) -> list[Workspace]:
        """Return every live workspace (``GET /v1/workspaces``).

        Raises:
            ServerUnavailable, RequestError, HTTPStatusError: as ``health``.

        Cancellation:
            Safe; nothing changes on the daemon.
        """
        return _decode_list(await self._send("GET", "/workspaces"), Workspace)

    async def create_workspace(
        self,
        path: str | PathLike[str],
        *,
        data_dir: str | None = None,
        yolo: bool = False,
        debug: bool = False,
        env: Sequence[str] | None = None,
    ) -> Workspace:
        """Create the workspace for ``path``, or join the live one (first wins).

        The daemon registers a create hold for this client (released by
        ``delete_workspace``, by attaching a stream, or when the create grace
        expires). Flags are ignored when joining an existing workspace.

        Args:
            path: the project directory; must be absolute.
            data_dir: the data directory; ``None`` means ``<path>/.crush``.
            yolo: skip permission prompts in this workspace.
            debug: debug logging for this workspace.
            env: ``KEY=VALUE`` entries added to tool and shell environments.

        Returns:
            The workspace (a fresh id, or the live one's).

        Raises:
            BadRequestError: 400, ``path must be absolute`` / ``path is required``.
            ConflictError: 409, ``client has been retired``.
            ShuttingDownError: 503, ``server is shutting down``.
            HTTPStatusError: 500, the workspace could not be built (config,
                data directory, database lock).
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            If cancelled after sending, the hold may exist; it expires with the
            create grace.

        Source: PROTOCOL.md 2.2 ``POST /v1/workspaces``, 5.2 create hold.
        """
        body = Workspace(
            path=str(path),
            client_id=self.client_id,
            version=client_version(),
            data_dir=data_dir or "",
            yolo=yolo,
            debug=debug,
            env=list(env or ()),
        )
        return _decode(await self._send("POST", "/workspaces", body=body), Workspace)

    async def workspace(self, workspace_id: str) -> Workspace:
        """Return one workspace (``GET /v1/workspaces/{id}``).

        Raises:
            NotFoundError: 404, ``workspace not found``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            Safe; nothing changes on the daemon.
        """
        path = f"/workspaces/{_segment(workspace_id)}"
        return _decode(await self._send("GET", path), Workspace)

    async def delete_workspace(self, workspace_id: str) -> None:
        """Release this client's hold: ``DELETE /v1/workspaces/{id}?client_id=``.

        Idempotent (200 for unknown ids). With no live stream of this client
        the claim goes at once; with streams, the last detach ends it. The last
        claim gone tears the workspace down.

        Raises:
            BadRequestError: 400, ``client_id`` is not a UUID.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            If cancelled after sending, the hold may be released anyway.

        Source: PROTOCOL.md 2.2 ``DELETE /v1/workspaces/{id}``, 5.2.
        """
        path = f"/workspaces/{_segment(workspace_id)}"
        await self._send("DELETE", path, params=self._identity())

    async def set_current_session(self, workspace_id: str, session_id: str) -> None:
        """Set this client's presence to ``session_id`` (``""`` clears it).

        Raises:
            ConflictError: 409, ``client not attached`` (no live stream).
            NotFoundError: 404, ``workspace not found``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            If cancelled after sending, the presence may be set anyway.

        Source: PROTOCOL.md 2.2 ``current-session``, 5.6.
        """
        path = f"/workspaces/{_segment(workspace_id)}/current-session"
        body = CurrentSessionRequest(session_id=session_id)
        await self._send("POST", path, params=self._identity(), body=body)

    async def clients(self, workspace_id: str) -> list[ClientInfo]:
        """Return the workspace's roster (``GET .../clients``).

        Raises:
            NotFoundError: 404, ``workspace not found``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: PROTOCOL.md C.5 (roster).
        """
        path = f"/workspaces/{_segment(workspace_id)}/clients"
        return _decode_list(await self._send("GET", path), ClientInfo)

    # -- sessions ------------------------------------------------------------

    async def sessions(self, workspace_id: str) -> list[Session]:
        """Return the top-level sessions, most recently updated first.

        Raises:
            NotFoundError: 404, ``workspace not found``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: PROTOCOL.md 2.3 ``GET /sessions``.
        """
        path = self._sessions(workspace_id)
        return _decode_list(await self._send("GET", path), Session)

    async def create_session(
        self, workspace_id: str, title: str, parent_session_id: str = ""
    ) -> Session:
        """Create a session (``POST .../sessions``).

        Args:
            workspace_id: the workspace.
            title: the session title.
            parent_session_id: the parent session's id, ``""`` for top level.

        Returns:
            The new session.

        Raises:
            NotFoundError: 404, ``workspace not found``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            If cancelled after sending, the session may exist anyway.

        Source: PROTOCOL.md 2.3 ``POST /sessions``, decision B.2.
        """
        body = SessionCreate(title=title, parent_session_id=parent_session_id)
        path = self._sessions(workspace_id)
        return _decode(await self._send("POST", path, body=body), Session)

    async def session(self, workspace_id: str, session_id: str) -> Session:
        """Return one session, children included.

        Raises:
            NotFoundError: 404, ``workspace not found`` / ``session not found``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            Safe; nothing changes on the daemon.
        """
        path = self._sessions(workspace_id, session_id)
        return _decode(await self._send("GET", path), Session)

    async def update_session(
        self,
        workspace_id: str,
        session_id: str,
        *,
        title: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        summary_message_id: str | None = None,
        cost: float | None = None,
        todos: Sequence[Todo] | None = None,
    ) -> Session:
        """Update the given fields of a session; ``None`` fields stay unchanged.

        Returns:
            The updated session.

        Raises:
            NotFoundError: 404, ``workspace not found`` / ``session not found``.
            BadRequestError: 400, a field has the wrong type.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            If cancelled after sending, the update may be applied anyway.

        Source: PROTOCOL.md 2.3 ``PUT /sessions/{sid}``, decision B.2.
        """
        update = SessionUpdate(
            title=title,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            summary_message_id=summary_message_id,
            cost=cost,
            todos=None if todos is None else list(todos),
        )
        body = _present_fields(update)
        path = self._sessions(workspace_id, session_id)
        return _decode(await self._send("PUT", path, body=body), Session)

    async def delete_session(self, workspace_id: str, session_id: str) -> None:
        """Delete a session with its messages and file history.

        Raises:
            NotFoundError: 404, ``workspace not found`` / ``session not found``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            If cancelled after sending, the session may be deleted anyway.
        """
        await self._send("DELETE", self._sessions(workspace_id, session_id))

    async def messages(self, workspace_id: str, session_id: str) -> list[Message]:
        """Return a session's messages, oldest first.

        Raises:
            NotFoundError: 404, ``workspace not found``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: PROTOCOL.md 2.3 ``GET /sessions/{sid}/messages``.
        """
        path = f"{self._sessions(workspace_id, session_id)}/messages"
        return _decode_list(await self._send("GET", path), Message)

    async def user_messages(
        self, workspace_id: str, session_id: str | None = None
    ) -> list[Message]:
        """Return ``user`` messages, newest first.

        Args:
            workspace_id: the workspace.
            session_id: one session's; ``None`` means every session's.

        Raises:
            NotFoundError: 404, ``workspace not found``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: PROTOCOL.md 2.3 ``messages/user`` (both routes).
        """
        if session_id is None:
            path = f"/workspaces/{_segment(workspace_id)}/messages/user"
        else:
            path = f"{self._sessions(workspace_id, session_id)}/messages/user"
        return _decode_list(await self._send("GET", path), Message)

    async def history(self, workspace_id: str, session_id: str) -> list[HistoryFile]:
        """Return a session's file-history versions, oldest first.

        Raises:
            NotFoundError: 404, ``workspace not found``.
            ServerUnavailable, RequestError: as ``health``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: PROTOCOL.md 2.3 ``history``, decision B.3 (snake_case keys).
        """
        path = f"{self._sessions(workspace_id, session_id)}/history"
        return _decode_list(await self._send("GET", path), HistoryFile)

    # -- plumbing ------------------------------------------------------------

    def _identity(self) -> dict[str, str]:
        return {"client_id": self.client_id}

    def _sessions(self, workspace_id: str, session_id: str | None = None) -> str:
        path = f"/workspaces/{_segment(workspace_id)}/sessions"
        return path if session_id is None else f"{path}/{_segment(session_id)}"

    def _route(self, path: str) -> str:
        return self._http.base_url.path.rstrip("/") + path

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
    ) -> httpx.Response:
        """Send one request, translate transport errors and raise on non-2xx."""
        content = None if body is None else to_json(body)
        headers = None if content is None else _JSON_HEADERS
        with request_context(self.host, method, self._route(path)):
            response = await self._http.request(
                method, path, params=params, content=content, headers=headers
            )
        raise_for_status(response)
        return response

    @contextlib.asynccontextmanager
    async def _open_stream(
        self,
        path: str,
        *,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        read_timeout_seconds: float | None,
    ) -> AsyncIterator[httpx.Response]:
        """Open a streaming GET; yield the 2xx response, close it on exit."""
        route = self._route(path)
        timeout = httpx.Timeout(TIMEOUT_SECONDS, read=read_timeout_seconds)
        with request_context(self.host, "GET", route):
            request = self._http.build_request(
                "GET", path, params=params, headers=headers, timeout=timeout
            )
            response = await self._http.send(request, stream=True)
        try:
            with request_context(self.host, "GET", route):
                await _read_if_error(response)
            raise_for_status(response)
            yield response
        finally:
            with trio.move_on_after(CLEANUP_SECONDS, shield=True):
                await response.aclose()


def _transport_for(host: Host) -> httpx.AsyncBaseTransport:
    if host.scheme == "unix":
        return httpx.AsyncHTTPTransport(uds=host.address)
    return httpx.AsyncHTTPTransport()


async def _read_if_error(response: httpx.Response) -> None:
    if not response.is_success:
        await response.aread()


def _present_fields(update: SessionUpdate) -> dict[str, object]:
    data = converter.unstructure(update)
    return {key: value for key, value in data.items() if value is not None}


def _invalid_body(response: httpx.Response, exc: ValueError) -> RequestError:
    request = response.request
    return RequestError(
        f"invalid response from crushd to {request.method} {request.url.path}: {exc}",
        method=request.method,
        route=request.url.path,
    )


def _decode(response: httpx.Response, cls: type[T]) -> T:
    try:
        return from_json(response.content, cls)
    except ValueError as exc:
        raise _invalid_body(response, exc) from None


def _decode_list(response: httpx.Response, cls: type[T]) -> list[T]:
    try:
        data = json.loads(response.content)
        # Go encodes a nil slice as null (PROTOCOL.md 0.3).
        items = [] if data is None else data
        if not isinstance(items, list):
            raise ValueError(f"expected a JSON array, got {type(items).__name__}")
        return [from_json(item, cls) for item in items]
    except ValueError as exc:
        raise _invalid_body(response, exc) from None
