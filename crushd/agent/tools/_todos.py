"""The ``todos`` tool: the model's task list for the session, replaced whole.

Source: Crush ``internal/agent/tools/todos.go`` (parameter names, the three
statuses, the metadata user interfaces render); docs/agent.md 2.2.
"""

from __future__ import annotations

import json
from typing import Protocol, cast, runtime_checkable

from crushd.proto import TODO_STATUSES, Todo

from ._input import InputError, parse_input, prop, schema
from ._types import ToolCall, ToolContext, ToolResult

TODOS_DESCRIPTION = """\
Keep a task list for the current piece of work, so you and the user can see \
progress. Send the whole list every time: it replaces the previous one. Each \
item has `content` (the task, imperative: "Run the tests"), `status` \
(`pending`, `in_progress` or `completed`) and `active_form` (the task while \
it runs: "Running the tests"). Keep one task `in_progress` at a time and mark \
tasks `completed` as soon as they are done. Use it for work of three or more \
steps; skip it for a single quick change."""

_ITEM = schema(
    {
        "content": prop("string", "The task, in the imperative"),
        "status": prop(
            "string", "pending, in_progress or completed", enum=list(TODO_STATUSES)
        ),
        "active_form": prop("string", "The task while it runs, e.g. 'Running tests'"),
    },
    required=("content", "status", "active_form"),
)

TODOS_PARAMETERS = schema(
    {"todos": prop("array", "The whole, updated task list", items=_ITEM)},
    required=("todos",),
)


@runtime_checkable
class TodoSource(Protocol):
    """A ``TodoSink`` that can also tell the session's current list."""

    async def get_todos(self, session_id: str) -> list[Todo]:
        """Return the todo list of ``session_id`` (``[]`` when it has none)."""


class TodosTool:
    """``todos``: replace the session's todo list."""

    def __init__(self) -> None:
        self.name = "todos"
        self.description = TODOS_DESCRIPTION
        self.parameters = TODOS_PARAMETERS
        self.parallel = False

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Store the list through ``ctx.todos`` and summarise it.

        When ``ctx.todos`` also has ``get_todos`` (``TodoSource``), the old
        list decides ``is_new``, ``just_completed`` and ``just_started``;
        otherwise the list counts as new.
        """
        try:
            args = parse_input(call.input, self.parameters)
            todos = [
                _todo(item) for item in cast("list[dict[str, str]]", args["todos"])
            ]
        except InputError as exc:
            return exc.result()
        old: list[Todo] = []
        if isinstance(ctx.todos, TodoSource):
            old = await ctx.todos.get_todos(ctx.session_id)
        await ctx.todos.set_todos(ctx.session_id, todos)
        return ToolResult(content=_summary(todos), metadata=todos_metadata(old, todos))


def _todo(item: dict[str, str]) -> Todo:
    status = item["status"]
    if status not in TODO_STATUSES:
        raise InputError(
            f"invalid status {status!r} for todo {item['content']!r}: use "
            "pending, in_progress or completed"
        )
    return Todo(content=item["content"], status=status, active_form=item["active_form"])


def _summary(todos: list[Todo]) -> str:
    counts = dict.fromkeys(TODO_STATUSES, 0)
    for todo in todos:
        counts[todo.status] += 1
    return (
        "Todo list saved.\n\n"
        f"Status: {counts['pending']} pending, {counts['in_progress']} in progress, "
        f"{counts['completed']} completed\n"
        "Keep the list up to date as you work, and go on with the current tasks."
    )


def todos_metadata(old: list[Todo], new: list[Todo]) -> str:
    """Return the metadata JSON for a list change from ``old`` to ``new``.

    Keys: ``is_new`` (there was no list), ``todos``, ``just_completed``
    (contents that became completed; left out when none), ``just_started``
    (the active form, else the content, of the last item that became
    in progress; left out when none), ``completed`` and ``total`` (counts).
    """
    before = {todo.content: todo.status for todo in old}
    completed = [t.content for t in new if t.status == "completed"]
    just_completed = [c for c in completed if c in before and before[c] != "completed"]
    started = [
        t.active_form or t.content
        for t in new
        if t.status == "in_progress" and before.get(t.content) != "in_progress"
    ]
    metadata: dict[str, object] = {
        "is_new": not old,
        "todos": [
            {"content": t.content, "status": t.status, "active_form": t.active_form}
            for t in new
        ],
    }
    if just_completed:
        metadata["just_completed"] = just_completed
    if started:
        metadata["just_started"] = started[-1]
    metadata |= {"completed": len(completed), "total": len(new)}
    return json.dumps(metadata)
