"""The ``ls`` tool: the tree form, ignores, depth, limits, the root boundary."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from crushd.agent.tools import (
    DEFAULT_LS_ITEMS,
    LsLimits,
    LsTool,
    PermissionAsk,
    ToolResult,
    build_tools,
)
from crushd.config import Config, Tools
from crushd.config import LsTool as LsConfig

from ._gate import RecordingGate
from ._helpers import call, write
from .conftest import MakeContext


async def ls(
    ctx: MakeContext, args: Mapping[str, object], tool: LsTool | None = None
) -> ToolResult:
    return await call(tool or LsTool(), ctx(), json.dumps(args))


async def test_tree_matches_upstream_form(
    workspace: Path, make_ctx: MakeContext
) -> None:
    """``\\n- <root>/`` then two-space indented entries, folders first."""
    write(workspace, {"main.go": "", "go.mod": "", "pkg/util/a.go": "", "pkg/b.go": ""})
    result = await ls(make_ctx, {})
    assert result.content == (
        f"\n- {workspace}/\n  - pkg/\n    - util/\n      - a.go\n    - b.go\n"
        "  - go.mod\n  - main.go\n"
    )
    assert json.loads(result.metadata) == {"number_of_files": 6, "truncated": False}


async def test_hidden_build_and_gitignored_entries_are_skipped(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(
        workspace,
        {
            ".gitignore": "secret/\n*.gen.go\n!keep.gen.go\n/only_root.txt\n",
            ".crushignore": "drafts\n",
            ".env": "",
            ".git/config": "",
            "node_modules/x.js": "",
            "__pycache__/m.pyc": "",
            "build/out.o": "",
            "app.log": "",
            "secret/k.txt": "",
            "a.gen.go": "",
            "keep.gen.go": "",
            "only_root.txt": "",
            "sub/only_root.txt": "",
            "sub/drafts/d.md": "",
            "sub/.gitignore": "local.txt\n",
            "sub/local.txt": "",
            "local.txt": "",
            "main.go": "",
        },
    )
    result = await ls(make_ctx, {})
    listed = result.content.split("/\n", 1)[1]  # the entries, not the root line
    for gone in (".env", ".git", "node_modules", "__pycache__", "build", "app.log"):
        assert gone not in listed
    for gone in ("secret", "a.gen.go", "drafts", "d.md"):
        assert gone not in listed
    assert "keep.gen.go" in listed  # re-included with !
    assert listed.count("only_root.txt") == 1  # anchored to the root's folder
    assert listed.count("local.txt") == 1  # sub's .gitignore applies below sub only
    assert "  - sub/\n    - only_root.txt\n" in listed


async def test_ignore_globs_leave_out_names(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"a.py": "", "b.txt": "", "docs/c.py": ""})
    result = await ls(make_ctx, {"ignore": ["*.py"]})
    assert result.content == f"\n- {workspace}/\n  - docs/\n  - b.txt\n"


async def test_depth_limits_the_levels(workspace: Path, make_ctx: MakeContext) -> None:
    write(workspace, {"a/b/c/d.txt": "", "top.txt": ""})
    result = await ls(make_ctx, {"depth": 2})
    assert result.content == f"\n- {workspace}/\n  - a/\n    - b/\n  - top.txt\n"


async def test_configured_max_depth_applies_with_a_note(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"a/b/c.txt": ""})
    result = await ls(make_ctx, {}, LsTool(LsLimits(max_depth=1)))
    assert result.content.startswith("The directory tree is shown up to a depth of 1.")
    assert result.content.endswith(f"- {workspace}/\n  - a/\n")


async def test_item_limit_cuts_with_a_note(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {f"f{n:04}.txt": "" for n in range(DEFAULT_LS_ITEMS + 5)})
    result = await ls(make_ctx, {})
    assert result.content.startswith(
        f"There are more than {DEFAULT_LS_ITEMS} files in the directory."
    )
    assert result.content.count("  - f") == DEFAULT_LS_ITEMS
    assert json.loads(result.metadata) == {
        "number_of_files": DEFAULT_LS_ITEMS,
        "truncated": True,
    }


async def test_exactly_the_limit_is_not_truncated(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {f"f{n}.txt": "" for n in range(3)})
    result = await ls(make_ctx, {}, LsTool(LsLimits(max_items=3)))
    assert not result.content.startswith("There are more")
    assert json.loads(result.metadata)["truncated"] is False


async def test_config_limits_reach_the_tool(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {f"f{n}.txt": "" for n in range(5)})
    config = Config(tools=Tools(ls=LsConfig(max_depth=0, max_items=2)))
    tool = next(t for t in build_tools(config) if t.name == "ls")
    result = await call(tool, make_ctx(), "{}")
    assert result.content.startswith("There are more than 2 files")


async def test_breadth_first_cut_keeps_shallow_entries(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"a/deep1.txt": "", "a/deep2.txt": "", "z.txt": ""})
    result = await ls(make_ctx, {}, LsTool(LsLimits(max_items=2)))
    assert "  - a/\n" in result.content
    assert "  - z.txt\n" in result.content


async def test_subfolder_path_lists_that_folder(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"sub/x.txt": "", ".gitignore": "sub/x.txt\n", "sub/y.txt": ""})
    result = await ls(make_ctx, {"path": "sub"})
    assert result.content == f"\n- {workspace}/sub/\n  - y.txt\n"


async def test_missing_path_and_file_path_are_errors(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"f.txt": ""})
    missing = await ls(make_ctx, {"path": "nope"})
    assert missing.is_error
    assert missing.content == f"path does not exist: {workspace / 'nope'}"
    a_file = await ls(make_ctx, {"path": "f.txt"})
    assert a_file.is_error


async def test_outside_root_asks_list_permission_and_lists_when_allowed(
    workspace: Path, make_ctx: MakeContext, tmp_path: Path
) -> None:
    """Outside the root, the listed folder's own ignore files apply."""
    outside = tmp_path / "outside"
    write(outside, {".gitignore": "skip.txt\n", "a.txt": "", "skip.txt": ""})
    (workspace / "out").symlink_to(outside)
    real = workspace.parent / "outside"
    for given in ("../outside", str(outside), "out"):
        gate = RecordingGate(allow=True)
        args = {"path": given, "ignore": ["*.md"], "depth": 2}
        result = await call(LsTool(), make_ctx(permissions=gate), json.dumps(args))
        assert result.content == f"\n- {real}/\n  - a.txt\n"
        assert gate.only_ask == PermissionAsk(
            tool_name="ls",
            action="list",
            path=str(real),
            description=f"List directory outside working directory: {real}",
            params={"path": given, "ignore": ["*.md"], "depth": 2},
        )


