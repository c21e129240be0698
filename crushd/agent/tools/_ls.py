"""The ``ls`` tool: a folder's tree, leaving out what is hidden or ignored.

Source: Crush ``internal/agent/tools/ls.go`` and ``internal/fsext/ls.go``
(parameter names, the tree form, the notes, ``tools.ls`` limits);
docs/agent.md 2.2. Listing outside the workspace asks permission (action
``list``). Differences: symlinked folders are shown but not entered.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ._ignore import IgnoreRules
from ._input import InputError, parse_input, prop, schema
from ._paths import OutsideDeniedError, resolve_gated, tree_root
from ._thread import run_stoppable
from ._types import PermissionAsk, ToolCall, ToolContext, ToolResult
from ._walk import Entry, walk

if TYPE_CHECKING:
    from crushd.config import Config

#: Entries listed when ``tools.ls.max_items`` is not set.
DEFAULT_LS_ITEMS = 1000

LS_DESCRIPTION = f"""\
List a folder of the workspace as a tree (folders end in `/`). `path` is the \
folder (the workspace root when left out), `ignore` takes glob patterns of \
names to leave out, and `depth` limits how many levels are shown. Hidden \
entries, dependency and build folders and what `.gitignore` or `.crushignore` \
exclude are not listed; at most {DEFAULT_LS_ITEMS} entries are shown, with a \
note when there are more. Use `glob` to find files by pattern."""

LS_PARAMETERS = schema(
    {
        "path": prop("string", "Folder to list; defaults to the workspace root"),
        "ignore": prop(
            "array", "Glob patterns of names to leave out", items={"type": "string"}
        ),
        "depth": prop("integer", "How many levels to show (1 = the folder's entries)"),
    }
)


@attrs.frozen
class LsLimits:
    """``tools.ls`` settings: 0 means "no depth limit" / "the default count"."""

    max_depth: int = 0
    max_items: int = 0

    @classmethod
    def from_config(cls, config: Config | None) -> LsLimits:
        """Read the limits from ``config.tools.ls`` (defaults when None)."""
        if config is None:
            return cls()
        return cls(config.tools.ls.max_depth, config.tools.ls.max_items)


class LsTool:
    """``ls``: a folder's tree; outside the workspace if the user allows it."""

    def __init__(self, limits: LsLimits | None = None) -> None:
        self.name = "ls"
        self.description = LS_DESCRIPTION
        self.parameters = LS_PARAMETERS
        self.parallel = True
        self.limits = limits or LsLimits()

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Return the tree of ``path`` (a text result) or an error result.

        A folder outside the workspace is listed only when the user allows
        it; else the denied result.
        """
        try:
            args = parse_input(call.input, self.parameters)
            ask = functools.partial(_ask, args)
            given = str(args.get("path", ""))
            folder = await resolve_gated(ctx, given, key="path", ask=ask)
            work = functools.partial(_ls, ctx.root, folder, args, self.limits)
            return await run_stoppable(work)
        except InputError as exc:
            return exc.result()
        except OutsideDeniedError:
            return ctx.denied()


def _ask(args: dict[str, object], folder: Path) -> PermissionAsk:
    return PermissionAsk(
        tool_name="ls",
        action="list",
        path=str(folder),
        description=f"List directory outside working directory: {folder}",
        params={
            "path": args.get("path", ""),
            "ignore": args.get("ignore"),
            "depth": _int(args.get("depth")),
        },
    )


def _ls(
    root: Path,
    folder: Path,
    args: dict[str, object],
    limits: LsLimits,
    should_stop: Callable[[], bool],
) -> ToolResult:
    if not folder.exists():
        raise InputError(f"path does not exist: {folder}")
    if not folder.is_dir():
        raise InputError(f"path is not a directory: {folder}")
    depth = _int(args.get("depth")) or limits.max_depth
    max_items = limits.max_items or DEFAULT_LS_ITEMS
    rules = _rules(tree_root(root, folder), args.get("ignore"))
    entries: list[Entry] = []
    for entry in walk(folder, rules, max_depth=depth, should_stop=should_stop):
        if len(entries) == max_items:
            break
        entries.append(entry)
    else:
        max_items = 0  # the walk ended on its own: nothing was left out
    return _result(folder, entries, max_items, limits.max_depth and depth)


def _int(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _rules(root: Path, ignore: object) -> IgnoreRules:
    globs = [str(g) for g in ignore] if isinstance(ignore, list) else []
    try:
        return IgnoreRules(root, extra_globs=globs)
    except re.error as exc:
        raise InputError(f"invalid ignore pattern: {exc}") from None


def _result(
    folder: Path, entries: Sequence[Entry], cut_at: int, shown_depth: int
) -> ToolResult:
    notes = ""
    if cut_at:
        notes += (
            f"There are more than {cut_at} files in the directory. Use a more "
            "specific path or use the glob tool to find specific files. "
            f"The first {cut_at} files and directories are included below.\n"
        )
    if shown_depth:
        notes += (
            f"The directory tree is shown up to a depth of {shown_depth}. Use a "
            "higher depth and a specific path to see more levels.\n"
        )
    metadata = json.dumps({"number_of_files": len(entries), "truncated": bool(cut_at)})
    return ToolResult(
        content=f"{notes}\n{render_tree(folder, entries)}", metadata=metadata
    )


def render_tree(folder: Path, entries: Sequence[Entry]) -> str:
    """Return ``entries`` as an indented tree under ``- <folder>/``.

    Each level indents two spaces; in a folder, sub-folders (``- name/``)
    come before files (``- name``), each group sorted by name.
    """
    children: dict[Path, list[Entry]] = {}
    for entry in entries:
        children.setdefault(entry.path.parent, []).append(entry)
    lines = [f"- {folder.as_posix().rstrip('/')}/"]
    _render(folder, children, 1, lines)
    return "\n".join(lines) + "\n"


def _render(
    folder: Path, children: dict[Path, list[Entry]], level: int, lines: list[str]
) -> None:
    below = sorted(children.get(folder, []), key=lambda e: (not e.is_dir, e.path.name))
    for entry in below:
        slash = "/" if entry.is_dir else ""
        lines.append(f"{'  ' * level}- {entry.path.name}{slash}")
        if entry.is_dir:
            _render(entry.path, children, level + 1, lines)
