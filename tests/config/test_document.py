"""Document helpers: deep merge, ``$VAR`` resolution, dotted keys."""

from __future__ import annotations

import pytest

from crushd.config import (
    MAX_KEY_PARTS,
    deep_merge,
    remove_key,
    resolve_variables,
    set_key,
    split_key,
)
from crushd.errors import BadRequest


def test_deep_merge_merges_objects_and_replaces_the_rest() -> None:
    """Objects merge recursively; scalars and arrays from the top replace."""
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    top = {"a": {"y": [3], "z": {"k": True}}, "b": {"now": "object"}}
    assert deep_merge(base, top) == {
        "a": {"x": 1, "y": [3], "z": {"k": True}},
        "b": {"now": "object"},
    }
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1}


def test_deep_merge_copies_the_top_values() -> None:
    """Changing the merge result never changes the layers it came from."""
    top: dict[str, object] = {"a": {"list": [1]}}
    merged = deep_merge({}, top)
    inner = merged["a"]
    assert isinstance(inner, dict)
    inner["list"].append(2)
    assert top == {"a": {"list": [1]}}


def test_resolve_variables_in_nested_strings_only() -> None:
    """Strings inside objects and arrays resolve; keys and numbers stay."""
    value = {"$K": ["$A-${B}", 3, {"x": "${A}"}], "n": None}
    env = {"A": "1", "B": "2", "K": "no"}
    assert resolve_variables(value, env) == {"$K": ["1-2", 3, {"x": "1"}], "n": None}


def test_resolve_variables_unset_is_empty_and_plain_dollar_stays() -> None:
    """An unset variable becomes ""; a ``$`` not followed by a name stays."""
    assert resolve_variables("a$NOPE b $5 ${", {}) == "a b $5 ${"


def test_set_key_creates_and_replaces() -> None:
    """set_key makes missing objects and replaces a scalar in the way."""
    doc: dict[str, object] = {"options": {"tui": 1}}
    set_key(doc, "options.tui.compact_mode", True)
    set_key(doc, "top", [1])
    assert doc == {"options": {"tui": {"compact_mode": True}}, "top": [1]}


def test_remove_key_reports_presence() -> None:
    """remove_key deletes a present key and tells whether it was there."""
    doc: dict[str, object] = {"providers": {"openai": {}, "x": 1}}
    assert remove_key(doc, "providers.openai") is True
    assert remove_key(doc, "providers.openai") is False
    assert remove_key(doc, "providers.x.y") is False
    assert remove_key(doc, "nope.deep") is False
    assert doc == {"providers": {"x": 1}}


@pytest.mark.parametrize("key", ["", ".", "a..b", "a."])
def test_split_key_rejects_empty_parts(key: str) -> None:
    """A key with an empty part is a 400."""
    with pytest.raises(BadRequest, match="invalid config key"):
        split_key(key)


def test_split_key_refuses_deep_key_paths() -> None:
    """A key of 10,000 parts is a 400 before anything is built; 64 parts is fine."""
    with pytest.raises(BadRequest, match="more than 64 dot-separated parts"):
        split_key(".".join(["a"] * 10_000))
    with pytest.raises(BadRequest, match="more than 64"):
        split_key(".".join(["a"] * (MAX_KEY_PARTS + 1)))
    assert len(split_key(".".join(["a"] * MAX_KEY_PARTS))) == MAX_KEY_PARTS
