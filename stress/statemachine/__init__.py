"""``python -m stress statemachine``: the HTTP-level model-checked state machine.

Hypothesis generates scripts of operations by several virtual clients
(create and join through different, equivalent and symlinked paths, create
races, release and immediate re-create, SSE and WebSocket streams opened,
closed and resumed with ``Last-Event-ID`` (a resync when too far behind),
retire, current session, session create/rename/delete,
time passing over the create grace, detach grace and idle linger, SIGTERM
restarts and ``shutdown_if_idle``). Each script runs against a real daemon
and a pure model (``_model``, built on the claim rules shared with the
registry-level machine in ``stress.model``); after every step the daemon's HTTP answers,
every stream's received events, its lifecycle log, its ``crush.lock`` files
and whether it still runs must match the model (``_checks``). A failure
shrinks to a short script, printed one numbered step per line.

Why the daemon runs in-process: each example calls the real daemon root,
``crushd.daemon.run`` (listeners, registry, SQLite store pool, signal watcher,
hypercorn with its patches), as a task inside one ``trio.run`` with a
``MockClock`` that has no autojump, and the virtual clients are real
``crushctl.Client`` objects speaking HTTP over its real unix socket. Time moves
only when an ``Advance`` step jumps the clock, one 1/64 s tick at a time, and
every grace is a multiple of that tick, so each timer fires at exactly the
tick the model predicts however loaded the machine is. Between steps the
harness waits until every task is blocked and no worker thread (SQLite, data
directory set-up) is busy, and the order in which trio runs tasks that are
ready together is seeded from a drawn ``schedule`` integer. That makes each
run a function of its example (timings, schedule, script), which is what
lets hypothesis shrink failures (docs/architecture.md section 8) and explore
interleavings. The one thing left to real time is which of two worker
threads finishes first; only pair creates and a SIGTERM mid-create have two
in flight, and their checks accept either order. A
``crushd serve`` subprocess with 0.05-0.3 s graces would be timing-dependent
on a loaded two-core machine and could not be shrunk reliably; the chaos soak
(``python -m stress soak``) covers real processes, real time and signals.
docs/architecture.md 8's autojump clock is not used because autojump would move time
while SQLite work runs in threads. Restarts use a real SIGTERM sent to this
process, caught by the daemon's own signal watcher.

Profiles: ``ci`` (sized to finish inside a minute: a 30 s time budget
after which no new scripts start) and ``deep`` (5,000 scripts). ``--seed N``
repeats a run's exploration; ``--replay FILE`` reruns the failing script a
failed run printed (``_replay``).
"""

from __future__ import annotations

from ._main import main

__all__ = ["main"]
