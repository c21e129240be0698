"""Read message parts in their wire form (docs/protocol.md 4.2).

Event payloads carry messages as plain JSON data, so these helpers take
``parts`` as decoded JSON (a list of ``{"type", "data"}`` objects) and skip
anything of another shape instead of raising. ``plain_parts`` turns the parts
of a ``crushd.proto.Message`` into that form.
"""

from __future__ import annotations

from collections.abc import Iterator

from crushd.proto import Message, converter


def plain_parts(message: Message) -> list[object]:
    """Return ``message.parts`` as plain JSON data."""
    parts: list[object] = converter.unstructure(message.parts)
    return parts


def parts_of(parts: object, kind: str) -> Iterator[dict[str, object]]:
    """Yield the ``data`` object of every part of type ``kind``, in order."""
    for part in parts if isinstance(parts, list) else ():
        if isinstance(part, dict) and part.get("type") == kind:
            data = part.get("data")
            if isinstance(data, dict):
                yield data


def message_text(parts: object) -> str:
    """Return the text of the ``text`` parts, joined (``""`` when none)."""
    return "".join(text_field(data, "text") for data in parts_of(parts, "text"))


def reasoning_text(parts: object) -> str:
    """Return the text of the ``reasoning`` parts (their ``thinking``), joined."""
    return "".join(
        text_field(data, "thinking") for data in parts_of(parts, "reasoning")
    )


def finish_part(parts: object) -> dict[str, object] | None:
    """Return the last ``finish`` part's data, or ``None`` if there is none.

    Its ``reason`` is ``end_turn``, ``max_tokens``, ``tool_use``, ``canceled``,
    ``error``, ``content_filter`` or ``unknown``; a failed turn also carries
    ``message`` (the title) and ``details``.
    """
    finishes = list(parts_of(parts, "finish"))
    return finishes[-1] if finishes else None


def finish_error(finish: dict[str, object]) -> str:
    """Return ``"<message>: <details>"`` of an ``error`` finish (either may be "")."""
    pieces = [text_field(finish, "message"), text_field(finish, "details")]
    return ": ".join(piece for piece in pieces if piece) or "the run failed"


def text_field(data: dict[str, object], key: str) -> str:
    """Return ``data[key]`` if it is a string, else ``""``."""
    value = data.get(key)
    return value if isinstance(value, str) else ""
