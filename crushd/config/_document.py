"""Plain JSON document operations: deep merge, dotted keys, ``$VAR`` values."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping

from crushd.errors import BadRequest

from ._limits import MAX_KEY_PARTS
from ._model import JSONObject

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def deep_merge(base: JSONObject, top: JSONObject) -> JSONObject:
    """Return ``base`` overlaid with ``top``: objects merge, the rest is replaced.

    Arrays are replaced, never concatenated; neither input is changed.

    Source: Crush config merge order (docs/protocol.md 7.1).
    """
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(below, dict) and isinstance(value, dict):
            merged[key] = deep_merge(below, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def resolve_variables(value: object, environ: Mapping[str, str]) -> object:
    """Return ``value`` with ``$VAR``/``${VAR}`` in every string replaced.

    Unset variables become ``""`` (as a shell does); keys are not touched.

    Source: Crush config value resolution from the server's environment (B.17).
    """
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: environ.get(m[1] or m[2], ""), value)
    if isinstance(value, dict):
        return {k: resolve_variables(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_variables(v, environ) for v in value]
    return value


def split_key(key: str) -> list[str]:
    """Split a dotted key into its parts.

    Raises:
        BadRequest: an empty key, an empty part, or more than
            ``MAX_KEY_PARTS`` (64) parts (400).
    """
    parts = key.split(".", MAX_KEY_PARTS)
    if len(parts) > MAX_KEY_PARTS:
        raise BadRequest(
            f"invalid config key: more than {MAX_KEY_PARTS} dot-separated parts"
        )
    if not key or not all(parts):
        raise BadRequest(f"invalid config key {key!r}")
    return parts


def set_key(document: JSONObject, key: str, value: object) -> None:
    """Set ``value`` at the dotted ``key``, creating objects on the way.

    A non-object in the way is replaced by an object (as upstream's sjson).
    """
    *parents, last = split_key(key)
    node = document
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def remove_key(document: JSONObject, key: str) -> bool:
    """Delete the dotted ``key``; return whether it was there."""
    *parents, last = split_key(key)
    node: object = document
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    return False
