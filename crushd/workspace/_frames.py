"""The event log's wire frames: SSE and WebSocket encodings of an event.

Every event is encoded once, at publish: a JSON envelope (``type`` and the
inner ``payload``), which becomes the SSE frame (``id:`` and one ``data:``
line) and the WebSocket text frame (the envelope with ``"id"`` first). A
reader's wake-up hands back a ``Batch`` (SSE) or a ``WsBatch`` (WebSocket).

Source: docs/protocol.md 3.2-3.3 (SSE framing and envelope), C.2 (ping),
C.4 (replayed pending prompts), C.9 (WebSocket frames).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import attrs

from crushd.config import scrub_known_secrets
from crushd.proto import UPDATED, Resync, converter

__all__ = [
    "PING_FRAME",
    "Batch",
    "WsBatch",
    "envelope",
    "replay_frames",
    "resync_envelope",
    "sse_frame",
    "ws_frame",
]

#: An SSE comment frame; the stream writes it when idle (docs/protocol.md C.2).
PING_FRAME = b": ping\n\n"

_RESYNC = "resync"


@attrs.frozen
class Batch:
    """What one SSE reader gets per wake-up.

    Attributes:
        data: every frame after the cursor joined into one chunk, starting with
            a ``resync`` frame when ``resync`` is true; ``b""`` when nothing is
            pending.
        cursor: the reader's new cursor (the log's head when this was read).
        resync: the cursor was outside the ring, so events may be missing and
            the client must refetch state.
    """

    data: bytes
    cursor: int
    resync: bool


@attrs.frozen
class WsBatch:
    """What one WebSocket reader gets per wake-up.

    Attributes:
        frames: one JSON text frame per event, each with ``"id"`` as its first
            key, led by a ``resync`` frame when ``resync`` is true; empty when
            nothing is pending.
        cursor: the reader's new cursor (the log's head when this was read).
        resync: as ``Batch.resync``.
    """

    frames: Sequence[str]
    cursor: int
    resync: bool


def envelope(type_: str, event_type: str, payload: object) -> str:
    """The event's JSON envelope, compact, known secrets masked.

    Raises:
        TypeError: ``payload`` holds neither JSON data nor an attrs wire model.
    """
    wrapped = {"type": type_, "payload": {"type": event_type, "payload": payload}}
    # Plain JSON data goes straight to the C encoder; the converter is called
    # only for what json cannot encode (attrs models, at any depth). Compact
    # separators and escaped control characters: never a raw newline, so each
    # event is exactly one SSE data line. Every event passes here once, so
    # here a secret value the daemon knows is masked, whatever field holds it.
    return scrub_known_secrets(
        json.dumps(
            wrapped,
            separators=(",", ":"),
            ensure_ascii=False,
            default=_unstructure_model,
        )
    )


def replay_frames(events: list[tuple[str, object]]) -> tuple[bytes, list[str]]:
    """Encode events for one new stream only, outside the log: no ids.

    Args:
        events: ``(type, payload)`` pairs, each sent as a ``created`` event.

    Returns:
        ``(sse, ws)``: the SSE chunk (``data:`` lines without an ``id:``
        line, so the client's resume point stays where it is) and one
        WebSocket text frame per event (the envelope without ``"id"``).

    Source: docs/protocol.md C.4 (pending prompts replayed on attach).
    """
    envelopes = [envelope(type_, "created", payload) for type_, payload in events]
    sse = b"".join(b"data: %s\n\n" % e.encode() for e in envelopes)
    return sse, envelopes


def _unstructure_model(value: object) -> object:
    if not attrs.has(type(value)):
        raise TypeError(f"{type(value).__name__} is not JSON data or a wire model")
    return converter.unstructure(value)


def sse_frame(seq: int, body: bytes) -> bytes:
    """The SSE frame of event ``seq`` whose envelope is ``body`` (UTF-8)."""
    return b"id: %d\ndata: %s\n\n" % (seq, body)


def ws_frame(seq: int, encoded: str) -> str:
    """The WebSocket text frame of event ``seq``: ``"id"`` as the first key."""
    # The envelope always starts with "{"; splice the id in as the first key.
    return f'{{"id":{seq},{encoded[1:]}'


def resync_envelope(workspace_id: str, oldest: int) -> str:
    """The ``resync`` event's envelope: events before ``oldest`` are gone."""
    payload = Resync(workspace_id=workspace_id, oldest_id=oldest)
    return envelope(_RESYNC, UPDATED, payload)
