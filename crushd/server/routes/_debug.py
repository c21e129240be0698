"""``POST /v1/debug/workspaces/{id}/publish``: synthetic events for benchmarks.

Registered only when the daemon runs with ``--debug-endpoints`` (otherwise the
path is a plain 404), and even then answered only on unix sockets: a request
that came over TCP gets 403 before its body is read. Each call publishes
``count`` events into the workspace's log, each shaped exactly as::

    {"type":"debug","payload":{"type":"created","payload":
        {"seq":i,"t":<unix time at publish>,"pad":"<payload_bytes x 'x'>"}}}

``seq`` runs 0..count-1 per call; ``t`` is ``time.time()`` taken as each event
is published, so a reader can compute publish-to-receive latency. The events
are published synchronously (one atomic batch: no reader sees part of it
before the rest), which is why ``count`` is capped.

Source: issue 5, "3. Benchmarks" (the event shape other peers' benchmarks use).
"""

from __future__ import annotations

import time

from quart import Response, request

from crushd.errors import BadRequest, DecodeError
from crushd.proto import load_json

from ..http import ServerContext, json_response
from ._live import workspace_of

#: Most events one publish call may ask for.
MAX_PUBLISH_COUNT = 100_000
#: Largest ``pad`` per event, in bytes.
MAX_PAYLOAD_BYTES = 1024 * 1024
#: Largest ``count * payload_bytes`` one call may publish.
MAX_PUBLISH_BYTES = 64 * 1024 * 1024


async def debug_publish(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST /v1/debug/workspaces/<id>/publish``: publish synthetic events.

    Declared ``Access.DEBUG``: only with ``--debug-endpoints`` (else 404),
    and a TCP request gets 403 before its body is read. Takes ``{"count":
    N, "payload_bytes": B}`` (N in 1..``MAX_PUBLISH_COUNT``, B in
    0..``MAX_PAYLOAD_BYTES``, default 0, N x B <= ``MAX_PUBLISH_BYTES``),
    publishes N events synchronously and answers ``{"first_id": a,
    "last_id": b}`` (the ids given to them; ``b < a`` if the log is closed).

    Raises:
        BadRequest: a malformed or out-of-range body (400).
        WorkspaceNotFound: unknown workspace (404).

    Source: issue 5 section 3 (debug publish endpoint); module docstring.
    """
    data = await request.get_data(cache=False, as_text=False, parse_form_data=False)
    count, payload_bytes = _parse_publish(data)
    log = workspace_of(ctx, workspace_id).log
    first = log.head + 1
    pad = "x" * payload_bytes
    for seq in range(count):
        payload = {"seq": seq, "t": time.time(), "pad": pad}
        log.publish("debug", "created", payload)
    return json_response({"first_id": first, "last_id": log.head})


def _parse_publish(data: bytes) -> tuple[int, int]:
    """Return ``(count, payload_bytes)`` from the body, or raise a 400."""
    try:
        body = load_json(data)
    except ValueError:
        raise DecodeError from None
    if not isinstance(body, dict):
        raise DecodeError("failed to decode request: expected a JSON object")
    count = _bounded_int(body, "count", 1, MAX_PUBLISH_COUNT, None)
    payload_bytes = _bounded_int(body, "payload_bytes", 0, MAX_PAYLOAD_BYTES, 0)
    if count * payload_bytes > MAX_PUBLISH_BYTES:
        raise BadRequest(f"count * payload_bytes must be <= {MAX_PUBLISH_BYTES}")
    return count, payload_bytes


def _bounded_int(
    body: dict[str, object], key: str, low: int, high: int, default: int | None
) -> int:
    value = body.get(key, default)
    if type(value) is not int or not low <= value <= high:
        raise BadRequest(f"{key} must be an integer in {low}..{high}")
    return value
