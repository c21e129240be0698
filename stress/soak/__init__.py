"""``python -m stress soak --minutes N --clients K``: the multi-process chaos soak.

One ``crushd serve`` subprocess (graces 1 s create, 0.5 s detach, 1 s
heartbeat, 1 s send timeout) and K client processes (``_worker``, each a
``crushctl.Client`` following its streams with ``open_event_stream``) doing
random work on three projects: join, stream (one or two streams), create,
rename and delete sessions, set the current session, leave. One more client
opens a stream and never reads it. Meanwhile the driver injects, in a
shuffled cycle spread over the run: SIGSTOP of a client for longer than the
detach grace then SIGCONT, SIGKILL of a client mid-stream (a new one takes
its place), abrupt disconnects (half a request; a stream closed at once; a
stream closed with its data unread), a burst of 200 clients connecting at
once, and SIGKILL of the daemon followed by a restart.

Checked while running and afterwards:

- every stream segment's ids are consecutive, a resumed segment continues
  right after its ``Last-Event-ID`` (or starts with ``resync``), each
  client's own changes arrive on its open streams, and streams of one
  workspace agree on every id (no lost, duplicated or mixed-up events);
- the daemon stays alive and answers ``/v1/health`` (every 2 s);
- after every daemon SIGKILL and after the final exit: ``PRAGMA
  integrity_check`` is ``ok`` for every project database and every
  ``crush.lock`` is free;
- once every client left, every workspace is torn down (no leak);
- leak check: the daemon's open descriptors and RSS after everyone left are
  measured, one more burst of 50 clients comes and goes, and they are measured
  again: descriptors may differ by at most 3, RSS by at most 16 MiB (Python
  rarely returns freed memory to the OS, and SQLite keeps its page cache);
  the first measure is also compared with the warm idle baseline taken
  before the clients started (at most 3 more descriptors, 48 MiB more RSS),
  also when the daemon was restarted meanwhile (same code, same baseline);
- ``shutdown_if_idle`` then ends the daemon with status 0 and its socket file
  gone.

A summary table is printed; any violation is listed and the exit status is 1.
"""

from __future__ import annotations

from ._main import main

__all__ = ["main"]
