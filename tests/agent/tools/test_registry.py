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
    "bash": (
        {
            "description",
            "command",
            "working_dir",
            "run_in_background",
            "auto_background_after",
        },
        ["description", "command"],
    ),
    "download": ({"url", "file_path", "timeout"}, ["url", "file_path"]),
    "edit": (
        {"file_path", "old_string", "new_string", "replace_all"},
        ["file_path", "old_string", "new_string"],
    ),
    "fetch": ({"url", "format", "timeout"}, ["url", "format"]),
    "job_kill": ({"shell_id"}, ["shell_id"]),
    "job_output": ({"shell_id", "wait", "timeout_seconds"}, ["shell_id"]),
    "multiedit": ({"file_path", "edits"}, ["file_path", "edits"]),
    "question": (
        {"questions", "confirm_title", "confirm_description"},
        ["questions"],
    ),
    "write": ({"file_path", "content"}, ["file_path", "content"]),
    "glob": ({"pattern", "path"}, ["pattern"]),
    "grep": ({"pattern", "path", "include", "literal_text"}, ["pattern"]),
    "ls": ({"path", "ignore", "depth"}, []),
    "todos": ({"todos"}, ["todos"]),
    "view": ({"file_path", "offset", "limit"}, ["file_path"]),
}


#: The coder's tools for a non-interactive agent, by name.
CODER_TOOLS = [
    "bash",
    "download",
    "edit",
    "fetch",
    "glob",
    "grep",
    "job_kill",
    "job_output",
    "ls",
    "multiedit",
    "todos",
    "view",
    "write",
]


def test_tools_are_sorted_by_name() -> None:
    assert [t.name for t in build_tools(None)] == CODER_TOOLS


def test_question_is_offered_to_interactive_agents_only() -> None:
    names = [t.name for t in build_tools(None, interactive=True)]
    assert names == sorted([*CODER_TOOLS, "question"])


def test_disabled_tools_are_removed() -> None:
    disabled = ["grep", "todos", "bash", "fetch", "download", "job_kill"]
    config = Config(options=Options(disabled_tools=disabled))
    kept = [t.name for t in build_tools(config)]
    assert kept == [n for n in CODER_TOOLS if n not in disabled]


def test_schemas_use_upstream_names_and_required_sets() -> None:
    for tool in build_tools(None, interactive=True):
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
    assert find_tool(tools, "sourcegraph") is None


def test_only_reading_and_network_tools_run_in_parallel() -> None:
    parallel = {t.name for t in build_tools(None, interactive=True) if t.parallel}
    assert parallel == {"download", "fetch", "glob", "grep", "ls", "view"}


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
