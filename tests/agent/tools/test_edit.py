"""The ``edit`` tool: create, replace, delete; permission, freshness, CRLF, history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import attrs
import pytest

from crushd.agent.tools import PermissionAsk, Tool, ToolResult, ViewTool
from crushd.agent.tools._edit import EditTool
from crushd.agent.tools._match import WHITESPACE_NOTE
from crushd.agent.tools._multiedit import MultiEditTool
from crushd.agent.tools._write import WriteTool

from ._gate import RecordingGate
from ._helpers import call, write
from ._write_helpers import WriteEnv, set_mtime
from .conftest import MakeContext


class Env(WriteEnv):
    """``WriteEnv`` that calls ``edit``."""

    async def edit(self, **args: object) -> ToolResult:
        return await call(EditTool(), self.ctx, json.dumps(args))


@pytest.fixture
def env(make_ctx: MakeContext, workspace: Path) -> Env:
    return Env(make_ctx, workspace)


async def test_replace_asks_write_on_the_root_then_writes(
    env: Env, workspace: Path
) -> None:
    write(workspace, {"a.txt": "one\ntwo\nthree\n"})
    path = await env.read("a.txt")
    result = await env.edit(file_path="a.txt", old_string="two", new_string="TWO")
    assert not result.is_error, result.content
    assert result.content == f"<result>\nContent replaced in file: {path}\n</result>\n"
    assert path.read_text() == "one\nTWO\nthree\n"
    assert env.gate.asks[0][:2] == ("s1", "call_1")
    assert env.gate.only_ask == PermissionAsk(
        tool_name="edit",
        action="write",
        path=str(workspace),
        description=f"Replace content in file {path}",
        params={
            "file_path": str(path),
            "old_content": "one\ntwo\nthree\n",
            "new_content": "one\nTWO\nthree\n",
        },
    )
    meta = json.loads(result.metadata)
    assert (meta["additions"], meta["removals"]) == (1, 1)
    assert env.history.writes == [
        ("s1", path, "one\ntwo\nthree\n", "one\nTWO\nthree\n")
    ]
    assert env.reads.recorded[-1] == ("s1", path)


async def test_a_file_never_read_is_refused(env: Env, workspace: Path) -> None:
    write(workspace, {"a.txt": "x\n"})
    result = await env.edit(file_path="a.txt", old_string="x", new_string="y")
    assert result.is_error
    assert result.content == (
        "you must read the file before editing it. Use the View tool first"
    )
    assert (workspace / "a.txt").read_text() == "x\n"
    assert env.gate.asks == []


async def test_a_file_changed_since_read_is_refused(env: Env, workspace: Path) -> None:
    write(workspace, {"a.txt": "x\n"})
    path = await env.read("a.txt")
    later = int(env.reads.times["s1", path] + 5) * 1_000_000_000
    set_mtime(path, later)
    result = await env.edit(file_path="a.txt", old_string="x", new_string="y")
    assert result.is_error
    assert result.content.startswith(
        f"file {path} has been modified since it was last read"
    )
    assert "(mod time: " in result.content
    assert env.gate.asks == []


async def test_view_then_edit_through_the_real_view_tool(
    env: Env, workspace: Path
) -> None:
    """``view`` records the resolved path; ``edit`` of a relative name finds it."""
    write(workspace, {"src/m.py": "x = 1\n"})
    viewed = await call(ViewTool(), env.ctx, json.dumps({"file_path": "src/m.py"}))
    assert not viewed.is_error
    result = await env.edit(
        file_path="src/m.py", old_string="x = 1", new_string="x = 2"
    )
    assert not result.is_error, result.content
    assert (workspace / "src/m.py").read_text() == "x = 2\n"


async def test_crlf_file_stays_crlf(env: Env, workspace: Path) -> None:
    write(workspace, {"w.txt": b"alpha\r\nbeta\r\n"})
    path = await env.read("w.txt")
    result = await env.edit(file_path="w.txt", old_string="beta", new_string="BETA")
    assert not result.is_error, result.content
    assert path.read_bytes() == b"alpha\r\nBETA\r\n"
    params = env.gate.only_ask.params
    assert params == {
        "file_path": str(path),
        "old_content": "alpha\nbeta\n",
        "new_content": "alpha\nBETA\n",
    }
    meta = json.loads(result.metadata)
    assert meta["old_content"] == "alpha\nbeta\n"
    assert meta["new_content"] == "alpha\r\nBETA\r\n"
    assert env.history.writes == [
        ("s1", path, "alpha\r\nbeta\r\n", "alpha\r\nBETA\r\n")
    ]


async def test_multiline_match_across_crlf(env: Env, workspace: Path) -> None:
    write(workspace, {"w.txt": b"a\r\nb\r\nc\r\n"})
    path = await env.read("w.txt")
    result = await env.edit(file_path="w.txt", old_string="a\nb", new_string="A\nB")
    assert not result.is_error, result.content
    assert path.read_bytes() == b"A\r\nB\r\nc\r\n"


async def test_empty_old_string_creates_the_file_and_parents(
    env: Env, workspace: Path
) -> None:
    result = await env.edit(file_path="new/dir/h.txt", old_string="", new_string="hi\n")
    path = workspace / "new/dir/h.txt"
    assert not result.is_error, result.content
    assert result.content == f"<result>\nFile created: {path}\n</result>\n"
    assert path.read_text() == "hi\n"
    ask = env.gate.only_ask
    assert ask.description == f"Create file {path}"
    assert ask.params == {"file_path": str(path), "new_content": "hi\n"}
    assert env.history.writes == [("s1", path, "", "hi\n")]
    assert env.reads.recorded == [("s1", path)]
    assert json.loads(result.metadata) == {
        "additions": 1,
        "removals": 0,
        "new_content": "hi\n",
    }


async def test_create_refuses_an_existing_file_or_folder(
    env: Env, workspace: Path
) -> None:
    write(workspace, {"a.txt": "x"})
    (workspace / "d").mkdir()
    result = await env.edit(file_path="a.txt", old_string="", new_string="y")
    assert (result.is_error, result.content) == (
        True,
        f"file already exists: {workspace / 'a.txt'}",
    )
    result = await env.edit(file_path="d", old_string="", new_string="y")
    assert result.content == f"path is a directory, not a file: {workspace / 'd'}"
    assert env.gate.asks == []


async def test_empty_new_string_deletes(env: Env, workspace: Path) -> None:
    write(workspace, {"a.txt": "keep\ndrop\nkeep2\n"})
    path = await env.read("a.txt")
    result = await env.edit(file_path="a.txt", old_string="drop\n", new_string="")
    assert result.content == f"<result>\nContent deleted from file: {path}\n</result>\n"
    assert path.read_text() == "keep\nkeep2\n"
    assert env.gate.only_ask.description == f"Delete content from file {path}"


async def test_same_content_is_an_error(env: Env, workspace: Path) -> None:
    write(workspace, {"a.txt": "x = 1\n"})
    await env.read("a.txt")
    result = await env.edit(file_path="a.txt", old_string="x = 1", new_string="x = 1")
    assert result.is_error
    assert result.content == "new content is the same as old content. No changes made."
    assert env.gate.asks == []


async def test_ambiguous_and_missing_text_are_errors(env: Env, workspace: Path) -> None:
    write(workspace, {"a.txt": "x\ny\nx\n"})
    await env.read("a.txt")
    result = await env.edit(file_path="a.txt", old_string="x", new_string="z")
    assert result.is_error
    assert "appears multiple times" in result.content
    result = await env.edit(file_path="a.txt", old_string="nope", new_string="z")
    assert result.content.startswith("old_string not found in file")
    assert (workspace / "a.txt").read_text() == "x\ny\nx\n"
    result = await env.edit(
        file_path="a.txt", old_string="x", new_string="z", replace_all=True
    )
    assert not result.is_error
    assert (workspace / "a.txt").read_text() == "z\ny\nz\n"


async def test_whitespace_tolerant_edit_says_so(env: Env, workspace: Path) -> None:
    write(workspace, {"m.go": "func main() {\n\tfoo()\n}\n"})
    path = await env.read("m.go")
    result = await env.edit(
        file_path="m.go", old_string="    foo()", new_string="    bar()"
    )
    assert not result.is_error, result.content
    assert WHITESPACE_NOTE in result.content
    assert path.read_text() == "func main() {\n\tbar()\n}\n"


async def test_denied_ends_the_turn_and_changes_nothing(
    make_ctx: MakeContext, workspace: Path
) -> None:
    env = Env(make_ctx, workspace, allow=False)
    write(workspace, {"a.txt": "x\n"})
    await env.read("a.txt")
    result = await env.edit(file_path="a.txt", old_string="x", new_string="y")
    assert (result.content, result.is_error, result.stop_turn) == (
        "User denied permission",
        True,
        True,
    )
    assert json.loads(result.metadata)["new_content"] == "y\n"
    assert (workspace / "a.txt").read_text() == "x\n"
    assert env.history.writes == []
    created = await env.edit(file_path="n.txt", old_string="", new_string="y")
    assert created.stop_turn
    assert not (workspace / "n.txt").exists()


async def test_outside_the_workspace_asks_with_the_file_path(
    env: Env, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere" / "o.txt"
    result = await env.edit(file_path=str(outside), old_string="", new_string="o\n")
    assert not result.is_error, result.content
    assert env.gate.only_ask.path == str(outside)
    assert outside.read_text() == "o\n"


async def test_a_change_while_waiting_for_permission_is_not_overwritten(
    env: Env, workspace: Path
) -> None:
    write(workspace, {"a.txt": "x\n"})
    path = await env.read("a.txt")

    class MeddlingGate(RecordingGate):
        async def request(
            self, session_id: str, tool_call_id: str, ask: PermissionAsk
        ) -> bool:
            path.write_text("someone else's text, longer\n")
            return True

    env.ctx = attrs.evolve(env.ctx, permissions=MeddlingGate())
    result = await env.edit(file_path="a.txt", old_string="x", new_string="y")
    assert result.is_error
    assert "changed on disk while waiting for permission" in result.content
    assert path.read_text() == "someone else's text, longer\n"
    assert env.history.writes == []


async def test_bad_input(env: Env, workspace: Path) -> None:
    result = await env.edit(file_path="a.txt", new_string="y")
    assert (result.is_error, result.content) == (True, "old_string is required")
    result = await env.edit(file_path="", old_string="x", new_string="y")
    assert result.content == "file_path is required"
    result = await env.edit(file_path="gone.txt", old_string="x", new_string="y")
    assert result.content == f"file not found: {workspace / 'gone.txt'}"
    write(workspace, {"bin.dat": b"\xff\xfe\x00x"})
    await env.read("bin.dat")
    result = await env.edit(file_path="bin.dat", old_string="x", new_string="y")
    assert result.content == f"file is not valid UTF-8 text: {workspace / 'bin.dat'}"


def test_schemas_have_upstreams_names_and_required_sets() -> None:
    tools: list[Tool] = [EditTool(), MultiEditTool(), WriteTool()]
    shapes = {
        t.name: (
            sorted(cast("dict[str, object]", t.parameters["properties"])),
            t.parameters["required"],
            t.parallel,
        )
        for t in tools
    }
    assert shapes == {
        "edit": (
            ["file_path", "new_string", "old_string", "replace_all"],
            ["file_path", "old_string", "new_string"],
            False,
        ),
        "multiedit": (["edits", "file_path"], ["file_path", "edits"], False),
        "write": (["content", "file_path"], ["file_path", "content"], False),
    }
    edits = cast("dict[str, Any]", MultiEditTool().parameters["properties"])["edits"]
    assert edits["items"]["required"] == ["old_string", "new_string"]
    assert sorted(edits["items"]["properties"]) == [
        "new_string",
        "old_string",
        "replace_all",
    ]


async def test_a_link_out_of_the_workspace_asks_for_the_real_file(
    env: Env, workspace: Path, tmp_path: Path
) -> None:
    """The target is resolved: a link inside pointing out names the real file."""
    real = tmp_path / "real.txt"
    real.write_text("x\n")
    (workspace / "link.txt").symlink_to(real)
    await env.reads.record_read("s1", real)  # what view records for the link
    result = await env.edit(file_path="link.txt", old_string="x", new_string="y")
    assert not result.is_error, result.content
    assert env.gate.only_ask.path == str(real)
    assert real.read_text() == "y\n"
    assert (workspace / "link.txt").is_symlink()
