"""Cancellation tests for the registry: cancel at every await, then check invariants.

Modelled on httpcore's tests/test_cancellations.py. ``create`` is the only
registry operation that awaits; it can be parked at four points:

* ``factory``: inside the factory call (the slow build);
* ``start``: in ``nursery.start`` of the workspace task (cancelled from the
  factory's ``on_built`` hook, so the cancel lands on that very await);
* ``build``: waiting on another create's build of the same path;
* ``cleanup``: waiting on the path's previous workspace to finish cleanup.

Each test parks a create there, cancels its scope, lets the registry settle
and asserts ``assert_invariants``; then the path must still be usable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs
import pytest
import trio
import trio.testing

from crushd.registry import CLEANUP_SECONDS, Registry

from ._support import (
    TIMINGS,
    Attempt,
    FakeFactory,
    Harness,
    assert_invariants,
    fake,
    new_client_id,
    request,
    settle,
    spawn_create,
)


@attrs.define
class Parked:
    """A create parked at one await (``victim``), and how to unpark the rest."""

    victim: Attempt
    release: Callable[[], None]
    witness: Attempt | None = None


Parker = Callable[[Registry, FakeFactory, trio.Nursery, str], Awaitable[Parked]]


async def park_in_factory(
    registry: Registry, factory: FakeFactory, nursery: trio.Nursery, path: str
) -> Parked:
    """Park a builder inside the factory call."""
    gate = factory.gate = trio.Event()
    victim = spawn_create(nursery, registry, request(path, new_client_id()))
    await settle()
    assert len(factory.specs) == 1
    return Parked(victim, gate.set)


async def park_in_start(
    registry: Registry, factory: FakeFactory, nursery: trio.Nursery, path: str
) -> Parked:
    """Cancel a builder right after its factory returned: at ``nursery.start``."""

    def cancel_victim(_: object) -> None:
        factory.on_built = None
        victim.scope.cancel()

    factory.on_built = cancel_victim
    victim = spawn_create(nursery, registry, request(path, new_client_id()))
    await settle()
    assert len(factory.built) == 1
    return Parked(victim, lambda: None)


async def park_on_build(
    registry: Registry, factory: FakeFactory, nursery: trio.Nursery, path: str
) -> Parked:
    """Park a create waiting on another create's build of the same path."""
    gate = factory.gate = trio.Event()
    witness = spawn_create(nursery, registry, request(path, new_client_id()))
    await settle()
    victim = spawn_create(nursery, registry, request(path, new_client_id()))
    await settle()
    assert len(factory.specs) == 1, "the second create must wait, not build"
    return Parked(victim, gate.set, witness)


async def park_on_cleanup(
    registry: Registry, factory: FakeFactory, nursery: trio.Nursery, path: str
) -> Parked:
    """Park a create waiting on the path's previous workspace to finish cleanup."""
    gate = factory.cleanup_gate = trio.Event()
    client_id = new_client_id()
    old = await registry.create(request(path, client_id))
    registry.release(old.id, client_id)
    factory.cleanup_gate = None
    victim = spawn_create(nursery, registry, request(path, new_client_id()))
    await settle()
    assert registry.statistics().cleanups_in_flight == 1
    assert len(factory.specs) == 1
    return Parked(victim, gate.set)


PARKERS: dict[str, Parker] = {
    "factory": park_in_factory,
    "start": park_in_start,
    "build": park_on_build,
    "cleanup": park_on_cleanup,
}


