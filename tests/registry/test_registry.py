"""Tests for the registry (_registry, _create, _core): create, retire, idle, close.

Ports of upstream's CreateWorkspace tests (seed 001) against a fake factory,
plus crushd's shared builds, cleanup waits, retire and idle behaviour.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from crushd.errors import (
    ClientRetired,
    Conflict,
    InternalError,
    InvalidClientID,
    PathNotAbsolute,
    PathRequired,
    ServerBusy,
    ShuttingDown,
    WorkspaceNotFound,
)
from crushd.proto import Workspace
from crushd.registry import CHANNELS_MISMATCH, RETIRED_TTL_SECONDS, Registry

from ._support import (
    TIMINGS,
    FakeFactory,
    Harness,
    assert_invariants,
    claim_of,
    fake,
    new_client_id,
    request,
    settle,
    spawn_create,
)

# ------------------------------------------------------------- create / join


async def test_path_dedupe_full_create(
    registry: Registry,
    factory: FakeFactory,
    project: str,
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two creates at one path return one workspace holding both clients' claims."""
    data_dir = str(tmp_path / "data")
    client_a, client_b = new_client_id(), new_client_id()
    first = await registry.create(request(project, client_a, data_dir=data_dir))
    second = await registry.create(request(project, client_b, data_dir=data_dir))
    assert second is first
    assert first.id
    assert first.workspace.spec.data_dir == data_dir
    assert set(first.claims) == {client_a, client_b}
    assert len(factory.specs) == 1


