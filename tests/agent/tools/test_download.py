"""The ``download`` tool: saving, limits, permission, clean failures."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

import httpx
import pytest
import trio
import trio.lowlevel
import trio.testing

from crushd.agent.tools import PermissionAsk, ToolResult
from crushd.agent.tools._download import DownloadTool

from ._gate import RecordingGate
from ._helpers import call
from ._http_mock import Handler, Mock, call_over_mock
from ._http_server import LocalServer, Routes, serve
from .conftest import MakeContext

BLOB = bytes(range(256)) * 64


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps after 20 ms of real idleness (worker threads)."""
    return trio.testing.MockClock(autojump_threshold=0.02)


def blob(request: httpx.Request) -> httpx.Response:
    headers = {"Content-Type": "application/octet-stream"}
    return httpx.Response(200, content=BLOB, headers=headers)


async def download(
    make_ctx: MakeContext,
    args: Mapping[str, object],
    handler: Handler = blob,
    *,
    gate: RecordingGate | None = None,
    tool: DownloadTool | None = None,
) -> tuple[ToolResult, Mock]:
    return await call_over_mock(make_ctx, tool or DownloadTool(), args, handler, gate)


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".download"))


async def test_saves_the_body_creating_folders(
    workspace: Path, make_ctx: MakeContext
) -> None:
    args = {"url": "https://example.com/f.bin", "file_path": "sub/dir/f.bin"}
    result, mock = await download(make_ctx, args)
    assert result == ToolResult(
        f"Successfully downloaded {len(BLOB)} bytes to sub/dir/f.bin "
        "(Content-Type: application/octet-stream)"
    )
    assert (workspace / "sub/dir/f.bin").read_bytes() == BLOB
    assert mock.requests[0].headers["user-agent"] == "crush/1.0"
    assert leftovers(workspace / "sub/dir") == []


async def test_overwrites_an_existing_file_keeping_its_mode(
    workspace: Path, make_ctx: MakeContext
) -> None:
    target = workspace / "f.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    no_type = lambda r: httpx.Response(200, content=b"new")  # noqa: E731
    args = {"url": "https://e.com/f", "file_path": str(target)}
    result, _ = await download(make_ctx, args, no_type)
    assert result.content == "Successfully downloaded 3 bytes to f.bin"
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640


async def test_permission_is_asked_for_the_file(
    workspace: Path, make_ctx: MakeContext
) -> None:
    gate = RecordingGate()
    args = {"url": "https://e.com/f", "file_path": "out/f.bin", "timeout": 9}
    await download(make_ctx, args, gate=gate)
    target = workspace / "out/f.bin"
    assert gate.asks[0][:2] == ("s1", "call_1")
    assert gate.only_ask == PermissionAsk(
        tool_name="download",
        action="download",
        path=str(target),
        description=f"Download file from URL: https://e.com/f to {target}",
        params={"url": "https://e.com/f", "file_path": "out/f.bin", "timeout": 9},
    )


async def test_outside_the_workspace_is_shown_absolute(
    workspace: Path, make_ctx: MakeContext
) -> None:
    args = {"url": "https://e.com/f", "file_path": "../elsewhere.bin"}
    result, _ = await download(make_ctx, args)
    target = workspace.parent / "elsewhere.bin"
    assert result.content.startswith(f"Successfully downloaded 16384 bytes to {target}")
    assert target.read_bytes() == BLOB


async def test_denied_downloads_nothing(workspace: Path, make_ctx: MakeContext) -> None:
    gate = RecordingGate(allow=False)
    args = {"url": "https://e.com/f", "file_path": "f.bin"}
    result, mock = await download(make_ctx, args, gate=gate)
    assert result == make_ctx().denied()
    assert mock.requests == []
    assert not (workspace / "f.bin").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"url": "ftp://e.com/f", "file_path": "f"}, "URL must start with"),
        ({"url": "", "file_path": "f"}, "URL parameter is required"),
        (
            {"url": "https://e.com/f", "file_path": ""},
            "file_path parameter is required",
        ),
        ({"url": "https://e.com/f", "file_path": "a\x00b"}, "NUL byte"),
        ({"file_path": "f"}, "url is required"),
        ({"url": "https://e.com/f"}, "file_path is required"),
    ],
)
async def test_bad_input_is_refused_before_asking(
    make_ctx: MakeContext, args: dict[str, object], message: str
) -> None:
    gate = RecordingGate()
    result, mock = await download(make_ctx, args, gate=gate)
    assert result.is_error
    assert message in result.content
    assert (gate.asks, mock.requests) == ([], [])


