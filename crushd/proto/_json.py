"""The one cattrs converter for wire models, with strict scalars and omitempty.

Wire models are frozen attrs classes. Fields whose metadata has ``omitempty``
are left out of the JSON when they equal their default (Go's ``omitempty``).
Structuring is strict about scalar types (``"5"`` is not an ``int``) so a type
mismatch becomes a 400 ``failed to decode request`` as upstream
(docs/protocol.md 0.4); unknown keys are ignored.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar, get_origin

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

T = TypeVar("T")

#: Marks an attrs field as left out of the JSON when equal to its default.
OMITEMPTY = {"omitempty": True}

converter = cattrs.Converter(detailed_validation=True)


def _strict(kind: type[Any]) -> Any:
    def hook(value: object, _type: object) -> object:
        # bool is an int subclass in Python but never a number on the wire.
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {kind.__name__}, got bool")
        if kind is float and isinstance(value, int):
            return float(value)
        if not isinstance(value, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return hook


for _kind in (str, int, float, bool):
    converter.register_structure_hook(_kind, _strict(_kind))
# Opaque JSON values (config documents, part data) pass through unchanged.
converter.register_structure_hook_func(
    lambda cls: cls is object, lambda value, _type: value
)


def _is_wire_model(cls: type[Any]) -> bool:
    return attrs.has(cls)


def _unstructure_factory(cls: type[Any]) -> Any:
    overrides = {
        a.name: override(omit_if_default=True)
        for a in attrs.fields(cls)
        if a.metadata.get("omitempty")
    }
    return make_dict_unstructure_fn(cls, converter, **overrides)  # type: ignore[arg-type]


def _structure_factory(cls: type[Any]) -> Any:
    inner = make_dict_structure_fn(cls, converter)

    def hook(value: object, type_: object) -> object:
        # A string or an array would otherwise decode as an empty object.
        if not isinstance(value, dict):
            raise TypeError(f"expected a JSON object, got {type(value).__name__}")
        return inner(value, type_)

    return hook


def _is_list(cls: object) -> bool:
    return cls is list or get_origin(cls) is list


def _strict_list_factory(cls: Any, conv: cattrs.Converter) -> Any:
    # cattrs builds lists from any iterable ("ab" -> ["a", "b"]); JSON needs arrays.
    inner = list_structure_factory(cls, conv)

    def hook(value: object, type_: object) -> object:
        if not isinstance(value, list):
            raise TypeError(f"expected a JSON array, got {type(value).__name__}")
        return inner(value, type_)

    return hook


converter.register_structure_hook_factory(_is_list, _strict_list_factory)
converter.register_unstructure_hook_factory(_is_wire_model, _unstructure_factory)
converter.register_structure_hook_factory(_is_wire_model, _structure_factory)


def to_json(value: object) -> bytes:
    """Encode a wire model (or a list of them) to compact JSON bytes.

    Args:
        value: an attrs wire model, a list/dict of them, or plain JSON data.

    Returns:
        UTF-8 JSON with no insignificant whitespace and no trailing newline.
    """
    return json.dumps(
        converter.unstructure(value), separators=(",", ":"), ensure_ascii=False
    ).encode()


def from_json(data: bytes | str | object, cls: type[T]) -> T:
    """Decode JSON (bytes/str) or already-parsed JSON data into ``cls``.

    Args:
        data: raw JSON text, or the result of ``json.loads``.
        cls: the wire model to build.

    Returns:
        An instance of ``cls``.

    Raises:
        ValueError: the text is not JSON, or the data does not fit ``cls``; the
            message lists every problem as ``description @ $.path``.
    """
    try:
        parsed = json.loads(data) if isinstance(data, bytes | str) else data
    except ValueError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    if attrs.has(cls) and not isinstance(parsed, dict):
        raise ValueError(f"expected a JSON object, got {type(parsed).__name__}")
    try:
        return converter.structure(parsed, cls)
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        raise ValueError("; ".join(cattrs.transform_error(exc))) from None


def prepare_codec(cls: type[Any]) -> None:
    """Generate ``cls``'s structure and unstructure hooks now (cattrs caches them).

    cattrs writes a model's hooks, and those of the models in its fields, the
    first time it meets the model: 1-2 ms each. Whoever knows a model is about
    to be used on a hot path can pay that ahead (``AgentCoordinator`` does at
    ``agent/init``, one model per loop step).
    """
    converter.get_structure_hook(cls)
    converter.get_unstructure_hook(cls)
