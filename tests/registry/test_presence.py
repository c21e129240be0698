"""Tests for presence: ``set_current_session`` and ``attached_clients``.

Ports of upstream's SetCurrentSession / AttachedClients tests (seed 000).
"""

from __future__ import annotations

import pytest
import trio
import trio.testing

from crushd.errors import ClientNotAttached, InvalidClientID, WorkspaceNotFound
from crushd.registry import Registry

from ._support import Harness, claim_of, claimless_workspace, new_client_id, request

UNKNOWN_WORKSPACE = "00000000-0000-0000-0000-000000000000"


async def test_set_current_session_basic_attach_and_switch(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Attached clients set, share, switch and clear sessions independently."""
    hosted = await claimless_workspace(registry, project)
    client_a, client_b = new_client_id(), new_client_id()
    ticket_a = registry.attach(hosted.id, client_a)
    ticket_b = registry.attach(hosted.id, client_b)

    def sessions() -> tuple[str, str]:
        a, b = claim_of(hosted, client_a), claim_of(hosted, client_b)
        return a.current_session_id, b.current_session_id

    registry.set_current_session(hosted.id, client_a, "S1")
    assert sessions() == ("S1", "")
    registry.set_current_session(hosted.id, client_b, "S1")
    assert sessions() == ("S1", "S1")
    registry.set_current_session(hosted.id, client_b, "S2")
    assert sessions() == ("S1", "S2")
    registry.set_current_session(hosted.id, client_a, "")
    assert sessions() == ("", "S2")
    registry.detach(ticket_a)
    registry.detach(ticket_b)


async def test_set_current_session_detach_clears_entry(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A claim dropped by its last detach takes its session; later sets are 409."""
    hosted = await claimless_workspace(registry, project)
    anchor = registry.attach(hosted.id, new_client_id())
    client_id = new_client_id()
    ticket = registry.attach(hosted.id, client_id)
    registry.set_current_session(hosted.id, client_id, "S2")
    registry.detach(ticket)
    assert client_id not in hosted.claims
    with pytest.raises(ClientNotAttached) as info:
        registry.set_current_session(hosted.id, client_id, "S3")
    assert info.value.status == 409
    registry.detach(anchor)


async def test_set_current_session_rejects_hold_only(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A client holding the workspace without a stream cannot set a session."""
    registry = await harness.start(create_grace_seconds=3600, detach_grace_seconds=0)
    client_id = new_client_id()
    hosted = await registry.create(request(project, client_id))
    with pytest.raises(ClientNotAttached):
        registry.set_current_session(hosted.id, client_id, "S1")
    assert claim_of(hosted, client_id).current_session_id == ""
    registry.release(hosted.id, client_id)


async def test_set_current_session_unknown_client(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A client with no claim at all is refused with ClientNotAttached."""
    hosted = await registry.create(request(project, new_client_id()))
    with pytest.raises(ClientNotAttached):
        registry.set_current_session(hosted.id, new_client_id(), "S1")


async def test_set_current_session_rejects_bad_inputs(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Bad client ids are 400 and an unknown workspace is 404."""
    hosted = await registry.create(request(project, new_client_id()))
    for bad in ("", "not-a-uuid"):
        with pytest.raises(InvalidClientID):
            registry.set_current_session(hosted.id, bad, "S1")
    with pytest.raises(WorkspaceNotFound):
        registry.set_current_session(UNKNOWN_WORKSPACE, new_client_id(), "S1")


async def test_set_current_session_race_with_detach(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Interleaved session updates and a detach leave a coherent set of claims."""
    hosted = await claimless_workspace(registry, project)
    client_a, client_b = new_client_id(), new_client_id()
    ticket_a = registry.attach(hosted.id, client_a)
    registry.attach(hosted.id, client_b)
    refused: list[str] = []

    async def update(client_id: str, session_id: str) -> None:
        for _ in range(200):
            try:
                registry.set_current_session(hosted.id, client_id, session_id)
            except ClientNotAttached:
                refused.append(client_id)
            await trio.lowlevel.checkpoint()

    async def detach_midway() -> None:
        for _ in range(50):
            await trio.lowlevel.checkpoint()
        registry.detach(ticket_a)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(update, client_a, "SA")
        nursery.start_soon(update, client_b, "SB")
        nursery.start_soon(detach_midway)
    assert client_a not in hosted.claims
    assert claim_of(hosted, client_b).current_session_id == "SB"
    assert refused, "updates after the detach must be refused"
    assert set(refused) == {client_a}


async def test_attached_clients_basic_lifecycle(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """The count follows attach, set, switch and detach; holds never count."""
    registry = await harness.start(create_grace_seconds=3600, detach_grace_seconds=0)
    hosted = await claimless_workspace(registry, project)

    def count(session_id: str) -> int:
        return registry.attached_clients(hosted.id, session_id)

    assert count("S1") == 0
    client_a = new_client_id()
    ticket_a = registry.attach(hosted.id, client_a)
    registry.set_current_session(hosted.id, client_a, "S1")
    assert (count("S1"), count("S2")) == (1, 0)
    client_b = new_client_id()
    ticket_b = registry.attach(hosted.id, client_b)
    registry.set_current_session(hosted.id, client_b, "S1")
    assert count("S1") == 2
    registry.set_current_session(hosted.id, client_b, "S2")
    assert (count("S1"), count("S2")) == (1, 1)
    holder = new_client_id()
    await registry.create(request(project, holder))
    assert count("S1") == 1, "hold-only client must not contribute"
    assert count("") == 0, "empty session must not match the hold-only claim"
    ticket_c = registry.attach(hosted.id, new_client_id())
    assert count("S1") == 1
    assert count("") == 1, "a streaming client without a session matches ''"
    registry.detach(ticket_b)
    assert (count("S2"), count("S1")) == (0, 1)
    for ticket in (ticket_a, ticket_c):
        registry.detach(ticket)
    registry.release(hosted.id, holder)


async def test_attached_clients_unknown_workspace(
    registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    """Counting on an unknown workspace is WorkspaceNotFound."""
    with pytest.raises(WorkspaceNotFound):
        registry.attached_clients(UNKNOWN_WORKSPACE, "S1")
