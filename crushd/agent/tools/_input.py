"""Parameter schemas and the checks of a tool call's JSON input against them.

A tool declares its parameters once as a JSON schema (upstream's property names
and required set, our descriptions); ``parse_input`` checks the model's text
against it, so a tool body only sees well-typed values. Bad input is answered
with an error result naming the problem, never an exception (docs/agent.md 2.1).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import cast

from ._types import ToolResult

JSONObject = dict[str, object]

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def prop(kind: str, description: str, **extra: object) -> JSONObject:
    """Return one JSON-schema property: ``{"type": kind, "description": ...}``.

    Args:
        kind: a JSON-schema type name (``string``, ``integer``, ``array``, ...).
        description: what the value means, shown to the model.
        **extra: further schema keys (``items``, ``enum``, ...).
    """
    return {"type": kind, "description": description, **extra}


def schema(properties: JSONObject, required: tuple[str, ...] = ()) -> JSONObject:
    """Return a JSON-schema object with ``properties`` and ``required``.

    Args:
        properties: property name -> the property's schema (see ``prop``).
        required: the names a call must give.
    """
    return {"type": "object", "properties": properties, "required": list(required)}


class InputError(Exception):
    """A call's input did not match its tool's schema; ``message`` says how."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def result(self) -> ToolResult:
        """Return the error result the model gets."""
        return ToolResult(content=self.message, is_error=True)


def parse_input(text: str, parameters: Mapping[str, object]) -> JSONObject:
    """Decode a call's JSON text and check it against ``parameters``.

    Empty text counts as ``{}``. Unknown keys are kept (models add some);
    ``null`` for an optional key counts as absent.

    Args:
        text: the arguments exactly as the model sent them.
        parameters: the tool's schema (see ``schema``).

    Returns:
        The arguments object, with ``null`` optional values removed.

    Raises:
        InputError: the text is not a JSON object, a required key is missing,
            or a value has the wrong type.
    """
    args = _decode(text)
    properties = cast("JSONObject", parameters.get("properties", {}))
    for name in cast("list[str]", parameters.get("required", [])):
        if args.get(name) is None:
            raise InputError(f"{name} is required")
    for name, value in list(args.items()):
        if value is None:
            del args[name]
        elif name in properties:
            _check(name, value, cast("JSONObject", properties[name]))
    return args


def _decode(text: str) -> JSONObject:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InputError(f"invalid JSON input: {exc}") from None
    if not isinstance(value, dict):
        raise InputError("invalid input: expected a JSON object of parameters")
    return cast("JSONObject", value)


def _check(name: str, value: object, spec: JSONObject) -> None:
    kind = str(spec.get("type", ""))
    allowed = _PY_TYPES.get(kind)
    if allowed is None:
        return
    # bool is an int in Python; JSON keeps them apart.
    wrong_bool = isinstance(value, bool) and kind in {"integer", "number"}
    if wrong_bool or not isinstance(value, allowed):
        raise InputError(f"{name} must be {_article(kind)}")
    if kind == "array" and isinstance(value, list):
        items = cast("JSONObject", spec.get("items", {}))
        for index, item in enumerate(value):
            _check(f"{name}[{index}]", item, items)
    elif kind == "object" and isinstance(value, dict):
        _check_object(name, cast("JSONObject", value), spec)


def _check_object(name: str, value: JSONObject, spec: JSONObject) -> None:
    properties = cast("JSONObject", spec.get("properties", {}))
    for key in cast("list[str]", spec.get("required", [])):
        if value.get(key) is None:
            raise InputError(f"{name}.{key} is required")
    for key, item in value.items():
        if key in properties and item is not None:
            _check(f"{name}.{key}", item, cast("JSONObject", properties[key]))


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
