"""The ``multiedit`` tool: several find-and-replace edits on one file, in order.

Each edit works on the result of the ones before it, with ``edit``'s matching
rules. An edit that fails (no match, several matches) is reported and skipped;
the others are applied. When every edit failed nothing is written and the
result is an error. Only the first edit may have an empty ``old_string``: it
then creates the file with its ``new_string``, and the rest edit that text.
Permission, read-before-edit, CRLF, history and read recording as ``edit``.

Source: Crush ``internal/agent/tools/multiedit.go``; docs/agent.md 2.2.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import attrs
import trio

from ._diff import unified_diff
from ._edit import edit_metadata
from ._filewrite import (
    Loaded,
    ask_write,
    commit,
    load_for_edit,
    resolve_target,
    shown_name,
    stat_file,
)
from ._input import InputError, JSONObject, parse_input, prop, schema
from ._match import WHITESPACE_NOTE, MatchError, find_and_replace, to_crlf
from ._types import ToolCall, ToolContext, ToolResult

MULTIEDIT_DESCRIPTION = """\
Apply several find-and-replace edits to one file in a single call; they run \
in order, each on the result of the ones before. Same matching rules as \
`edit`. An edit that does not match is reported and skipped, the others are \
applied. Only the first edit may have an empty `old_string`, which creates \
the file with its `new_string`. Prefer this to several `edit` calls on the \
same file; read the file with `view` first."""

_EDIT_ITEM = schema(
    {
        "old_string": prop("string", "The text to replace"),
        "new_string": prop("string", "The replacement text"),
        "replace_all": prop("boolean", "Replace every occurrence (default false)"),
    },
    required=("old_string", "new_string"),
)

MULTIEDIT_PARAMETERS = schema(
    {
        "file_path": prop("string", "Path of the file, absolute or workspace-relative"),
        "edits": prop(
            "array", "The edits, applied one after another", items=_EDIT_ITEM
        ),
    },
    required=("file_path", "edits"),
)


@attrs.frozen
class EditOp:
    """One edit of the list."""

    old: str
    new: str
    replace_all: bool = False

    def to_json(self) -> dict[str, object]:
        """Return the edit as upstream echoes it (``replace_all`` only if set)."""
        out: dict[str, object] = {"old_string": self.old, "new_string": self.new}
        return {**out, "replace_all": True} if self.replace_all else out


@attrs.frozen
class Outcome:
    """The text after the edits, the failures, whether any matched fuzzily."""

    content: str
    failed: list[dict[str, object]]
    fuzzy: bool


def apply_edits(content: str, edits: list[EditOp], first_index: int = 1) -> Outcome:
    """Apply ``edits`` in order to ``content``, skipping (and listing) failures.

    Failures are ``{"index": n, "error": text, "edit": {...}}`` with ``n``
    counted from ``first_index``.
    """
    failed: list[dict[str, object]] = []
    fuzzy = False
    for index, op in enumerate(edits, start=first_index):
        if not op.old and not op.new:
            continue
        try:
            replaced = find_and_replace(content, op.old, op.new, op.replace_all)
        except MatchError as exc:
            failed.append({"index": index, "error": exc.message, "edit": op.to_json()})
            continue
        content, fuzzy = replaced.content, fuzzy or replaced.fuzzy
    return Outcome(content, failed, fuzzy)


class MultiEditTool:
    """``multiedit``: ordered edits of one file, partial failures reported."""

    def __init__(self) -> None:
        self.name = "multiedit"
        self.description = MULTIEDIT_DESCRIPTION
        self.parameters = MULTIEDIT_PARAMETERS
        self.parallel = False

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Apply the edits; error results for bad input, refusals, all failed."""
        try:
            args = parse_input(call.input, self.parameters)
            edits = _edits(cast("list[JSONObject]", args["edits"]))
            path = await trio.to_thread.run_sync(
                resolve_target, ctx.root, str(args["file_path"])
            )
            if not edits[0].old:
                return await _create(ctx, path, edits)
            return await _edit_existing(ctx, path, edits)
        except InputError as exc:
            return exc.result()


