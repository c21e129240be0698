"""``Client``: typed calls to crushd's ``/v1`` HTTP API, returning wire models."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from types import TracebackType

import httpx
import platformdirs

from crushd.proto import (
    ClientInfo,
    ControlRequest,
    CurrentSessionRequest,
    Host,
    VersionInfo,
    Workspace,
    default_host,
)

from ._agent import AgentRoutes
from ._config import ConfigRoutes
from ._http import HTTPSession, client_version, decode, decode_list
from ._permissions import PermissionRoutes
from ._sessions import SessionRoutes, segment
from ._skills import SkillRoutes

#: This process's client id: one per process, shared by every ``Client``
#: (docs/protocol.md 5.1).
CLIENT_ID = str(uuid.uuid4())
#: Environment variable holding the bearer token; it wins over the token file.
TOKEN_ENV = "CRUSH_TOKEN"  # noqa: S105 - a variable name, not a secret


def read_token(host: Host, environ: Mapping[str, str] | None = None) -> str | None:
    """Return the bearer token for ``host``, or ``None``.

    Only tcp hosts use a token (unix sockets are guarded by their file mode).
    ``$CRUSH_TOKEN`` wins; else the daemon's token file
    ``<user state>/crushd/token`` (``$XDG_STATE_HOME/crushd/token``) is read.
    A missing or unreadable file means no token.

    Args:
        host: the daemon's host.
        environ: the environment; ``None`` means ``os.environ``.

    Source: docs/protocol.md C.6.
    """
    if host.scheme != "tcp":
        return None
    env = os.environ if environ is None else environ
    if token := env.get(TOKEN_ENV, "").strip():
        return token
    path = Path(platformdirs.user_state_dir("crushd", appauthor=False)) / "token"
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


class Client(SessionRoutes, SkillRoutes, ConfigRoutes, AgentRoutes, PermissionRoutes):
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
            docs/protocol.md C.6); ``None`` means ``read_token(host)``
            (``$CRUSH_TOKEN`` or the token file, tcp hosts only); ``""``
            sends none.

    Every call raises ``ServerUnavailable`` when nothing listens at the host,
    ``RequestError`` when the exchange fails in transit or the body is not the
    promised model, and an ``HTTPStatusError`` subclass for an error status;
    each method's ``Raises`` lists the statuses particular to its route.

    Raises:
        ValueError: an ``fd://`` host.

    Source: docs/protocol.md 0.1 (transport), 5.1 (client_id), Crush
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
        if token is None:
            token = read_token(self.host)
        self._http = HTTPSession(self.host, transport=transport, token=token)

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
        await self._http.aclose()

    # -- system --------------------------------------------------------------

    async def health(self) -> None:
        """Check that the daemon answers ``GET /v1/health`` with a 2xx.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.1 (the readiness probe).
        """
        await self._http.send("GET", "/health")

    async def version(self) -> VersionInfo:
        """Return the daemon's ``GET /v1/version`` info.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.1, decision B.20.
        """
        return decode(await self._http.send("GET", "/version"), VersionInfo)

    async def control(self, command: str) -> None:
        """Send ``POST /v1/control {"command": command}``.

        Args:
            command: ``shutdown`` or ``shutdown_if_idle`` (both idle-gated).

        Raises:
            ConflictError: 409 ``server is hosting live workspaces``.
            BadRequestError: 400 ``unknown command``.

        Cancellation:
            If cancelled after sending, the daemon may still shut down.

        Source: docs/protocol.md 2.1 ``POST /v1/control``.
        """
        await self._http.send("POST", "/control", body=ControlRequest(command=command))

    async def shutdown(self, *, if_idle: bool = False) -> None:
        """Ask the daemon to shut down; it only does so while idle.

        Args:
            if_idle: send ``shutdown_if_idle`` instead of ``shutdown`` (the
                daemon treats both the same way; older servers differ).

        Raises:
            ConflictError: 409, the daemon still hosts workspaces.

        Cancellation:
            As ``control``.

        Source: docs/protocol.md 2.1 ``POST /v1/control``.
        """
        await self.control("shutdown_if_idle" if if_idle else "shutdown")

    async def retire(self) -> None:
        """Retire this client: ``DELETE /v1/clients/{client_id}``.

        The daemon drops this client's claims in every workspace and ends its
        streams; later creates from this ``client_id`` get 409.

        Raises:
            BadRequestError: 400, ``client_id`` is not a UUID.
            NotFoundError: 404, a daemon that predates the route.

        Cancellation:
            If cancelled after sending, the client may be retired anyway.

        Source: docs/protocol.md 2.1 ``DELETE /v1/clients/{client_id}``, 5.7 step 4.
        """
        await self._http.send("DELETE", f"/clients/{segment(self.client_id)}")

    # -- workspaces ----------------------------------------------------------

    async def workspaces(self) -> list[Workspace]:
        """Return every live workspace (``GET /v1/workspaces``).

        Cancellation:
            Safe; nothing changes on the daemon.
        """
        return decode_list(await self._http.send("GET", "/workspaces"), Workspace)

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

        Cancellation:
            If cancelled after sending, the hold may exist; it expires with the
            create grace.

        Source: docs/protocol.md 2.2 ``POST /v1/workspaces``, 5.2 create hold.
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
        return decode(
            await self._http.send("POST", "/workspaces", body=body), Workspace
        )

    async def workspace(self, workspace_id: str) -> Workspace:
        """Return one workspace (``GET /v1/workspaces/{id}``).

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; nothing changes on the daemon.
        """
        path = f"/workspaces/{segment(workspace_id)}"
        return decode(await self._http.send("GET", path), Workspace)

    async def delete_workspace(self, workspace_id: str) -> None:
        """Release this client's hold: ``DELETE /v1/workspaces/{id}?client_id=``.

        Idempotent (200 for unknown ids). With no live stream of this client
        the claim goes at once; with streams, the last detach ends it. The last
        claim gone tears the workspace down.

        Raises:
            BadRequestError: 400, ``client_id`` is not a UUID.

        Cancellation:
            If cancelled after sending, the hold may be released anyway.

        Source: docs/protocol.md 2.2 ``DELETE /v1/workspaces/{id}``, 5.2.
        """
        path = f"/workspaces/{segment(workspace_id)}"
        await self._http.send("DELETE", path, params=self._identity())

    async def set_current_session(self, workspace_id: str, session_id: str) -> None:
        """Set this client's presence to ``session_id`` (``""`` clears it).

        Raises:
            ConflictError: 409, ``client not attached`` (no live stream).
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            If cancelled after sending, the presence may be set anyway.

        Source: docs/protocol.md 2.2 ``current-session``, 5.6.
        """
        path = f"/workspaces/{segment(workspace_id)}/current-session"
        body = CurrentSessionRequest(session_id=session_id)
        await self._http.send("POST", path, params=self._identity(), body=body)

    async def clients(self, workspace_id: str) -> list[ClientInfo]:
        """Return the workspace's roster (``GET .../clients``).

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md C.5 (roster).
        """
        path = f"/workspaces/{segment(workspace_id)}/clients"
        return decode_list(await self._http.send("GET", path), ClientInfo)

    # -- plumbing ------------------------------------------------------------

    def _identity(self) -> dict[str, str]:
        return {"client_id": self.client_id}
