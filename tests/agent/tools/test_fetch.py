"""The ``fetch`` tool: formats, limits, permission, errors (mock and real HTTP)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

import httpx
import pytest
import trio
import trio.lowlevel
import trio.testing

from crushd.agent.tools import PERMISSION_DENIED_TEXT, PermissionAsk, ToolResult
from crushd.agent.tools._fetch import MAX_FETCH_BYTES, FetchTool
from crushd.agent.tools._http import rerouting_opener

from ._gate import RecordingGate
from ._helpers import call
from ._http_mock import Handler, Mock, call_over_mock
from ._http_server import LocalServer, Routes, serve
from .conftest import MakeContext

PAGE = (
    "<html><head><title>T</title><script>var x = 1;</script></head>"
    "<body><h1>Hello</h1><p>Some <b>bold</b>   text.</p></body></html>"
)
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps after 20 ms of real idleness (worker threads)."""
    return trio.testing.MockClock(autojump_threshold=0.02)


async def fetch(
    make_ctx: MakeContext,
    args: Mapping[str, object],
    handler: Handler | None = None,
    *,
    gate: RecordingGate | None = None,
    tool: FetchTool | None = None,
) -> tuple[ToolResult, Mock]:
    handler = handler or (lambda r: httpx.Response(200, text="ok"))
    return await call_over_mock(make_ctx, tool or FetchTool(), args, handler, gate)


def page(text: str, headers: dict[str, str] | None = None) -> Handler:
    return lambda request: httpx.Response(200, text=text, headers=headers or HTML)


async def test_text_format_gives_the_body_text_collapsed(
    make_ctx: MakeContext,
) -> None:
    args = {"url": "https://example.com/", "format": "text"}
    result, mock = await fetch(make_ctx, args, page(PAGE))
    assert result == ToolResult(content="Hello Some bold text.")
    assert mock.requests[0].headers["user-agent"] == "crush/1.0"
    assert mock.requests[0].method == "GET"


async def test_markdown_format_converts_html_inside_a_fence(
    make_ctx: MakeContext,
) -> None:
    args = {"url": "https://example.com/", "format": "MarkDown"}
    result, _ = await fetch(make_ctx, args, page(PAGE))
    assert result.content == "```\n# Hello\n\nSome **bold** text.\n```"


async def test_html_format_keeps_only_the_body(make_ctx: MakeContext) -> None:
    args = {"url": "https://example.com/", "format": "html"}
    result, _ = await fetch(make_ctx, args, page(PAGE))
    body = "<h1>Hello</h1><p>Some <b>bold</b>   text.</p>"
    assert result.content == f"<html>\n<body>\n{body}\n</body>\n</html>"
    empty, _ = await fetch(make_ctx, args, page("<html><body> </body></html>"))
    assert empty == ToolResult("No body content found in HTML", is_error=True)


async def test_other_content_types_are_returned_as_they_are(
    make_ctx: MakeContext,
) -> None:
    plain = page("<b>not html</b>", {"Content-Type": "text/plain"})
    for form, expected in (
        ("text", "<b>not html</b>"),
        ("html", "<b>not html</b>"),
        ("markdown", "```\n<b>not html</b>\n```"),
    ):
        args = {"url": "http://example.com/x", "format": form}
        result, _ = await fetch(make_ctx, args, plain)
        assert result == ToolResult(content=expected)


async def test_permission_is_asked_with_upstream_shape(
    workspace: Path, make_ctx: MakeContext
) -> None:
    gate = RecordingGate()
    args = {"url": "https://example.com/a", "format": "text", "timeout": 5}
    await fetch(make_ctx, args, gate=gate)
    assert gate.asks[0][:2] == ("s1", "call_1")
    assert gate.only_ask == PermissionAsk(
        tool_name="fetch",
        action="fetch",
        path=str(workspace),
        description="Fetch content from URL: https://example.com/a",
        params={"url": "https://example.com/a", "format": "text", "timeout": 5},
    )
    gate = RecordingGate()
    await fetch(make_ctx, {"url": "https://e.com", "format": "html"}, gate=gate)
    assert gate.only_ask.params == {"url": "https://e.com", "format": "html"}


