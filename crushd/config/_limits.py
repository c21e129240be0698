"""What a config write may produce: bounded, finite, and shaped like the model.

A write that the daemon could not read back would break every workspace
create that reads the file, across restarts (issue 11: one key path 10,000
parts deep did exactly that). So a written document must have:

- at most ``MAX_CONFIG_NESTING`` (64) levels of objects and arrays (the
  document itself is level 1), hence a dotted key of at most
  ``MAX_KEY_PARTS`` (64) parts;
- no NaN or Infinity (they are not JSON);
- an object wherever the model has one (``options``, ``options.tui``,
  ``providers.<id>``, ``models.<type>``, ...); the converter alone would take
  a string there for an empty object;
- at most ``MAX_CONFIG_FILE_BYTES`` (1 MiB) of UTF-8 text.

Checks walk the document without recursion, so even a value nested 10,000
levels deep is refused with a message instead of a ``RecursionError``.
"""

from __future__ import annotations

import functools
import math
import typing
from collections.abc import Iterator

import attrs

from ._model import Config

#: A dotted config key has at most this many parts.
MAX_KEY_PARTS = 64
#: A config document nests objects and arrays at most this many levels deep.
MAX_CONFIG_NESTING = 64
#: A written config file is at most this many bytes (1 MiB).
MAX_CONFIG_FILE_BYTES = 1024 * 1024

# A JSON path in a message is cut to this many characters.
_WHERE_MAX_CHARS = 160

_JSON_KINDS = {
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    list: "an array",
    type(None): "null",
}


def document_problem(document: object) -> str | None:
    """Return why ``document`` must not be written, or ``None`` when it may.

    Returns:
        ``"<JSON path>: <problem>"``, e.g. ``"$.a.b: nested deeper than 64
        levels"``, ``"$.x: NaN and Infinity are not valid JSON"`` or
        ``"$.options: expected a JSON object, got a string"``.
    """
    problem = _limits_problem(document) or _shape_problem(document, Config, "$")
    if problem is None:
        return None
    where, _, why = problem.rpartition(": ")
    if len(where) > _WHERE_MAX_CHARS:
        where = where[: _WHERE_MAX_CHARS - 3] + "..."
    return f"{where}: {why}"


def _limits_problem(document: object) -> str | None:
    stack: list[tuple[object, int, str]] = [(document, 1, "$")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return f"{where}: NaN and Infinity are not valid JSON"
        if isinstance(value, dict | list) and depth > MAX_CONFIG_NESTING:
            return f"{where}: nested deeper than {MAX_CONFIG_NESTING} levels"
        stack.extend((v, depth + 1, path) for path, v in _children(value, where))
    return None


def _children(value: object, where: str) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        yield from ((f"{where}.{key}", child) for key, child in value.items())
    elif isinstance(value, list):
        yield from ((f"{where}[{i}]", child) for i, child in enumerate(value))


def _shape_problem(value: object, model: type, where: str) -> str | None:
    # Only objects are checked here; scalars and lists are the converter's.
    if not isinstance(value, dict):
        got = _JSON_KINDS.get(type(value), type(value).__name__)
        return f"{where}: expected a JSON object, got {got}"
    for name, field_type in _model_fields(model):
        if name in value:
            problem = _typed_problem(value[name], field_type, f"{where}.{name}")
            if problem:
                return problem
    return None


def _typed_problem(value: object, kind: object, where: str) -> str | None:
    if isinstance(kind, type) and attrs.has(kind):
        return _shape_problem(value, kind, where)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is dict and isinstance(value, dict):
        entries = [(f"{where}.{k}", v) for k, v in value.items()]
        return _first_problem(entries, args[1])
    if origin is list and isinstance(value, list):
        items = [(f"{where}[{i}]", v) for i, v in enumerate(value)]
        return _first_problem(items, args[0])
    return None


def _first_problem(entries: list[tuple[str, object]], kind: object) -> str | None:
    for where, value in entries:
        problem = _typed_problem(value, kind, where)
        if problem:
            return problem
    return None


@functools.cache
def _model_fields(model: type) -> tuple[tuple[str, object], ...]:
    hints = typing.get_type_hints(model)
    return tuple((field.name, hints[field.name]) for field in attrs.fields(model))
