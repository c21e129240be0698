"""The ``grep`` tool: lines matching a regex, grouped by file, newest files first.

Source: Crush ``internal/agent/tools/grep.go`` (parameter names, the output
form, 100 matches, 500-column lines, the 5 s default time limit);
docs/agent.md 2.2. Differences: ``literal_text`` uses ``rg --fixed-strings``;
searching outside the workspace asks permission (action ``read``; upstream
searches anywhere without asking), and the wait for the answer is not part of
the time limit.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from . import _rg
from ._grep_search import Found, LineMatch, search_python, search_rg
from ._input import InputError, parse_input, prop, schema
from ._paths import OutsideDeniedError, resolve_gated
from ._search import (
    MAX_SEARCH_RESULTS,
    TRUNCATED_NOTE,
    newest_first,
    search_folder,
    timeout_seconds,
)
from ._thread import run_stoppable
from ._types import PermissionAsk, ToolCall, ToolContext, ToolResult

if TYPE_CHECKING:
    from crushd.config import Config

#: Time limit when ``tools.grep.timeout`` is not set, seconds.
DEFAULT_GREP_TIMEOUT_SECONDS = 5.0
#: Longest line text shown, characters; longer lines end in "...".
MAX_GREP_LINE_CHARS = 500

GREP_DESCRIPTION = f"""\
Search file contents for a regular expression (set `literal_text` to search \
for the text exactly). `path` is the folder to search (the workspace root when \
left out) and `include` limits the files by a glob such as `*.go` or \
`*.{{ts,tsx}}`. Answers with each matching file (most recently modified \
first) and under it `Line N, Char M: text` for each matching line, at most \
{MAX_SEARCH_RESULTS} matches; lines are cut at {MAX_GREP_LINE_CHARS} \
characters. Hidden, binary and ignored files are skipped. Use `glob` to find \
files by name."""

GREP_PARAMETERS = schema(
    {
        "pattern": prop("string", "Regular expression to look for in file contents"),
        "path": prop("string", "Folder to search; defaults to the workspace root"),
        "include": prop("string", 'Glob of the files to search, e.g. "*.py"'),
        "literal_text": prop("boolean", "Match the pattern as plain text (false)"),
    },
    required=("pattern",),
)


class GrepTool:
    """``grep``: search file contents (outside the workspace if allowed)."""

    def __init__(self, timeout_s: float = DEFAULT_GREP_TIMEOUT_SECONDS) -> None:
        self.name = "grep"
        self.description = GREP_DESCRIPTION
        self.parameters = GREP_PARAMETERS
        self.parallel = True
        self.timeout_s = timeout_s

    @classmethod
    def from_config(cls, config: Config | None) -> GrepTool:
        """Build the tool with ``tools.grep.timeout`` (nanoseconds) applied."""
        configured = config.tools.grep.timeout if config is not None else 0
        return cls(timeout_seconds(configured, DEFAULT_GREP_TIMEOUT_SECONDS))

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Return the grouped matches, "No files found", or an error result.

        A path outside the workspace is searched only when the user allows
        it (action ``read``); else the denied result.
        """
        try:
            args = parse_input(call.input, self.parameters)
            if not args["pattern"]:
                raise InputError("pattern is required")
            ask = functools.partial(_ask, args)
            folder = await resolve_gated(
                ctx, str(args.get("path") or ""), key="path", ask=ask
            )
            with trio.move_on_after(self.timeout_s):
                return await _grep(ctx.root, folder, args)
        except InputError as exc:
            return exc.result()
        except OutsideDeniedError:
            return ctx.denied()
        return ToolResult(
            content=f"grep timed out after {self.timeout_s:g} s; use a more "
            "specific path, include or pattern",
            is_error=True,
        )


def _ask(args: dict[str, object], path: Path) -> PermissionAsk:
    params = {
        key: args.get(key, default)
        for key, default in (
            ("pattern", ""),
            ("path", ""),
            ("include", ""),
            ("literal_text", False),
        )
    }
    return PermissionAsk(
        tool_name="grep",
        action="read",
        path=str(path),
        description=f"Search file contents outside working directory: {path}",
        params=params,
    )


async def _grep(root: Path, path: Path, args: dict[str, object]) -> ToolResult:
    root, folder = await trio.to_thread.run_sync(
        functools.partial(search_folder, root, str(path), allow_file=True)
    )
    pattern, include = str(args["pattern"]), str(args.get("include", ""))
    literal = args.get("literal_text") is True
    found = await _search_rg(root, folder, pattern, include, literal=literal)
    if found is None:
        work = functools.partial(
            search_python, root, folder, pattern, include, literal=literal
        )
        found = await run_stoppable(lambda stop: work(should_stop=stop))
    matches = await trio.to_thread.run_sync(_newest_files_first, found.matches)
    return render_matches(matches, cut=found.cut)


async def _search_rg(
    root: Path, folder: Path, pattern: str, include: str, *, literal: bool
) -> Found | None:
    """Search with ``rg``; None when there is none or it cannot start."""
    rg = _rg.find_rg()
    if rg is None:
        return None
    single_file = await trio.to_thread.run_sync(folder.is_file)
    try:
        return await search_rg(
            rg, root, folder, pattern, include, literal=literal, single_file=single_file
        )
    except OSError:
        return None


def _newest_files_first(matches: list[LineMatch]) -> list[LineMatch]:
    order = {
        path: rank
        for rank, (path, _) in enumerate(
            newest_first(dict.fromkeys(m.path for m in matches))
        )
    }
    kept = [m for m in matches if m.path in order]
    return sorted(kept, key=lambda m: (order[m.path], m.line))


def render_matches(matches: list[LineMatch], *, cut: bool) -> ToolResult:
    """Return the grep answer for ``matches`` (already in display order).

    At most ``MAX_SEARCH_RESULTS`` are shown, each file's name once
    (``path:``), then ``  Line N, Char M: text`` per line; a note ends a cut
    list. Metadata: ``{"number_of_matches", "truncated"}``.
    """
    cut = cut or len(matches) > MAX_SEARCH_RESULTS
    matches = matches[:MAX_SEARCH_RESULTS]
    metadata = json.dumps({"number_of_matches": len(matches), "truncated": cut})
    if not matches:
        return ToolResult(content="No files found", metadata=metadata)
    lines = [f"Found {len(matches)} matches"]
    current: Path | None = None
    for match in matches:
        if match.path != current:
            lines += [""] if current is not None else []
            lines.append(f"{match.path.as_posix()}:")
            current = match.path
        lines.append(f"  Line {match.line}, Char {match.column}: {_cut(match.text)}")
    content = "\n".join(lines) + "\n" + (TRUNCATED_NOTE[1:] if cut else "")
    return ToolResult(content=content, metadata=metadata)


def _cut(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_GREP_LINE_CHARS:
        return text[: MAX_GREP_LINE_CHARS - 3] + "..."
    return text
