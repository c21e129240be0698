"""File tracker routes (docs/protocol.md 2.4): files, read, lastread."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from .conftest import Harness


@pytest.fixture
async def ws(harness: Harness, project: Path) -> str:
    status, body = await harness.json(
        "POST", "/v1/workspaces", {"path": str(project), "client_id": str(uuid.uuid4())}
    )
    assert status == 200
    return str(body["id"])


@pytest.fixture
def root(project: Path) -> Path:
    """The workspace folder as the daemon keys it (symlinks resolved)."""
    return project.resolve()


async def test_filetracker_read_then_files_and_lastread(
    harness: Harness, ws: str, root: Path
) -> None:
    """A recorded read lists as an absolute path and has an RFC 3339 UTC time."""
    base = f"/v1/workspaces/{ws}"
    _, session = await harness.json("POST", f"{base}/sessions", {"title": "s"})
    sid = session["id"]
    target = root / "src" / "a.py"
    body = {"session_id": sid, "path": str(target)}
    assert await harness.json("POST", f"{base}/filetracker/read", body) == (200, None)
    relative = {"session_id": sid, "path": "b.py"}
    assert await harness.json("POST", f"{base}/filetracker/read", relative) == (
        200,
        None,
    )
    status, files = await harness.json(
        "GET", f"{base}/sessions/{sid}/filetracker/files"
    )
    assert status == 200
    assert set(files) == {str(target), str(root / "b.py")}
    query = f"session_id={sid}&path={target}"
    status, when = await harness.json("GET", f"{base}/filetracker/lastread?{query}")
    assert status == 200
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", when)


async def test_filetracker_never_read_is_go_zero_time(
    harness: Harness, ws: str
) -> None:
    """lastread of an unread file (or no path) is "0001-01-01T00:00:00Z"."""
    base = f"/v1/workspaces/{ws}/filetracker/lastread"
    zero = (200, "0001-01-01T00:00:00Z")
    assert await harness.json("GET", f"{base}?session_id=s&path=/nope") == zero
    assert await harness.json("GET", base) == zero


async def test_filetracker_files_of_unknown_session_is_empty(
    harness: Harness, ws: str
) -> None:
    """No reads, or no such session: []."""
    path = f"/v1/workspaces/{ws}/sessions/nope/filetracker/files"
    assert await harness.json("GET", path) == (200, [])


async def test_filetracker_read_always_200_but_decodes_strictly(
    harness: Harness, ws: str
) -> None:
    """Unknown session or empty path: 200, nothing stored; bad JSON: 400."""
    path = f"/v1/workspaces/{ws}/filetracker/read"
    assert await harness.json("POST", path, {"session_id": "nope", "path": "a"}) == (
        200,
        None,
    )
    assert await harness.json("POST", path, {"session_id": "nope"}) == (200, None)
    status, body = await harness.json("POST", path, "{not json")
    assert (status, body["message"]) == (400, "failed to decode request")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", "sessions/s/filetracker/files"),
        ("POST", "filetracker/read"),
        ("GET", "filetracker/lastread"),
    ],
)
async def test_filetracker_unknown_workspace_is_404(
    harness: Harness, method: str, suffix: str
) -> None:
    """The three routes exist (no longer 501) and check the workspace first."""
    path = f"/v1/workspaces/{uuid.uuid4()}/{suffix}"
    body = {"session_id": "s", "path": "a"} if method == "POST" else None
    assert await harness.json(method, path, body) == (
        404,
        {"message": "workspace not found"},
    )
