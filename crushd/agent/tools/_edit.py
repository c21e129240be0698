"""The ``edit`` tool: create a file, or replace or delete text in one.

An empty ``old_string`` creates the file (which must not exist); an empty
``new_string`` deletes the matched text; otherwise the match is replaced
(exact, then whitespace-tolerant, see ``_match``). An existing file must have
been read in this session and not changed since. Every change asks the
``write`` permission, keeps CRLF line endings, and is recorded in the file
history and as a read.

Source: Crush ``internal/agent/tools/edit.go``; docs/agent.md 2.2 and 2.3.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import trio

from ._diff import unified_diff
from ._filewrite import (
    Loaded,
    ask_write,
    commit,
    load_for_edit,
    resolve_target,
    shown_name,
    stat_file,
)
from ._input import InputError, parse_input, prop, schema
from ._match import WHITESPACE_NOTE, MatchError, find_and_replace, to_crlf
from ._types import ToolCall, ToolContext, ToolResult

EDIT_DESCRIPTION = """\
Edit a file by exact find-and-replace; it can also create a file or delete \
text. `old_string` must match the file exactly once (add surrounding lines to \
make it unique) unless `replace_all` is set. If it differs from the file only \
in whitespace, the matching whole lines are still edited and `new_string` is \
re-indented to the file's style; the result says so, so check it. An empty \
`old_string` creates a new file holding `new_string`; an empty `new_string` \
deletes the matched text. Read the file with `view` first: a file not read in \
this session, or changed since, is refused. For many changes to one file use \
`multiedit`; to replace a whole file use `write`."""

EDIT_PARAMETERS = schema(
    {
        "file_path": prop("string", "Path of the file, absolute or workspace-relative"),
        "old_string": prop("string", "The text to replace (empty: create the file)"),
        "new_string": prop("string", "The replacement text (empty: delete)"),
        "replace_all": prop("boolean", "Replace every occurrence (default false)"),
    },
    required=("file_path", "old_string", "new_string"),
)


@attrs.frozen
class Change:
    """A change ready to be asked for and written."""

    path: Path
    before: str  # LF text, as matched (permission params, diff)
    after: str  # LF text
    description: str
    done: str  # the success message


class EditTool:
    """``edit``: create, replace or delete text in one file."""

    def __init__(self) -> None:
        self.name = "edit"
        self.description = EDIT_DESCRIPTION
        self.parameters = EDIT_PARAMETERS
        self.parallel = False

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Apply the edit; error results for bad input, misses and refusals."""
        try:
            args = parse_input(call.input, self.parameters)
            path = await trio.to_thread.run_sync(
                resolve_target, ctx.root, str(args["file_path"])
            )
            old, new = str(args["old_string"]), str(args["new_string"])
            if not old:
                return await _create(ctx, path, new)
            return await _replace(ctx, path, old, new, args.get("replace_all") is True)
        except InputError as exc:
            return exc.result()


async def _create(ctx: ToolContext, path: Path, content: str) -> ToolResult:
    """Create ``path`` holding ``content`` (an empty ``old_string``)."""
    if await trio.to_thread.run_sync(stat_file, path) is not None:
        raise InputError(f"file already exists: {path}")
    change = Change(path, "", content, f"Create file {path}", f"File created: {path}")
    return await _apply(ctx, change, None, fuzzy=False)


async def _replace(
    ctx: ToolContext, path: Path, old: str, new: str, replace_all: bool
) -> ToolResult:
    loaded = await load_for_edit(ctx, path)
    try:
        replaced = find_and_replace(loaded.text, old, new, replace_all)
    except MatchError as exc:
        raise InputError(exc.message) from None
    if new:
        if replaced.content == loaded.text:
            raise InputError("new content is the same as old content. No changes made.")
        description, done = "Replace content in file", "Content replaced in file:"
    else:
        description, done = "Delete content from file", "Content deleted from file:"
    change = Change(
        path, loaded.text, replaced.content, f"{description} {path}", f"{done} {path}"
    )
    return await _apply(ctx, change, loaded, fuzzy=replaced.fuzzy)


async def _apply(
    ctx: ToolContext, change: Change, loaded: Loaded | None, *, fuzzy: bool
) -> ToolResult:
    """Ask, write (CRLF kept), record; the result in ``<result>`` tags."""
    diff = unified_diff(change.before, change.after, shown_name(ctx.root, change.path))
    written = (
        to_crlf(change.after) if loaded is not None and loaded.crlf else change.after
    )
    meta = edit_metadata(diff.additions, diff.removals, change.before, written)
    asked = await ask_write(
        ctx, "edit", change.path, change.description, change.before, change.after
    )
    if not asked:
        return attrs.evolve(ctx.denied(), metadata=meta)
    disk = loaded.disk if loaded is not None else ""
    stamp = loaded.stamp if loaded is not None else None
    await commit(ctx, change.path, disk, written, stamp)
    message = f"{change.done}\n{WHITESPACE_NOTE}" if fuzzy else change.done
    return ToolResult(f"<result>\n{message}\n</result>\n", metadata=meta)


def edit_metadata(
    additions: int, removals: int, old: str, new: str, **extra: object
) -> str:
    """Return the edit tools' metadata JSON (empty contents left out, as upstream)."""
    meta: dict[str, object] = {"additions": additions, "removals": removals}
    if old:
        meta["old_content"] = old
    if new:
        meta["new_content"] = new
    return json.dumps({**meta, **extra})
