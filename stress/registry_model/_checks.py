"""The invariants compared after every step, and once more after ``close()``.

Registry and model must agree on create outcomes, live workspaces (by id and
by key), claim tables including hold deadlines, ``attached_clients``, ticket
liveness, teardown and cleanup counts, statistics, idleness and the idle
callback.
"""

from __future__ import annotations

from crushd.registry import CLEANUP_SECONDS, Hosted, RegistryStatistics

from ._harness import Harness
from ._state import Expected, MWorkspace
from ._world import SESSIONS


def check(h: Harness) -> None:
    """Compare the whole observable state of registry and model."""
    check_creates(h)
    check_workspaces(h)
    check_teardowns(h)
    check_hosted(h)
    check_tickets(h)
    check_global(h)


def check_creates(h: Harness) -> None:
    for cid, want in h.model.creates.items():
        got = h.results.get(cid)
        assert (got is not None) == want.done, f"create {cid}: {got!r} vs {want!r}"
        if isinstance(want.result, MWorkspace):
            assert isinstance(got, Hosted), f"create {cid}: {got!r} vs {want!r}"
            assert got.workspace is want.result.call.workspace, f"create {cid}"
        elif isinstance(want.result, Expected):
            assert isinstance(got, want.result.cls), f"create {cid}: {got!r}"
            assert want.result.message in {None, str(got)}, f"create {cid}: {got!r}"
        else:
            assert got == want.result, f"create {cid}: {got!r} vs {want!r}"


def check_workspaces(h: Harness) -> None:
    """Live workspaces by id and by key, and each one's claim table."""
    live = {hosted.key: hosted for hosted in h.registry.workspaces()}
    assert live.keys() == h.model.live.keys()
    # Private on purpose: the path index must agree with the id map.
    assert h.registry._by_key == live
    for key, hosted in live.items():
        ws = h.model.live[key]
        assert hosted.workspace is ws.call.workspace
        assert h.registry.get(hosted.id) == hosted.view()
        assert not hosted.torn_down
        check_claims(h, hosted, ws)


def check_claims(h: Harness, hosted: Hosted, ws: MWorkspace) -> None:
    got = {
        row.client_id: (row.streams, row.released, row.current_session_id)
        for row in h.registry.roster(hosted.id)
    }
    want = {c: (m.streams, m.released, m.current) for c, m in ws.claims.items()}
    assert got == want, f"claims of {ws.key}#{ws.index}"
    holds = {c: (m.hold.deadline if m.hold else None) for c, m in hosted.claims.items()}
    assert holds == {c: m.deadline for c, m in ws.claims.items()}, "hold deadlines"
    for session in SESSIONS:
        n = sum(1 for m in ws.claims.values() if m.streams and m.current == session)
        assert h.registry.attached_clients(hosted.id, session) == n, session


def check_teardowns(h: Harness) -> None:
    """Every built workspace is torn down and cleaned exactly once, when due."""
    real = {c.workspace.id for c in h.factory.calls if c.workspace is not None}
    assert real == h.model.built.keys()
    cut_off = h.params.aclose_delay > CLEANUP_SECONDS
    for ws in h.model.built.values():
        fake = ws.call.workspace
        assert fake is not None
        torn = ws.torn_down
        assert (fake.aclose_calls, fake.log.closed) == (torn, torn), ws.real_id
        assert fake.log.wakes == ws.wakes, ws.real_id
        assert fake.aclose_done == (ws.cleaned and not cut_off), ws.real_id


def check_hosted(h: Harness) -> None:
    """No claim survives on a torn-down workspace; cleanup events match."""
    seen = [r for r in h.results.values() if isinstance(r, Hosted)]
    seen += [ticket.hosted for ticket, _ in h.tickets]
    for hosted in seen:
        ws = h.model.built[hosted.id]
        assert hosted.torn_down == ws.torn_down, hosted.id
        assert not (hosted.torn_down and hosted.claims), hosted.id
        assert hosted.cleaned.is_set() == ws.cleaned, hosted.id


def check_tickets(h: Harness) -> None:
    for ticket, mticket in h.tickets:
        assert ticket.alive == mticket.alive, mticket
    assert not any(ticket.alive and not ticket.detached for ticket in h.detached)


def check_global(h: Harness) -> None:
    m = h.model
    claims = [c for ws in m.live.values() for c in ws.claims.values()]
    assert h.registry.statistics() == RegistryStatistics(
        workspaces=len(m.live),
        claims=len(claims),
        streams=sum(c.streams for c in claims),
        builds_in_flight=len(m.builds),
        cleanups_in_flight=len(m.cleanups),
        retired_clients=len(m.retired_now()),
        closing=m.closing,
    )
    assert h.registry.is_idle() == m.is_idle()
    assert h.registry.closing == m.closing
    assert h.idle_calls == m.on_idle, "idle callback"
    scope = h.registry._idle_scope  # private: the idle linger's deadline
    assert (scope.deadline if scope else None) == m.idle_deadline, "idle deadline"


def check_final(h: Harness) -> None:
    """After close() and serve's return: nothing pending, everything cleaned."""
    assert all(c.done for c in h.model.creates.values())
    assert all(ws.cleaned for ws in h.model.built.values())
    assert not any(ticket.alive for ticket, _ in h.tickets)
    assert h.registry.statistics().workspaces == 0
    assert h.model.idle_deadline is None
