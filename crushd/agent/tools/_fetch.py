"""The ``fetch`` tool: a web page as text, markdown or HTML.

Source: Crush ``internal/agent/tools/fetch.go`` and ``fetch_types.go``
(parameter names, the ``fetch`` permission with path = the workspace, the
100 KB limit, the 30 s default and 120 s largest time limit, the three
formats, the messages); docs/agent.md 2.2 and 2.3. Differences: a body cut at
the limit in the middle of a character is not "invalid UTF-8"; transport
errors are error results, not Go errors; the text format skips scripts.
"""

from __future__ import annotations

import functools

import trio

from ._html import html_body, html_markdown, html_text
from ._http import RequestError, capped_timeout, check_url, http_get, read_capped
from ._input import InputError, parse_input, prop, schema
from ._types import PermissionAsk, ToolCall, ToolContext, ToolResult

#: Bytes of the body read, and characters of the answer kept (100 KB).
MAX_FETCH_BYTES = 100 * 1024
#: Time limit when the call gives none, seconds (upstream's client timeout).
DEFAULT_FETCH_TIMEOUT_SECONDS = 30.0
#: Largest time limit a call may ask for, seconds.
MAX_FETCH_TIMEOUT_SECONDS = 120.0
FORMATS = ("text", "markdown", "html")

FETCH_DESCRIPTION = f"""\
Fetch a URL (http or https) and return its content as `text` (the page's \
words), `markdown` (converted from HTML, in a code block) or `html` (the \
page's `<body>`). At most {MAX_FETCH_BYTES // 1024} KB are read and returned; \
`timeout` is in seconds (default {DEFAULT_FETCH_TIMEOUT_SECONDS:g}, at most \
{MAX_FETCH_TIMEOUT_SECONDS:g}). Only UTF-8 content can be shown. The user is \
asked before anything is fetched. Use `download` to save a file instead."""

FETCH_PARAMETERS = schema(
    {
        "url": prop("string", "The http or https URL to fetch"),
        "format": prop("string", "text, markdown or html", enum=list(FORMATS)),
        "timeout": prop("integer", "Time limit in seconds (at most 120)"),
    },
    required=("url", "format"),
)


class FetchTool:
    """``fetch``: GET a URL, after the user allowed it."""

    def __init__(self, max_bytes: int = MAX_FETCH_BYTES) -> None:
        self.name = "fetch"
        self.description = FETCH_DESCRIPTION
        self.parameters = FETCH_PARAMETERS
        self.parallel = True
        self.max_bytes = max_bytes

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Return the content, an error result, or the denied result."""
        try:
            args = parse_input(call.input, self.parameters)
            url, form = str(args["url"]), str(args["format"]).lower()
            if form not in FORMATS:
                raise InputError("Format must be one of: text, markdown, html")
            check_url(url)
        except (InputError, RequestError) as exc:
            return ToolResult(content=exc.message, is_error=True)
        if not await ctx.allowed(_ask(ctx, args, url)):
            return ctx.denied()
        timeout_s = capped_timeout(
            args.get("timeout"),
            DEFAULT_FETCH_TIMEOUT_SECONDS,
            MAX_FETCH_TIMEOUT_SECONDS,
        )
        with trio.move_on_after(timeout_s):
            return await self._fetch(ctx, url, form)
        return ToolResult(
            content=f"failed to fetch URL: timed out after {timeout_s:g} s",
            is_error=True,
        )

    async def _fetch(self, ctx: ToolContext, url: str, form: str) -> ToolResult:
        try:
            async with http_get(ctx.http, url) as response:
                body, cut = await read_capped(response, self.max_bytes)
                content_type = response.headers.get("content-type", "")
            text = _decode(body, cut=cut)
            is_html = "text/html" in content_type.lower()
            work = functools.partial(shape, text, form, is_html=is_html)
            content = await trio.to_thread.run_sync(work)
        except (RequestError, InputError) as exc:
            return ToolResult(content=exc.message, is_error=True)
        return ToolResult(content=_truncated(content, self.max_bytes, cut=cut))


def _ask(ctx: ToolContext, args: dict[str, object], url: str) -> PermissionAsk:
    params: dict[str, object] = {"url": url, "format": args["format"]}
    if args.get("timeout"):  # upstream's omitempty
        params["timeout"] = args["timeout"]
    return PermissionAsk(
        tool_name="fetch",
        action="fetch",
        path=str(ctx.root),
        description=f"Fetch content from URL: {url}",
        params=params,
    )


def _decode(body: bytes, *, cut: bool) -> str:
    if cut:  # the limit may split the last character; that is not an error
        body = body[: len(body) - _partial_tail(body)]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("Response content is not valid UTF-8") from None


def _partial_tail(body: bytes) -> int:
    """Return how many bytes at the end start a character that is not complete."""
    for back in range(1, min(4, len(body)) + 1):
        byte = body[-back]
        if byte & 0xC0 != 0x80:  # a lead byte (or ASCII)
            needed = 1 if byte < 0x80 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if needed > back else 0
    return 0


def shape(content: str, form: str, *, is_html: bool) -> str:
    """Return ``content`` in the asked format (HTML is converted, other types kept).

    Blocking (parses the page): call it from a worker thread.

    Raises:
        InputError: the HTML could not be converted, or has no body (``html``).
    """
    if form == "text" and is_html:
        return html_text(content)
    if form == "markdown":
        if is_html:
            try:
                content = html_markdown(content)
            except ValueError as exc:
                raise InputError(f"Failed to convert HTML to Markdown: {exc}") from None
        return f"```\n{content}\n```"
    if form == "html" and is_html:
        body = html_body(content)
        if not body:
            raise InputError("No body content found in HTML")
        return f"<html>\n<body>\n{body}\n</body>\n</html>"
    return content


def _truncated(content: str, max_bytes: int, *, cut: bool) -> str:
    encoded = content.encode("utf-8")
    if len(encoded) < max_bytes and not cut:
        return content
    kept = encoded[:max_bytes].decode("utf-8", errors="ignore")
    return f"{kept}\n\n[Content truncated to {max_bytes} bytes]"
