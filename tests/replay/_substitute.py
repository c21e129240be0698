"""Working-directory substitution in recorded streams and in received requests.

A recording names the directory it was made in, split over many chunks
(``"/"``, ``"tmp"``, ``"/c"``, ``"rush"``...). To replay it in a temp dir, each
stream's fragments are joined (per choice and field; per choice and tool-call
index for arguments), the directory replaced (JSON-escaped inside arguments,
which are JSON text), and the result cut back at the recorded chunk
boundaries: a fragment where a match begins carries the whole replacement,
the fragments the match covered lose those characters. The number of events
never changes. Requests go the other way (``map_back``) before they are
compared with the recording.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

#: A fragment's place: its chunk's number, the dict holding it and its key.
_Slot = tuple[int, dict[str, object], str]

_TEXT_FIELDS = ("content", "reasoning_content", "reasoning")


def json_escaped(text: str) -> str:
    """``text`` as it appears inside a JSON string literal."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def rechunk(fragments: Sequence[str], old: str, new: str) -> list[str]:
    """Replace ``old`` by ``new`` in the joined fragments, keeping the boundaries.

    Args:
        fragments: consecutive pieces of one stream.
        old: the text to replace (non-empty).
        new: its replacement.

    Returns:
        As many pieces as ``fragments``; joined, they equal
        ``"".join(fragments).replace(old, new)``.
    """
    joined = "".join(fragments)
    spans = [(m.start(), m.end()) for m in re.finditer(re.escape(old), joined)]
    if not spans:
        return list(fragments)
    pieces: list[str] = []
    start = 0
    for fragment in fragments:
        end = start + len(fragment)
        pieces.append(_rewrite(joined, start, end, spans, new))
        start = end
    return pieces


def _rewrite(
    joined: str, start: int, end: int, spans: list[tuple[int, int]], new: str
) -> str:
    out: list[str] = []
    position = start
    for match_start, match_end in spans:
        if match_end <= start or match_start >= end:
            continue
        if match_start >= start:
            out.extend((joined[position:match_start], new))
        position = min(match_end, end)
    out.append(joined[position:end])
    return "".join(out)


def _streams(chunks: list[object]) -> dict[tuple[object, ...], list[_Slot]]:
    """Every text and argument fragment, grouped by stream, in order."""
    streams: dict[tuple[object, ...], list[_Slot]] = {}
    for number, chunk in enumerate(chunks):
        if not isinstance(chunk, dict):
            continue
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            at = choice.get("index", 0)
            for field in _TEXT_FIELDS:
                if isinstance(delta.get(field), str):
                    streams.setdefault((at, field), []).append((number, delta, field))
            for call in delta.get("tool_calls") or ():
                function = call.get("function") or {}
                if isinstance(function.get("arguments"), str):
                    key = (at, "tool", call.get("index", 0))
                    slot = (number, function, "arguments")
                    streams.setdefault(key, []).append(slot)
    return streams


def substitute_events(events: Sequence[str], old: str, new: str) -> list[str]:
    """Replace the directory ``old`` by ``new`` in a recorded answer's events.

    Args:
        events: ``data:`` payloads (JSON chunks, then ``[DONE]``).
        old: the recorded working directory.
        new: the directory the test runs in.

    Returns:
        The payloads; a chunk that changed is re-serialised, the others are
        returned byte for byte.
    """
    if old == new:
        return list(events)
    chunks: list[object] = [None if e == "[DONE]" else json.loads(e) for e in events]
    changed: set[int] = set()
    for key, slots in _streams(chunks).items():
        escaped = key[1] == "tool"
        before = [str(holder[name]) for _, holder, name in slots]
        pattern, replacement = (
            (json_escaped(old), json_escaped(new)) if escaped else (old, new)
        )
        after = rechunk(before, pattern, replacement)
        for (number, holder, name), was, now in zip(slots, before, after, strict=True):
            if was != now:
                holder[name] = now
                changed.add(number)
    return [
        json.dumps(chunks[n], ensure_ascii=False) if n in changed else event
        for n, event in enumerate(events)
    ]


def map_back(value: object, new: str, old: str) -> object:
    """Replace the test's directory ``new`` by the recorded ``old`` everywhere.

    Walks JSON values (dicts, lists, strings); inside strings both the plain
    and the JSON-escaped forms are replaced, so tool-call arguments (JSON
    text) come back as recorded.
    """
    if isinstance(value, str):
        return value.replace(json_escaped(new), json_escaped(old)).replace(new, old)
    if isinstance(value, list):
        return [map_back(item, new, old) for item in value]
    if isinstance(value, dict):
        return {key: map_back(item, new, old) for key, item in value.items()}
    return value
