"""Words of a parsed shell command: literal values, and wrappers removed.

``literal`` turns a tree-sitter-bash word into the text the shell would pass,
or ``UNKNOWN`` when it expands at run time (a variable, ``$'...'``...).
``unwrap`` drops the programs that only run another one (``env``,
``timeout N``, ``nice``, ``nohup``, ``time``, ``command``, ``exec``,
``xargs``) so the checks see the program that really runs
(docs/agent.md 2.3; upstream checks only the first word, docs/agent.md 1.17).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs
import tree_sitter

#: Stands for a word whose value is only known when the command runs.
UNKNOWN = "\x00"

#: Variables a read-only command may set (``env NAME=value``, ``NAME=value
#: cmd``): they change no program's target, unlike ``PATH`` or ``GIT_PAGER``.
SAFE_VARIABLE = re.compile(r"LANG|LANGUAGE|LC_[A-Z]+|TZ|NO_COLOR|TERM|COLUMNS|LINES")


def literal(node: tree_sitter.Node) -> str:
    """Return the word's value after quote removal, or ``UNKNOWN``."""
    text = (node.text or b"").decode("utf-8", "surrogateescape")
    kind = node.type
    if kind == "command_name":
        return (
            literal(node.named_children[0]) if node.named_child_count == 1 else UNKNOWN
        )
    if kind in {"word", "number"}:
        return re.sub(r"\\(.)", r"\1", text.replace("\\\n", ""), flags=re.DOTALL)
    if kind == "raw_string":
        return text[1:-1]
    if kind == "string":
        return _double_quoted(node)
    if kind == "concatenation":
        parts = [literal(child) for child in node.named_children]
        return UNKNOWN if UNKNOWN in parts else "".join(parts)
    return UNKNOWN


def _double_quoted(node: tree_sitter.Node) -> str:
    children = node.named_children
    if any(child.type != "string_content" for child in children):
        return UNKNOWN
    text = "".join((c.text or b"").decode("utf-8", "surrogateescape") for c in children)
    return re.sub(r'\\([$`"\\\n])', r"\1", text)


@attrs.frozen
class _Wrapper:
    """How to find the command a wrapper program runs.

    Attributes:
        with_value: options whose value is the next word (``-n 5``).
        opaque: options after which the command cannot be found (``env -S``)
            or which write a file (``time -o FILE``).
        no_command: options with which nothing is run (``command -v``).
        leading: plain words before the command (``timeout``'s duration).
        assignments: True when ``NAME=value`` words come first (``env``).
    """

    with_value: frozenset[str] = frozenset()
    opaque: frozenset[str] = frozenset()
    no_command: frozenset[str] = frozenset()
    leading: int = 0
    assignments: bool = False


_WRAPPERS = {
    "env": _Wrapper(
        with_value=frozenset({"-u", "--unset", "-C", "--chdir"}),
        opaque=frozenset({"-S", "--split-string"}),
        assignments=True,
    ),
    "timeout": _Wrapper(
        with_value=frozenset({"-s", "-k", "--signal", "--kill-after"}), leading=1
    ),
    "nice": _Wrapper(with_value=frozenset({"-n", "--adjustment"})),
    "nohup": _Wrapper(),
    "time": _Wrapper(
        with_value=frozenset({"-f", "--format"}),
        opaque=frozenset({"-o", "--output", "-a", "--append"}),
    ),
    "command": _Wrapper(no_command=frozenset({"-v", "-V"})),
    "exec": _Wrapper(with_value=frozenset({"-a"})),
    "xargs": _Wrapper(
        with_value=frozenset({"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s"})
    ),
}


def unwrap(argv: Sequence[str]) -> tuple[list[str], bool]:
    """Remove wrapper programs from the front of ``argv``.

    Args:
        argv: a simple command's words (``literal`` values).

    Returns:
        ``(inner, clean)``: the words of the program that really runs
        (``[]`` when a wrapper runs nothing), and False when a wrapper was
        used in a way the read-only check cannot follow (``env -S``,
        ``env PATH=...``, ``time -o FILE``) or hands over unknown words
        (``xargs``).
    """
    words, clean = list(argv), True
    for _ in range(16):  # `nice nice nice ...` ends somewhere
        wrapper = _WRAPPERS.get(words[0].rsplit("/", 1)[-1]) if words else None
        if wrapper is None:
            break
        rest, ok = _after(wrapper, words[1:])
        clean = clean and ok
        if rest is None:
            break
        if words[0].endswith("xargs") and rest:
            rest = [*rest, UNKNOWN]  # xargs appends words read from stdin
        words = rest
    return words, clean


def _after(wrapper: _Wrapper, words: list[str]) -> tuple[list[str] | None, bool]:
    """The words after ``wrapper``'s options, or None when they cannot be found."""
    index, clean = 0, True
    while index < len(words):
        word = words[index]
        name = word.split("=", 1)[0]
        if word == UNKNOWN or name in wrapper.opaque:
            return None, False
        if name in wrapper.no_command:
            return [], clean
        if word == "--":
            index += 1
            break
        if word.startswith("-") and len(word) > 1:
            index += 2 if word in wrapper.with_value else 1
        elif wrapper.assignments and "=" in word:
            clean = clean and SAFE_VARIABLE.fullmatch(name) is not None
            index += 1
        else:
            break
    return words[index + wrapper.leading :], clean
