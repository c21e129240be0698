"""The ``download`` tool: a URL streamed to a file.

Source: Crush ``internal/agent/tools/download.go`` (parameter names, the
``download`` permission with path = the file, the 5 min default and 10 min
largest time limit, the messages); docs/agent.md 2.2 and 2.3. Differences: a
100 MiB cap (upstream has none); the body goes to a temporary file next to
the target that replaces it only when complete, so a failed or cancelled
download leaves no partial file and an existing file unchanged; the
permission request carries the tool call's id (upstream leaves it out).
"""

from __future__ import annotations

import os
import secrets
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from ._http import RequestError, body_chunks, capped_timeout, check_url, http_get
from ._input import InputError, parse_input, prop, schema
from ._types import PermissionAsk, ToolCall, ToolContext, ToolResult

if TYPE_CHECKING:
    import httpx

#: Largest body written, bytes (100 MiB).
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024
#: Time limit when the call gives none, seconds (upstream's client timeout).
DEFAULT_DOWNLOAD_TIMEOUT_SECONDS = 300.0
#: Largest time limit a call may ask for, seconds.
MAX_DOWNLOAD_TIMEOUT_SECONDS = 600.0

DOWNLOAD_DESCRIPTION = f"""\
Download a URL (http or https) into a file, replacing the file if it exists; \
missing folders are created. `file_path` is absolute or relative to the \
workspace; `timeout` is in seconds (default \
{DEFAULT_DOWNLOAD_TIMEOUT_SECONDS:g}, at most {MAX_DOWNLOAD_TIMEOUT_SECONDS:g}). \
Files larger than {MAX_DOWNLOAD_BYTES // (1024 * 1024)} MiB are refused. The \
user is asked before anything is downloaded. Use `fetch` to read a page."""

DOWNLOAD_PARAMETERS = schema(
    {
        "url": prop("string", "The http or https URL to download"),
        "file_path": prop("string", "Where to save it, absolute or workspace-relative"),
        "timeout": prop("integer", "Time limit in seconds (at most 600)"),
    },
    required=("url", "file_path"),
)


class DownloadTool:
    """``download``: stream a URL to a file, after the user allowed it."""

    def __init__(self, max_bytes: int = MAX_DOWNLOAD_BYTES) -> None:
        self.name = "download"
        self.description = DOWNLOAD_DESCRIPTION
        self.parameters = DOWNLOAD_PARAMETERS
        self.parallel = True
        self.max_bytes = max_bytes

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Return what was saved, an error result, or the denied result."""
        try:
            args = parse_input(call.input, self.parameters)
            url, given = str(args["url"]), str(args["file_path"])
            if not given:
                raise InputError("file_path parameter is required")
            check_url(url)
            path = await trio.to_thread.run_sync(_target, ctx.root, given)
        except (InputError, RequestError) as exc:
            return ToolResult(content=exc.message, is_error=True)
        if not await ctx.allowed(_ask(args, url, path)):
            return ctx.denied()
        timeout_s = capped_timeout(
            args.get("timeout"),
            DEFAULT_DOWNLOAD_TIMEOUT_SECONDS,
            MAX_DOWNLOAD_TIMEOUT_SECONDS,
        )
        with trio.move_on_after(timeout_s):
            return await self._download(ctx, url, path)
        return ToolResult(
            content=f"failed to download from URL: timed out after {timeout_s:g} s",
            is_error=True,
        )

    async def _download(self, ctx: ToolContext, url: str, path: Path) -> ToolResult:
        try:
            failing = "failed to download from URL"
            async with http_get(ctx.http, url, failing=failing) as response:
                _check_length(response.headers.get("content-length"), self.max_bytes)
                content_type = response.headers.get("content-type", "")
                size = await _save(response, path, self.max_bytes)
        except (RequestError, InputError) as exc:
            return ToolResult(content=exc.message, is_error=True)
        shown = _shown(ctx.root, path)
        message = f"Successfully downloaded {size} bytes to {shown}"
        if content_type:
            message += f" (Content-Type: {content_type})"
        return ToolResult(content=message)


def _target(root: Path, given: str) -> Path:
    """Return the file ``given`` names, symlinks resolved (blocking)."""
    if "\x00" in given:
        raise InputError("file_path contains a NUL byte")
    return Path(os.path.realpath(root / os.path.expanduser(given)))


def _ask(args: dict[str, object], url: str, path: Path) -> PermissionAsk:
    params: dict[str, object] = {"url": url, "file_path": args["file_path"]}
    if args.get("timeout"):  # upstream's omitempty
        params["timeout"] = args["timeout"]
    return PermissionAsk(
        tool_name="download",
        action="download",
        path=str(path),
        description=f"Download file from URL: {url} to {path}",
        params=params,
    )


def _check_length(header: str | None, max_bytes: int) -> None:
    if header is not None and header.strip().isdigit() and int(header) > max_bytes:
        raise InputError(_too_large(max_bytes))


def _too_large(max_bytes: int) -> str:
    return f"failed to download from URL: the file is larger than {max_bytes} bytes"


async def _save(response: httpx.Response, path: Path, max_bytes: int) -> int:
    """Stream the body to a temporary file beside ``path``, then move it there.

    Returns:
        The bytes written.

    Raises:
        InputError: the body is larger than ``max_bytes``, or the file cannot
            be written. The temporary file is removed on any failure.
    """
    fd, temp = await trio.to_thread.run_sync(_open_temp, path)
    try:
        size = 0
        async with (
            trio.wrap_file(os.fdopen(fd, "wb")) as out,
            aclosing(body_chunks(response)) as chunks,
        ):
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise InputError(_too_large(max_bytes))
                await out.write(chunk)
        await trio.to_thread.run_sync(os.replace, temp, path)
    except BaseException as exc:
        with trio.CancelScope(shield=True):
            await trio.Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"failed to write file: {_reason(exc)}") from None
        raise
    return size


def _open_temp(path: Path) -> tuple[int, str]:
    """Create the parents and a new hidden file beside ``path`` (blocking).

    The file gets the mode a new file gets (the umask applies) or, when
    ``path`` exists, that file's mode.
    """
    name = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.download")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        if path.is_file():
            os.chmod(fd, path.stat().st_mode & 0o7777)
    except OSError as exc:
        raise InputError(f"failed to create output file: {_reason(exc)}") from None
    return fd, name


def _reason(exc: OSError) -> str:
    return f"{exc.strerror}: {exc.filename}" if exc.strerror else str(exc)


def _shown(root: Path, path: Path) -> str:
    """``path`` relative to the (canonical) workspace root, else absolute."""
    if path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return str(path)
