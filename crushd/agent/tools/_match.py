"""Find-and-replace for the edit tools: exact first, then whitespace-tolerant.

An exact match wins. When there is none, every line is compared with its
whitespace runs collapsed, at whole-line boundaries only; a unique match (or
every match, with ``replace_all``) is replaced by ``new`` re-indented to the
file's indentation style and the old text's nesting depth. Content is matched
as LF text; ``to_lf`` / ``to_crlf`` convert around it.

Source: Crush ``internal/agent/tools/edit.go`` ``findAndReplace`` and
``edit_whitespace.go``; docs/agent.md 2.3.
"""

from __future__ import annotations

import attrs

from ._mismatch import find_normalized, not_found_message

#: Appended to a result when the edit matched only after normalising whitespace.
WHITESPACE_NOTE = (
    "Note: old_string did not match exactly. The edit was applied to "
    "whitespace-equivalent text in the file and new_string was re-indented to "
    "match the file's style. Verify the result."
)

AMBIGUOUS = (
    "old_string appears multiple times in the file. Please provide more "
    "context to ensure a unique match, or set replace_all to true"
)


class MatchError(Exception):
    """``old`` was not found, or was found more than once; ``message`` says how."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@attrs.frozen
class Replaced:
    """The content after a replacement; ``fuzzy`` when whitespace-tolerant."""

    content: str
    fuzzy: bool = False


def find_and_replace(content: str, old: str, new: str, replace_all: bool) -> Replaced:
    """Replace ``old`` with ``new`` in ``content`` (all LF text).

    Raises:
        MatchError: several exact matches without ``replace_all``, or no match
            at all (the message then carries a hint about the nearest text),
            or ``old`` is empty.
    """
    if not old:
        raise MatchError("old_string cannot be empty for content replacement")
    if replace_all and old in content:
        return Replaced(content.replace(old, new))
    if not replace_all:
        index = content.find(old)
        if index != -1 and content.rfind(old) != index:
            raise MatchError(AMBIGUOUS)
        if index != -1:
            return Replaced(content[:index] + new + content[index + len(old) :])
    replaced = normalized_replace(content, old, new, replace_all)
    if replaced is None:
        raise MatchError(not_found_message(content, old))
    return Replaced(replaced, fuzzy=True)


def normalized_replace(
    content: str, old: str, new: str, replace_all: bool
) -> str | None:
    """Replace whitespace-equivalent whole lines; None when unsafe or absent.

    None when nothing matches, or several ranges match without ``replace_all``
    (the model must disambiguate).
    """
    matches = find_normalized(content, old)
    if not matches or (len(matches) > 1 and not replace_all):
        return None
    lines = content.split("\n")
    unit = detect_indent_unit(lines)
    result = list(lines)
    for match in reversed(matches):
        actual = "\n".join(lines[match.start : match.end + 1])
        adapted = adapt_indentation(actual, old, new, unit)
        result[match.start : match.end + 1] = adapted.split("\n")
    return "\n".join(result)


def adapt_indentation(actual: str, old: str, new: str, file_unit: str) -> str:
    """Re-indent ``new`` into the file's unit at the matched text's depth.

    ``actual`` is the file's matched text, ``old`` what the model sent. The
    model's unit is ``old``'s, else ``new``'s, else the file's; the depth
    offset between the first non-blank lines of ``actual`` and ``old`` is
    added to every non-blank line of ``new``.
    """
    if not file_unit:
        return new
    new_lines = new.split("\n")
    source = detect_indent_unit(old.split("\n")) or detect_indent_unit(new_lines)
    source = source or file_unit
    offset = _first_depth(actual.split("\n"), file_unit) - _first_depth(
        old.split("\n"), source
    )
    if source == file_unit and offset == 0:
        return new
    return "\n".join(_reindent(line, source, file_unit, offset) for line in new_lines)


def _reindent(line: str, source: str, target: str, offset: int) -> str:
    body = line.lstrip(" \t")
    if not body:
        return line
    depth = max(measure_depth(line[: len(line) - len(body)], source) + offset, 0)
    return target * depth + body


def _first_depth(lines: list[str], unit: str) -> int:
    for line in lines:
        body = line.lstrip(" \t")
        if body:
            return measure_depth(line[: len(line) - len(body)], unit)
    return 0


def detect_indent_unit(lines: list[str]) -> str:
    """Return the indentation unit of ``lines``.

    A tab if any indented line's indentation holds one, else the smallest
    leading run of spaces, else ``""`` (no indentation).
    """
    smallest = 0
    for line in lines:
        body = line.lstrip(" \t")
        leading = line[: len(line) - len(body)]
        if not body or not leading:
            continue
        if "\t" in leading:
            return "\t"
        if smallest == 0 or len(leading) < smallest:
            smallest = len(leading)
    return " " * smallest


def measure_depth(leading: str, unit: str) -> int:
    """Return how many ``unit``s deep the whitespace ``leading`` is."""
    if not unit:
        return 0
    if unit == "\t":
        return leading.count("\t")
    return leading.count(" ") // len(unit)


def to_lf(text: str) -> tuple[str, bool]:
    """Return ``text`` with CRLF turned into LF, and whether it had any CRLF."""
    if "\r\n" in text:
        return text.replace("\r\n", "\n"), True
    return text, False


def to_crlf(text: str) -> str:
    """Return LF text with every line ending written as CRLF."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")
