"""Two fixes for hypercorn (trio worker) + quart-trio that ``serve_app`` applies.

1. ``ShieldFinalSend``: without it connections are never closed after a response.
   quart-trio runs a request as two sibling tasks (send the response / watch for
   disconnect) and cancels both when either ends. The response's final
   ``http.response.body`` send runs hypercorn's ``_send_closed``: it writes the
   end of the message, then handles ``StreamClosed``, which posts
   ``http.disconnect`` to the app. That wakes quart-trio's watcher, which
   cancels the nursery of the very task still inside the send, so the next
   checkpoint (``protocol_send(Closed())`` for ``Connection: close``,
   ``protocol_send(Updated(idle=True))`` for keep-alive) raises ``Cancelled``:
   the connection is neither closed nor given its keep-alive idle timer, and
   shutdown waits the whole graceful timeout for idle clients. Checked by
   tracing ``TCPServer.protocol_send`` (hypercorn 0.18.0, quart-trio 0.12.0).
2. ``install_send_timeout``: hypercorn's ``TCPServer.protocol_send`` shields
   ``stream.send_all``, so a peer that stops reading blocks its connection, and
   shutdown, forever (no outer cancel gets through a shield). The patch keeps
   the shield but bounds it. It also writes what the socket accepts at once
   with one synchronous ``write(2)`` (``_write_nowait``) and only shields and
   bounds the remainder: SSE writes are small and frequent, and the shielded
   deadline scope plus trio's ``send_all`` were most of their cost
   (issue 5 benchmarks, stress/RESULTS.md).

Source: CONTRIBUTING.md "Pitfalls" (spike items 1 and 10);
docs/architecture.md 4 and 4b.
"""

from __future__ import annotations

import logging
import math
import os
from functools import partial

import trio
from hypercorn.config import Config
from hypercorn.events import Closed, Event, RawData
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.typing import (
    ASGIFramework,
    ASGIReceiveCallable,
    ASGISendCallable,
    ASGISendEvent,
    Scope,
)

from ._patching import CHECKED_HYPERCORN_VERSIONS, patch_tcp_server

__all__ = [
    "CHECKED_HYPERCORN_VERSIONS",
    "SEND_SLICE_BYTES",
    "SendTimeoutConfig",
    "ShieldFinalSend",
    "install_send_timeout",
]

logger = logging.getLogger("crushd.http")

#: Scope key under which ``ShieldFinalSend`` leaves hypercorn's own ``send``.
RAW_SEND_KEY = "crushd.raw_send"

#: hypercorn versions whose ``TCPServer.protocol_send`` the patch was checked against.
#: The send timeout bounds each slice of this size: "no 64 KiB of progress".
SEND_SLICE_BYTES = 64 * 1024

_original_protocol_send = TCPServer.protocol_send


class ShieldFinalSend:
    """ASGI middleware: let an HTTP response's final send finish under cancellation.

    The last ``http.response.body`` (``more_body`` false) runs inside
    ``trio.move_on_after(shield_seconds, shield=True)``; every other message and
    non-HTTP scopes pass through untouched. HTTP scopes also get hypercorn's
    unwrapped ``send`` under ``RAW_SEND_KEY`` (the direct SSE writer reaches
    the connection through it). Wrapping twice is harmless but
    pointless; ``serve_app`` wraps once.

    Args:
        app: the ASGI app (the quart-trio app).
        shield_seconds: upper bound for the final send, in seconds (> 0); a send
            still running then is abandoned (the app's cancellation proceeds).

    Cancellation:
        The final send ignores cancellation for at most ``shield_seconds``; any
        pending cancellation is delivered at the app's next checkpoint.

    Source: module docstring, fix 1.
    """

    def __init__(self, app: ASGIFramework, *, shield_seconds: float) -> None:
        self.app = app
        self.shield_seconds = shield_seconds

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "http":
            # hypercorn's own send, for the direct SSE writer (``_direct``).
            # The scope is this request's own dict: set the key in place
            # rather than copying it (every idle stream keeps its scope).
            scope[RAW_SEND_KEY] = send  # type: ignore[literal-required]
            send = partial(_send_final_shielded, send, self.shield_seconds)
        await self.app(scope, receive, send)


async def _send_final_shielded(
    send: ASGISendCallable, shield_seconds: float, message: ASGISendEvent
) -> None:
    if message["type"] == "http.response.body" and not message.get("more_body"):
        with trio.move_on_after(shield_seconds, shield=True):
            await send(message)
        return
    await send(message)


class SendTimeoutConfig(Config):
    """hypercorn ``Config`` plus the send timeout read by the patched send.

    Attributes:
        send_timeout_seconds: abort a connection whose peer accepts no
            ``SEND_SLICE_BYTES`` within this many seconds; ``math.inf`` = never.
    """

    send_timeout_seconds: float = math.inf