async def test_denied_fetches_nothing(make_ctx: MakeContext) -> None:
    gate = RecordingGate(allow=False)
    args = {"url": "https://example.com/", "format": "text"}
    result, mock = await fetch(make_ctx, args, gate=gate)
    assert result == make_ctx().denied()
    assert result.content == PERMISSION_DENIED_TEXT
    assert mock.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"url": "ftp://example.com/", "format": "text"}, "URL must start with"),
        ({"url": "file:///etc/passwd", "format": "text"}, "URL must start with"),
        ({"url": "", "format": "text"}, "URL parameter is required"),
        ({"url": "https://e.com", "format": "pdf"}, "Format must be one of"),
        ({"format": "text"}, "url is required"),
        ({"url": "https://e.com"}, "format is required"),
        ({"url": "https://e.com", "format": "text", "timeout": "9"}, "timeout must"),
    ],
)
async def test_bad_input_is_refused_before_asking(
    make_ctx: MakeContext, args: dict[str, object], message: str
) -> None:
    gate = RecordingGate()
    result, mock = await fetch(make_ctx, args, gate=gate)
    assert result.is_error
    assert message in result.content
    assert gate.asks == []
    assert mock.requests == []


def answer_with(status: int) -> Handler:
    return lambda request: httpx.Response(status)


async def test_non_200_is_an_error(make_ctx: MakeContext) -> None:
    for status in (201, 404, 500):
        args = {"url": "https://example.com/", "format": "text"}
        result, _ = await fetch(make_ctx, args, answer_with(status))
        assert result == ToolResult(
            f"Request failed with status code: {status}", is_error=True
        )


async def test_redirects_are_followed(make_ctx: MakeContext) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "/new"})
        return httpx.Response(200, text="moved here")

    args = {"url": "https://example.com/old", "format": "text"}
    result, mock = await fetch(make_ctx, args, handler)
    assert result.content == "moved here"
    assert [r.url.path for r in mock.requests] == ["/old", "/new"]


async def test_endless_redirects_are_an_error(make_ctx: MakeContext) -> None:
    loop = lambda r: httpx.Response(302, headers={"Location": "/again"})  # noqa: E731
    result, mock = await fetch(
        make_ctx, {"url": "http://e.com/", "format": "text"}, loop
    )
    assert result.is_error
    assert result.content.startswith("failed to fetch URL: TooManyRedirects")
    assert len(mock.requests) == 11


async def test_transport_errors_are_error_results(make_ctx: MakeContext) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    result, _ = await fetch(
        make_ctx, {"url": "http://e.com/", "format": "text"}, refuse
    )
    assert result == ToolResult(
        "failed to fetch URL: ConnectError: connection refused", is_error=True
    )


async def endless(chunk: bytes) -> AsyncIterator[bytes]:
    while True:
        yield chunk
        await trio.lowlevel.checkpoint()


async def test_body_is_read_up_to_the_limit_only(make_ctx: MakeContext) -> None:
    """An endless body ends the read at 100 KB, with upstream's note."""
    handler = lambda r: httpx.Response(200, content=endless(b"a" * 4096))  # noqa: E731
    args = {"url": "http://e.com/", "format": "text"}
    result, _ = await fetch(make_ctx, args, handler)
    note = f"\n\n[Content truncated to {MAX_FETCH_BYTES} bytes]"
    assert result.content == "a" * MAX_FETCH_BYTES + note


