"""Tests for ``to_json``/``from_json``: omitempty, strict scalars, error paths."""

from __future__ import annotations

import json
import re
from typing import Any

import attrs
import pytest

from crushd.proto import (
    ClientInfo,
    Message,
    Part,
    PermissionGrant,
    Session,
    SkillState,
    Todo,
    Workspace,
    from_json,
    to_json,
)

WORKSPACE_OMITEMPTY = {
    "yolo": True,
    "debug": True,
    "data_dir": "/p/.crush",
    "version": "v0.1.0",
    "client_id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "config": {"options": {}},
    "env": ["K=V"],
    "channels": ["server:x"],
    "skills": [SkillState(name="s", path="/s")],
}


def keys(value: object) -> set[str]:
    """Return the top-level keys of ``value`` encoded as a JSON object."""
    decoded = json.loads(to_json(value))
    assert isinstance(decoded, dict)
    return set(decoded)


def test_to_json_workspace_omits_every_default_omitempty_field() -> None:
    """A default workspace encodes only ``id`` and ``path``."""
    assert to_json(Workspace()) == b'{"id":"","path":""}'


@pytest.mark.parametrize(("field", "value"), WORKSPACE_OMITEMPTY.items())
def test_to_json_workspace_includes_omitempty_field_when_set(
    field: str, value: Any
) -> None:
    """Each omitempty workspace field appears once it differs from its default."""
    assert keys(Workspace(path="/p", **{field: value})) == {"id", "path", field}


def test_to_json_workspace_keeps_an_empty_but_present_config() -> None:
    """``config={}`` is not the default ``None``, so it is encoded as ``{}``."""
    assert json.loads(to_json(Workspace(config={})))["config"] == {}


def test_to_json_session_omits_todos_only_when_empty() -> None:
    """``todos`` is left out when empty and present with items; other keys stay."""
    bare = Session(id="s", title="t")
    with_todo = attrs.evolve(bare, todos=[Todo(content="c", status="pending")])
    assert "todos" not in keys(bare)
    assert keys(with_todo) == keys(bare) | {"todos"}
    assert "cost" in keys(bare)
    assert "is_busy" in keys(bare)


def test_to_json_message_omits_is_summary_message_only_when_false() -> None:
    """``is_summary_message`` is left out when false and encoded when true."""
    message = Message(id="m", role="assistant", session_id="s")
    assert "is_summary_message" not in keys(message)
    summary = json.loads(to_json(attrs.evolve(message, is_summary_message=True)))
    assert summary["is_summary_message"] is True


def test_to_json_is_compact_utf8_without_newline() -> None:
    """Output is compact, keeps non-ASCII text and has no trailing newline."""
    encoded = to_json(Todo(content="café", status="pending"))
    assert encoded == '{"content":"café","status":"pending","active_form":""}'.encode()


def test_to_json_encodes_lists_of_models() -> None:
    """A list of models encodes as a JSON array of objects, omitempty applied."""
    skills = [SkillState(name="a", path="/a"), SkillState("b", "/b", 1, "bad")]
    assert json.loads(to_json(skills)) == [
        {"name": "a", "path": "/a", "state": 0},
        {"name": "b", "path": "/b", "state": 1, "error": "bad"},
    ]


def test_from_json_accepts_bytes_str_and_parsed_data() -> None:
    """The same session decodes from bytes, text and an already-parsed dict."""
    data = {"id": "s", "title": "t"}
    expected = Session(id="s", title="t")
    assert from_json(json.dumps(data).encode(), Session) == expected
    assert from_json(json.dumps(data), Session) == expected
    assert from_json(data, Session) == expected


def test_from_json_ignores_unknown_keys() -> None:
    """Keys the model does not know are skipped, as Go's decoder does."""
    decoded = from_json(b'{"id":"s","title":"t","surprise":[1,2]}', Session)
    assert decoded == Session(id="s", title="t")


def test_from_json_fills_defaults_for_absent_fields() -> None:
    """Absent optional fields take their defaults (the zero values)."""
    decoded = from_json(b'{"path":"/p","client_id":"c"}', Workspace)
    assert decoded == Workspace(path="/p", client_id="c")


