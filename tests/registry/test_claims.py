"""Tests for client claims: holds, streams, release and the grace timers.

Ports of upstream's backend_test.go claim tests (seed 001) plus crushd's
detach grace. The ``registry`` fixture has upstream's timings (no detach
grace); tests of crushd's graces start their own registry via ``harness``.
"""

from __future__ import annotations

import logging

import pytest
import trio
import trio.testing

from crushd.errors import InvalidClientID, WorkspaceNotFound
from crushd.registry import Claim, Hosted, Registry, StreamTicket, arm_timer

from ._support import (
    FakeFactory,
    Harness,
    assert_invariants,
    claim_of,
    claimless_workspace,
    fake,
    new_client_id,
    request,
    settle,
)


async def join(registry: Registry, hosted: Hosted, client_id: str) -> None:
    """Register ``client_id`` on ``hosted`` by a create (upstream's registerClient)."""
    joined = await registry.create(request(hosted.workspace.spec.path, client_id))
    assert joined is hosted


def is_live(registry: Registry, hosted: Hosted) -> bool:
    """True while ``hosted`` is the live workspace under its id."""
    return hosted in registry.workspaces()


# ---------------------------------------------------------------- Claim units


def test_claim_info_is_a_roster_row() -> None:
    """A claim reports its streams, hold, release and session as a roster row."""
    claim = Claim("c1", streams=2, released=True, current_session_id="S1")
    claim.user_agent = "crushctl/1"
    row = claim.info()
    assert (row.client_id, row.streams, row.held, row.released) == (
        "c1",
        2,
        False,
        True,
    )
    assert (row.current_session_id, row.user_agent) == ("S1", "crushctl/1")


