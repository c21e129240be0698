"""Short one-line renderings of tool calls and texts, shared by run, watch, messages."""

from __future__ import annotations

import json

#: The longest rendering of a tool call's main argument, in characters.
ARGUMENT_CHARS = 72

#: The argument keys that say most about a call, best first (upstream names).
_MAIN_KEYS = (
    "file_path",
    "path",
    "pattern",
    "command",
    "url",
    "query",
    "prompt",
    "description",
)
_PATH_KEYS = frozenset({"file_path", "path"})


def tool_line(name: str, arguments: str) -> str:
    """Return ``<name> <main argument>``, e.g. ``view /src/main.go``.

    The main argument is the first of ``file_path``, ``path``, ``pattern``,
    ``command``, ``url``, ``query``, ``prompt``, ``description`` that the JSON
    ``arguments`` hold as a non-empty string, else the first string value;
    a ``todos`` list is shown as its length. Paths keep their end, other
    values their start (``ARGUMENT_CHARS`` at most, one line).
    """
    summary = main_argument(arguments)
    return f"{name or '?'} {summary}".rstrip()


def main_argument(arguments: str) -> str:
    """Return the shortened main argument of a tool call (``""`` when none)."""
    try:
        data = json.loads(arguments) if arguments else {}
    except ValueError:
        return clip(arguments)
    if not isinstance(data, dict):
        return ""
    for key in _MAIN_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            return tail(value) if key in _PATH_KEYS else clip(value)
    todos = data.get("todos")
    if isinstance(todos, list):
        return f"({len(todos)} item{'' if len(todos) == 1 else 's'})"
    first = next((v for v in data.values() if isinstance(v, str) and v), "")
    return clip(first)


def one_line(text: str) -> str:
    """Return ``text`` with its line breaks shown as ``⏎``."""
    return " ⏎ ".join(line.strip() for line in text.strip().splitlines())


def clip(text: str, limit: int = ARGUMENT_CHARS) -> str:
    """Return ``text`` on one line, cut to ``limit`` characters with ``…``."""
    line = one_line(text)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def tail(text: str, limit: int = ARGUMENT_CHARS) -> str:
    """Return the end of ``text`` on one line, at most ``limit`` characters.

    A cut shows as a leading ``…`` (``…/a/b.go``).
    """
    line = one_line(text)
    return line if len(line) <= limit else "…" + line[-(limit - 1) :]


def quoted(text: str) -> str:
    """Return ``text`` as a JSON string literal (quotes, escapes)."""
    return json.dumps(text, ensure_ascii=False)
