"""The ``view`` tool: a numbered slice of a text file, or an image.

Source: Crush ``internal/agent/tools/view.go`` (parameter names, output form,
limits); docs/agent.md 2.2. Reading outside the workspace asks permission
(action ``read``, path = the file with symlinks resolved).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import attrs
import trio

from ._input import InputError, parse_input, prop, schema
from ._paths import OutsideDeniedError, resolve_gated
from ._textfile import (
    MAX_LINE_CHARS,
    MAX_SECTION_BYTES,
    NotUTF8Error,
    Section,
    SectionTooLargeError,
    read_section,
)
from ._types import PermissionAsk, ToolCall, ToolContext, ToolResult

#: Lines shown when the call gives no ``limit``.
DEFAULT_VIEW_LINES = 200
#: Largest image ``view`` returns, bytes.
MAX_IMAGE_BYTES = 200 * 1024

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}

VIEW_DESCRIPTION = f"""\
Read a file of the workspace. Text comes back with line numbers (the number, \
a `|`, then the line), {DEFAULT_VIEW_LINES} lines from the start unless \
`offset` (0-based first line) and `limit` (how many lines) say otherwise; a \
note tells you when the file goes on. Lines longer than {MAX_LINE_CHARS} \
characters are cut, a section may hold at most {MAX_SECTION_BYTES // 1024} KB, \
and only UTF-8 text can be read. PNG, JPEG, GIF and WebP images up to \
{MAX_IMAGE_BYTES // 1024} KB are returned as images when the model accepts \
them. Use `glob` to find a file by name and `grep` to find text in files."""

VIEW_PARAMETERS = schema(
    {
        "file_path": prop("string", "Path of the file, absolute or workspace-relative"),
        "offset": prop("integer", "First line to show, counted from 0"),
        "limit": prop("integer", f"How many lines to show ({DEFAULT_VIEW_LINES})"),
    },
    required=("file_path",),
)


@attrs.frozen
class _Read:
    result: ToolResult
    path: Path | None = None  # set when the read should be recorded


class ViewTool:
    """``view``: read a file's lines (or an image); outside the workspace if allowed."""

    def __init__(self) -> None:
        self.name = "view"
        self.description = VIEW_DESCRIPTION
        self.parameters = VIEW_PARAMETERS
        self.parallel = True

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Return the file's numbered lines, the image, or an error result.

        A successful text read is recorded with ``ctx.reads``. A file outside
        the workspace is read only when the user allows it; else the denied
        result.
        """
        try:
            args = parse_input(call.input, self.parameters)
            given = str(args["file_path"])
            if not given:
                raise InputError("file_path is required")
            ask = functools.partial(_ask, args)
            path = await resolve_gated(ctx, given, key="file_path", ask=ask)
            read = await trio.to_thread.run_sync(_view, path, args, ctx)
        except InputError as exc:
            return exc.result()
        except OutsideDeniedError:
            return ctx.denied()
        if read.path is not None:
            await ctx.reads.record_read(ctx.session_id, read.path)
        return read.result


def _ask(args: dict[str, object], path: Path) -> PermissionAsk:
    return PermissionAsk(
        tool_name="view",
        action="read",
        path=str(path),
        description=f"Read file outside working directory: {path}",
        params={
            "file_path": args["file_path"],
            "offset": _int(args.get("offset"), 0),
            "limit": _int(args.get("limit"), 0),
        },
    )


def _view(path: Path, args: dict[str, object], ctx: ToolContext) -> _Read:
    if not path.exists():
        raise InputError(_not_found(path))
    if path.is_dir():
        raise InputError(f"Path is a directory, not a file: {path}")
    if not path.is_file():  # a pipe or a device would block or never end
        raise InputError(f"Path is not a regular file: {path}")
    if path.suffix.lower() in IMAGE_TYPES:
        return _Read(_image(path, ctx.supports_images))
    offset = max(0, _int(args.get("offset"), 0))
    limit = _int(args.get("limit"), 0)
    return _Read(_text(path, offset, limit if limit > 0 else DEFAULT_VIEW_LINES), path)


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) else default


def _not_found(path: Path) -> str:
    base = path.name.lower()
    try:
        names = sorted(entry.name for entry in path.parent.iterdir())
    except OSError:
        names = []
    similar = [n for n in names if base in n.lower() or n.lower() in base][:3]
    if not similar:
        return f"File not found: {path}"
    listed = "\n".join(str(path.parent / name) for name in similar)
    return f"File not found: {path}\n\nDid you mean one of these?\n{listed}"


def _image(path: Path, supports_images: bool) -> ToolResult:
    size = _size(path)
    if size > MAX_IMAGE_BYTES:
        raise InputError(
            f"Image file is too large ({size} bytes). "
            f"Maximum size is {MAX_IMAGE_BYTES} bytes"
        )
    if not supports_images:
        raise InputError(
            "This model does not support image data; describe what you need "
            "from the image another way"
        )
    data = _read_bytes(path)
    if len(data) > MAX_IMAGE_BYTES:  # it grew since the size check
        return _image(path, supports_images)
    mime = sniff_image_type(data) or IMAGE_TYPES[path.suffix.lower()]
    return ToolResult(content=f"Image file: {path} ({mime})", media=(mime, data))


def sniff_image_type(data: bytes) -> str | None:
    """Return the image MIME type ``data`` starts with, or None if unknown.

    Providers check the declared type against the bytes, so a file's
    extension alone is not trusted (Crush ``sniffImageMimeType``).
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _text(path: Path, offset: int, limit: int) -> ToolResult:
    try:
        with path.open("rb") as file:
            section = read_section(file, offset, limit)
    except NotUTF8Error:
        raise InputError("File content is not valid UTF-8") from None
    except SectionTooLargeError as exc:
        raise InputError(
            f"Content section is too large ({exc.size_bytes} bytes). "
            f"Maximum size is {exc.max_bytes} bytes; read fewer lines"
        ) from None
    except OSError as exc:
        raise InputError(f"error reading file: {exc.strerror or exc}") from None
    content = "\n".join(section.lines)
    metadata = json.dumps({"file_path": str(path), "content": content})
    return ToolResult(content=format_section(section), metadata=metadata)


def format_section(section: Section) -> str:
    """Return ``section`` as ``view`` shows it: numbered lines in ``<file>`` tags.

    Each line is its 1-based number right-aligned in 6 columns, ``|``, the
    line; a note follows when the file has more lines.
    """
    numbered = "\n".join(
        f"{number:>6}|{line}"
        for number, line in enumerate(section.lines, start=section.offset + 1)
    )
    if section.lines == [""] and not section.has_more:
        numbered = ""  # nothing but the end of the file: no numbered line
    more = ""
    if section.has_more:
        last = section.offset + len(section.lines)
        more = (
            "\n\n(File has more lines. "
            f"Use 'offset' parameter to read beyond line {last})"
        )
    return f"<file>\n{numbered}{more}\n</file>\n"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise InputError(f"error reading file: {exc.strerror or exc}") from None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"error reading image file: {exc.strerror or exc}") from None