async def test_claim_disarm_cancels_the_hold(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Disarming cancels the hold's scope, clears it, and is idempotent."""
    claim = Claim("c1", hold=trio.CancelScope())
    scope = claim.hold
    claim.disarm()
    claim.disarm()
    assert claim.hold is None
    assert scope is not None
    assert scope.cancel_called


async def test_arm_timer_fires_after_its_delay(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A timer calls ``on_expire`` with its scope once its delay passed, not before."""
    fired: list[tuple[float, trio.CancelScope]] = []
    async with trio.open_nursery() as nursery:
        start = trio.current_time()
        scope = arm_timer(
            nursery, 5.0, lambda s: fired.append((trio.current_time(), s))
        )
        await trio.sleep(4.9)
        assert fired == []
    assert fired == [(start + 5.0, scope)]


async def test_arm_timer_disarmed_never_fires(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling a timer's scope before its deadline means ``on_expire`` never runs."""
    fired: list[trio.CancelScope] = []
    async with trio.open_nursery() as nursery:
        scope = arm_timer(nursery, 5.0, fired.append)
        await trio.sleep(1.0)
        scope.cancel()
        await trio.sleep(10.0)
    assert fired == []


async def test_arm_timer_zero_fires_on_next_round(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A zero delay fires on the next scheduling round without time passing."""
    fired: list[trio.CancelScope] = []
    async with trio.open_nursery() as nursery:
        start = trio.current_time()
        arm_timer(nursery, 0.0, fired.append)
        await settle()
        assert len(fired) == 1
        assert trio.current_time() == start


# ---------------------------------------------------- ports of backend_test.go


async def test_register_client_idempotent(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Registering one client twice leaves one held claim with no streams."""
    hosted = await claimless_workspace(registry, project)
    client_id = new_client_id()
    await join(registry, hosted, client_id)
    await join(registry, hosted, client_id)
    assert list(hosted.claims) == [client_id]
    assert hosted.claims[client_id].hold is not None
    assert hosted.claims[client_id].streams == 0


async def test_attach_client_consumes_hold(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Attaching stops the create-grace timer, so the workspace outlives the grace."""
    hosted = await claimless_workspace(registry, project)
    client_id = new_client_id()
    await join(registry, hosted, client_id)
    registry.attach(hosted.id, client_id)
    claim = claim_of(hosted, client_id)
    assert len(hosted.claims) == 1
    assert claim.hold is None
    assert claim.streams == 1
    await trio.sleep(registry.settings.create_grace_seconds * 3)
    assert is_live(registry, hosted)
    assert fake(hosted).log.closed == 0
    assert_invariants(registry)


async def test_attach_client_without_prior_create(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A stream attach with no prior create makes a one-stream claim with no hold."""
    hosted = await claimless_workspace(registry, project)
    client_id = new_client_id()
    registry.attach(hosted.id, client_id)
    assert list(hosted.claims) == [client_id]
    assert hosted.claims[client_id].streams == 1
    assert hosted.claims[client_id].hold is None


async def test_attach_client_duplicate_streams(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Two streams of one client count twice; only the second detach tears down."""
    hosted = await claimless_workspace(registry, project)
    client_id = new_client_id()
    first = registry.attach(hosted.id, client_id)
    second = registry.attach(hosted.id, client_id)
    assert claim_of(hosted, client_id).streams == 2
    registry.detach(first)
    assert claim_of(hosted, client_id).streams == 1
    assert fake(hosted).log.closed == 0
    registry.detach(second)
    assert fake(hosted).log.closed == 1, "second detach tears down the workspace"
    assert not is_live(registry, hosted)


async def test_detach_client_last_stream_tears_down(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """The last detach tears the workspace down; once idle the server shuts down."""
    registry = await harness.start(detach_grace_seconds=0, idle_timeout_seconds=1.0)
    hosted = await claimless_workspace(registry, project)
    client_id = new_client_id()
    await join(registry, hosted, client_id)
    registry.detach(registry.attach(hosted.id, client_id))
    assert fake(hosted).log.closed == 1
    with pytest.raises(WorkspaceNotFound):
        registry.get(hosted.id)
    await settle()
    assert fake(hosted).acloses == 1
    await trio.sleep(1.0)
    await settle()
    assert harness.idle_calls == 1, "last workspace gone must trigger server shutdown"


async def test_hold_expiry_tears_down(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """An unused create grace tears the workspace down; then the server idles out."""
    registry = await harness.start(detach_grace_seconds=0, idle_timeout_seconds=1.0)
    hosted = await claimless_workspace(registry, project)
    await join(registry, hosted, new_client_id())
    await trio.sleep(registry.settings.create_grace_seconds)
    await settle()
    assert not is_live(registry, hosted)
    assert fake(hosted).acloses == 1
    await trio.sleep(1.0)
    await settle()
    assert harness.idle_calls == 1


@pytest.mark.parametrize(
    ("offset", "attach_wins"),
    [(-0.001, True), (0.0, None), (0.001, False)],
    ids=["before-deadline", "at-deadline", "after-deadline"],
)
async def test_hold_expiry_race_with_attach(
    registry: Registry,
    factory: FakeFactory,
    project: str,
    offset: float,
    attach_wins: bool | None,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An attach racing the hold expiry leaves the workspace attached or fully gone."""
    for round_ in range(20):
        hosted = await claimless_workspace(registry, f"{project}/{round_}")
        client_id = new_client_id()
        await join(registry, hosted, client_id)
        await trio.sleep(registry.settings.create_grace_seconds + offset)
        try:
            ticket = registry.attach(hosted.id, client_id)
        except WorkspaceNotFound:
            won = False
        else:
            won = True
        await settle()
        assert attach_wins in (None, won)
        if won:
            assert is_live(registry, hosted)
            assert claim_of(hosted, client_id).streams == 1
            assert claim_of(hosted, client_id).hold is None
            assert fake(hosted).log.closed == 0
            registry.detach(ticket)
            await settle()
        else:
            assert client_id not in hosted.claims
            assert fake(hosted).log.closed == 1
        assert not is_live(registry, hosted)
        assert_invariants(registry, factory)


async def test_release_hold_no_streams(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Releasing a hold-only claim tears down at once; releasing again is a no-op."""
    hosted = await claimless_workspace(registry, project)
    client_id = new_client_id()
    await join(registry, hosted, client_id)
    registry.release(hosted.id, client_id)
    assert fake(hosted).log.closed == 1
    registry.release(hosted.id, client_id)
    assert fake(hosted).log.closed == 1


async def test_release_hold_with_active_stream(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Releasing while streaming marks the claim; the last detach then tears down."""
    hosted = await claimless_workspace(registry, project)
    client_id = new_client_id()
    await join(registry, hosted, client_id)
    ticket = registry.attach(hosted.id, client_id)
    registry.release(hosted.id, client_id)
    claim = claim_of(hosted, client_id)
    assert (claim.streams, claim.hold, claim.released) == (1, None, True)
    assert fake(hosted).log.closed == 0
    registry.detach(ticket)
    assert fake(hosted).log.closed == 1


async def test_release_hold_then_attach(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Release without a claim is a no-op; after an attach it only marks the claim."""
    hosted = await claimless_workspace(registry, project)
    client_id = new_client_id()
    registry.release(hosted.id, client_id)
    ticket = registry.attach(hosted.id, client_id)
    assert claim_of(hosted, client_id).streams == 1
    registry.release(hosted.id, client_id)
    assert fake(hosted).log.closed == 0
    registry.detach(ticket)
    assert fake(hosted).log.closed == 1


async def test_refcount_with_second_client(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A workspace survives one client's last detach while a second client streams."""
    hosted = await claimless_workspace(registry, project)
    client_a, client_b = new_client_id(), new_client_id()
    await join(registry, hosted, client_a)
    ticket_a = registry.attach(hosted.id, client_a)
    await join(registry, hosted, client_b)
    ticket_b = registry.attach(hosted.id, client_b)
    registry.detach(ticket_a)
    assert list(hosted.claims) == [client_b]
    assert fake(hosted).log.closed == 0, (
        "workspace survives while second client attached"
    )
    registry.detach(ticket_b)
    assert fake(hosted).log.closed == 1


async def test_attach_client_invalid_id(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """An empty or malformed client id is refused and leaves no claim."""
    hosted = await claimless_workspace(registry, project)
    for bad in ("", "not-a-uuid"):
        with pytest.raises(InvalidClientID):
            registry.attach(hosted.id, bad)
    assert hosted.claims == {}


async def test_release_rejects_bad_client_id(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """``DELETE /workspaces/{id}`` with an empty or malformed client id is a 400."""
    hosted = await registry.create(request(project, new_client_id()))
    for bad in ("", "not-a-uuid"):
        with pytest.raises(InvalidClientID) as info:
            registry.release(hosted.id, bad)
        assert info.value.status == 400
    assert is_live(registry, hosted)


async def test_release_unknown_workspace_is_noop(
    registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    """Releasing on an unknown workspace id succeeds silently (idempotent delete)."""
    registry.release("00000000-0000-0000-0000-000000000000", new_client_id())


async def test_concurrent_attach_detach(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Fifty interleaved attach/detach pairs leave only the anchoring client's claim."""
    hosted = await claimless_workspace(registry, project)
    client_id = new_client_id()
    await join(registry, hosted, client_id)
    registry.attach(hosted.id, client_id)

    async def churn() -> None:
        ticket = registry.attach(hosted.id, new_client_id())
        await trio.lowlevel.checkpoint()
        registry.detach(ticket)

    async with trio.open_nursery() as nursery:
        for _ in range(50):
            nursery.start_soon(churn)
    assert list(hosted.claims) == [client_id]
    assert_invariants(registry)


async def test_race_two_clients_attach_one_detaches(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Two concurrent attaches then one detach leave a refcount of one."""
    hosted = await claimless_workspace(registry, project)
    client_a, client_b = new_client_id(), new_client_id()
    tickets = {}

    async def attach(client_id: str) -> None:
        await trio.lowlevel.checkpoint()
        tickets[client_id] = registry.attach(hosted.id, client_id)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(attach, client_a)
        nursery.start_soon(attach, client_b)
    assert len(hosted.claims) == 2
    registry.detach(tickets[client_a])
    assert list(hosted.claims) == [client_b]
    assert fake(hosted).log.closed == 0
    registry.detach(tickets[client_b])
    assert fake(hosted).log.closed == 1


async def test_explicit_delete_then_attach(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Release drops the held claim; a later attach makes a claim release keeps."""
    registry = await harness.start(create_grace_seconds=3600, detach_grace_seconds=0)
    hosted = await claimless_workspace(registry, project)
    anchor = registry.attach(hosted.id, new_client_id())
    client_id = new_client_id()
    await join(registry, hosted, client_id)
    assert claim_of(hosted, client_id).hold is not None
    registry.release(hosted.id, client_id)
    assert client_id not in hosted.claims
    assert fake(hosted).log.closed == 0, "anchor keeps the workspace alive"
    ticket = registry.attach(hosted.id, client_id)
    assert (claim_of(hosted, client_id).streams, claim_of(hosted, client_id).hold) == (
        1,
        None,
    )
    registry.release(hosted.id, client_id)
    assert claim_of(hosted, client_id).streams == 1
    registry.detach(ticket)
    registry.detach(anchor)
    assert fake(hosted).log.closed == 1


@pytest.mark.parametrize(
    "attach_first", [True, False], ids=["attach-first", "detach-first"]
)
async def test_attach_client_races_with_teardown(
    registry: Registry,
    project: str,
    attach_first: bool,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Attach vs teardown: the workspace lives with the attacher, or the attach 404s."""
    hosted = await claimless_workspace(registry, project)
    ticket_a = registry.attach(hosted.id, new_client_id())
    client_b = new_client_id()
    if attach_first:
        registry.attach(hosted.id, client_b)
        registry.detach(ticket_a)
        assert is_live(registry, hosted)
        assert list(hosted.claims) == [client_b]
        assert fake(hosted).log.closed == 0
    else:
        registry.detach(ticket_a)
        with pytest.raises(WorkspaceNotFound):
            registry.attach(hosted.id, client_b)
        assert not is_live(registry, hosted)
        assert hosted.claims == {}
        assert fake(hosted).log.closed == 1
    await settle()
    assert_invariants(registry)


# ------------------------------------------------------ crushd's detach grace


async def streaming(registry: Registry, project: str) -> tuple[Hosted, StreamTicket]:
    """Create a workspace for a new client and attach one stream of it."""
    client_id = new_client_id()
    hosted = await registry.create(request(project, client_id))
    return hosted, registry.attach(hosted.id, client_id)


async def test_detach_last_stream_arms_detach_grace(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """The last detach keeps the claim, held by the detach grace, not dropping it."""
    registry = await harness.start(detach_grace_seconds=10)
    hosted, ticket = await streaming(registry, project)
    registry.detach(ticket)
    claim = ticket.claim
    assert hosted.claims == {claim.client_id: claim}
    assert (claim.streams, claim.info().held) == (0, True)
    assert is_live(registry, hosted)
    assert_invariants(registry)


async def test_detach_reattach_within_grace_keeps_workspace(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Re-attaching inside the detach grace cancels it; the workspace outlives it."""
    registry = await harness.start(detach_grace_seconds=10)
    hosted, ticket = await streaming(registry, project)
    registry.detach(ticket)
    await trio.sleep(9.9)
    again = registry.attach(hosted.id, ticket.claim.client_id)
    assert again.claim is ticket.claim
    assert (again.claim.streams, again.claim.hold) == (1, None)
    await trio.sleep(60)
    assert is_live(registry, hosted)
    assert fake(hosted).log.closed == 0


async def test_detach_grace_expiry_tears_down(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """When the detach grace runs out the claim goes and the workspace is torn down."""
    registry = await harness.start(detach_grace_seconds=10)
    hosted, ticket = await streaming(registry, project)
    registry.detach(ticket)
    await trio.sleep(9.9)
    assert is_live(registry, hosted)
    await trio.sleep(0.1)
    await settle()
    assert not is_live(registry, hosted)
    assert (fake(hosted).log.closed, fake(hosted).acloses) == (1, 1)
    assert not ticket.alive


async def test_detach_grace_zero_removes_at_once(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """With a zero detach grace the last detach removes the claim in the same step."""
    registry = await harness.start(detach_grace_seconds=0)
    hosted, ticket = await streaming(registry, project)
    registry.detach(ticket)
    assert hosted.claims == {}
    assert not is_live(registry, hosted)


async def test_detach_released_claim_skips_grace(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A claim released while streaming is removed on its last detach, with no grace."""
    registry = await harness.start(detach_grace_seconds=10)
    hosted, ticket = await streaming(registry, project)
    registry.release(hosted.id, ticket.claim.client_id)
    assert ticket.claim.released
    registry.detach(ticket)
    assert not is_live(registry, hosted)
    assert fake(hosted).log.closed == 1


async def test_create_during_detach_grace_rearms_create_grace(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A create in the detach grace re-arms a full create grace, keeping the session."""
    registry = await harness.start(create_grace_seconds=30, detach_grace_seconds=10)
    hosted, ticket = await streaming(registry, project)
    client_id = ticket.claim.client_id
    registry.set_current_session(hosted.id, client_id, "S1")
    registry.detach(ticket)
    detach_hold = ticket.claim.hold
    await trio.sleep(5)
    assert await registry.create(request(project, client_id)) is hosted
    claim = claim_of(hosted, client_id)
    assert claim.hold is not None
    assert claim.hold is not detach_hold
    assert claim.current_session_id == "S1"
    await trio.sleep(29.9)
    assert is_live(registry, hosted), "the old detach grace must not fire"
    await trio.sleep(0.1)
    await settle()
    assert not is_live(registry, hosted)


async def test_create_join_of_streaming_claim_only_clears_released(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A create from a client that streams clears ``released`` and arms no hold."""
    registry = await harness.start(detach_grace_seconds=10)
    hosted, ticket = await streaming(registry, project)
    client_id = ticket.claim.client_id
    registry.release(hosted.id, client_id)
    await registry.create(request(project, client_id))
    claim = claim_of(hosted, client_id)
    assert (claim.streams, claim.hold, claim.released) == (1, None, False)
    registry.detach(ticket)
    assert is_live(registry, hosted), "no longer released, so the detach grace applies"
    assert claim.hold is not None


async def test_detach_stale_ticket_is_noop(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Detaching a ticket of a torn-down workspace changes nothing."""
    hosted, ticket = await streaming(registry, project)
    registry.detach(ticket)
    assert not ticket.alive
    registry.detach(ticket)
    assert ticket.claim.streams == 0
    assert fake(hosted).log.closed == 1


async def test_detach_same_ticket_twice_counts_once(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A second detach of one ticket is a no-op; the other stream still counts."""
    registry = await harness.start(detach_grace_seconds=10)
    hosted, ticket = await streaming(registry, project)
    other = registry.attach(hosted.id, ticket.claim.client_id)
    registry.detach(ticket)
    registry.detach(ticket)
    assert (ticket.claim.streams, ticket.claim.hold) == (1, None)
    assert ticket.alive
    registry.detach(other)
    registry.detach(other)
    assert ticket.claim.streams == 0
    assert_invariants(registry)


async def test_every_claim_change_is_logged_at_debug(
    harness: Harness,
    project: str,
    caplog: pytest.LogCaptureFixture,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Register, attach, detach, hold expiry, release and retire: one line each.

    Operators (and the state machine's failure reports) read a client's
    history from these lines, in order.
    """
    caplog.set_level(logging.DEBUG, logger="crushd.registry")
    registry = await harness.start(detach_grace_seconds=0.5)
    hosted = await claimless_workspace(registry, project)
    first, second = new_client_id(), new_client_id()
    await join(registry, hosted, first)
    await join(registry, hosted, second)
    registry.detach(registry.attach(hosted.id, first))
    await trio.sleep(0.6)
    registry.release(hosted.id, second)
    registry.retire(first)
    wid = hosted.id
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.DEBUG
        and (first in r.getMessage() or second in r.getMessage())
    ]
    assert lines == [
        f"claim registered workspace={wid} client={first}",
        f"claim registered workspace={wid} client={second}",
        f"stream attached workspace={wid} client={first} streams=1",
        f"stream detached workspace={wid} client={first} streams=0",
        f"hold expired workspace={wid} client={first}",
        f"claim removed workspace={wid} client={first}",
        f"hold released workspace={wid} client={second}",
        f"claim removed workspace={wid} client={second}",
        f"client retired client={first}",
    ]
