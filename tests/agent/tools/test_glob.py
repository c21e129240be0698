"""The ``glob`` tool, with ``rg`` and with the Python fallback."""

from __future__ import annotations

import json
import os
from pathlib import Path

from crushd.agent.tools import (
    MAX_SEARCH_RESULTS,
    GlobTool,
    PermissionAsk,
    ToolResult,
)

from ._gate import RecordingGate
from ._helpers import call, write
from .conftest import MakeContext


async def glob(
    ctx: MakeContext,
    pattern: str,
    *,
    permissions: RecordingGate | None = None,
    **more: str,
) -> ToolResult:
    made = ctx() if permissions is None else ctx(permissions=permissions)
    return await call(GlobTool(), made, json.dumps({"pattern": pattern, **more}))


def age(path: Path, seconds_ago: int) -> None:
    stamp = 1_700_000_000 - seconds_ago
    os.utime(path, (stamp, stamp))


async def test_absolute_paths_newest_first(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"old.go": "", "new.go": "", "mid.go": "", "x.txt": ""})
    for name, seconds in (("old.go", 300), ("mid.go", 200), ("new.go", 100)):
        age(workspace / name, seconds)
    result = await glob(make_ctx, "*.go")
    assert result.content.splitlines() == [
        f"{workspace}/new.go",
        f"{workspace}/mid.go",
        f"{workspace}/old.go",
    ]
    assert json.loads(result.metadata) == {"number_of_files": 3, "truncated": False}


async def test_star_stays_in_the_folder_and_double_star_goes_deep(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.go": "", "pkg/b.go": "", "pkg/deep/c.go": ""})
    top = await glob(make_ctx, "*.go")
    assert top.content == f"{workspace}/a.go"
    deep = await glob(make_ctx, "**/*.go")
    assert sorted(deep.content.splitlines()) == [
        f"{workspace}/a.go",
        f"{workspace}/pkg/b.go",
        f"{workspace}/pkg/deep/c.go",
    ]
    scoped = await glob(make_ctx, "pkg/*.go")
    assert scoped.content == f"{workspace}/pkg/b.go"


async def test_braces_and_path_parameter(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"web/a.ts": "", "web/b.tsx": "", "web/c.js": "", "d.ts": ""})
    result = await glob(make_ctx, "*.{ts,tsx}", path="web")
    assert sorted(result.content.splitlines()) == [
        f"{workspace}/web/a.ts",
        f"{workspace}/web/b.tsx",
    ]


async def test_hidden_ignored_and_build_files_are_left_out(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(
        workspace,
        {
            ".gitignore": "gen/\n",
            ".crushignore": "*.secret.go\n",
            "gen/x.go": "",
            ".hidden/y.go": "",
            "node_modules/z.go": "",
            "k.secret.go": "",
            "ok.go": "",
        },
    )
    result = await glob(make_ctx, "**/*.go")
    assert result.content == f"{workspace}/ok.go"


async def test_no_match_says_so(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    result = await glob(make_ctx, "*.nothing")
    assert not result.is_error
    assert result.content == "No files found"


async def test_at_most_100_results_with_a_note(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {f"f{n}.txt": "" for n in range(MAX_SEARCH_RESULTS + 20)})
    result = await glob(make_ctx, "*.txt")
    lines = result.content.splitlines()
    assert len(lines) == MAX_SEARCH_RESULTS + 2
    assert lines[-1].startswith("(Results are truncated.")
    assert json.loads(result.metadata) == {
        "number_of_files": MAX_SEARCH_RESULTS,
        "truncated": True,
    }


async def test_absolute_pattern_inside_the_folder_works(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.go": ""})
    result = await glob(make_ctx, f"{workspace}/*.go")
    assert result.content == f"{workspace}/a.go"


async def test_symlinks_are_not_followed(
    workspace: Path, make_ctx: MakeContext, tmp_path: Path, search_mode: str
) -> None:
    write(tmp_path, {"outside/s.go": ""})
    (workspace / "link").symlink_to(tmp_path / "outside")
    result = await glob(make_ctx, "**/*.go")
    assert result.content == "No files found"


async def test_outside_root_asks_list_permission_and_searches_when_allowed(
    workspace: Path, make_ctx: MakeContext, tmp_path: Path, search_mode: str
) -> None:
    """Outside the root, the searched folder's own ignore files apply."""
    outside = tmp_path / "outside"
    write(outside, {".gitignore": "gen/\n", "a.go": "", "gen/b.go": ""})
    gate = RecordingGate(allow=True)
    result = await glob(make_ctx, "**/*.go", path="../outside", permissions=gate)
    real = workspace.parent / "outside"
    assert result.content == f"{real}/a.go"
    assert gate.only_ask == PermissionAsk(
        tool_name="glob",
        action="list",
        path=str(real),
        description=f"Find files outside working directory: {real}",
        params={"pattern": "**/*.go", "path": "../outside"},
    )


async def test_outside_root_denied_gives_the_denied_result(
    make_ctx: MakeContext, tmp_path: Path, search_mode: str
) -> None:
    gate = RecordingGate(allow=False)
    result = await glob(make_ctx, "*", path=str(tmp_path), permissions=gate)
    assert result == make_ctx().denied()
    assert len(gate.asks) == 1


async def test_inside_the_root_asks_nothing(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"sub/a.go": ""})
    gate = RecordingGate(allow=False)
    for path in ("", "sub", str(workspace)):
        result = await glob(make_ctx, "**/*.go", path=path, permissions=gate)
        assert result.content == f"{workspace}/sub/a.go"
    assert gate.asks == []


async def test_missing_pattern_and_folder_are_errors(
    workspace: Path, make_ctx: MakeContext
) -> None:
    for text in ("{}", '{"pattern": ""}'):
        result = await call(GlobTool(), make_ctx(), text)
        assert result.is_error
        assert result.content == "pattern is required"
    missing = await glob(make_ctx, "*", path="nope")
    assert missing.content == f"path does not exist: {workspace / 'nope'}"


async def test_glob_pattern_does_not_undo_ignore_files(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    """rg's --glob overrides .gitignore; its results are checked again."""
    write(
        workspace,
        {".gitignore": "gen/\n*.pb.go\n", "gen/a.go": "", "x.pb.go": "", "b.go": ""},
    )
    result = await glob(make_ctx, "**/*.go")
    assert result.content == f"{workspace}/b.go"
