"""The ``multiedit`` tool: ordered edits, partial failure, creation, all failed.

Cases after Crush ``internal/agent/tools/multiedit_test.go``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crushd.agent.tools import ToolResult
from crushd.agent.tools._multiedit import EditOp, MultiEditTool, apply_edits

from ._helpers import call, write
from ._write_helpers import WriteEnv
from .conftest import MakeContext


class Env(WriteEnv):
    """``WriteEnv`` that calls ``multiedit``."""

    async def run(self, file_path: str, *edits: dict[str, object]) -> ToolResult:
        args = {"file_path": file_path, "edits": list(edits)}
        return await call(MultiEditTool(), self.ctx, json.dumps(args))


def ed(old: str, new: str, replace_all: bool | None = None) -> dict[str, object]:
    out: dict[str, object] = {"old_string": old, "new_string": new}
    if replace_all is not None:
        out["replace_all"] = replace_all
    return out


@pytest.fixture
def env(make_ctx: MakeContext, workspace: Path) -> Env:
    return Env(make_ctx, workspace)


def test_apply_edits_in_order_skipping_failures() -> None:
    """The 2nd fails; the 3rd and 4th still apply, on the running text."""
    outcome = apply_edits(
        "line 1\nline 2\nline 3\nline 4\n",
        [
            EditOp("line 1", "LINE 1"),
            EditOp("line 99", "LINE 99"),
            EditOp("line 3", "LINE 3"),
            EditOp("LINE 1\nline 2", "LINE 1\nLINE 2"),  # sees the 1st edit
        ],
    )
    assert outcome.content == "LINE 1\nLINE 2\nLINE 3\nline 4\n"
    assert [f["index"] for f in outcome.failed] == [2]
    failure = outcome.failed[0]
    assert str(failure["error"]).startswith("old_string not found")
    assert failure["edit"] == {"old_string": "line 99", "new_string": "LINE 99"}
    assert not outcome.fuzzy


def test_apply_edits_modes() -> None:
    content = "alpha\nbeta\nalpha\n"
    all_ = apply_edits(content, [EditOp("alpha", "ALPHA", replace_all=True)])
    assert all_.content == "ALPHA\nbeta\nALPHA\n"
    one = apply_edits(content, [EditOp("alpha", "ALPHA")])
    assert one.content == content
    assert "multiple times" in str(one.failed[0]["error"])
    assert one.failed[0]["edit"] == {"old_string": "alpha", "new_string": "ALPHA"}
    noop = apply_edits(content, [EditOp("", "")])
    assert (noop.content, noop.failed) == (content, [])
    fuzzy = apply_edits("f {\n\tfoo()\n}\n", [EditOp("    foo()", "    bar()")])
    assert (fuzzy.content, fuzzy.fuzzy) == ("f {\n\tbar()\n}\n", True)


async def test_partial_failure_applies_the_rest(env: Env, workspace: Path) -> None:
    write(workspace, {"t.txt": "one\ntwo\nthree\n"})
    path = await env.read("t.txt")
    result = await env.run("t.txt", ed("one", "ONE"), ed("nope", "x"), ed("three", "3"))
    assert not result.is_error, result.content
    assert path.read_text() == "ONE\ntwo\n3\n"
    assert result.content == (
        f"<result>\nApplied 2 of 3 edits to file: {path} (1 edit(s) failed)\n"
        "</result>\n"
    )
    ask = env.gate.only_ask
    assert (ask.tool_name, ask.action, ask.path) == (
        "multiedit",
        "write",
        str(workspace),
    )
    assert ask.description == f"Apply 2 of 3 edits to file {path} (1 failed)"
    assert ask.params == {
        "file_path": str(path),
        "old_content": "one\ntwo\nthree\n",
        "new_content": "ONE\ntwo\n3\n",
    }
    meta = json.loads(result.metadata)
    assert meta["edits_applied"] == 2
    assert [f["index"] for f in meta["edits_failed"]] == [2]
    assert (meta["additions"], meta["removals"]) == (2, 2)
    assert env.history.writes == [("s1", path, "one\ntwo\nthree\n", "ONE\ntwo\n3\n")]


async def test_all_edits_succeed(env: Env, workspace: Path) -> None:
    write(workspace, {"t.txt": b"a\r\nb\r\n"})
    path = await env.read("t.txt")
    result = await env.run("t.txt", ed("a", "A"), ed("b", "B"))
    assert result.content == f"<result>\nApplied 2 edits to file: {path}\n</result>\n"
    assert env.gate.only_ask.description == f"Apply 2 edits to file {path}"
    assert path.read_bytes() == b"A\r\nB\r\n"
    assert "edits_failed" not in json.loads(result.metadata)


async def test_all_edits_failing_is_an_error_and_writes_nothing(
    env: Env, workspace: Path
) -> None:
    write(workspace, {"t.txt": "line 1\nline 2\n"})
    await env.read("t.txt")
    result = await env.run("t.txt", ed("line 99", "x"), ed("line 100", "y"))
    assert result.is_error
    assert result.content == "no changes made - all 2 edit(s) failed"
    meta = json.loads(result.metadata)
    assert meta["edits_applied"] == 0
    assert [f["index"] for f in meta["edits_failed"]] == [1, 2]
    assert env.gate.asks == []
    assert env.history.writes == []


async def test_edits_that_change_nothing(env: Env, workspace: Path) -> None:
    write(workspace, {"t.txt": "a\n"})
    await env.read("t.txt")
    result = await env.run("t.txt", ed("a", "a"))
    assert (result.is_error, result.content) == (
        True,
        "no changes made - all edits resulted in identical content",
    )


async def test_first_edit_with_empty_old_creates_the_file(
    env: Env, workspace: Path
) -> None:
    result = await env.run(
        "pkg/new.py", ed("", "a = 1\nb = 2\n"), ed("b = 2", "b = 3"), ed("zzz", "q")
    )
    path = workspace / "pkg/new.py"
    assert not result.is_error, result.content
    assert path.read_text() == "a = 1\nb = 3\n"
    assert result.content == (
        f"<result>\nFile created with 2 of 3 edits: {path} (1 edit(s) failed)\n"
        "</result>\n"
    )
    ask = env.gate.only_ask
    assert ask.description == f"Create file {path} with 2 of 3 edits (1 failed)"
    assert ask.params == {"file_path": str(path), "new_content": "a = 1\nb = 3\n"}
    meta = json.loads(result.metadata)
    assert [f["index"] for f in meta["edits_failed"]] == [3]
    assert env.history.writes == [("s1", path, "", "a = 1\nb = 3\n")]
    assert env.reads.recorded == [("s1", path)]


async def test_creation_refuses_an_existing_file(env: Env, workspace: Path) -> None:
    write(workspace, {"t.txt": "x"})
    result = await env.run("t.txt", ed("", "y"))
    assert result.content == f"file already exists: {workspace / 't.txt'}"
    assert (workspace / "t.txt").read_text() == "x"


async def test_only_the_first_edit_may_have_empty_old(
    env: Env, workspace: Path
) -> None:
    write(workspace, {"t.txt": "x"})
    await env.read("t.txt")
    result = await env.run("t.txt", ed("x", "y"), ed("", "z"))
    assert result.content == (
        "edit 2: only the first edit can have empty old_string (for file creation)"
    )
    assert (workspace / "t.txt").read_text() == "x"


async def test_freshness_and_input_errors(env: Env, workspace: Path) -> None:
    write(workspace, {"t.txt": "x"})
    result = await env.run("t.txt", ed("x", "y"))
    assert result.content.startswith("you must read the file before editing it")
    result = await env.run("t.txt")
    assert result.content == "at least one edit operation is required"
    bad = await call(
        MultiEditTool(), env.ctx, json.dumps({"file_path": "t.txt", "edits": [{}]})
    )
    assert bad.content == "edits[0].old_string is required"


async def test_denied_ends_the_turn(make_ctx: MakeContext, workspace: Path) -> None:
    env = Env(make_ctx, workspace, allow=False)
    write(workspace, {"t.txt": "x\n"})
    await env.read("t.txt")
    result = await env.run("t.txt", ed("x", "y"))
    assert (result.content, result.stop_turn) == ("User denied permission", True)
    assert (workspace / "t.txt").read_text() == "x\n"
    assert env.history.writes == []
