"""One client's claim on one workspace, and the grace timers that hold it.

A claim is what keeps a workspace alive for a client: live streams, or a hold
timer (create grace after a create, detach grace after the last stream left).
The workspace's refcount is the number of claims. See docs/architecture.md section 3.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs
import trio

from crushd.proto import ClientInfo


@attrs.define(eq=False)
class Claim:
    """Per (workspace, client_id) state; mutated only by the registry.

    Attributes:
        client_id: the client's id as it spelled it.
        streams: live SSE/WebSocket streams of this client on the workspace.
        hold: the armed grace timer's cancel scope, ``None`` when not held.
        released: the client released the workspace while streaming, so its
            last detach removes the claim at once (no detach grace).
        current_session_id: the session the client is viewing, ``""`` for none.
        attached_at: Unix seconds of the first stream attach, 0 if never.
        last_seen: Unix seconds of the last create, attach or detach.
        user_agent: the User-Agent of the client's latest stream.

    Source: Crush backend.go ``clientState`` plus the roster fields of C.5.
    """

    client_id: str
    streams: int = 0
    hold: trio.CancelScope | None = None
    released: bool = False
    current_session_id: str = ""
    attached_at: float = 0.0
    last_seen: float = attrs.field(factory=time.time)
    user_agent: str = ""

    def disarm(self) -> None:
        """Stop the hold timer, if any; atomic, no await."""
        if self.hold is not None:
            self.hold.cancel()
            self.hold = None

    def info(self) -> ClientInfo:
        """Return this claim as a roster row."""
        return ClientInfo(
            client_id=self.client_id,
            streams=self.streams,
            held=self.hold is not None,
            released=self.released,
            current_session_id=self.current_session_id,
            attached_at=self.attached_at,
            last_seen=self.last_seen,
            user_agent=self.user_agent,
        )


def arm_timer(
    nursery: trio.Nursery,
    seconds: float,
    on_expire: Callable[[trio.CancelScope], None],
) -> trio.CancelScope:
    """Start a one-shot timer in ``nursery`` and return its cancel scope.

    Synchronous, so registry transitions can arm timers without awaiting: the
    scope is made here with its deadline and entered by the timer task. Cancel
    the scope to disarm. ``on_expire(scope)`` runs only when the deadline
    passed; it must check that the scope is still the current one (a stale
    timer whose claim moved on must do nothing).

    Args:
        nursery: the nursery the timer dies with (the workspace's, for holds).
        seconds: delay in seconds from now (``trio.current_time()``); 0 fires
            on the next scheduling round.
        on_expire: synchronous callback, given the timer's scope.

    Returns:
        The timer's cancel scope.

    Source: hypercorn ``TrioSingleTask`` (a timer as a cancellable task).
    """
    scope = trio.CancelScope(deadline=trio.current_time() + max(seconds, 0.0))
    nursery.start_soon(_run_timer, scope, on_expire)
    return scope


async def _run_timer(
    scope: trio.CancelScope, on_expire: Callable[[trio.CancelScope], None]
) -> None:
    with scope:
        await trio.sleep_forever()
    # A disarm (cancel() before the deadline) also ends the sleep; only a
    # passed deadline fires. A disarm at the very deadline still gets here,
    # which on_expire's identity check turns into a no-op.
    if trio.current_time() >= scope.deadline:
        on_expire(scope)
