"""The ``write`` tool: create a file or replace its whole content.

Parent folders are created. An existing file must not have changed since the
session last read it (so it must have been read); writing the content it
already holds is refused. The ``write`` permission is asked with the whole old
and new content; the result's metadata carries a unified diff and its counts.
The write is recorded in the file history and as a read.

Source: Crush ``internal/agent/tools/write.go``; docs/agent.md 2.2 and 2.3.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import trio

from ._diff import unified_diff
from ._filewrite import (
    ask_write,
    commit,
    read_text,
    resolve_target,
    shown_name,
    stat_file,
)
from ._freshness import file_stamp, write_refusal
from ._input import InputError, parse_input, prop, schema
from ._types import ToolCall, ToolContext, ToolResult

WRITE_DESCRIPTION = """\
Create a file, or replace an existing file's whole content; missing parent \
folders are created. It cannot append. An existing file must have been read \
with `view` in this session and not changed since. For changes to part of a \
file use `edit` or `multiedit`."""

WRITE_PARAMETERS = schema(
    {
        "file_path": prop("string", "Path of the file, absolute or workspace-relative"),
        "content": prop("string", "The file's complete new content"),
    },
    required=("file_path", "content"),
)


@attrs.frozen
class _Before:
    text: str  # "" when the file does not exist
    stamp: tuple[int, int] | None  # None when the file does not exist


class WriteTool:
    """``write``: create or overwrite one file."""

    def __init__(self) -> None:
        self.name = "write"
        self.description = WRITE_DESCRIPTION
        self.parameters = WRITE_PARAMETERS
        self.parallel = False

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Write the file; error results for bad input and refusals."""
        try:
            args = parse_input(call.input, self.parameters)
            content = str(args["content"])
            if not content:
                raise InputError("content is required")
            path = await trio.to_thread.run_sync(
                resolve_target, ctx.root, str(args["file_path"])
            )
            before = await _before(ctx, path, content)
            return await _write(ctx, path, before, content)
        except InputError as exc:
            return exc.result()


async def _before(ctx: ToolContext, path: Path, content: str) -> _Before:
    """Return what the file holds now, after the freshness and sameness checks."""
    info = await trio.to_thread.run_sync(stat_file, path)
    if info is None:
        return _Before("", None)
    refusal = await write_refusal(ctx, path, info)
    if refusal is not None:
        raise InputError(refusal)
    text = await trio.to_thread.run_sync(lambda: read_text(path, strict=False))
    if text == content:
        raise InputError(
            f"File {path} already contains the exact content. No changes made."
        )
    return _Before(text, file_stamp(info))


async def _write(
    ctx: ToolContext, path: Path, before: _Before, content: str
) -> ToolResult:
    diff = unified_diff(before.text, content, shown_name(ctx.root, path))
    meta = json.dumps(
        {"diff": diff.text, "additions": diff.additions, "removals": diff.removals}
    )
    if not await ask_write(
        ctx, "write", path, f"Create file {path}", before.text, content
    ):
        return attrs.evolve(ctx.denied(), metadata=meta)
    await commit(ctx, path, before.text, content, before.stamp)
    text = f"<result>\nFile successfully written: {path}\n</result>"
    return ToolResult(text, metadata=meta)
