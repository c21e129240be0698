"""The invariants compared after every step, mostly through the daemon's HTTP API.

- the daemon runs exactly when the model says so; a stopped one left no
  socket file and no ``crush.lock`` held;
- ``GET /v1/workspaces``: the live workspaces (id and echoed path);
- ``GET .../clients``: every claim's streams, hold, released flag, session;
- ``GET .../sessions``: titles and ``attached_clients`` per session;
- every stream received exactly the events published since it attached (ids
  in order, no gap, no duplicate, the right content) and ended exactly when
  the model says (clean EOF, never an error);
- the registry logged each workspace's creation once, and its teardown and
  its cleanup once when (and only when) the model tore it down;
- ``crush.lock`` is held exactly while its workspace is live;
- the daemon logged no error.
"""

from __future__ import annotations

from ._harness import OBSERVER_ID, Harness
from ._world import settle


async def check(h: Harness) -> None:
    """Compare the whole observable state of daemon and model."""
    await settle()
    if not h.model.up and h.world.up:
        await h.world.wait_stopped()
    # An error the daemon logged is the likeliest root cause of any other
    # disagreement (a failed workspace task tears its workspace down), so first.
    assert not h.lifecycle.errors, f"daemon logged errors: {h.lifecycle.errors}"
    check_daemon(h)
    if h.model.up:
        await check_workspaces(h)
    check_streams(h)
    check_lifecycle(h)
    check_locks(h)
    assert not h.lifecycle.errors, f"daemon logged errors: {h.lifecycle.errors}"


def check_daemon(h: Harness) -> None:
    """The daemon runs iff the model says so; a stopped one removed its socket."""
    assert h.world.up == h.model.up, (
        f"daemon {'runs' if h.world.up else 'exited'} but the model says "
        f"{'running' if h.model.up else 'exited'}"
    )
    if not h.model.up:
        assert not h.world.socket_exists(), "a stopped daemon left its socket file"


async def check_workspaces(h: Harness) -> None:
    """Workspaces, claims and sessions as the daemon reports them over HTTP."""
    observer = h.client(OBSERVER_ID)
    got = {w.id: w.path for w in await observer.workspaces()}
    want = {ws.real_id: ws.path for ws in h.model.live.values()}
    assert got == want, f"workspaces: daemon {got}, model {want}"
    for ws in h.model.live.values():
        roster = {
            r.client_id: (r.streams, r.held, r.released, r.current_session_id)
            for r in await observer.clients(ws.real_id)
        }
        claims = {
            cid: (c.streams, c.deadline is not None, c.released, c.current)
            for cid, c in ws.claims.items()
        }
        assert roster == claims, f"claims of {ws.real_id[:8]}: {roster} vs {claims}"
        sessions = {
            s.id: (s.title, s.attached_clients)
            for s in await observer.sessions(ws.real_id)
        }
        titles = h.model.session_titles(ws)
        expected = {sid: (t, ws.attached(sid)) for sid, t in titles.items()}
        assert sessions == expected, f"sessions: {sessions} vs {expected}"


def check_streams(h: Harness) -> None:
    """Every stream got every event since it attached, and ended when due."""
    for n, stream in enumerate(h.streams):
        model = stream.model
        assert model is not None
        name = f"stream #{n} ({stream.client[-4:]} on {stream.workspace_id[:8]})"
        assert not stream.error, f"{name} failed: {stream.error}"
        got = [
            (e.id, e.type, e.event_type, e.subject, e.title) for e in stream.received
        ]
        want = [
            (e.id, e.type, e.event_type, e.subject, e.title) for e in model.expected
        ]
        assert got == want, f"{name} received {got}, model expects {want}"
        if not stream.closed:
            assert stream.eof == model.ended, (
                f"{name} {'ended' if stream.eof else 'is open'}, model says "
                f"{'ended' if model.ended else 'open'}"
            )


def check_lifecycle(h: Harness) -> None:
    """Each workspace is created once and torn down and cleaned up exactly once."""
    log = h.lifecycle
    ids = {ws.real_id for ws in h.model.built}
    assert set(log.created) == ids, f"created {dict(log.created)} vs {ids}"
    for ws in h.model.built:
        wid, torn = ws.real_id, int(ws.torn_down)
        assert log.created[wid] == 1, f"{wid[:8]} created {log.created[wid]} times"
        counts = (log.torn_down[wid], log.closed[wid])
        assert counts == (torn, torn), f"{wid[:8]} torn down/closed {counts}"


def check_locks(h: Harness) -> None:
    """``crush.lock`` of each project is held exactly while its workspace lives."""
    for spelling in (0, 1):
        live = h.world.key(spelling) in h.model.live
        held = h.world.lock_held(spelling)
        assert held == live, f"{h.world.key(spelling)}: lock held={held} live={live}"