async def test_path_dedupe_different_paths_different_workspaces(
    registry: Registry, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Creates at two different paths make two workspaces with different ids."""
    first = await registry.create(request(str(tmp_path / "a"), new_client_id()))
    second = await registry.create(request(str(tmp_path / "b"), new_client_id()))
    assert first.id != second.id
    assert registry.workspaces() == [first, second]


async def test_path_dedupe_first_wins_keeps_original_env(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A join with other flags gets the first creator's workspace unchanged."""
    first = await registry.create(
        request(project, new_client_id(), yolo=True, env=("FOO=bar",))
    )
    joined = await registry.create(
        request(project, new_client_id(), debug=True, env=("BAZ=qux",))
    )
    assert joined is first
    spec = first.workspace.spec
    assert (spec.yolo, spec.debug, spec.env) == (True, False, ("FOO=bar",))


async def test_path_dedupe_symlink(
    registry: Registry,
    project: str,
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A path and a symlink to it share one workspace; the first spelling is kept."""
    link = tmp_path / "link"
    link.symlink_to(project)
    first = await registry.create(request(project, new_client_id()))
    second = await registry.create(request(str(link), new_client_id()))
    assert second is first
    assert first.workspace.spec.path == project


async def test_path_dedupe_non_existent_path(
    registry: Registry, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A path that does not exist yet still gets a workspace keyed by its clean path."""
    missing = str(tmp_path / "does-not-exist")
    hosted = await registry.create(request(missing + "/.", new_client_id()))
    assert hosted.id
    assert hosted.key == missing


async def test_path_dedupe_parallel_creates(
    registry: Registry,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Simultaneous creates of one new path share a single build and one workspace."""
    factory.gate = trio.Event()
    client_a, client_b = new_client_id(), new_client_id()
    async with trio.open_nursery() as nursery:
        first = spawn_create(nursery, registry, request(project, client_a))
        second = spawn_create(nursery, registry, request(project, client_b))
        await settle()
        assert registry.statistics().builds_in_flight == 1
        factory.gate.set()
    assert first.hosted is not None
    assert second.hosted is first.hosted
    assert set(first.hosted.claims) == {client_a, client_b}
    assert len(factory.specs) == 1, "the factory must be called once"


async def test_create_workspace_idempotent_same_client(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A duplicate create from the same client does not add a second claim."""
    client_id = new_client_id()
    first = await registry.create(request(project, client_id))
    assert await registry.create(request(project, client_id)) is first
    assert list(first.claims) == [client_id]


async def test_create_workspace_rejects_bad_client_id(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A create with an empty or malformed client id is a 400 and builds nothing."""
    for bad in ("", "not-a-uuid"):
        with pytest.raises(InvalidClientID):
            await registry.create(request(project, bad))
    assert registry.workspaces() == []


MUTATIONS: dict[str, Callable[[Workspace], Workspace]] = {
    "yolo": lambda w: attrs.evolve(w, yolo=True),
    "debug": lambda w: attrs.evolve(w, debug=True),
    "data_dir": lambda w: attrs.evolve(w, data_dir=""),
    "env": lambda w: attrs.evolve(w, env=["NEW=val"]),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
async def test_first_wins_mismatch_logs_on_flag_differences(
    registry: Registry,
    project: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    mutation: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A join whose yolo/debug/data_dir/env differ is debug-logged; the first wins."""
    caplog.set_level(logging.DEBUG, logger="crushd.registry")
    data_dir = str(tmp_path / "d")
    first = await registry.create(
        request(project, new_client_id(), data_dir=data_dir, env=("FOO=bar",))
    )
    assert not any("flag mismatch" in r.getMessage() for r in caplog.records)
    second = request(project, new_client_id(), data_dir=data_dir, env=("FOO=bar",))
    await registry.create(MUTATIONS[mutation](second))
    assert any("flag mismatch" in r.getMessage() for r in caplog.records)
    spec = first.workspace.spec
    assert (spec.yolo, spec.debug, spec.env) == (False, False, ("FOO=bar",))
    assert spec.data_dir == data_dir


async def test_first_wins_mismatch_no_log_when_identical(
    registry: Registry,
    project: str,
    caplog: pytest.LogCaptureFixture,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A joining create with identical flags logs no mismatch."""
    caplog.set_level(logging.DEBUG, logger="crushd.registry")
    await registry.create(request(project, new_client_id(), env=("FOO=bar",)))
    await registry.create(request(project, new_client_id(), env=("FOO=bar",)))
    assert not any("flag mismatch" in r.getMessage() for r in caplog.records)


async def test_create_relative_path_rejected(
    registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    """A relative path is 400 ``path must be absolute``, checked after the client id."""
    with pytest.raises(PathNotAbsolute):
        await registry.create(request("project", new_client_id()))
    with pytest.raises(InvalidClientID):
        await registry.create(request("project", "not-a-uuid"))


async def test_create_empty_path_checked_before_client_id(
    registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    """An empty path is 400 ``path is required`` even when the client id is bad too."""
    with pytest.raises(PathRequired):
        await registry.create(request("", "not-a-uuid"))


async def test_create_channels_mismatch_refused(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Joining with other channels fails with the upstream message, adding no claim."""
    first = await registry.create(
        request(project, new_client_id(), channels=("a", "b"))
    )
    other = new_client_id()
    with pytest.raises(Conflict) as info:
        await registry.create(request(project, other, channels=("b", "a")))
    assert info.value.message == CHANNELS_MISMATCH
    assert other not in first.claims
    same = await registry.create(request(project, other, channels=("a", "b")))
    assert same is first


async def test_create_waits_for_old_cleanup_then_builds_anew(
    registry: Registry,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A create during the old workspace's cleanup waits, then builds a new one."""
    factory.cleanup_gate = trio.Event()
    client_id = new_client_id()
    old = await registry.create(request(project, client_id))
    registry.release(old.id, client_id)
    async with trio.open_nursery() as nursery:
        again = spawn_create(nursery, registry, request(project, client_id))
        await settle()
        assert not again.done
        assert len(factory.specs) == 1, "must not build while the old one cleans up"
        assert registry.statistics().cleanups_in_flight == 1
        factory.cleanup_gate.set()
    assert again.hosted is not None
    assert again.hosted.id != old.id
    assert len(factory.specs) == 2
    assert fake(old).acloses == 1


async def test_create_build_failure_reaches_every_creator(
    harness: Harness,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A failed build fails every concurrent creator and re-arms the idle timer."""
    registry = await harness.start(idle_timeout_seconds=5)
    factory.gate = trio.Event()
    factory.error = InternalError("failed to connect to database: boom")
    async with trio.open_nursery() as nursery:
        attempts = [
            spawn_create(nursery, registry, request(project, new_client_id()))
            for _ in range(3)
        ]
        await settle()
        factory.gate.set()
    assert [a.error for a in attempts] == [factory.error] * 3
    assert len(factory.specs) == 1
    assert registry.is_idle()
    assert_invariants(registry, factory)
    await trio.sleep(5)
    await settle()
    assert harness.idle_calls == 1


async def test_create_without_serve_closes_built_workspace(
    factory: FakeFactory, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A create on a registry that is not serving fails and closes what it built."""
    registry = Registry(factory, TIMINGS)
    with pytest.raises((AssertionError, AttributeError)):
        await registry.create(request(project, new_client_id()))
    assert [ws.acloses for ws in factory.built] == [1]
    assert_invariants(registry, factory)


# --------------------------------------------------------------------- retire


async def test_retire_ends_streaming_claims_and_tears_down(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Retire drops the client's claims, streams included, and tears down the empty."""
    client_id = new_client_id()
    hosted = await registry.create(request(project, client_id))
    ticket = registry.attach(hosted.id, client_id)
    registry.retire(client_id)
    assert not ticket.alive
    assert fake(hosted).log.woken == 1
    assert fake(hosted).log.closed == 1
    assert registry.workspaces() == []
    registry.detach(ticket)
    await settle()
    assert fake(hosted).acloses == 1
    assert_invariants(registry)


async def test_retire_keeps_workspace_others_claim(
    registry: Registry, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A workspace another client claims survives; its readers are woken to re-check."""
    client_id, other = new_client_id(), new_client_id()
    hosted = await registry.create(request(project, client_id))
    ticket = registry.attach(hosted.id, client_id)
    await registry.create(request(project, other))
    registry.retire(client_id)
    assert not ticket.alive
    assert list(hosted.claims) == [other]
    assert (fake(hosted).log.woken, fake(hosted).log.closed) == (1, 0)
    assert_invariants(registry)


async def test_retire_refuses_later_create_and_attach(
    registry: Registry,
    project: str,
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A retired client's creates and attaches are 409 ``client has been retired``."""
    client_id = new_client_id()
    hosted = await registry.create(request(project, new_client_id()))
    registry.retire(client_id)
    with pytest.raises(ClientRetired) as info:
        await registry.create(request(str(tmp_path / "other"), client_id))
    assert info.value.status == 409
    with pytest.raises(ClientRetired):
        registry.attach(hosted.id, client_id)
    assert client_id not in hosted.claims


async def test_retire_forgotten_after_ttl(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A retired id is refused for RETIRED_TTL_SECONDS, then forgotten."""
    registry = await harness.start(idle_timeout_seconds=10 * RETIRED_TTL_SECONDS)
    client_id = new_client_id()
    registry.retire(client_id)
    await trio.sleep(RETIRED_TTL_SECONDS - 1)
    with pytest.raises(ClientRetired):
        await registry.create(request(project, client_id))
    await trio.sleep(1)
    assert (await registry.create(request(project, client_id))).claims
    assert registry.statistics().retired_clients == 0


async def test_retire_set_is_bounded(
    registry: Registry,
    project: str,
    monkeypatch: pytest.MonkeyPatch,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Past RETIRED_MAX ids the oldest retired ids are forgotten first."""
    monkeypatch.setattr("crushd.registry._retired.RETIRED_MAX", 3)
    clients = [new_client_id() for _ in range(5)]
    for client_id in clients:
        registry.retire(client_id)
    assert registry.statistics().retired_clients == 3
    for client_id in clients[2:]:
        with pytest.raises(ClientRetired):
            await registry.create(request(project, client_id))
    assert (await registry.create(request(project, clients[0]))).claims


async def test_retire_invalid_id(
    registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    """Retiring a malformed client id is a 400 and remembers nothing."""
    with pytest.raises(InvalidClientID):
        registry.retire("not-a-uuid")
    assert registry.statistics().retired_clients == 0


async def test_retire_of_builder_does_not_fail_other_creators(
    registry: Registry,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A builder retired mid-build gets 409; a creator waiting on it still succeeds."""
    factory.gate = trio.Event()
    builder, waiter = new_client_id(), new_client_id()
    async with trio.open_nursery() as nursery:
        first = spawn_create(nursery, registry, request(project, builder))
        await settle()
        second = spawn_create(nursery, registry, request(project, waiter))
        await settle()
        registry.retire(builder)
        factory.gate.set()
    assert isinstance(first.error, ClientRetired)
    assert second.hosted is not None
    assert list(second.hosted.claims) == [waiter]
    assert_invariants(registry, factory)


# ---------------------------------------------------------------- idle linger


async def test_idle_linger_fires_when_empty_at_start(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Empty from the start, ``on_idle`` runs after the linger and latches closing."""
    registry = await harness.start(idle_timeout_seconds=60)
    await trio.sleep(59.9)
    assert harness.idle_calls == 0
    await trio.sleep(0.1)
    await settle()
    assert harness.idle_calls == 1
    assert registry.closing
    with pytest.raises(ShuttingDown) as info:
        await registry.create(request(project, new_client_id()))
    assert info.value.status == 503


async def test_idle_linger_zero_fires_at_once(
    harness: Harness, autojump_clock: trio.testing.MockClock
) -> None:
    """A zero idle linger calls ``on_idle`` on the next scheduling round."""
    await harness.start(idle_timeout_seconds=0)
    await settle()
    assert harness.idle_calls == 1


async def test_idle_linger_disarmed_by_create_and_rearmed_by_teardown(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """A create disarms the linger; the teardown of the last workspace re-arms it."""
    registry = await harness.start(create_grace_seconds=1000, idle_timeout_seconds=60)
    client_id = new_client_id()
    hosted = await registry.create(request(project, client_id))
    await trio.sleep(120)
    assert harness.idle_calls == 0
    registry.release(hosted.id, client_id)
    await trio.sleep(59.9)
    assert harness.idle_calls == 0
    await trio.sleep(0.1)
    await settle()
    assert harness.idle_calls == 1


async def test_idle_linger_waits_for_create_in_flight(
    harness: Harness,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A create still building keeps the server busy: no linger, no idle shutdown."""
    registry = await harness.start(idle_timeout_seconds=60)
    factory.gate = trio.Event()
    async with trio.open_nursery() as nursery:
        attempt = spawn_create(nursery, registry, request(project, new_client_id()))
        await trio.sleep(120)
        assert harness.idle_calls == 0
        with pytest.raises(ServerBusy):
            registry.request_shutdown()
        factory.gate.set()
    assert attempt.hosted is not None


async def test_request_shutdown_busy_with_live_workspace(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """An idle-gated shutdown is 409 while a workspace is live, and changes nothing."""
    registry = await harness.start()
    await registry.create(request(project, new_client_id()))
    with pytest.raises(ServerBusy) as info:
        registry.request_shutdown()
    assert info.value.status == 409
    assert not registry.closing
    assert harness.idle_calls == 0


async def test_request_shutdown_when_idle(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """An idle server accepts shutdown: ``on_idle`` runs once and creates get 503."""
    registry = await harness.start()
    registry.request_shutdown()
    assert harness.idle_calls == 1
    assert registry.closing
    with pytest.raises(ShuttingDown):
        await registry.create(request(project, new_client_id()))
    await trio.sleep(120)
    assert harness.idle_calls == 1, "the linger must not fire a second time"


# ---------------------------------------------------------------------- close


async def test_close_tears_everything_down(
    harness: Harness,
    factory: FakeFactory,
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """close() tears every workspace down once, ends streams and lets serve() return."""
    registry = await harness.start()
    client_id = new_client_id()
    held = await registry.create(request(str(tmp_path / "a"), client_id))
    streamed = await registry.create(request(str(tmp_path / "b"), client_id))
    ticket = registry.attach(streamed.id, client_id)
    registry.close()
    registry.close()
    assert registry.workspaces() == []
    assert not ticket.alive
    assert [fake(h).log.closed for h in (held, streamed)] == [1, 1]
    with pytest.raises(ShuttingDown):
        await registry.create(request(str(tmp_path / "a"), client_id))
    await settle()
    assert [ws.acloses for ws in factory.built] == [1, 1]
    assert harness.served()


async def test_close_waits_for_create_in_flight(
    harness: Harness,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """serve() returns only after a create parked in its build finished (with 503)."""
    registry = await harness.start()
    factory.gate = trio.Event()
    async with trio.open_nursery() as nursery:
        attempt = spawn_create(nursery, registry, request(project, new_client_id()))
        await settle()
        registry.close()
        await settle()
        assert not harness.served()
        factory.gate.set()
    assert isinstance(attempt.error, ShuttingDown)
    await settle()
    assert harness.served()
    assert [ws.acloses for ws in factory.built] == [1]


async def test_close_waits_for_slow_cleanup(
    harness: Harness,
    factory: FakeFactory,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """serve() returns only after every workspace's cleanup finished."""
    registry = await harness.start()
    factory.cleanup_gate = trio.Event()
    await registry.create(request(project, new_client_id()))
    registry.close()
    await settle()
    assert not harness.served()
    factory.cleanup_gate.set()
    await settle()
    assert harness.served()


# ------------------------------------------------------- lookups and counters


async def test_get_unknown_workspace(
    registry: Registry, autojump_clock: trio.testing.MockClock
) -> None:
    """An unknown workspace id is 404 ``workspace not found``."""
    with pytest.raises(WorkspaceNotFound) as info:
        registry.get("nope")
    assert info.value.status == 404


async def test_get_hands_out_a_read_only_view(
    registry: Registry,
    project: str,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``get`` answers a frozen view (id, key, workspace), never the claim record."""
    hosted = await registry.create(request(project, new_client_id()))
    view = registry.get(hosted.id)
    assert (view.id, view.key, view.workspace) == (hosted.id, hosted.key, fake(hosted))
    assert not hasattr(view, "claims")
    assert not hasattr(view, "torn_down")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        view.key = "/elsewhere"  # type: ignore[misc]
    assert registry.get(hosted.id) == view


async def test_roster_rows(
    harness: Harness, project: str, autojump_clock: trio.testing.MockClock
) -> None:
    """The roster lists each claim's streams, hold, release, session and user agent."""
    registry = await harness.start()
    holder, streamer = new_client_id(), new_client_id()
    hosted = await registry.create(request(project, holder))
    registry.attach(hosted.id, streamer, "crushctl/1.0")
    registry.set_current_session(hosted.id, streamer, "S1")
    registry.release(hosted.id, streamer)
    rows = {row.client_id: row for row in registry.roster(hosted.id)}
    assert set(rows) == {holder, streamer}
    held, streaming = rows[holder], rows[streamer]
    assert (held.streams, held.held, held.released, held.attached_at) == (
        0,
        True,
        False,
        0,
    )
    assert (streaming.streams, streaming.held, streaming.released) == (1, False, True)
    assert (streaming.current_session_id, streaming.user_agent) == (
        "S1",
        "crushctl/1.0",
    )
    assert streaming.attached_at > 0
    assert streaming.last_seen >= streaming.attached_at
    with pytest.raises(WorkspaceNotFound):
        registry.roster("nope")


async def test_statistics_counts(
    harness: Harness,
    factory: FakeFactory,
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Statistics count workspaces, claims, streams, builds, cleanups, retired ids."""
    registry = await harness.start()
    client_a, client_b = new_client_id(), new_client_id()
    first = await registry.create(request(str(tmp_path / "a"), client_a))
    await registry.create(request(str(tmp_path / "a"), client_b))
    second = await registry.create(request(str(tmp_path / "b"), client_a))
    registry.attach(first.id, client_a)
    registry.attach(first.id, client_a)
    registry.attach(second.id, client_b)
    registry.retire(new_client_id())
    factory.gate = trio.Event()
    async with trio.open_nursery() as nursery:
        spawn_create(nursery, registry, request(str(tmp_path / "c"), client_a))
        await settle()
        stats = registry.statistics()
        assert (stats.workspaces, stats.claims, stats.streams) == (2, 4, 3)
        assert (stats.builds_in_flight, stats.cleanups_in_flight) == (1, 0)
        assert (stats.retired_clients, stats.closing) == (1, False)
        factory.gate.set()
    assert claim_of(first, client_a).streams == 2
    registry.close()
    assert registry.statistics().closing
    assert registry.statistics().cleanups_in_flight == 3
