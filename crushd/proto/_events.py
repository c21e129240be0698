"""Event envelopes (docs/protocol.md 3.3) and crushd's own event payloads (C.1)."""

from __future__ import annotations

import attrs

#: Inner event types.
CREATED = "created"
UPDATED = "updated"
DELETED = "deleted"


@attrs.frozen
class Event:
    """A decoded event: outer ``type``, inner event type and payload JSON data.

    ``id`` is the per-workspace sequence number from the SSE ``id:`` field
    (0 when the server sent none).
    """

    type: str
    event_type: str
    payload: object
    id: int = 0


@attrs.frozen
class ConfigChanged:
    """``config_changed`` payload: which workspace's config changed."""

    workspace_id: str


@attrs.frozen
class Resync:
    """``resync`` payload: the client was behind the replay window and must refetch.

    ``oldest_id`` is the oldest event id still in the workspace's log.
    """

    workspace_id: str
    oldest_id: int
