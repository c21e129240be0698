"""The ``glob`` tool: files whose paths match a pattern, newest first.

Source: Crush ``internal/agent/tools/glob.go`` and ``rg.go`` (parameter
names, ``rg --files --glob /<pattern>``, 100 results, the notes, the 30 s
default time limit); docs/agent.md 2.2. Differences: both the ``rg`` and the
fallback path list newest first (upstream's ``rg`` path sorts by length);
searching outside the workspace asks permission (action ``list``; upstream
searches anywhere without asking), and the wait for the answer is not part of
the time limit.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from . import _rg
from ._ignore import IgnoreRules
from ._input import InputError, parse_input, prop, schema
from ._paths import OutsideDeniedError, resolve_gated
from ._search import (
    MAX_SEARCH_RESULTS,
    TRUNCATED_NOTE,
    kept,
    newest_first,
    rg_ignore_args,
    search_folder,
    timeout_seconds,
)
from ._thread import run_stoppable
from ._types import PermissionAsk, ToolCall, ToolContext, ToolResult
from ._walk import glob_regex, walk

if TYPE_CHECKING:
    from crushd.config import Config

#: Time limit when ``tools.glob.timeout`` is not set, seconds.
DEFAULT_GLOB_TIMEOUT_SECONDS = 30.0
#: Candidates gathered before sorting by time; more only marks the list cut.
_CANDIDATE_POOL = 20_000
_RG_OUTPUT_BYTES = 4 * 1024 * 1024

GLOB_DESCRIPTION = f"""\
Find files by path pattern, such as `*.py` (in the folder itself), \
`**/*.ts` (at any depth) or `src/**/*.{{js,jsx}}`; the pattern is matched \
against paths relative to `path` (the workspace root when left out). Gives \
absolute paths, most recently modified first, at most {MAX_SEARCH_RESULTS}. \
Hidden files and what `.gitignore` or `.crushignore` exclude are left out. \
Use `grep` to search inside files."""

GLOB_PARAMETERS = schema(
    {
        "pattern": prop("string", "Glob pattern matched against relative paths"),
        "path": prop("string", "Folder to search; defaults to the workspace root"),
    },
    required=("pattern",),
)


class GlobTool:
    """``glob``: files matching a pattern (outside the workspace if allowed)."""

    def __init__(self, timeout_s: float = DEFAULT_GLOB_TIMEOUT_SECONDS) -> None:
        self.name = "glob"
        self.description = GLOB_DESCRIPTION
        self.parameters = GLOB_PARAMETERS
        self.parallel = True
        self.timeout_s = timeout_s

    @classmethod
    def from_config(cls, config: Config | None) -> GlobTool:
        """Build the tool with ``tools.glob.timeout`` (nanoseconds) applied."""
        configured = config.tools.glob.timeout if config is not None else 0
        return cls(timeout_seconds(configured, DEFAULT_GLOB_TIMEOUT_SECONDS))

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Return the matching paths, "No files found", or an error result.

        A folder outside the workspace is searched only when the user allows
        it (action ``list``); else the denied result.
        """
        try:
            args = parse_input(call.input, self.parameters)
            pattern = str(args["pattern"])
            if not pattern:
                raise InputError("pattern is required")
            ask = functools.partial(_ask, pattern, args.get("path"))
            folder = await resolve_gated(
                ctx, str(args.get("path") or ""), key="path", ask=ask
            )
            with trio.move_on_after(self.timeout_s):
                return await _glob(ctx.root, pattern, str(folder))
        except InputError as exc:
            return exc.result()
        except OutsideDeniedError:
            return ctx.denied()
        return ToolResult(
            content=f"glob timed out after {self.timeout_s:g} s; use a more "
            "specific path or pattern",
            is_error=True,
        )


def _ask(pattern: str, given: object, folder: Path) -> PermissionAsk:
    return PermissionAsk(
        tool_name="glob",
        action="list",
        path=str(folder),
        description=f"Find files outside working directory: {folder}",
        params={"pattern": pattern, "path": given or ""},
    )


async def _glob(root: Path, pattern: str, path: str) -> ToolResult:
    root, folder = await trio.to_thread.run_sync(search_folder, root, path)
    pattern = _relative_pattern(pattern, folder)
    listed = await _rg_files(root, folder, pattern)
    if listed is None:
        work = functools.partial(_walk_files, root, folder, pattern)
        listed = await run_stoppable(work)
    found, cut = listed
    stamped = await trio.to_thread.run_sync(newest_first, found)
    return _result([p for p, _ in stamped], cut)


def _relative_pattern(pattern: str, folder: Path) -> str:
    prefix = folder.as_posix().rstrip("/") + "/"
    return pattern.removeprefix(prefix)


async def _rg_files(
    root: Path, folder: Path, pattern: str
) -> tuple[list[Path], bool] | None:
    """List with ``rg``; None when there is none or it cannot start."""
    rg = _rg.find_rg()
    if rg is None:
        return None
    args = ["--files", "--null", *rg_ignore_args(root), "--glob", "/" + pattern]
    try:
        output = await _rg.run_rg(rg, args, cwd=folder, max_bytes=_RG_OUTPUT_BYTES)
    except OSError:
        return None
    if output.returncode not in {0, 1} and not output.stdout:
        raise InputError(f"error finding files: {output.stderr.strip()}")
    names = [n for n in output.stdout.decode("utf-8", "replace").split("\0") if n]
    cut = output.truncated or len(names) > _CANDIDATE_POOL
    found = [folder / n for n in names[:_CANDIDATE_POOL]]
    return await trio.to_thread.run_sync(kept, root, found), cut


def _walk_files(
    root: Path, folder: Path, pattern: str, should_stop: Callable[[], bool]
) -> tuple[list[Path], bool]:
    try:
        regex = glob_regex(pattern, anchored=True)
    except re.error as exc:
        raise InputError(f"error finding files: invalid pattern: {exc}") from None
    found: list[Path] = []
    for entry in walk(folder, IgnoreRules(root), should_stop=should_stop):
        if not entry.is_file:
            continue
        if regex.match(entry.path.relative_to(folder).as_posix()):
            if len(found) == _CANDIDATE_POOL:
                return found, True
            found.append(entry.path)
    return found, False


def _result(paths: list[Path], cut: bool) -> ToolResult:
    cut = cut or len(paths) > MAX_SEARCH_RESULTS
    paths = paths[:MAX_SEARCH_RESULTS]
    metadata = json.dumps({"number_of_files": len(paths), "truncated": cut})
    if not paths:
        return ToolResult(content="No files found", metadata=metadata)
    content = "\n".join(p.as_posix() for p in paths)
    return ToolResult(
        content=content + (TRUNCATED_NOTE if cut else ""), metadata=metadata
    )