def _edits(items: list[JSONObject]) -> list[EditOp]:
    if not items:
        raise InputError("at least one edit operation is required")
    edits = [
        EditOp(str(i["old_string"]), str(i["new_string"]), i.get("replace_all") is True)
        for i in items
    ]
    for number, op in enumerate(edits[1:], start=2):
        if not op.old:
            raise InputError(
                f"edit {number}: only the first edit can have empty old_string "
                "(for file creation)"
            )
    return edits


async def _create(ctx: ToolContext, path: Path, edits: list[EditOp]) -> ToolResult:
    if await trio.to_thread.run_sync(stat_file, path) is not None:
        raise InputError(f"file already exists: {path}")
    outcome = apply_edits(edits[0].new, edits[1:], first_index=2)
    applied, total = len(edits) - len(outcome.failed), len(edits)
    if outcome.failed:
        ask = (
            f"Create file {path} with {applied} of {total} edits "
            f"({len(outcome.failed)} failed)"
        )
        done = (
            f"File created with {applied} of {total} edits: {path} "
            f"({len(outcome.failed)} edit(s) failed)"
        )
    else:
        ask = f"Create file {path} with {applied} edits"
        done = f"File created with {total} edits: {path}"
    return await _finish(ctx, path, None, outcome, _Texts(ask, done, applied))


async def _edit_existing(
    ctx: ToolContext, path: Path, edits: list[EditOp]
) -> ToolResult:
    loaded = await load_for_edit(ctx, path)
    outcome = apply_edits(loaded.text, edits)
    failed = len(outcome.failed)
    if outcome.content == loaded.text:
        return _unchanged(outcome)
    applied, total = len(edits) - failed, len(edits)
    if failed:
        ask = f"Apply {applied} of {total} edits to file {path} ({failed} failed)"
        done = (
            f"Applied {applied} of {total} edits to file: {path} "
            f"({failed} edit(s) failed)"
        )
    else:
        ask = f"Apply {applied} edits to file {path}"
        done = f"Applied {total} edits to file: {path}"
    return await _finish(ctx, path, loaded, outcome, _Texts(ask, done, applied))


def _unchanged(outcome: Outcome) -> ToolResult:
    if not outcome.failed:
        raise InputError("no changes made - all edits resulted in identical content")
    meta = edit_metadata(0, 0, "", "", edits_applied=0, edits_failed=outcome.failed)
    text = f"no changes made - all {len(outcome.failed)} edit(s) failed"
    return ToolResult(text, is_error=True, metadata=meta)


@attrs.frozen
class _Texts:
    ask: str  # the permission request's description
    done: str  # the success message
    applied: int  # how many edits took effect


async def _finish(
    ctx: ToolContext, path: Path, loaded: Loaded | None, outcome: Outcome, texts: _Texts
) -> ToolResult:
    """Ask, write (CRLF kept), record; the result in ``<result>`` tags."""
    before = loaded.text if loaded is not None else ""
    diff = unified_diff(before, outcome.content, shown_name(ctx.root, path))
    crlf = loaded is not None and loaded.crlf
    written = to_crlf(outcome.content) if crlf else outcome.content
    extra: dict[str, object] = {"edits_applied": texts.applied}
    if outcome.failed:
        extra["edits_failed"] = outcome.failed
    meta = edit_metadata(diff.additions, diff.removals, before, written, **extra)
    if not await ask_write(ctx, "multiedit", path, texts.ask, before, outcome.content):
        return attrs.evolve(ctx.denied(), metadata=meta)
    if loaded is None:
        await commit(ctx, path, "", written, None)
    else:
        await commit(ctx, path, loaded.disk, written, loaded.stamp)
    message = f"{texts.done}\n{WHITESPACE_NOTE}" if outcome.fuzzy else texts.done
    return ToolResult(f"<result>\n{message}\n</result>\n", metadata=meta)
