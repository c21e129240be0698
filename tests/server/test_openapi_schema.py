"""JSON schemas of the wire models, from attrs fields and type hints."""

from __future__ import annotations

import subprocess
import sys

import attrs
import pytest

from crushd.proto import OMITEMPTY, Session, Workspace
from crushd.server.http import openapi_path
from crushd.server.http._openapi_schema import SchemaBook, models_in


@attrs.frozen
class Inner:
    """An inner model."""

    name: str


@attrs.frozen
class Outer:
    """An outer model."""

    inner: Inner
    count: int = 0
    ratio: float | None = None
    tags: list[str] = attrs.field(factory=list, metadata=OMITEMPTY)
    extra: dict[str, object] = attrs.field(factory=dict, metadata=OMITEMPTY)
    anything: object = None


def test_scalars_lists_dicts_and_optionals() -> None:
    book = SchemaBook(set())
    assert book.schema(int, output=True) == {"type": "integer"}
    assert book.schema(object, output=True) == {}
    assert book.schema(list[str] | None, output=True) == {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
    }
    assert book.schema(dict[str, float], output=True) == {
        "type": "object",
        "additionalProperties": {"type": "number"},
    }


def test_a_model_is_a_component_whose_omitempty_fields_are_optional() -> None:
    """Output: every field but the OMITEMPTY ones is required; nesting is a $ref."""
    book = SchemaBook({Outer, Inner})
    assert book.schema(Outer, output=True) == {"$ref": "#/components/schemas/Outer"}
    outer = book.components["Outer"]
    assert outer["required"] == ["inner", "count", "ratio", "anything"]
    assert outer["properties"]["inner"] == {"$ref": "#/components/schemas/Inner"}
    assert outer["properties"]["count"] == {"type": "integer", "default": 0}
    assert outer["properties"]["tags"]["description"] == "Omitted when empty."
    assert outer["description"] == "An outer model."
    assert book.components["Inner"]["required"] == ["name"]


def test_a_request_body_requires_only_fields_without_a_default() -> None:
    """Input of a model also answered is ``NameInput``; of others just ``Name``."""
    book = SchemaBook({Outer})
    assert book.schema(Outer, output=False) == {
        "$ref": "#/components/schemas/OuterInput"
    }
    assert book.components["OuterInput"]["required"] == ["inner"]
    assert "Inner" in book.components  # not an output model: no suffix
    assert "required" not in SchemaBook(set())._object(Workspace, output=False)


def test_models_in_finds_nested_models() -> None:
    assert set(models_in(list[Outer] | None)) == {Outer, Inner}
    assert set(models_in({"type": "object"})) == set()
    assert set(models_in(Session)) >= {Session}


def test_a_hint_without_json_shape_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="no JSON schema"):
        SchemaBook(set()).schema(set[int], output=True)


def test_openapi_path_turns_segments_into_parameters() -> None:
    assert openapi_path("/v1/a/<workspace_id>/b/<string:sid>") == (
        "/v1/a/{workspace_id}/b/{sid}"
    )


def test_building_the_document_imports_no_agent_module() -> None:
    """The generator reads only the table and crushd.proto: no agent, no SDK."""
    code = (
        "import sys\n"
        "from crushd.server.http import openapi_document\n"
        "from crushd.server.routes import ROUTES\n"
        "openapi_document(ROUTES, version='0')\n"
        "names = ('crushd.agent', 'openai')\n"
        "print(sorted(m for m in sys.modules if m.startswith(names)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
