"""JSON schemas (OpenAPI 3.1, JSON Schema 2020-12) of the wire models.

The schemas are derived from the ``crushd.proto`` attrs classes themselves
(``attrs.fields`` and the type hints), so they cannot drift from what the
daemon encodes and decodes (``crushd.proto._json``):

- ``str``/``int``/``float``/``bool`` are ``string``/``integer``/``number``/
  ``boolean``; ``object`` is any JSON value; ``X | None`` also allows ``null``;
  ``list[X]`` is an array, ``dict[str, X]`` an object of ``X``.
- A model is a named component, ``$ref``-ed. Its *output* schema (what the
  daemon answers) requires every field not marked ``OMITEMPTY`` (those are
  left out when empty); its *input* schema (a request body) requires only
  fields without a default. A model used both ways gets two components,
  ``Name`` (output) and ``NameInput``.

Source: issue 15 section 2; docs/protocol.md 0.3 (encoding), 0.4 (decoding).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Union, get_args, get_origin

import attrs

__all__ = ["SchemaBook", "models_in"]

#: JSON Schema type of each scalar Python type.
_SCALARS: dict[object, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}
_REF = "#/components/schemas/"


def _args(hint: object) -> tuple[Any, ...]:
    """The type arguments of ``hint`` (none for a literal schema or a scalar)."""
    return () if isinstance(hint, Mapping) else get_args(hint)


def models_in(hint: object) -> Iterator[type[Any]]:
    """Yield every attrs model ``hint`` names, nested ones included.

    Args:
        hint: a type hint (``list[Session]``, ``Workspace | None``, ``int``),
            a literal JSON schema (a dict: yields nothing) or ``None``.
    """
    if isinstance(hint, type) and attrs.has(hint):
        yield hint
        hints = typing.get_type_hints(hint)
        for field in attrs.fields(hint):
            yield from models_in(hints[field.name])
    for arg in _args(hint):
        yield from models_in(arg)


class SchemaBook:
    """Turns type hints into schemas, collecting the model components.

    Args:
        outputs: the models some route answers with (``models_in`` of the
            responses); a request body of one of them is named ``NameInput``.

    Attributes:
        components: ``{name: schema}`` of every model met so far, for the
            document's ``components.schemas``.
    """

    def __init__(self, outputs: set[type[Any]]) -> None:
        self._outputs = outputs
        self.components: dict[str, dict[str, Any]] = {}

    def schema(self, hint: object, *, output: bool) -> dict[str, Any]:
        """Return the JSON schema of ``hint`` (see ``models_in`` for its kinds).

        Args:
            hint: what to describe; a dict is taken as a ready JSON schema.
            output: describe what the daemon sends (else what it reads).

        Raises:
            TypeError: a hint with no JSON shape (a set, a callable, ...).
        """
        if isinstance(hint, Mapping):
            return dict(hint)
        if hint in _SCALARS:
            return {"type": _SCALARS[hint]}
        if hint is object or hint is Any:
            return {}
        if isinstance(hint, type) and attrs.has(hint):
            return {"$ref": _REF + self._model(hint, output)}
        return self._generic(hint, output)

    def _generic(self, hint: object, output: bool) -> dict[str, Any]:
        origin, args = get_origin(hint), get_args(hint)
        if origin in {Union, types.UnionType}:
            return {"anyOf": [self.schema(arg, output=output) for arg in args]}
        if hint is list or origin is list:
            items = self.schema(args[0], output=output) if args else {}
            return {"type": "array", "items": items}
        if hint is dict or origin is dict:
            values = self.schema(args[1], output=output) if args else {}
            return {"type": "object", "additionalProperties": values}
        raise TypeError(f"no JSON schema for {hint!r}")

    def _model(self, cls: type[Any], output: bool) -> str:
        """Register ``cls``'s component (once) and return its name."""
        suffix = "" if output or cls not in self._outputs else "Input"
        name = cls.__name__ + suffix
        if name not in self.components:
            self.components[name] = {}  # taken, should a model ever nest itself
            self.components[name] = self._object(cls, output)
        return name

    def _object(self, cls: type[Any], output: bool) -> dict[str, Any]:
        hints = typing.get_type_hints(cls)
        fields = attrs.fields(cls)
        properties = {
            field.name: self._property(field, hints[field.name], output)
            for field in fields
        }
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [field.name for field in fields if _required(field, output)]
        if required:
            schema["required"] = required
        if cls.__doc__:
            schema["description"] = inspect.cleandoc(cls.__doc__)
        return schema

    def _property(
        self, field: attrs.Attribute[Any], hint: object, output: bool
    ) -> dict[str, Any]:
        schema = self.schema(hint, output=output)
        default = _default(field)
        if default is not attrs.NOTHING and "$ref" not in schema:
            schema["default"] = default
        if field.metadata.get("omitempty"):
            schema["description"] = "Omitted when empty."
        return schema


def _required(field: attrs.Attribute[Any], output: bool) -> bool:
    if output:
        return not field.metadata.get("omitempty")
    return field.default is attrs.NOTHING


def _default(field: attrs.Attribute[Any]) -> object:
    """The field's default as JSON data, or ``attrs.NOTHING`` when it has none."""
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()  # list, dict or a model: no argument
    if default is None or isinstance(default, str | int | float | list | dict):
        return default
    return attrs.NOTHING