def test_from_json_accepts_an_integer_for_a_float() -> None:
    """A JSON integer is a valid float and becomes a Python float."""
    decoded = from_json(b'{"id":"s","title":"t","cost":1}', Session)
    assert decoded.cost == 1.0
    assert isinstance(decoded.cost, float)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"id":"s","title":"t","message_count":"5"}', "$.message_count"),
        ('{"id":"s","title":"t","message_count":true}', "$.message_count"),
        ('{"id":"s","title":"t","message_count":1.5}', "$.message_count"),
        ('{"id":"s","title":"t","cost":"1"}', "$.cost"),
        ('{"id":"s","title":"t","cost":false}', "$.cost"),
        ('{"id":"s","title":5}', "$.title"),
        ('{"id":"s","title":"t","is_busy":1}', "$.is_busy"),
        ('{"id":"s","title":"t","is_busy":"true"}', "$.is_busy"),
    ],
    ids=[
        "str-for-int",
        "bool-for-int",
        "float-for-int",
        "str-for-float",
        "bool-for-float",
        "int-for-str",
        "int-for-bool",
        "str-for-bool",
    ],
)
def test_from_json_rejects_scalar_type_mismatch_naming_the_path(
    body: str, path: str
) -> None:
    """A wrong JSON type is a ValueError whose text ends in ``@ <path>``."""
    with pytest.raises(ValueError, match=re.escape(f"@ {path}") + "$"):
        from_json(body, Session)


@pytest.mark.parametrize(
    "body",
    ['{"path":"/p","env":"K=V"}', '{"path":"/p","env":{"K":"V"}}'],
    ids=["string-for-list", "object-for-list"],
)
def test_from_json_rejects_a_non_array_for_a_list(body: str) -> None:
    """A list field needs a JSON array; a string or object is a decode error."""
    with pytest.raises(ValueError, match=r"@ \$\.env"):
        from_json(body, Workspace)


@pytest.mark.parametrize("value", ['"x"', "[1]", '["id"]'])
def test_from_json_rejects_a_non_object_for_a_nested_model(value: str) -> None:
    """A nested model needs a JSON object; a string or array is a decode error."""
    body = f'{{"permission":{value},"action":"allow"}}'
    with pytest.raises(ValueError, match=r"@ \$\.permission"):
        from_json(body, PermissionGrant)


def test_from_json_names_the_nested_path_of_a_bad_item() -> None:
    """A bad field inside a list item is named with its index."""
    body = (
        b'{"id":"s","title":"t","todos":[{"content":"a","status":"x"},{"content":1}]}'
    )
    with pytest.raises(ValueError, match=r"@ \$\.todos\[1\]\.content"):
        from_json(body, Session)


def test_from_json_names_a_missing_required_field() -> None:
    """A missing required field is reported with its path."""
    with pytest.raises(ValueError, match=r"required field missing @ \$\.title"):
        from_json(b'{"id":"s"}', Session)


def test_from_json_lists_every_problem() -> None:
    """Several problems are all reported, separated by ``; ``."""
    with pytest.raises(ValueError, match="; ") as caught:
        from_json(b'{"id":1,"title":2}', Session)
    assert "$.id" in str(caught.value)
    assert "$.title" in str(caught.value)


@pytest.mark.parametrize("body", ["[]", "5", '"text"', "null", "true"])
def test_from_json_rejects_non_object_json_for_a_model(body: str) -> None:
    """A model needs a JSON object; anything else is a ValueError."""
    with pytest.raises(ValueError, match="expected a JSON object"):
        from_json(body, Workspace)


@pytest.mark.parametrize("body", ["", "{", "not json", b"\xff"])
def test_from_json_rejects_malformed_json(body: str | bytes) -> None:
    """Text that is not JSON is a ValueError, never another exception type."""
    with pytest.raises(ValueError, match="invalid JSON"):
        from_json(body, Session)


def test_from_json_passes_opaque_values_through() -> None:
    """``Workspace.config`` and ``Part.data`` keep arbitrary JSON unchanged."""
    config = {"a": [1, 2.5, None, True, {"b": "c"}]}
    assert from_json({"config": config}, Workspace).config == config
    assert from_json({"type": "text", "data": config}, Part).data == config


def test_from_json_rejects_a_non_object_config() -> None:
    """``config`` must be an object (or null), not a list."""
    with pytest.raises(ValueError, match=r"@ \$\.config"):
        from_json(b'{"config":[1]}', Workspace)


def test_from_json_decodes_omitempty_field_of_nested_model() -> None:
    """An omitted nested omitempty field takes its default; a present one is kept."""
    info = from_json(
        {
            "client_id": "c",
            "streams": 1,
            "held": False,
            "released": False,
            "current_session_id": "",
            "attached_at": 1,
            "last_seen": 2.5,
        },
        ClientInfo,
    )
    assert info.user_agent == ""
    assert info.attached_at == 1.0
    assert "user_agent" not in keys(info)
