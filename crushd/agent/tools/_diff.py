"""A unified diff of two texts, and its added and removed line counts.

The edit tools report ``additions`` / ``removals`` in their metadata and
``write`` also the diff text, for clients to render.

Source: Crush ``internal/diff/diff.go`` ``GenerateDiff`` (``a/`` and ``b/``
names without a leading slash); docs/agent.md 2.2.
"""

from __future__ import annotations

import difflib

import attrs

_NO_NEWLINE = "\\ No newline at end of file\n"


@attrs.frozen
class Diff:
    """A unified diff (``""`` when equal) and its line counts."""

    text: str
    additions: int
    removals: int


def unified_diff(before: str, after: str, name: str) -> Diff:
    """Return the unified diff turning ``before`` into ``after``.

    Args:
        before: the old text (``""`` for a new file).
        after: the new text.
        name: the file's name as shown (``a/<name>``, ``b/<name>``); a leading
            ``/`` is dropped.
    """
    name = name.lstrip("/")
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    lines = list(difflib.unified_diff(old, new, f"a/{name}", f"b/{name}"))
    body = lines[2:]  # after the ---/+++ header
    additions = sum(1 for line in body if line.startswith("+"))
    removals = sum(1 for line in body if line.startswith("-"))
    return Diff("".join(_terminated(line) for line in lines), additions, removals)


def _terminated(line: str) -> str:
    """Give a last line without a newline one, and the marker diff(1) prints."""
    if line.endswith("\n"):
        return line
    return f"{line}\n{_NO_NEWLINE}"