def install_send_timeout() -> bool:
    """Give hypercorn's shielded socket send a deadline (idempotent, process-wide).

    Replaces ``TCPServer.protocol_send`` for raw data only: each
    ``SEND_SLICE_BYTES`` slice is sent under ``move_on_after(t, shield=True)``
    with ``t`` = the server config's ``send_timeout_seconds`` (``math.inf``
    for configs that are not ``SendTimeoutConfig``, i.e. hypercorn's own
    behaviour). On expiry the stream is closed forcefully and the protocol told
    ``Closed()``, exactly as hypercorn handles a broken pipe, so the app sees
    ``http.disconnect``. Other events go to the original method.

    The patch is only installed on hypercorn versions in
    ``CHECKED_HYPERCORN_VERSIONS`` (checked against 0.18.0); on others a warning
    is logged and hypercorn is left alone.

    Returns:
        ``True`` when the patch is in place, ``False`` when skipped.

    Source: module docstring, fix 2; hypercorn ``trio/tcp_server.py``.
    """
    return patch_tcp_server(
        "protocol_send",
        _protocol_send_with_deadline,
        what="send-timeout patch; a client that stops reading can stall its"
        " connection and shutdown",
    )


async def _protocol_send_with_deadline(self: TCPServer, event: Event) -> None:
    """Run hypercorn's ``protocol_send`` with a bounded shield around ``send_all``.

    An uncontended send takes the lock without waiting and writes first, then
    yields: the bytes leave one scheduling round earlier than behind the
    lock's own checkpoint, which on a busy loop (streams fanning out, runs
    starting) is a round of every runnable task. A response is two sends
    (head, body), so a short answer saves two rounds. The yield afterwards
    keeps the send a checkpoint, so a loop of sends still lets others run.
    """
    if not isinstance(event, RawData):
        await _original_protocol_send(self, event)
        return
    await trio.lowlevel.checkpoint_if_cancelled()
    try:
        self.send_lock.acquire_nowait()
    except trio.WouldBlock:
        async with self.send_lock:
            await _send_locked(self, event.data)
        return
    try:
        await _send_locked(self, event.data)
    finally:
        self.send_lock.release()
    await trio.lowlevel.cancel_shielded_checkpoint()


async def _send_locked(self: TCPServer, data: bytes) -> None:
    """Send ``data`` (after any pending rest) with the send lock held."""
    timeout = getattr(self.config, "send_timeout_seconds", math.inf)
    data = _take_pending(self) + data
    try:
        if await _send_all_within(self.stream, data, timeout):
            return
        logger.info("closing a connection whose peer stopped reading")
        await trio.aclose_forcefully(self.stream)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    await self.protocol.handle(Closed())


async def _send_all_within(
    stream: trio.abc.SendStream, data: bytes, stall_seconds: float
) -> bool:
    """Send ``data`` slice by slice, each shielded for at most ``stall_seconds``.

    What the socket takes at once is written synchronously (``_write_nowait``);
    only the rest goes through trio under a shielded deadline.
    """
    sent = _write_nowait(stream, data)
    if sent == len(data):
        return True
    view = memoryview(data)[sent:]
    for start in range(0, len(view), SEND_SLICE_BYTES):
        with trio.move_on_after(stall_seconds, shield=True) as scope:
            await stream.send_all(view[start : start + SEND_SLICE_BYTES])
        if scope.cancelled_caught:
            return False
    return True


def _write_nowait(stream: trio.abc.SendStream, data: bytes) -> int:
    """Write as much of ``data`` as a socket accepts right now; return the count.

    The fast path for SSE chunks, which nearly always fit the socket buffer:
    one ``write(2)`` instead of trio's ``send_all`` inside a shielded
    deadline scope, which measured as most of the per-write cost (a cancel
    scope with a deadline, the conflict detector, ``_try_sync``). No await,
    so nothing here can be interrupted half-way; the caller yields after it
    (``_protocol_send_with_deadline``). Streams that are not socket streams
    write nothing here.

    Raises:
        trio.ClosedResourceError: the socket was closed locally.
        trio.BrokenResourceError: the peer is gone (EPIPE, ECONNRESET, ...).
    """
    if not isinstance(stream, trio.SocketStream) or not data:
        return 0
    fd = stream.socket.fileno()
    if fd < 0:
        raise trio.ClosedResourceError("the socket was closed")
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0
    except OSError as exc:
        raise trio.BrokenResourceError(f"socket send failed: {exc}") from exc


_PENDING = "_crushd_pending"


def send_timeout_installed() -> bool:
    """Whether ``TCPServer.protocol_send`` is this module's patched send."""
    return TCPServer.protocol_send is _protocol_send_with_deadline


def write_nowait(stream: trio.abc.SendStream, data: bytes) -> int:
    """Public name of ``_write_nowait`` for the direct SSE writer (``_direct``)."""
    return _write_nowait(stream, data)


def keep_pending(server: TCPServer, data: bytes) -> None:
    """Keep the unsent rest of a direct write; the next send sends it first.

    Only the direct SSE writer calls this, right after a partial write and
    with the send lock free, so nothing can be sent in between.
    """
    setattr(server, _PENDING, getattr(server, _PENDING, b"") + data)


def has_pending(server: TCPServer) -> bool:
    """Whether ``server`` still owes the peer the rest of a direct write."""
    return bool(getattr(server, _PENDING, b""))


def _take_pending(server: TCPServer) -> bytes:
    data: bytes = getattr(server, _PENDING, b"")
    if data:
        setattr(server, _PENDING, b"")
    return data