async def test_transport_errors_are_error_results(
    workspace: Path, make_ctx: MakeContext
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    args = {"url": "https://e.com/f", "file_path": "f.bin"}
    result, _ = await download(make_ctx, args, refuse)
    assert result == ToolResult(
        "failed to download from URL: ConnectError: connection refused", is_error=True
    )
    assert names(workspace) == []


async def test_non_200_writes_nothing(workspace: Path, make_ctx: MakeContext) -> None:
    missing = lambda r: httpx.Response(404, text="nope")  # noqa: E731
    args = {"url": "https://e.com/f", "file_path": "f.bin"}
    result, _ = await download(make_ctx, args, missing)
    assert result == ToolResult("Request failed with status code: 404", is_error=True)
    assert names(workspace) == []


async def test_declared_length_over_the_cap_is_refused(
    workspace: Path, make_ctx: MakeContext
) -> None:
    args = {"url": "https://e.com/f", "file_path": "f.bin"}
    result, _ = await download(make_ctx, args, tool=DownloadTool(max_bytes=100))
    assert result == ToolResult(
        "failed to download from URL: the file is larger than 100 bytes",
        is_error=True,
    )
    assert names(workspace) == []


async def endless() -> AsyncIterator[bytes]:
    while True:
        yield b"x" * 1000
        await trio.lowlevel.checkpoint()


async def test_streamed_body_over_the_cap_leaves_no_partial_file(
    workspace: Path, make_ctx: MakeContext
) -> None:
    (workspace / "f.bin").write_bytes(b"keep")
    unsized = lambda r: httpx.Response(200, content=endless())  # noqa: E731
    args = {"url": "https://e.com/f", "file_path": "f.bin"}
    result, _ = await download(
        make_ctx, args, unsized, tool=DownloadTool(max_bytes=10_000)
    )
    assert result.content.endswith("the file is larger than 10000 bytes")
    assert (workspace / "f.bin").read_bytes() == b"keep"
    assert leftovers(workspace) == []


async def trickle() -> AsyncIterator[bytes]:
    yield b"first part"
    await trio.sleep(10_000)
    yield b"never"


@pytest.mark.parametrize(("given", "limit"), [(None, 300), (20, 20), (5000, 600)])
async def test_time_limit_leaves_no_partial_file(
    workspace: Path,
    make_ctx: MakeContext,
    idle_clock: trio.testing.MockClock,
    given: int | None,
    limit: int,
) -> None:
    slow = lambda r: httpx.Response(200, content=trickle())  # noqa: E731
    args: dict[str, object] = {"url": "https://e.com/f", "file_path": "f.bin"}
    if given is not None:
        args["timeout"] = given
    start = trio.current_time()
    result, _ = await download(make_ctx, args, slow)
    assert result == ToolResult(
        f"failed to download from URL: timed out after {limit} s", is_error=True
    )
    assert trio.current_time() - start == pytest.approx(limit, abs=0.5)
    assert names(workspace) == []


async def test_cancelled_download_leaves_no_partial_file(
    workspace: Path, make_ctx: MakeContext, idle_clock: trio.testing.MockClock
) -> None:
    slow = lambda r: httpx.Response(200, content=trickle())  # noqa: E731
    args = {"url": "https://e.com/f", "file_path": "f.bin"}
    with trio.move_on_after(50) as scope:
        await download(make_ctx, args, slow)
    assert scope.cancelled_caught
    assert names(workspace) == []


async def test_a_folder_in_the_way_is_an_error(
    workspace: Path, make_ctx: MakeContext
) -> None:
    (workspace / "taken").mkdir()
    args = {"url": "https://e.com/f", "file_path": "taken"}
    result, _ = await download(make_ctx, args)
    assert result.is_error
    assert result.content.startswith("failed to write file: ")
    assert names(workspace) == ["taken"]


ROUTES: Routes = {
    "/blob": (200, {"Content-Type": "application/x-blob"}, BLOB),
    "/hop": (301, {"Location": "/blob"}, b""),
    "/gone": (410, {}, b"gone"),
}


@pytest.fixture
def server() -> Iterator[LocalServer]:
    yield from serve(ROUTES)


async def test_real_server_download_redirect_and_error(
    workspace: Path, make_ctx: MakeContext, server: LocalServer
) -> None:
    ctx = make_ctx(permissions=RecordingGate())

    async def get(path: str, to: str) -> ToolResult:
        args = {"url": server.url(path), "file_path": to}
        return await call(DownloadTool(), ctx, json.dumps(args))

    saved = await get("/hop", "a/b.bin")
    assert saved.content == (
        f"Successfully downloaded {len(BLOB)} bytes to a/b.bin "
        "(Content-Type: application/x-blob)"
    )
    assert (workspace / "a/b.bin").read_bytes() == BLOB
    gone = await get("/gone", "c.bin")
    assert gone.content == "Request failed with status code: 410"
    assert not (workspace / "c.bin").exists()
    assert server.seen == [
        ("/hop", "crush/1.0"),
        ("/blob", "crush/1.0"),
        ("/gone", "crush/1.0"),
    ]
    assert os.listdir(workspace / "a") == ["b.bin"]
