"""Whitespace-normalised line search, and the hints a failed edit carries.

``find_normalized`` finds text whose lines equal the wanted ones once runs of
whitespace are collapsed, at whole-line boundaries only (the edit tools then
replace whole lines). ``not_found_message`` explains a miss: it shows the
whitespace-equivalent lines (tabs as ``→``, leading spaces as ``·``) or the
window of lines most like the wanted text, and the file's current text around
it, so the model can retry without another ``view``.

Source: Crush ``internal/agent/tools/edit_whitespace.go`` (``diagnoseMismatch``,
``currentRegionContext``); docs/agent.md 2.3.
"""

from __future__ import annotations

import attrs

NOT_FOUND = (
    "old_string not found in file. Make sure it matches exactly, including "
    "whitespace and line breaks"
)

#: Lines of context shown on each side of the nearest match.
REGION_CONTEXT_LINES = 40
#: Characters after which the shown region is cut.
REGION_MAX_CHARS = 8000
#: Longest line shown in the region, characters.
REGION_LINE_CHARS = 2000


@attrs.frozen
class LineRange:
    """Lines ``start`` to ``end`` (0-based, inclusive) of a file."""

    start: int
    end: int


def normalize_ws(line: str) -> str:
    """Collapse every whitespace run of ``line`` to one space and trim it."""
    return " ".join(line.split())


def find_normalized(content: str, old: str) -> list[LineRange]:
    """Return the disjoint whole-line ranges of ``content`` matching ``old``.

    Both are compared line by line with whitespace collapsed
    (``normalize_ws``); a match must start and end at line boundaries.
    """
    old_lines = old.split("\n")
    pattern = "\n".join(normalize_ws(line) for line in old_lines)
    if not pattern.strip():
        return []
    normalized = [normalize_ws(line) for line in content.split("\n")]
    starts = _line_starts(normalized)
    text = "\n".join(normalized)
    found: list[LineRange] = []
    at = text.find(pattern)
    while at != -1:
        end = at + len(pattern)
        if at in starts and (end == len(text) or text[end] == "\n"):
            first = starts[at]
            found.append(LineRange(first, first + len(old_lines) - 1))
            at = text.find(pattern, end + 1)
        else:
            at = text.find(pattern, at + 1)
    return found


def _line_starts(lines: list[str]) -> dict[int, int]:
    """Map the offset of each line's start in the joined text to its index."""
    starts: dict[int, int] = {}
    offset = 0
    for index, line in enumerate(lines):
        starts[offset] = index
        offset += len(line) + 1
    return starts


def not_found_message(content: str, old: str) -> str:
    """Return the "old_string not found" text with whatever hints apply."""
    parts = [NOT_FOUND]
    hint = diagnose_mismatch(content, old)
    if hint:
        parts.append(hint)
    region = current_region(content, old)
    if region:
        parts.append(region)
    return "\n\n".join(parts)


def diagnose_mismatch(content: str, old: str) -> str:
    """Return a hint about the text nearest to ``old``, or ``""`` when none.

    First a whitespace-equivalent match (the real lines, whitespace made
    visible); else the best window of lines with at least half of ``old``'s
    trimmed lines equal, shown with one line of context.
    """
    lines = content.split("\n")
    matches = find_normalized(content, old)
    if matches:
        return _whitespace_hint(lines, matches[0])
    best = best_line_match(lines, old.split("\n"))
    return _closest_hint(lines, best) if best is not None else ""


def _whitespace_hint(lines: list[str], match: LineRange) -> str:
    shown = _numbered(lines, match.start, match.end)
    return (
        "A whitespace-normalized match was found, so the text exists but with "
        "different whitespace (tabs vs spaces, or different indentation).\n"
        f"Actual file content (lines {match.start + 1}-{match.end + 1}):\n"
        f"{shown}Use the exact whitespace shown above (→ = tab, · = space)."
    )


@attrs.frozen
class BestWindow:
    """The window of file lines most like the wanted text."""

    start: int
    size: int
    score: int


def best_line_match(lines: list[str], old_lines: list[str]) -> BestWindow | None:
    """Return the window of ``lines`` most like ``old_lines``, or None.

    Lines are compared trimmed, ``old_lines``' leading and trailing blank
    ones dropped; None when no window has at least half of them equal.
    """
    wanted = [line.strip() for line in old_lines]
    while wanted and not wanted[0]:
        wanted.pop(0)
    while wanted and not wanted[-1]:
        wanted.pop()
    size = len(wanted)
    if not size or not lines:
        return None
    trimmed = [line.strip() for line in lines]
    best: BestWindow | None = None
    for start in range(len(lines) - size + 1):
        window = trimmed[start : start + size]
        score = sum(a == b for a, b in zip(window, wanted, strict=True))
        if score > (best.score if best else 0):
            best = BestWindow(start, size, score)
    if best is None or best.score < (size + 1) // 2:
        return None
    return best


def _closest_hint(lines: list[str], best: BestWindow) -> str:
    last = best.start + best.size - 1
    shown = _numbered(lines, max(0, best.start - 1), min(len(lines) - 1, last + 1))
    return (
        f"No exact match found. Closest match at lines {best.start + 1}-{last + 1} "
        f"({best.score}/{best.size} lines match after trimming whitespace):\n"
        f"{shown}Use the exact text shown above (→ = tab, · = space)."
    )


def _numbered(lines: list[str], first: int, last: int) -> str:
    return "".join(
        f"{n + 1:>6}|{visualize_ws(lines[n])}\n"
        for n in range(first, min(last, len(lines) - 1) + 1)
    )


def visualize_ws(line: str) -> str:
    """Show tabs as ``→`` and leading spaces as ``·``; inner spaces stay."""
    line = line.replace("\t", "→")
    body = line.lstrip(" ")
    return "·" * (len(line) - len(body)) + body


def current_region(content: str, old: str) -> str:
    """Return the file's text around the nearest match, or ``""`` when none.

    Up to ``REGION_CONTEXT_LINES`` lines each side, numbered; long lines are
    cut at ``REGION_LINE_CHARS`` and the block at ``REGION_MAX_CHARS``.
    """
    lines = content.split("\n")
    best = best_line_match(lines, old.split("\n"))
    if best is None:
        return ""
    low = max(0, best.start - REGION_CONTEXT_LINES)
    high = min(len(lines) - 1, best.start + best.size - 1 + REGION_CONTEXT_LINES)
    out = [f"Current file content (lines {low + 1}-{high + 1}):\n"]
    size = len(out[0])
    for n in range(low, high + 1):
        line = lines[n]
        if len(line) > REGION_LINE_CHARS:
            line = line[:REGION_LINE_CHARS] + "…"
        out.append(f"{n + 1:>6}|{line}\n")
        size += len(out[-1])
        if size > REGION_MAX_CHARS:
            out.append("… [region truncated] …\n")
            break
    out.append("Edit against the exact text shown above.")
    return "".join(out)
