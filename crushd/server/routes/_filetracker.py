"""File tracker routes: the files a session's agent read (docs/protocol.md 2.4).

Errors: 404 unknown workspace; 400 ``failed to decode request`` for a bad
``read`` body.

Source: Crush ``internal/server/proto.go`` filetracker handlers and
``internal/backend/filetracker.go``.
"""

from __future__ import annotations

from quart import Response, request

from crushd.proto import FileTrackerReadRequest
from crushd.workspace import rfc3339

from ..http import ServerContext, decode_body, empty_response, json_response
from ._live import workspace_of


async def filetracker_files(
    ctx: ServerContext, workspace_id: str, session_id: str
) -> Response:
    """``GET .../sessions/{sid}/filetracker/files``: absolute paths, newest first.

    ``[]`` for none or an unknown session.
    """
    tracker = workspace_of(ctx, workspace_id).reads
    return json_response(await tracker.read_files(session_id))


async def filetracker_read(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../filetracker/read`` with ``{"session_id","path"}``: record a read.

    200 empty whatever happens (an unknown session or an empty path records
    nothing; failures are logged), as upstream. A relative ``path`` is
    relative to the workspace folder.
    """
    tracker = workspace_of(ctx, workspace_id).reads
    body = await decode_body(FileTrackerReadRequest)
    if body.path:
        await tracker.record_read(body.session_id, body.path)
    return empty_response()


async def filetracker_lastread(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../filetracker/lastread?session_id=&path=``: a bare JSON string.

    The last read time in RFC 3339 UTC, ``"0001-01-01T00:00:00Z"`` if never.
    """
    tracker = workspace_of(ctx, workspace_id).reads
    session_id = request.args.get("session_id", "")
    path = request.args.get("path", "")
    at = await tracker.last_read(session_id, path) if path else 0.0
    return json_response(rfc3339(at))