async def test_outside_root_denied_gives_the_denied_result(
    workspace: Path, make_ctx: MakeContext
) -> None:
    gate = RecordingGate(allow=False)
    result = await call(LsTool(), make_ctx(permissions=gate), '{"path": ".."}')
    assert result == make_ctx().denied()
    assert gate.only_ask.params == {"path": "..", "ignore": None, "depth": 0}
    assert gate.only_ask.path == str(workspace.parent)


async def test_inside_the_root_asks_nothing(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"sub/a.txt": ""})
    gate = RecordingGate(allow=False)
    for args in ({}, {"path": "sub"}, {"path": str(workspace)}, {"path": "sub/.."}):
        result = await call(LsTool(), make_ctx(permissions=gate), json.dumps(args))
        assert not result.is_error
    assert gate.asks == []


async def test_symlinked_folders_are_shown_but_not_entered(
    workspace: Path, make_ctx: MakeContext, tmp_path: Path
) -> None:
    write(tmp_path, {"elsewhere/secret.txt": ""})
    (workspace / "link").symlink_to(tmp_path / "elsewhere")
    result = await ls(make_ctx, {})
    assert "  - link\n" in result.content
    assert "secret" not in result.content


async def test_bad_input_types_are_errors(make_ctx: MakeContext) -> None:
    for args, message in (
        ({"depth": "2"}, "depth must be an integer"),
        ({"ignore": "*.py"}, "ignore must be an array"),
        ({"ignore": [1]}, "ignore[0] must be a string"),
    ):
        result = await ls(make_ctx, args)
        assert result.is_error
        assert result.content == message
