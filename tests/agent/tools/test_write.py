"""The ``write`` tool: create or overwrite, parents, sameness, freshness, diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crushd.agent.tools import PermissionAsk, ToolResult
from crushd.agent.tools._write import WriteTool

from ._gate import RecordingGate
from ._helpers import call, write
from ._write_helpers import WriteEnv, set_mtime
from .conftest import MakeContext


class Env(WriteEnv):
    """``WriteEnv`` that calls ``write``."""

    async def write(self, file_path: str, content: str) -> ToolResult:
        args = {"file_path": file_path, "content": content}
        return await call(WriteTool(), self.ctx, json.dumps(args))


@pytest.fixture
def env(make_ctx: MakeContext, workspace: Path) -> Env:
    return Env(make_ctx, workspace)


async def test_creates_a_file_and_its_parents(env: Env, workspace: Path) -> None:
    result = await env.write("a/b/hello.txt", "hi\n")
    path = workspace / "a/b/hello.txt"
    assert not result.is_error, result.content
    assert result.content == f"<result>\nFile successfully written: {path}\n</result>"
    assert path.read_text() == "hi\n"
    assert env.gate.only_ask == PermissionAsk(
        tool_name="write",
        action="write",
        path=str(workspace),
        description=f"Create file {path}",
        params={"file_path": str(path), "new_content": "hi\n"},
    )
    assert json.loads(result.metadata) == {
        "diff": "--- a/a/b/hello.txt\n+++ b/a/b/hello.txt\n@@ -0,0 +1 @@\n+hi\n",
        "additions": 1,
        "removals": 0,
    }
    assert env.history.writes == [("s1", path, "", "hi\n")]
    assert env.reads.recorded == [("s1", path)]


async def test_overwrites_a_read_file(env: Env, workspace: Path) -> None:
    write(workspace, {"f.txt": "old\nsame\n"})
    path = await env.read("f.txt")
    result = await env.write("f.txt", "new\nsame\n")
    assert not result.is_error, result.content
    assert path.read_text() == "new\nsame\n"
    assert env.gate.only_ask.params == {
        "file_path": str(path),
        "old_content": "old\nsame\n",
        "new_content": "new\nsame\n",
    }
    meta = json.loads(result.metadata)
    assert (meta["additions"], meta["removals"]) == (1, 1)
    assert "-old\n+new\n same\n" in meta["diff"]
    assert env.history.writes == [("s1", path, "old\nsame\n", "new\nsame\n")]


async def test_an_unread_existing_file_is_refused(env: Env, workspace: Path) -> None:
    write(workspace, {"f.txt": "old"})
    result = await env.write("f.txt", "new")
    assert result.is_error
    assert result.content.startswith(
        f"File {workspace / 'f.txt'} has been modified since it was last read.\n"
    )
    assert "Last read: 0001-01-01T00:00:00Z\n" in result.content
    assert result.content.endswith("Please read the file again before modifying it.")
    assert (workspace / "f.txt").read_text() == "old"
    assert env.gate.asks == []


async def test_a_file_changed_since_read_is_refused(env: Env, workspace: Path) -> None:
    write(workspace, {"f.txt": "old"})
    path = await env.read("f.txt")
    set_mtime(path, int(env.reads.times["s1", path] + 3) * 1_000_000_000)
    result = await env.write("f.txt", "new")
    assert result.is_error
    assert "has been modified since it was last read" in result.content


async def test_identical_content_is_refused(env: Env, workspace: Path) -> None:
    write(workspace, {"f.txt": "same"})
    path = await env.read("f.txt")
    result = await env.write("f.txt", "same")
    assert (result.is_error, result.content) == (
        True,
        f"File {path} already contains the exact content. No changes made.",
    )
    assert env.gate.asks == []


async def test_bad_input(env: Env, workspace: Path) -> None:
    assert (await env.write("f.txt", "")).content == "content is required"
    assert (await env.write("", "x")).content == "file_path is required"
    (workspace / "d").mkdir()
    result = await env.write("d", "x")
    assert result.content == f"path is a directory, not a file: {workspace / 'd'}"
    missing = await call(WriteTool(), env.ctx, json.dumps({"file_path": "f.txt"}))
    assert missing.content == "content is required"


async def test_denied_ends_the_turn_and_creates_nothing(
    make_ctx: MakeContext, workspace: Path
) -> None:
    env = Env(make_ctx, workspace, allow=False)
    result = await env.write("sub/f.txt", "x")
    assert (result.content, result.is_error, result.stop_turn) == (
        "User denied permission",
        True,
        True,
    )
    assert json.loads(result.metadata)["additions"] == 1
    assert not (workspace / "sub").exists()
    assert env.history.writes == []
    assert env.reads.recorded == []


async def test_outside_the_workspace_asks_with_the_file(
    env: Env, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "o.txt"
    result = await env.write(str(target), "o")
    assert not result.is_error, result.content
    assert env.gate.only_ask.path == str(target)
    assert json.loads(result.metadata)["diff"].startswith(f"--- a{target}\n")


async def test_a_file_appearing_while_waiting_is_not_overwritten(
    env: Env, workspace: Path
) -> None:
    target = workspace / "race.txt"

    class RacingGate(RecordingGate):
        async def request(
            self, session_id: str, tool_call_id: str, ask: PermissionAsk
        ) -> bool:
            target.write_text("theirs")
            return True

    import attrs

    env.ctx = attrs.evolve(env.ctx, permissions=RacingGate())
    result = await env.write("race.txt", "mine")
    assert result.is_error
    assert "changed on disk while waiting for permission" in result.content
    assert target.read_text() == "theirs"