async def test_a_cut_in_the_middle_of_a_character_is_not_an_error(
    make_ctx: MakeContext,
) -> None:
    handler = page("é" * 10, {"Content-Type": "text/plain"})
    args = {"url": "http://e.com/", "format": "text"}
    result, _ = await fetch(make_ctx, args, handler, tool=FetchTool(max_bytes=5))
    assert result.content == "éé\n\n[Content truncated to 5 bytes]"


async def test_invalid_utf8_is_an_error(make_ctx: MakeContext) -> None:
    handler = lambda r: httpx.Response(200, content=b"caf\xe9 au lait")  # noqa: E731
    result, _ = await fetch(
        make_ctx, {"url": "http://e.com/", "format": "text"}, handler
    )
    assert result == ToolResult("Response content is not valid UTF-8", is_error=True)


async def slow(request: httpx.Request) -> httpx.Response:
    await trio.sleep(10_000)
    return httpx.Response(200, text="late")


@pytest.mark.parametrize(("given", "limit"), [(None, 30), (5, 5), (500, 120)])
async def test_time_limit_default_given_and_capped(
    make_ctx: MakeContext,
    idle_clock: trio.testing.MockClock,
    given: int | None,
    limit: int,
) -> None:
    args: dict[str, object] = {"url": "http://e.com/", "format": "text"}
    if given is not None:
        args["timeout"] = given
    start = trio.current_time()
    result, _ = await fetch(make_ctx, args, slow)
    assert result == ToolResult(
        f"failed to fetch URL: timed out after {limit} s", is_error=True
    )
    assert trio.current_time() - start == pytest.approx(limit, abs=0.5)


ROUTES: Routes = {
    "/page": (200, HTML, PAGE.encode()),
    "/plain": (200, {"Content-Type": "text/plain"}, b"plain words"),
    "/big": (200, {"Content-Type": "text/plain"}, b"b" * (3 * MAX_FETCH_BYTES)),
    "/hop": (302, {"Location": "/plain"}, b""),
    "/broken": (503, {}, b"down"),
}


@pytest.fixture
def server() -> Iterator[LocalServer]:
    yield from serve(ROUTES)


async def test_real_server_pages_redirects_and_errors(
    make_ctx: MakeContext, server: LocalServer
) -> None:
    ctx = make_ctx(permissions=RecordingGate())

    async def get(path: str, form: str = "text") -> ToolResult:
        args = {"url": server.url(path), "format": form}
        return await call(FetchTool(), ctx, json.dumps(args))

    assert (await get("/page")).content == "Hello Some bold text."
    assert (await get("/page", "markdown")).content.startswith("```\n# Hello\n")
    assert (await get("/hop")).content == "plain words"
    assert (await get("/broken")).content == "Request failed with status code: 503"
    big = await get("/big")
    assert big.content.startswith("b" * MAX_FETCH_BYTES + "\n\n[Content truncated")
    assert server.seen[0] == ("/page", "crush/1.0")


async def test_real_server_connection_refused_is_an_error(
    make_ctx: MakeContext,
) -> None:
    with LocalServer({}) as gone:
        url = gone.url("/x")
    ctx = make_ctx(permissions=RecordingGate())
    args = json.dumps({"url": url, "format": "text"})
    result = await call(FetchTool(), ctx, args)
    assert result.is_error
    assert result.content.startswith("failed to fetch URL: ConnectError")


async def test_rerouting_opener_sends_tool_requests_to_a_local_server(
    make_ctx: MakeContext, server: LocalServer
) -> None:
    """The test hook: any URL (and its redirects) is served by the local server."""
    ctx = make_ctx(permissions=RecordingGate(), http=rerouting_opener(server.url("")))
    for url in ("https://example.com/page", "https://example.com/hop"):
        args = json.dumps({"url": url, "format": "text"})
        result = await call(FetchTool(), ctx, args)
        assert not result.is_error
    assert [path for path, _ in server.seen] == ["/page", "/hop", "/plain"]
    assert server.origins == [
        "https://example.com/page",
        "https://example.com/hop",
        "https://example.com/plain",
    ]
