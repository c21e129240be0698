"""The ``todos`` tool: the list replaced whole, statuses checked, metadata."""

from __future__ import annotations

import json

from crushd.agent.tools import TodosTool, ToolResult
from crushd.proto import Todo

from ._helpers import FakeTodos, FakeTodoSource, call
from .conftest import MakeContext


def item(content: str, status: str, active_form: str = "") -> dict[str, str]:
    return {"content": content, "status": status, "active_form": active_form}


async def todos_call(
    ctx: MakeContext, items: list[dict[str, str]], **fields: object
) -> ToolResult:
    return await call(TodosTool(), ctx(**fields), json.dumps({"todos": items}))


async def test_list_is_stored_and_summarised(
    make_ctx: MakeContext, todos: FakeTodos
) -> None:
    result = await todos_call(
        make_ctx,
        [item("Write tests", "completed", "Writing tests"), item("Ship", "pending")],
    )
    assert not result.is_error
    assert todos.saved["s1"] == [
        Todo("Write tests", "completed", "Writing tests"),
        Todo("Ship", "pending", ""),
    ]
    assert "Status: 1 pending, 0 in progress, 1 completed" in result.content
    assert json.loads(result.metadata) == {
        "is_new": True,
        "todos": [
            item("Write tests", "completed", "Writing tests"),
            item("Ship", "pending"),
        ],
        "completed": 1,
        "total": 2,
    }


async def test_changes_against_the_old_list_are_reported(
    make_ctx: MakeContext,
) -> None:
    source = FakeTodoSource()
    source.saved["s1"] = [
        Todo("A", "in_progress", "Doing A"),
        Todo("B", "pending", "Doing B"),
    ]
    result = await todos_call(
        make_ctx,
        [item("A", "completed", "Doing A"), item("B", "in_progress", "Doing B")],
        todos=source,
    )
    meta = json.loads(result.metadata)
    assert meta["is_new"] is False
    assert meta["just_completed"] == ["A"]
    assert meta["just_started"] == "Doing B"
    assert (meta["completed"], meta["total"]) == (1, 2)
    assert source.saved["s1"][1] == Todo("B", "in_progress", "Doing B")


async def test_just_started_falls_back_to_the_content(make_ctx: MakeContext) -> None:
    result = await todos_call(make_ctx, [item("Fix bug", "in_progress")])
    assert json.loads(result.metadata)["just_started"] == "Fix bug"


async def test_empty_list_clears(make_ctx: MakeContext, todos: FakeTodos) -> None:
    result = await todos_call(make_ctx, [])
    assert not result.is_error
    assert todos.saved["s1"] == []
    assert json.loads(result.metadata)["total"] == 0


async def test_invalid_status_is_an_error_and_nothing_is_stored(
    make_ctx: MakeContext, todos: FakeTodos
) -> None:
    result = await todos_call(make_ctx, [item("A", "pending"), item("B", "done")])
    assert result.is_error
    assert result.content.startswith("invalid status 'done' for todo 'B'")
    assert todos.saved == {}


async def test_every_status_is_accepted(make_ctx: MakeContext) -> None:
    for status in ("pending", "in_progress", "completed"):
        result = await todos_call(make_ctx, [item("A", status)])
        assert not result.is_error


async def test_malformed_items_are_errors(
    make_ctx: MakeContext, todos: FakeTodos
) -> None:
    for text, message in (
        ("{}", "todos is required"),
        ('{"todos": "x"}', "todos must be an array"),
        ('{"todos": ["x"]}', "todos[0] must be an object"),
        ('{"todos": [{"content": "A"}]}', "todos[0].status is required"),
        (
            '{"todos": [{"content": 1, "status": "pending", "active_form": ""}]}',
            "todos[0].content must be a string",
        ),
    ):
        result = await call(TodosTool(), make_ctx(), text)
        assert result.is_error
        assert result.content == message
    assert todos.saved == {}
