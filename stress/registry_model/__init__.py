"""A hypothesis state machine of the real ``Registry`` against the claim model.

Each example draws a few timings and up to 40 operations (create, cancel a
create in flight, stream attach and detach, a repeated detach, reconnect,
release, release-then-detach, retire, retire-then-reconnect, current-session,
time advance, idle-gated shutdown request, close, and "the next build of this
path fails") over three path spellings (two canonical keys) and three client
processes (each uses a fresh id once it retired; its old id lives on in its
streams). An operation names its (workspace, client) by path and client
process, or by index among open streams, live claims or in-flight builders.
The operations run against a real ``Registry`` inside one ``trio.run`` on
``MockClock(autojump_threshold=0)`` with ``wait_all_tasks_blocked()`` after
each one, and drive a pure model of docs/architecture.md section 3 and docs/protocol.md
5.2-5.4 in lockstep: the claim rules shared with the HTTP-level machine
(``stress.model``) plus the registry's builds, cleanups and waiting creates
(``_model``). After every step the two must agree (``_checks``).

Trio's run order is random (hypothesis seeds it). The one place where it picks
an outcome - which of several creates waiting for one path's cleanup becomes
the builder - is read from the fake factory's call log; the model checks that
the builder was one of those waiters.

The property itself is ``stress/test_registry_model.py`` (run by pytest).
"""

from __future__ import annotations

from ._harness import Building, Held, Slot, Stream
from ._ops import (
    Advance,
    Attach,
    CancelCreate,
    Close,
    Create,
    Detach,
    DetachAgain,
    FailNextBuild,
    Leave,
    Op,
    Quit,
    Reconnect,
    Release,
    RequestShutdown,
    Retire,
    SetSession,
)
from ._run import replay
from ._strategies import op_lists, timings
from ._world import ROOT, Params

__all__ = [
    "ROOT",
    "Advance",
    "Attach",
    "Building",
    "CancelCreate",
    "Close",
    "Create",
    "Detach",
    "DetachAgain",
    "FailNextBuild",
    "Held",
    "Leave",
    "Op",
    "Params",
    "Quit",
    "Reconnect",
    "Release",
    "RequestShutdown",
    "Retire",
    "SetSession",
    "Slot",
    "Stream",
    "op_lists",
    "replay",
    "timings",
]
