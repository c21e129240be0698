"""The pure claim model both state machines are checked against.

One client id holds at most one claim per workspace. ``ClaimModel`` holds the
transitions of docs/architecture.md section 3 and docs/protocol.md 5.2-5.4 that the
registry-level machine (``stress.registry_model``, a real ``Registry`` on a
``MockClock``) and the HTTP-level machine (``stress.statemachine``, a real
daemon over its unix socket) have in common: a create's claim and its create
grace hold, stream attach and detach (the detach grace hold), release, retire,
hold expiry, teardown when the last claim goes, the idle linger, and time
moving through due timers in order. Each machine subclasses it and adds only
its own part: builds, cleanups and waiting creates on the registry side;
streams, event ids, sessions and the daemon's life on the HTTP side.

No trio and no I/O: every method is a synchronous state change, and time moves
only in ``ClaimModel.advance``.
"""

from __future__ import annotations

from ._claims import Claim, ClaimedWorkspace, Refusal
from ._transitions import ClaimModel, Timer

__all__ = ["Claim", "ClaimModel", "ClaimedWorkspace", "Refusal", "Timer"]
