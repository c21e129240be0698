"""The tool list, the specs sent to the model, and input checking."""

from __future__ import annotations

from typing import Any, cast

import pytest

from crushd.agent.providers import ToolSpec
from crushd.agent.tools import (
    InputError,
    build_tools,
    find_tool,
    parse_input,
    tool_specs,
)
from crushd.config import Config, Options

#: Upstream's parameter names and required sets (recorded traffic uses them).
UPSTREAM_SCHEMAS = {
    "glob": ({"pattern", "path"}, ["pattern"]),
    "grep": ({"pattern", "path", "include", "literal_text"}, ["pattern"]),
    "ls": ({"path", "ignore", "depth"}, []),
    "todos": ({"todos"}, ["todos"]),
    "view": ({"file_path", "offset", "limit"}, ["file_path"]),
}


def test_tools_are_sorted_by_name() -> None:
    assert [t.name for t in build_tools(None)] == [
        "glob",
        "grep",
        "ls",
        "todos",
        "view",
    ]


def test_disabled_tools_are_removed() -> None:
    config = Config(options=Options(disabled_tools=["grep", "todos", "bash"]))
    assert [t.name for t in build_tools(config)] == ["glob", "ls", "view"]


def test_schemas_use_upstream_names_and_required_sets() -> None:
    for tool in build_tools(None):
        properties, required = UPSTREAM_SCHEMAS[tool.name]
        params = tool.parameters
        assert params["type"] == "object"
        assert set(cast("dict[str, object]", params["properties"])) == properties
        assert params["required"] == required
        assert tool.description


def test_todo_items_require_all_three_fields() -> None:
    tool = find_tool(build_tools(None), "todos")
    assert tool is not None
    todos = cast("dict[str, Any]", tool.parameters["properties"])["todos"]
    assert todos["items"]["required"] == ["content", "status", "active_form"]
    assert todos["items"]["properties"]["status"]["enum"] == [
        "pending",
        "in_progress",
        "completed",
    ]


def test_tool_specs_follow_the_tools() -> None:
    tools = build_tools(None)
    specs = tool_specs(tools)
    assert specs == tuple(ToolSpec(t.name, t.description, t.parameters) for t in tools)


def test_find_tool_returns_none_for_unknown_names() -> None:
    tools = build_tools(None)
    found = find_tool(tools, "view")
    assert found is not None
    assert found.name == "view"
    assert find_tool(tools, "bash") is None


def test_only_todos_runs_alone() -> None:
    assert {t.name: t.parallel for t in build_tools(None)} == {
        "glob": True,
        "grep": True,
        "ls": True,
        "todos": False,
        "view": True,
    }


SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {"n": {"type": "integer"}, "s": {"type": "string"}},
    "required": ["s"],
}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{oops", "invalid JSON input"),
        ('"s"', "invalid input: expected a JSON object of parameters"),
        ("{}", "s is required"),
        ('{"s": null}', "s is required"),
        ('{"s": "x", "n": true}', "n must be an integer"),
        ('{"s": "x", "n": 1.5}', "n must be an integer"),
        ('{"s": 3}', "s must be a string"),
    ],
)
def test_bad_input_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_input(text, SCHEMA)
    assert caught.value.message.startswith(message)
    assert caught.value.result().is_error


def test_good_input_keeps_unknown_keys_and_drops_nulls() -> None:
    assert parse_input('{"s": "x", "n": null, "extra": 1}', SCHEMA) == {
        "s": "x",
        "extra": 1,
    }


def test_empty_text_counts_as_no_arguments() -> None:
    assert parse_input("  ", {"type": "object", "properties": {}}) == {}
