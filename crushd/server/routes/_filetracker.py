"""File tracker routes: the files a session's agent read (docs/protocol.md 2.4).

Source: Crush ``internal/server/proto.go`` filetracker handlers and
``internal/backend/filetracker.go``.
"""

from __future__ import annotations

from quart import Response, request
from quart_trio import QuartTrio

from crushd.proto import FileTrackerReadRequest
from crushd.workspace import rfc3339

from ..http import ServerContext, decode_body, empty_response, json_response
from ._live import live_workspace
from ._rules import View, add_rules

_WS = "/v1/workspaces/<workspace_id>"


def register_filetracker_routes(app: QuartTrio, ctx: ServerContext) -> None:
    """Add ``filetracker/files``, ``filetracker/read`` and ``filetracker/lastread``.

    - ``GET .../sessions/{sid}/filetracker/files``: the absolute paths read
      in the session, most recent first; ``[]`` for none or an unknown
      session.
    - ``POST .../filetracker/read`` with ``{"session_id","path"}``: record a
      read now; 200 empty whatever happens (an unknown session or an empty
      path records nothing; failures are logged), as upstream. A relative
      ``path`` is relative to the workspace folder.
    - ``GET .../filetracker/lastread?session_id=&path=``: a bare JSON string,
      the last read time in RFC 3339 UTC, ``"0001-01-01T00:00:00Z"`` if never.

    Errors: 404 unknown workspace; 400 ``failed to decode request`` for a
    bad ``read`` body.
    """
    registry = ctx.registry

    async def filetracker_files(workspace_id: str, session_id: str) -> Response:
        tracker = live_workspace(registry, workspace_id)[1].reads
        return json_response(await tracker.read_files(session_id))

    async def filetracker_read(workspace_id: str) -> Response:
        tracker = live_workspace(registry, workspace_id)[1].reads
        body = await decode_body(FileTrackerReadRequest)
        if body.path:
            await tracker.record_read(body.session_id, body.path)
        return empty_response()

    async def filetracker_lastread(workspace_id: str) -> Response:
        tracker = live_workspace(registry, workspace_id)[1].reads
        session_id = request.args.get("session_id", "")
        path = request.args.get("path", "")
        at = await tracker.last_read(session_id, path) if path else 0.0
        return json_response(rfc3339(at))

    rules: list[tuple[str, View, str]] = [
        (f"{_WS}/sessions/<session_id>/filetracker/files", filetracker_files, "GET"),
        (f"{_WS}/filetracker/read", filetracker_read, "POST"),
        (f"{_WS}/filetracker/lastread", filetracker_lastread, "GET"),
    ]
    add_rules(app, rules)