@pytest.mark.parametrize("point", list(PARKERS))
async def test_create_cancelled_at_each_await_keeps_invariants(
    harness: Harness,
    factory: FakeFactory,
    project: str,
    point: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A create cancelled at any await leaves the registry consistent and usable."""
    registry = await harness.start()
    async with trio.open_nursery() as nursery:
        parked = await PARKERS[point](registry, factory, nursery, project)
        parked.victim.scope.cancel()
        await settle()
        assert_invariants(registry, factory, quiescent=False)
        parked.release()
    await settle()
    assert parked.victim.cancelled
    assert parked.victim.hosted is None
    assert_invariants(registry, factory)
    if parked.witness is not None:
        assert parked.witness.hosted is not None
        assert len(parked.witness.hosted.claims) == 1
    client_id = new_client_id()
    hosted = await registry.create(request(project, client_id))
    assert client_id in hosted.claims
    assert_invariants(registry, factory)


@pytest.mark.parametrize("point", list(PARKERS))
async def test_create_cancelled_at_each_await_leaves_server_idle(
    harness: Harness,
    factory: FakeFactory,
    project: str,
    point: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After a cancelled create (and its witness released) the idle linger re-arms."""
    registry = await harness.start(idle_timeout_seconds=5)
    async with trio.open_nursery() as nursery:
        parked = await PARKERS[point](registry, factory, nursery, project)
        parked.victim.scope.cancel()
        parked.release()
    if parked.witness is not None:
        assert parked.witness.hosted is not None
        for client_id in list(parked.witness.hosted.claims):
            registry.release(parked.witness.hosted.id, client_id)
    await settle()
    assert registry.is_idle()
    assert_invariants(registry, factory)
    await trio.sleep(5)
    await settle()
    assert harness.idle_calls == 1


async def test_cancelled_builder_hands_the_build_to_a_waiter(
    registry: Registry,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A builder cancelled in the factory leaves nothing; a waiting create builds."""
    gate = factory.gate = trio.Event()
    waiter = new_client_id()
    async with trio.open_nursery() as nursery:
        builder = spawn_create(nursery, registry, request(project, new_client_id()))
        await settle()
        witness = spawn_create(nursery, registry, request(project, waiter))
        await settle()
        builder.scope.cancel()
        await settle()
        assert len(factory.specs) == 2, "the waiter must start its own build"
        gate.set()
    assert builder.cancelled
    assert witness.hosted is not None
    assert list(witness.hosted.claims) == [waiter]
    assert len(factory.built) == 1
    assert_invariants(registry, factory)


async def test_cancelled_builder_at_start_closes_its_workspace_once(
    registry: Registry,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A builder cancelled at ``nursery.start`` closes its workspace exactly once."""
    gate = factory.gate = trio.Event()
    waiter = new_client_id()
    async with trio.open_nursery() as nursery:
        builder = spawn_create(nursery, registry, request(project, new_client_id()))
        await settle()
        witness = spawn_create(nursery, registry, request(project, waiter))
        await settle()

        def cancel_builder(_: object) -> None:
            factory.on_built = None
            builder.scope.cancel()

        factory.on_built = cancel_builder
        gate.set()
    await settle()
    assert builder.cancelled
    first, second = factory.built
    assert (first.acloses, first.log.closed) == (1, 0)
    assert witness.hosted is not None
    assert fake(witness.hosted) is second
    assert list(witness.hosted.claims) == [waiter]
    assert_invariants(registry, factory)


async def test_cancelled_waiter_on_build_leaves_builder_alone(
    registry: Registry,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Cancelling a create that waits on a build adds no claim and spares the build."""
    gate = factory.gate = trio.Event()
    builder_id = new_client_id()
    async with trio.open_nursery() as nursery:
        builder = spawn_create(nursery, registry, request(project, builder_id))
        await settle()
        waiter = spawn_create(nursery, registry, request(project, new_client_id()))
        await settle()
        waiter.scope.cancel()
        await settle()
        gate.set()
    assert waiter.cancelled
    assert builder.hosted is not None
    assert list(builder.hosted.claims) == [builder_id]
    assert len(factory.specs) == 1
    assert_invariants(registry, factory)


async def test_cancelled_serve_cleans_up_every_workspace(
    factory: FakeFactory, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Cancelling ``serve`` still runs each workspace's cleanup exactly once."""
    registry = Registry(factory, TIMINGS)
    async with trio.open_nursery() as nursery:
        await nursery.start(registry.serve)
        client_id = new_client_id()
        first = await registry.create(request(project, client_id))
        await registry.create(request(project + "/sub", client_id))
        registry.attach(first.id, client_id)
        nursery.cancel_scope.cancel()
    assert [ws.acloses for ws in factory.built] == [1, 1]


async def test_cleanup_is_bounded(
    registry: Registry,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A hung cleanup is dropped after CLEANUP_SECONDS; a waiting create builds."""
    factory.cleanup_gate = trio.Event()
    client_id = new_client_id()
    old = await registry.create(request(project, client_id))
    factory.cleanup_gate = None
    registry.release(old.id, client_id)
    async with trio.open_nursery() as nursery:
        again = spawn_create(nursery, registry, request(project, client_id))
        await trio.sleep(CLEANUP_SECONDS - 0.1)
        assert not again.done
    assert again.hosted is not None
    assert again.hosted.id != old.id
    assert fake(old).acloses == 1
    assert_invariants(registry, factory)
