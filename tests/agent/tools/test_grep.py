"""The ``grep`` tool, with ``rg`` and with the Python fallback."""

from __future__ import annotations

import json
import os
from pathlib import Path

from crushd.agent.tools import (
    MAX_GREP_LINE_CHARS,
    MAX_SEARCH_RESULTS,
    GrepTool,
    PermissionAsk,
    ToolResult,
)

from ._gate import RecordingGate
from ._helpers import call, write
from .conftest import MakeContext


async def grep(
    ctx: MakeContext,
    pattern: str,
    *,
    permissions: RecordingGate | None = None,
    **more: object,
) -> ToolResult:
    made = ctx() if permissions is None else ctx(permissions=permissions)
    return await call(GrepTool(), made, json.dumps({"pattern": pattern, **more}))


def age(path: Path, seconds_ago: int) -> None:
    stamp = 1_700_000_000 - seconds_ago
    os.utime(path, (stamp, stamp))


async def test_grouped_output_newest_file_first(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(
        workspace,
        {"old.go": "func main() {\n}\nfunc helper() {}\n", "new.go": "  func x()\n"},
    )
    age(workspace / "old.go", 200)
    age(workspace / "new.go", 100)
    result = await grep(make_ctx, "func")
    assert result.content == (
        "Found 3 matches\n"
        f"{workspace}/new.go:\n"
        "  Line 1, Char 3: func x()\n"
        "\n"
        f"{workspace}/old.go:\n"
        "  Line 1, Char 1: func main() {\n"
        "  Line 3, Char 1: func helper() {}\n"
    )
    assert json.loads(result.metadata) == {"number_of_matches": 3, "truncated": False}


async def test_column_counts_characters_not_bytes(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.txt": "héllo wörld\n"})
    result = await grep(make_ctx, "w.rld")
    assert "  Line 1, Char 7: héllo wörld" in result.content


async def test_one_entry_per_line_at_the_first_match(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.txt": "ab ab ab\n"})
    result = await grep(make_ctx, "ab")
    assert result.content.endswith("  Line 1, Char 1: ab ab ab\n")
    assert result.content.startswith("Found 1 matches")


async def test_include_limits_the_files(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.go": "needle\n", "b.py": "needle\n", "sub/c.go": "needle\n"})
    result = await grep(make_ctx, "needle", include="*.go")
    assert f"{workspace}/a.go:" in result.content
    assert f"{workspace}/sub/c.go:" in result.content
    assert "b.py" not in result.content
    braces = await grep(make_ctx, "needle", include="*.{py,rs}")
    assert braces.content.startswith("Found 1 matches")


async def test_literal_text_matches_regex_characters(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.txt": "call f(x)\nfxx\n"})
    literal = await grep(make_ctx, "f(x)", literal_text=True)
    assert literal.content.startswith("Found 1 matches")
    assert "Line 1, Char 6" in literal.content
    regex = await grep(make_ctx, "f(x)")
    assert "Line 2, Char 1: fxx" in regex.content


async def test_invalid_regex_is_an_error(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.txt": "x\n"})
    result = await grep(make_ctx, "(unclosed")
    assert result.is_error
    assert result.content.startswith("error searching files:")


async def test_pattern_starting_with_a_dash_is_a_pattern(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.txt": "x --flag\n"})
    result = await grep(make_ctx, "--flag")
    assert "Line 1, Char 3: x --flag" in result.content


async def test_long_lines_are_cut_at_500_characters(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.txt": "needle" + "z" * 2000 + "\n"})
    result = await grep(make_ctx, "needle")
    shown = result.content.splitlines()[2].split(": ", 1)[1]
    assert len(shown) == MAX_GREP_LINE_CHARS
    assert shown.endswith("...")


async def test_at_most_100_matches_with_a_note(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.txt": "hit\n" * (MAX_SEARCH_RESULTS + 30)})
    result = await grep(make_ctx, "hit")
    assert result.content.startswith(f"Found {MAX_SEARCH_RESULTS} matches")
    assert result.content.endswith(
        "\n\n(Results are truncated. Consider using a more specific path or pattern.)"
    )
    assert json.loads(result.metadata)["truncated"] is True


async def test_hidden_ignored_binary_and_linked_files_are_skipped(
    workspace: Path, make_ctx: MakeContext, tmp_path: Path, search_mode: str
) -> None:
    write(tmp_path, {"outside/o.txt": "needle\n"})
    write(
        workspace,
        {
            ".gitignore": "gen/\n",
            ".crushignore": "*.secret\n",
            "gen/g.txt": "needle\n",
            ".env": "needle\n",
            "node_modules/n.js": "needle\n",
            "k.secret": "needle\n",
            "bin.dat": b"needle\0\0\0",
            "ok.txt": "needle\n",
        },
    )
    (workspace / "link").symlink_to(tmp_path / "outside")
    (workspace / "filelink.txt").symlink_to(tmp_path / "outside" / "o.txt")
    result = await grep(make_ctx, "needle")
    assert (
        result.content
        == f"Found 1 matches\n{workspace}/ok.txt:\n  Line 1, Char 1: needle\n"
    )
    included = await grep(make_ctx, "needle", include="*.txt")
    assert included.content == result.content  # --glob does not undo ignores


async def test_no_match_says_so(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {"a.txt": "x\n"})
    result = await grep(make_ctx, "nothing-here")
    assert not result.is_error
    assert result.content == "No files found"


async def test_path_parameter_and_the_root_boundary(
    workspace: Path, make_ctx: MakeContext, tmp_path: Path, search_mode: str
) -> None:
    write(workspace, {"a/x.txt": "hit\n", "b/y.txt": "hit\n"})
    scoped = await grep(make_ctx, "hit", path="a")
    assert "x.txt" in scoped.content
    assert "y.txt" not in scoped.content
    gate = RecordingGate(allow=False)
    inside = await grep(make_ctx, "hit", path=str(workspace / "b"), permissions=gate)
    assert "y.txt" in inside.content
    assert gate.asks == []  # inside the root: nothing asked
    outside = await grep(make_ctx, "hit", path=str(tmp_path), permissions=gate)
    assert outside == make_ctx().denied()
    assert gate.only_ask.action == "read"


async def test_outside_root_asks_read_permission_and_searches_when_allowed(
    workspace: Path, make_ctx: MakeContext, tmp_path: Path, search_mode: str
) -> None:
    """A folder or one file outside the root; the folder's ignore files apply."""
    outside = tmp_path / "outside"
    write(outside, {".gitignore": "gen/\n", "o.txt": "hit\n", "gen/g.txt": "hit\n"})
    real = workspace.parent / "outside"
    for path, asked in (("../outside", real), (str(outside / "o.txt"), real / "o.txt")):
        gate = RecordingGate(allow=True)
        result = await grep(make_ctx, "hit", path=path, permissions=gate)
        assert (
            result.content == f"Found 1 matches\n{real}/o.txt:\n  Line 1, Char 1: hit\n"
        )
        assert gate.only_ask == PermissionAsk(
            tool_name="grep",
            action="read",
            path=str(asked),
            description=f"Search file contents outside working directory: {asked}",
            params={
                "pattern": "hit",
                "path": path,
                "include": "",
                "literal_text": False,
            },
        )


async def test_bad_input_is_an_error(make_ctx: MakeContext) -> None:
    for text, message in (
        ("{}", "pattern is required"),
        ('{"pattern": ""}', "pattern is required"),
        ('{"pattern": "x", "literal_text": "yes"}', "literal_text must be a boolean"),
        ("[1, 2]", "invalid input: expected a JSON object of parameters"),
    ):
        result = await call(GrepTool(), make_ctx(), text)
        assert result.is_error
        assert result.content == message


async def test_path_may_name_one_file_even_an_ignored_one(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    write(workspace, {".gitignore": "gen.txt\n", "gen.txt": "hit\n", "b.txt": "hit\n"})
    result = await grep(make_ctx, "hit", path="gen.txt")
    assert (
        result.content
        == f"Found 1 matches\n{workspace}/gen.txt:\n  Line 1, Char 1: hit\n"
    )


async def test_include_glob_does_not_undo_ignore_files(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    """rg's --glob overrides .gitignore; its matches are checked again."""
    write(
        workspace,
        {
            ".gitignore": "gen/\n*.pb.go\n",
            "gen/a.go": "hit\n",
            "x.pb.go": "hit\n",
            "b.go": "hit\n",
        },
    )
    result = await grep(make_ctx, "hit", include="*.go")
    assert (
        result.content == f"Found 1 matches\n{workspace}/b.go:\n  Line 1, Char 1: hit\n"
    )
